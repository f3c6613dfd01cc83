package dev.seer.model.dit;

import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.io.TorchCheckpoints;
import dev.seer.model.WeightsMismatchException;
import dev.seer.tensor.DType;
import dev.seer.tensor.HostMemory;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * A DiT's weights: the state-dict keys of an official checkpoint and the shape each must have for a config, loading
 * them (.pt, .safetensors) into memory a {@link DitModel} owns, checked, and random weights for tests and speed runs.
 */
public final class DitWeights {
    /** Frequency embedding size of the timestep embedder (official default). */
    public static final int FREQUENCY_EMBEDDING_SIZE = 256;

    /** Floats generated at a time by {@link #random}. */
    private static final int RANDOM_CHUNK = 1 << 16;
    /** A weight at least this large frees enough temporaries to be worth handing back at once (a trim costs ~1 ms). */
    private static final long TRIM_AFTER_BYTES = 1L << 20;

    private DitWeights() {
    }

    /**
     * The weights of a state dict with the official key names, in memory a model owns (float32, out of the caller's
     * PointerScope). Every expected key must be present with its exact shape and no other key may appear; values are
     * copied through Java ({@link #ownedFloatCopy}: a mapped file that shrinks meanwhile is a refusal, not a crash),
     * one weight at a time, and the pages of a mapped source are released as soon as its copy is made, so the
     * process holds one copy of the weights plus one weight in flight.
     *
     * @throws WeightsMismatchException naming the key, the expected and the found shape, or a NaN or infinite value
     * @throws IllegalArgumentException if the weights would not fit in this machine's memory
     */
    static Map<String, org.bytedeco.pytorch.Tensor> owned(DitConfig config, Map<String, Tensor> stateDict) {
        config.requireWeightsFit(DitConfig.machineMemoryBytes());
        SeerRuntime.init();
        Map<String, long[]> expected = expectedShapes(config);
        for (String key : stateDict.keySet()) {
            if (!expected.containsKey(key)) {
                throw new WeightsMismatchException(key, "no such key in a DiT state dict", "an unexpected key");
            }
        }
        for (var e : expected.entrySet()) {
            Tensor t = stateDict.get(e.getKey());
            if (t == null) {
                throw new WeightsMismatchException(e.getKey(), "shape " + Shape.of(e.getValue()), "the key is missing");
            }
            if (!t.shape().equals(Shape.of(e.getValue()))) {
                throw new WeightsMismatchException(e.getKey(), "shape " + Shape.of(e.getValue()), "shape " + t.shape());
            }
            if (!t.dtype().isFloatingPoint()) {
                throw new WeightsMismatchException(e.getKey(), "a floating-point tensor", "dtype " + t.dtype());
            }
        }
        Map<String, org.bytedeco.pytorch.Tensor> owned = new LinkedHashMap<>();
        try {
            for (String key : expected.keySet()) {
                Tensor t = stateDict.get(key);
                // one scope per weight: its temporaries (a half-precision copy, the finiteness mask) go at once
                try (PointerScope scope = new PointerScope()) {
                    owned.put(key, keep(ownedFloatCopy(key, t)));
                }
                releaseMappedPages(t);
                if (t.byteSize() >= TRIM_AFTER_BYTES) {
                    HostMemory.releaseFreed(); // the temporaries' blocks, or they stay resident beside the weights
                }
            }
            HostMemory.releaseFreed();
        } catch (RuntimeException e) {
            owned.values().forEach(org.bytedeco.pytorch.Tensor::close);
            throw e;
        }
        return owned;
    }

    /**
     * Drops the pages of a tensor that views a mapped file from this process's memory, once its values are copied:
     * otherwise every page read stays resident (a second copy of the weights) until the mapping is unmapped, which
     * for an automatic arena waits for a garbage collection. The tensor stays valid: a later read maps the pages
     * again from the file.
     */
    static void releaseMappedPages(Tensor t) {
        if (t.byteSize() > 0 && t.segment().isMapped()) {
            try {
                t.segment().unload();
            } catch (IllegalStateException e) {
                // the file's arena is closed (a state dict outliving its file): nothing is mapped any more
            }
        }
    }

