package dev.seer.model.dit;

import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.io.TorchCheckpoints;
import dev.seer.kernel.GateView;
import dev.seer.model.BranchHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The facebookresearch DiT (Peebles &amp; Xie, 2023) on libtorch, float32, inference only. Hook points are the
 * attention and MLP branch of every block (blocks.{i}.attn, blocks.{i}.mlp): each is computed up to, but not
 * including, its gate, and handed to {@link BranchHooks} for the gated residual add. The adaLN modulation, the
 * embedders and the final layer always run.
 *
 * <p>Thread-safe: one loaded model serves any number of concurrent {@link #forward} calls; weights are only read.
 */
public final class DitModel implements AutoCloseable {
    private final DitConfig config;
    private final Map<String, org.bytedeco.pytorch.Tensor> weights;
    /**
     * The blocks' adaLN weights, rearranged without duplication: every block's two gate chunks (gate_msa,
     * gate_mlp) in one (depth*2C, C) block, and the shift/scale chunks in another (depth*4C, C). A forecast step
     * needs only the gates, so it reads a third of the adaLN weights in one pass.
     */
    private final org.bytedeco.pytorch.Tensor gateWeight;
    private final org.bytedeco.pytorch.Tensor gateBias;
    private final org.bytedeco.pytorch.Tensor shiftScaleWeight;
    private final org.bytedeco.pytorch.Tensor shiftScaleBias;
    private final List<HookPoint> hookPoints;
    private final org.bytedeco.pytorch.Tensor frequencies;
    private final DitGraph graph;
    private volatile boolean closed;

    /** adaLN chunk order of the official checkpoints: shift, scale, gate (attention), shift, scale, gate (MLP). */
    private static final int[] GATE_CHUNKS = {2, 5};
    private static final int[] SHIFT_SCALE_CHUNKS = {0, 1, 3, 4};

    private DitModel(DitConfig config, Map<String, org.bytedeco.pytorch.Tensor> weights) {
        this.config = config;
        this.weights = weights;
        int depth = config.depth();
        long C = config.hiddenSize();
        try (PointerScope scope = new PointerScope()) {
            TensorVector gw = new TensorVector();
            TensorVector gb = new TensorVector();
            TensorVector sw = new TensorVector();
            TensorVector sb = new TensorVector();
            for (int i = 0; i < depth; i++) {
                org.bytedeco.pytorch.Tensor w = weights.remove("blocks." + i + ".adaLN_modulation.1.weight");
                org.bytedeco.pytorch.Tensor b = weights.remove("blocks." + i + ".adaLN_modulation.1.bias");
                for (int chunk : GATE_CHUNKS) {
                    gw.push_back(w.narrow(0, chunk * C, C));
                    gb.push_back(b.narrow(0, chunk * C, C));
                }
                for (int chunk : SHIFT_SCALE_CHUNKS) {
                    sw.push_back(w.narrow(0, chunk * C, C));
                    sb.push_back(b.narrow(0, chunk * C, C));
                }
                w.close();
                b.close();
            }
            gateWeight = keep(torch.cat(gw, 0));
            gateBias = keep(torch.cat(gb, 0));
            shiftScaleWeight = keep(torch.cat(sw, 0));
            shiftScaleBias = keep(torch.cat(sb, 0));
            frequencies = keep(DitGraph.timestepFrequencies());
        }
        List<HookPoint> points = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            points.add(new HookPoint("blocks." + i + ".attn", i, 2 * i));
            points.add(new HookPoint("blocks." + i + ".mlp", i, 2 * i + 1));
        }
        this.hookPoints = Collections.unmodifiableList(points);
        this.graph = new DitGraph(config, weights::get, frequencies);
    }

    /** Takes a tensor out of the current PointerScope so it lives until {@link #close()}. */
    private static org.bytedeco.pytorch.Tensor keep(org.bytedeco.pytorch.Tensor t) {
        PointerScope inner = PointerScope.getInnerScope();
        if (inner != null) {
            t.retainReference(); // detach releases the scope's reference; this one is released by close()
            inner.detach(t);
        }
        return t;
    }

    /**
     * Builds a model from a state dict with the official key names. Every expected key must be present with
     * its exact shape and no other key may appear; the values are copied into memory the model owns (float32).
     *
     * @throws WeightsMismatchException naming the key, the expected and the found shape
     */
    public static DitModel fromStateDict(DitConfig config, Map<String, Tensor> stateDict) {
        SeerRuntime.init();
        Map<String, long[]> expected = DitWeights.expectedShapes(config);
        for (String key : stateDict.keySet()) {
            if (!expected.containsKey(key)) {
                throw new WeightsMismatchException(key, "no such key in a DiT state dict", "an unexpected key");
            }
        }
        Map<String, org.bytedeco.pytorch.Tensor> owned = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
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
                org.bytedeco.pytorch.Tensor copy = Torch.wrap(t).to(torch.ScalarType.Float).clone().contiguous();
                owned.put(e.getKey(), keep(copy));
            }
        }
        return new DitModel(config, owned);
    }

    /**
     * Loads an official DiT checkpoint: a torch.save'd state dict (.pt, .pth; training checkpoints' "ema" entry
     * is used when present) or a .safetensors file with the official key names.
     *
     * @throws CheckpointException naming the file, the key, and the expected and found shapes
     */
    public static DitModel load(DitConfig config, Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        try {
            if (name.endsWith(".safetensors")) {
                try (SafetensorsFile f = Safetensors.open(file)) {
                    Map<String, Tensor> sd = new LinkedHashMap<>();
                    for (String key : f.keys()) {
                        sd.put(key, f.get(key));
                    }
                    return fromStateDict(config, sd);
                }
            }
            if (name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".bin")) {
                return fromStateDict(config, TorchCheckpoints.loadStateDict(file));
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
    public static Map<String, Tensor> randomStateDict(DitConfig config, long seed, Arena arena) {
        SeerRuntime.init();
        Map<String, Tensor> out = new LinkedHashMap<>();
        java.util.Random rnd = new java.util.Random(seed);
        for (var e : DitWeights.expectedShapes(config).entrySet()) {
            Tensor t = Tensor.allocate(arena, DType.F32, Shape.of(e.getValue()));
            float[] v = new float[Math.toIntExact(t.numel())];
            if (e.getKey().equals("pos_embed")) {
                v = DitWeights.sincosPositionEmbedding(config.hiddenSize(), config.gridSize());
            } else {
                long[] s = e.getValue();
                double std = s.length >= 2 && !e.getKey().contains("embedding_table")
                        ? 1.0 / Math.sqrt(t.numel() / (double) s[0]) : 0.02;
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rnd.nextGaussian() * std);
                }
            }
            t.copyFrom(v);
            out.put(e.getKey(), t);
        }
        return out;
    }

    public DitConfig config() {
        return config;
    }

    /** The residual branches, in execution order. */
    public List<HookPoint> hookPoints() {
        return hookPoints;
    }

    /**
     * The weights under their official key names, in the official layout: views of the model's memory, except
     * the adaLN weights, which are reassembled into copies. Valid until {@link #close()}.
     */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        long C = config.hiddenSize();
        for (var e : DitWeights.expectedShapes(config).entrySet()) {
            String key = e.getKey();
            org.bytedeco.pytorch.Tensor t = weights.get(key);
            if (t == null) {
                int layer = Integer.parseInt(key.split("\\.")[1]);
                boolean weight = key.endsWith(".weight");
                org.bytedeco.pytorch.Tensor g = (weight ? gateWeight : gateBias).narrow(0, layer * 2 * C, 2 * C);
                org.bytedeco.pytorch.Tensor ss = (weight ? shiftScaleWeight : shiftScaleBias).narrow(0, layer * 4 * C, 4 * C);
                TensorVector parts = new TensorVector(ss.narrow(0, 0, 2 * C), g.narrow(0, 0, C), ss.narrow(0, 2 * C, 2 * C),
                        g.narrow(0, C, C));
                t = torch.cat(parts, 0);
            }
            m.put(key, Torch.view(t));
        }
        return m;
    }

    /** Bytes of weights held. */
    public long weightBytes() {
        long n = gateWeight.numel() + gateBias.numel() + shiftScaleWeight.numel() + shiftScaleBias.numel();
        for (org.bytedeco.pytorch.Tensor t : weights.values()) {
            n += t.numel();
        }
        return n * Float.BYTES;
    }

    /**
     * One network call. x: (batch, in_channels, H, W) as a flat float32 array; timesteps and labels: one per
     * batch row (labels may be the null class num_classes). Returns (batch, out_channels, H, W) flattened.
     */
    public float[] forward(float[] x, int batch, long[] timesteps, long[] labels, StepContext ctx, BranchHooks hooks) {
        if (closed) {
            throw new IllegalStateException("model is closed");
        }
        int in = config.inChannels();
        int size = config.inputSize();
        long expected = (long) batch * in * size * size;
        if (batch < 1 || x.length != expected) {
            throw new IllegalArgumentException("x must hold batch * " + in + " * " + size + " * " + size + " = " + expected
                    + " floats for batch " + batch + ", found " + x.length);
        }
        if (timesteps.length != batch || labels.length != batch) {
            throw new IllegalArgumentException("one timestep and one label per batch row: batch " + batch + ", found "
                    + timesteps.length + " timesteps and " + labels.length + " labels");
        }
        int maxLabel = config.numClasses() - (config.hasNullClass() ? 0 : 1);
        for (long y : labels) {
            if (y < 0 || y > maxLabel) {
                throw new IllegalArgumentException("labels must be in 0.." + maxLabel + ", found " + y);
            }
        }
        BranchHooks h = hooks == null ? BranchHooks.NONE : hooks;
        try (Arena arena = Arena.ofConfined(); PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            org.bytedeco.pytorch.Tensor xt = Torch.wrap(Tensor.ofFloats(arena, x, batch, in, size, size));
            org.bytedeco.pytorch.Tensor tt = Torch.wrap(longs(arena, timesteps));
            org.bytedeco.pytorch.Tensor yt = Torch.wrap(longs(arena, labels));
            org.bytedeco.pytorch.Tensor out = forward(xt, tt, yt, ctx, h);
            return Torch.view(out).toFloatArray();
        }
    }

    private static Tensor longs(Arena arena, long[] values) {
        Tensor t = Tensor.allocate(arena, DType.I64, values.length);
        MemorySegment.copy(values, 0, t.segment(), ValueLayout.JAVA_LONG, 0, values.length);
        return t;
    }

    private org.bytedeco.pytorch.Tensor forward(org.bytedeco.pytorch.Tensor x, org.bytedeco.pytorch.Tensor t,
                                                org.bytedeco.pytorch.Tensor y, StepContext ctx, BranchHooks hooks) {
        int C = config.hiddenSize();
        org.bytedeco.pytorch.Tensor h = graph.embed(x);
        org.bytedeco.pytorch.Tensor siluC = torch.silu(graph.conditioning(t, y));
        hooks.beginStep(ctx);
        Tensor xView = Torch.view(h);
        if (hooks != BranchHooks.NONE && hooks.replacesStack(ctx)) {
            // Only the conditioning path runs: every block's gates in one pass over the gate weights, then the
            // hooks add all branches. gates: (B, depth*2C), block i's gate_msa at 2iC, gate_mlp at (2i+1)C.
            Tensor gates = Torch.view(DitGraph.smallBatchLinear(siluC, gateWeight, gateBias));
            List<GateView> views = new ArrayList<>(hookPoints.size());
            for (HookPoint hp : hookPoints) {
                views.add(new GateView(gates, (long) hp.index() * C, C));
            }
            hooks.applyStack(ctx, xView, hookPoints, views);
        } else {
            for (int i = 0; i < config.depth(); i++) {
                int layer = i;
                // shift_msa, scale_msa, shift_mlp, scale_mlp at 0, C, 2C, 3C; gate_msa, gate_mlp at 0, C
                org.bytedeco.pytorch.Tensor ss = DitGraph.smallBatchLinear(siluC, shiftScaleWeight.narrow(0, 4L * i * C, 4L * C),
                        shiftScaleBias.narrow(0, 4L * i * C, 4L * C));
                org.bytedeco.pytorch.Tensor g = DitGraph.smallBatchLinear(siluC, gateWeight.narrow(0, 2L * i * C, 2L * C),
                        gateBias.narrow(0, 2L * i * C, 2L * C));
                Tensor gView = Torch.view(g);
                residual(hooks, hookPoints.get(2 * i), ctx, h, xView, g, gView, 0,
                        () -> graph.attention(graph.modulate(h, ss, 0), layer));
                residual(hooks, hookPoints.get(2 * i + 1), ctx, h, xView, g, gView, C,
                        () -> graph.mlp(graph.modulate(h, ss, 2L * C), layer));
            }
        }
        org.bytedeco.pytorch.Tensor out = graph.finalLayer(h, siluC);
        hooks.endStep(ctx);
        return out;
    }

    private interface TorchBranch {
        org.bytedeco.pytorch.Tensor compute();
    }

    /** x = x + gate * branch, in place on x's memory: by libtorch ops without hooks, else by the hooks. */
    private void residual(BranchHooks hooks, HookPoint point, StepContext ctx, org.bytedeco.pytorch.Tensor h, Tensor xView,
                          org.bytedeco.pytorch.Tensor mods, Tensor modView, long gateOffset, TorchBranch branch) {
        if (hooks == BranchHooks.NONE) {
            h.add_(graph.gate(mods, gateOffset).mul(branch.compute()));
        } else {
            hooks.residual(point, ctx, xView, new GateView(modView, gateOffset, config.hiddenSize()),
                    () -> Torch.view(branch.compute().contiguous()));
        }
    }

    /** A libtorch CPU generator, seeded like torch.manual_seed (same normal stream as PyTorch on CPU). */
    public static float[] randn(Generator generator, long... shape) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor t = torch.randn(shape, new GeneratorOptional(generator), new TensorOptions(torch.ScalarType.Float));
            return Torch.view(t.contiguous()).toFloatArray();
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            for (org.bytedeco.pytorch.Tensor t : weights.values()) {
                t.close();
            }
            gateWeight.close();
            gateBias.close();
            shiftScaleWeight.close();
            shiftScaleBias.close();
            frequencies.close();
        }
    }
}
