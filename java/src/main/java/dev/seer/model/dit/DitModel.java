package dev.seer.model.dit;

import dev.seer.kernel.GateView;
import dev.seer.model.BranchHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.io.TorchCheckpoints;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
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
    /** All blocks' adaLN weights in one (depth*6C, C) buffer; each block's weight is a row range of it. */
    private final org.bytedeco.pytorch.Tensor adaLnWeightAll;
    private final org.bytedeco.pytorch.Tensor adaLnBiasAll;
    private final List<HookPoint> hookPoints;
    private final org.bytedeco.pytorch.Tensor frequencies;
    private volatile boolean closed;

    private DitModel(DitConfig config, Map<String, org.bytedeco.pytorch.Tensor> weights) {
        this.config = config;
        this.weights = weights;
        int depth = config.depth();
        try (PointerScope scope = new PointerScope()) {
            TensorVector ws = new TensorVector();
            TensorVector bs = new TensorVector();
            for (int i = 0; i < depth; i++) {
                ws.push_back(weights.get("blocks." + i + ".adaLN_modulation.1.weight"));
                bs.push_back(weights.get("blocks." + i + ".adaLN_modulation.1.bias"));
            }
            adaLnWeightAll = keep(torch.cat(ws, 0));
            adaLnBiasAll = keep(torch.cat(bs, 0));
            long sixC = 6L * config.hiddenSize();
            for (int i = 0; i < depth; i++) {
                weights.put("blocks." + i + ".adaLN_modulation.1.weight", keep(adaLnWeightAll.narrow(0, i * sixC, sixC)));
                weights.put("blocks." + i + ".adaLN_modulation.1.bias", keep(adaLnBiasAll.narrow(0, i * sixC, sixC)));
            }
            frequencies = keep(timestepFrequencies());
        }
        List<HookPoint> points = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            points.add(new HookPoint("blocks." + i + ".attn", i, 2 * i));
            points.add(new HookPoint("blocks." + i + ".mlp", i, 2 * i + 1));
        }
        this.hookPoints = Collections.unmodifiableList(points);
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

    /** Views of the weights (owned by this model; valid until {@link #close()}), official key names. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (var e : weights.entrySet()) {
            m.put(e.getKey(), Torch.view(e.getValue()));
        }
        return m;
    }

    /** Bytes of weights held (the adaLN weights are counted once). */
    public long weightBytes() {
        long n = 0;
        for (var e : weights.entrySet()) {
            if (!e.getKey().contains("adaLN_modulation") || e.getKey().startsWith("final_layer")) {
                n += e.getValue().numel() * 4;
            }
        }
        return n + (adaLnWeightAll.numel() + adaLnBiasAll.numel()) * 4;
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

    private org.bytedeco.pytorch.Tensor w(String key) {
        return weights.get(key);
    }

    private org.bytedeco.pytorch.Tensor linear(org.bytedeco.pytorch.Tensor x, String prefix) {
        return torch.linear(x, w(prefix + ".weight"), new TensorOptional(w(prefix + ".bias")));
    }

    private org.bytedeco.pytorch.Tensor forward(org.bytedeco.pytorch.Tensor x, org.bytedeco.pytorch.Tensor t,
                                                org.bytedeco.pytorch.Tensor y, StepContext ctx, BranchHooks hooks) {
        int C = config.hiddenSize();
        long p = config.patchSize();
        // x_embedder (a conv with kernel = stride = patch) + fixed position embedding: (B, T, C)
        org.bytedeco.pytorch.Tensor h = torch.conv2d(x, w("x_embedder.proj.weight"),
                new TensorOptional(w("x_embedder.proj.bias")), new long[] {p, p}, new long[] {0, 0}, new long[] {1, 1}, 1);
        h = h.flatten(2, -1).transpose(1, 2).add(w("pos_embed")).contiguous();
        // c = t_emb + y_emb: (B, C)
        org.bytedeco.pytorch.Tensor args = t.to(torch.ScalarType.Float).unsqueeze(1).mul(frequencies.unsqueeze(0));
        TensorVector cs = new TensorVector(args.cos(), args.sin());
        org.bytedeco.pytorch.Tensor tFreq = torch.cat(cs, -1);
        org.bytedeco.pytorch.Tensor tEmb = linear(torch.silu(linear(tFreq, "t_embedder.mlp.0")), "t_embedder.mlp.2");
        org.bytedeco.pytorch.Tensor yEmb = w("y_embedder.embedding_table.weight").index_select(0, y);
        org.bytedeco.pytorch.Tensor c = tEmb.add(yEmb);
        org.bytedeco.pytorch.Tensor siluC = torch.silu(c);

        hooks.beginStep(ctx);
        Tensor xView = Torch.view(h);
        if (hooks != BranchHooks.NONE && hooks.replacesStack(ctx)) {
            // Only the conditioning path runs: every block's adaLN in one matmul, then the hooks add all branches.
            org.bytedeco.pytorch.Tensor mods = torch.linear(siluC, adaLnWeightAll, new TensorOptional(adaLnBiasAll)).contiguous();
            Tensor modView = Torch.view(mods);
            List<GateView> gates = new ArrayList<>(hookPoints.size());
            for (HookPoint hp : hookPoints) {
                long offset = 6L * C * hp.layer() + (hp.name().endsWith(".attn") ? 2L * C : 5L * C);
                gates.add(new GateView(modView, offset, C));
            }
            hooks.applyStack(ctx, xView, hookPoints, gates);
        } else {
            for (int i = 0; i < config.depth(); i++) {
                String b = "blocks." + i + ".";
                org.bytedeco.pytorch.Tensor mods = linear(siluC, b + "adaLN_modulation.1").contiguous();
                Tensor modView = Torch.view(mods);
                org.bytedeco.pytorch.Tensor x0 = h;
                // attention branch: shift_msa, scale_msa, gate_msa = chunks 0, 1, 2
                residual(hooks, hookPoints.get(2 * i), ctx, h, xView, mods, modView, 2L * C,
                        () -> attention(modulate(x0, mods, 0, C), b));
                // MLP branch: shift_mlp, scale_mlp, gate_mlp = chunks 3, 4, 5
                residual(hooks, hookPoints.get(2 * i + 1), ctx, h, xView, mods, modView, 5L * C,
                        () -> mlp(modulate(x0, mods, 3L * C, C), b));
            }
        }
        // final layer: adaLN (shift, scale), LayerNorm, linear, unpatchify
        org.bytedeco.pytorch.Tensor fm = linear(siluC, "final_layer.adaLN_modulation.1");
        org.bytedeco.pytorch.Tensor out = linear(modulate(h, fm, 0, C), "final_layer.linear");
        hooks.endStep(ctx);
        long batch = out.size(0);
        long g = config.gridSize();
        long oc = config.outChannels();
        return out.reshape(batch, g, g, p, p, oc).permute(0, 5, 1, 3, 2, 4).reshape(batch, oc, g * p, g * p).contiguous();
    }

    private interface TorchBranch {
        org.bytedeco.pytorch.Tensor compute();
    }

    private void residual(BranchHooks hooks, HookPoint point, StepContext ctx, org.bytedeco.pytorch.Tensor h, Tensor xView,
                          org.bytedeco.pytorch.Tensor mods, Tensor modView, long gateOffset, TorchBranch branch) {
        int C = config.hiddenSize();
        if (hooks == BranchHooks.NONE) {
            // x = x + gate.unsqueeze(1) * branch, as the reference model does (in place: same values)
            org.bytedeco.pytorch.Tensor gate = mods.narrow(1, gateOffset, C).unsqueeze(1);
            h.add_(gate.mul(branch.compute()));
        } else {
            hooks.residual(point, ctx, xView, new GateView(modView, gateOffset, C), () -> Torch.view(branch.compute().contiguous()));
        }
    }

    /** LayerNorm (no affine, eps 1e-6), then x * (1 + scale) + shift with shift/scale read from the modulation. */
    private org.bytedeco.pytorch.Tensor modulate(org.bytedeco.pytorch.Tensor x, org.bytedeco.pytorch.Tensor mods, long shiftOffset, int C) {
        org.bytedeco.pytorch.Tensor shift = mods.narrow(1, shiftOffset, C).unsqueeze(1);
        org.bytedeco.pytorch.Tensor scale = mods.narrow(1, shiftOffset + C, C).unsqueeze(1);
        org.bytedeco.pytorch.Tensor n = torch.layer_norm(x, new long[] {C}, new TensorOptional(), new TensorOptional(), 1e-6, false);
        return n.mul(scale.add(new Scalar(1.0))).add(shift);
    }

    /** qkv (with bias) -> heads -> softmax(q k^T / sqrt(d)) v -> proj: (B, N, C). */
    private org.bytedeco.pytorch.Tensor attention(org.bytedeco.pytorch.Tensor x, String b) {
        long B = x.size(0);
        long N = x.size(1);
        int C = config.hiddenSize();
        org.bytedeco.pytorch.Tensor qkv = linear(x, b + "attn.qkv").reshape(B, N, 3, config.numHeads(), config.headDim())
                .permute(2, 0, 3, 1, 4);
        org.bytedeco.pytorch.Tensor o = torch.scaled_dot_product_attention(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2));
        return linear(o.transpose(1, 2).reshape(B, N, C), b + "attn.proj");
    }

    /** fc1 -> tanh-GELU -> fc2. */
    private org.bytedeco.pytorch.Tensor mlp(org.bytedeco.pytorch.Tensor x, String b) {
        return linear(torch.gelu(linear(x, b + "mlp.fc1"), "tanh"), b + "mlp.fc2");
    }

    /** exp(-ln(10000) * k / half) for k < half, in the reference's float32 op order. */
    private static org.bytedeco.pytorch.Tensor timestepFrequencies() {
        int half = DitWeights.FREQUENCY_EMBEDDING_SIZE / 2;
        org.bytedeco.pytorch.Tensor k = torch.arange(new Scalar(0), new Scalar(half), new TensorOptions(torch.ScalarType.Float));
        return k.mul(new Scalar(-Math.log(10000.0))).div(new Scalar(half)).exp();
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
            adaLnWeightAll.close();
            adaLnBiasAll.close();
            frequencies.close();
        }
    }
}