    /**
     * The weights of an official DiT checkpoint ({@link #owned}): a torch.save'd state dict (.pt, .pth; training checkpoints' "ema" entry
     * is used when present) or a .safetensors file with the official key names.
     *
     * @throws CheckpointException naming the file, the key, and the expected and found shapes
     */
    static Map<String, org.bytedeco.pytorch.Tensor> load(DitConfig config, Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        try {
            if (name.endsWith(".safetensors") || Safetensors.looksLikeSafetensors(file)) {
                try (SafetensorsFile f = Safetensors.open(file)) {
                    Map<String, Tensor> sd = new LinkedHashMap<>();
                    for (String key : f.keys()) {
                        sd.put(key, f.get(key));
                    }
                    return owned(config, sd);
                }
            }
            if (name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".bin")) {
                return owned(config, TorchCheckpoints.loadStateDict(file));
            }
        } catch (WeightsMismatchException e) {
            throw new CheckpointException(file, e.key(), e.expected(), e.found(), e);
        }
        throw new CheckpointException(file, null, "a .pt/.pth state dict or a .safetensors file", "file name '" + name + "'");
    }

    /**
     * Random weights for speed measurements and tests: every linear weight ~ N(0, 1/fan_in), biases and
     * embeddings ~ N(0, 0.02^2), adaLN included (the official zero init would make every block a no-op), and
     * the fixed sin-cos position embedding.
     */
    public static Map<String, Tensor> random(DitConfig config, long seed, Arena arena) {
        config.requireWeightsFit(DitConfig.machineMemoryBytes());
        SeerRuntime.init();
        Map<String, Tensor> out = new LinkedHashMap<>();
        java.util.Random rnd = new java.util.Random(seed);
        // values through one reusable chunk: a whole tensor's array per key left the Java heap holding as many bytes
        // of garbage as the weights, resident until a collection that may never come
        float[] chunk = new float[RANDOM_CHUNK];
        for (var e : expectedShapes(config).entrySet()) {
            Tensor t = Tensor.allocate(arena, DType.F32, Shape.of(e.getValue()));
            if (e.getKey().equals("pos_embed")) {
                t.copyFrom(sincosPositionEmbedding(config.hiddenSize(), config.gridSize()));
            } else {
                long[] s = e.getValue();
                double std = s.length >= 2 && !e.getKey().contains("embedding_table")
                        ? 1.0 / Math.sqrt(t.numel() / (double) s[0]) : 0.02;
                for (long at = 0; at < t.numel(); at += chunk.length) {
                    int n = (int) Math.min(chunk.length, t.numel() - at);
                    for (int i = 0; i < n; i++) {
                        chunk[i] = (float) (rnd.nextGaussian() * std);
                    }
                    MemorySegment.copy(chunk, 0, t.segment(), ValueLayout.JAVA_FLOAT, at * Float.BYTES, n);
                }
            }
            out.put(e.getKey(), t);
        }
        return out;
    }

    /** Takes a tensor out of the current PointerScope so it lives until its owner closes it. */
    static org.bytedeco.pytorch.Tensor keep(org.bytedeco.pytorch.Tensor t) {
        PointerScope inner = PointerScope.getInnerScope();
        if (inner != null) {
            t.retainReference(); // detach releases the scope's reference; this one is released by the owner's close()
            inner.detach(t);
        }
        return t;
    }

    /** Every expected key, in the official module order, with its shape. */
    public static Map<String, long[]> expectedShapes(DitConfig c) {
        long C = c.hiddenSize();
        long p = c.patchSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("pos_embed", new long[] {1, c.tokens(), C});
        m.put("x_embedder.proj.weight", new long[] {C, c.inChannels(), p, p});
        m.put("x_embedder.proj.bias", new long[] {C});
        m.put("t_embedder.mlp.0.weight", new long[] {C, FREQUENCY_EMBEDDING_SIZE});
        m.put("t_embedder.mlp.0.bias", new long[] {C});
        m.put("t_embedder.mlp.2.weight", new long[] {C, C});
        m.put("t_embedder.mlp.2.bias", new long[] {C});
        m.put("y_embedder.embedding_table.weight", new long[] {c.numClasses() + (c.hasNullClass() ? 1 : 0), C});
        for (int i = 0; i < c.depth(); i++) {
            String b = "blocks." + i + ".";
            m.put(b + "attn.qkv.weight", new long[] {3 * C, C});
            m.put(b + "attn.qkv.bias", new long[] {3 * C});
            m.put(b + "attn.proj.weight", new long[] {C, C});
            m.put(b + "attn.proj.bias", new long[] {C});
            m.put(b + "mlp.fc1.weight", new long[] {c.mlpHidden(), C});
            m.put(b + "mlp.fc1.bias", new long[] {c.mlpHidden()});
            m.put(b + "mlp.fc2.weight", new long[] {C, c.mlpHidden()});
            m.put(b + "mlp.fc2.bias", new long[] {C});
            m.put(b + "adaLN_modulation.1.weight", new long[] {6 * C, C});
            m.put(b + "adaLN_modulation.1.bias", new long[] {6 * C});
        }
        m.put("final_layer.linear.weight", new long[] {p * p * c.outChannels(), C});
        m.put("final_layer.linear.bias", new long[] {p * p * c.outChannels()});
        m.put("final_layer.adaLN_modulation.1.weight", new long[] {2 * C, C});
        m.put("final_layer.adaLN_modulation.1.bias", new long[] {2 * C});
        return m;
    }

    /**
     * A float32 copy of a state-dict tensor in memory libtorch owns, its values checked finite. The bytes are
     * copied by Java first: a state dict from a file is a view of the mapped file, and if the file is truncated
     * or rewritten meanwhile, a Java copy fails with an {@link InternalError} (turned into a refusal here)
     * where libtorch's native copy would crash the JVM with SIGBUS.
     *
     * @throws WeightsMismatchException naming the key, when the memory cannot be read or holds NaN or infinity
     */
    static org.bytedeco.pytorch.Tensor ownedFloatCopy(String key, Tensor t) {
        org.bytedeco.pytorch.Tensor owned = torch.empty(t.shape().toArray(), new TensorOptions(t.dtype().torchType()),
                new MemoryFormatOptional());
        if (t.byteSize() > 0) {
            try {
                MemorySegment.copy(t.segment(), 0, Torch.view(owned).segment(), 0, t.byteSize());
            } catch (InternalError e) {
                throw new WeightsMismatchException(key, "tensor data that stays readable while it loads", "memory that "
                        + "could not be read: the file was truncated or rewritten during the load");
            }
        }
        org.bytedeco.pytorch.Tensor f = owned.to(torch.ScalarType.Float).contiguous();
        if (!torch.isfinite(f).all().item_bool()) {
            float[] v = Torch.view(f).toFloatArray();
            int i = 0;
            while (Float.isFinite(v[i])) {
                i++;
            }
            throw new WeightsMismatchException(key, "finite values", v[i] + " at element " + i + " (of " + v.length + ")");
        }
        return f;
    }

    /**
     * The fixed 2-D sin-cos position embedding of the official code (MAE's get_2d_sincos_pos_embed), computed in
     * float64 and rounded to float32: for token (row i, column j) the first half of the channels encodes j and
     * the second half i, each as [sin(pos * omega), cos(pos * omega)] with omega_k = 1 / 10000^(k / (D/4)).
     */
    public static float[] sincosPositionEmbedding(int hidden, int grid) {
        int quarter = hidden / 4;
        double[] omega = new double[quarter];
        for (int k = 0; k < quarter; k++) {
            omega[k] = 1.0 / Math.pow(10000.0, k / (double) quarter);
        }
        float[] out = new float[grid * grid * hidden];
        for (int i = 0; i < grid; i++) {
            for (int j = 0; j < grid; j++) {
                int base = (i * grid + j) * hidden;
                for (int k = 0; k < quarter; k++) {
                    out[base + k] = (float) Math.sin(j * omega[k]);
                    out[base + quarter + k] = (float) Math.cos(j * omega[k]);
                    out[base + 2 * quarter + k] = (float) Math.sin(i * omega[k]);
                    out[base + 3 * quarter + k] = (float) Math.cos(i * omega[k]);
                }
            }
        }
        return out;
    }
}
