package dev.seer.model.dit;

import dev.seer.io.CheckpointException;
import dev.seer.kernel.DitOps;
import dev.seer.kernel.Variant;
import dev.seer.model.BranchHooks;
import dev.seer.model.FusedStackHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.model.WeightsMismatchException;
import dev.seer.sampling.RunGate;
import dev.seer.tensor.DType;
import dev.seer.tensor.GateView;
import dev.seer.tensor.HostMemory;
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
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The facebookresearch DiT (Peebles &amp; Xie, 2023), float32, inference only: every linear map, the embedders and
 * the final layer in Seer's native ops ({@link DitOps}), LayerNorm, attention and GELU in libtorch. Hook points
 * are the attention and MLP branch of every block (blocks.{i}.attn, blocks.{i}.mlp): each is computed up to, but
 * not including, its gate, and handed to {@link BranchHooks} for the gated residual add. The adaLN modulation,
 * the embedders and the final layer always run.
 *
 * <p>Thread-safe: one loaded model serves any number of concurrent {@link #forward} calls; weights are only read.
 */
public final class DitModel implements AutoCloseable {
    private final DitConfig config;
    private final Map<String, org.bytedeco.pytorch.Tensor> weights;
    /**
     * The blocks' adaLN weights, rearranged and packed for {@link DitOps#linearRows} without duplication: every
     * block's two gate chunks (gate_msa, gate_mlp) in one (depth*2C, C) map, and the shift/scale chunks in another
     * (depth*4C, C). A forecast step needs only the gates, so it reads a third of the adaLN weights, in one pass
     * for all blocks.
     */
    private final org.bytedeco.pytorch.Tensor gatePanels;
    private final org.bytedeco.pytorch.Tensor gateBias;
    private final org.bytedeco.pytorch.Tensor shiftScalePanels;
    private final org.bytedeco.pytorch.Tensor shiftScaleBias;
    /**
     * The blocks' linear maps (attn.qkv, attn.proj, mlp.fc1, mlp.fc2), packed for {@link DitOps#linearRows} in
     * place of the originals (which leave {@link #weights}), by weight key.
     */
    private final Map<String, org.bytedeco.pytorch.Tensor> blockPanels = new LinkedHashMap<>();
    /** Seer views of each block's packed linear maps and their biases. */
    private final List<BlockWeights> blockWeights = new ArrayList<>();
    /**
     * The small weights of the conditioning path (packed), the patch embedding and the final layer's linear map
     * (transposed), in the layouts of the native ops, in place of the originals (which leave {@link #weights}).
     */
    private final Map<String, org.bytedeco.pytorch.Tensor> nativeLayout = new LinkedHashMap<>();
    /** Seer views of everything the native ops read, made once (a view costs a few JNI calls). */
    private final NativeWeights nw;
    private final List<HookPoint> hookPoints;
    private final org.bytedeco.pytorch.Tensor frequencies;
    /** The conditioning path and its memo of (timestep, label) pairs met. */
    private final DitConditioning conditioning;
    /** Admits network calls until {@link #close()}, which waits for those in progress. */
    private final RunGate gate = new RunGate("the model");

    /** The most the conditioning memo holds (DiT-XL/2: 265 KiB a pair, enough for a run of 50 steps and 2 labels). */
    public static final long CONDITIONING_MEMO_BYTES = 32L << 20;
    /** For its weight-free ops (modulate, gate) only: the blocks' linear weights are not in {@link #weights}. */
    private final DitGraph graph;
    /** The weights of the native ops, in the layouts they take (packed: {@link DitOps#packLinear}). */
    record NativeWeights(Tensor embedT, Tensor embedBias, Tensor pos, Tensor tMlp0Panels, Tensor tMlp0Bias,
                                 Tensor tMlp2Panels, Tensor tMlp2Bias, Tensor labelTable, Tensor gatePanels,
                                 Tensor gateBias, Tensor shiftScalePanels, Tensor shiftScaleBias, Tensor finalModPanels,
                                 Tensor finalModBias, Tensor finalLinearT, Tensor finalLinearBias) {
    }

    /** One block's linear maps, packed, with their biases. */
    private record BlockWeights(Tensor qkv, Tensor qkvBias, Tensor proj, Tensor projBias, Tensor fc1, Tensor fc1Bias,
                                Tensor fc2, Tensor fc2Bias) {
    }

    /** The linear maps inside a block, by key suffix, in {@link BlockWeights}' order. */
    private static final List<String> BLOCK_LINEARS = List.of("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2");

    /** adaLN chunk order of the official checkpoints: shift, scale, gate (attention), shift, scale, gate (MLP). */
    private static final int[] GATE_CHUNKS = {2, 5};
    private static final int[] SHIFT_SCALE_CHUNKS = {0, 1, 3, 4};
    /** Weights kept packed for {@link DitOps#linearRows}: the conditioning path's. */
    private static final List<String> PACKED = List.of("t_embedder.mlp.0.weight", "t_embedder.mlp.2.weight",
            "final_layer.adaLN_modulation.1.weight");
    /** Weights kept transposed (inputs x outputs) for the native patch embedding and final layer. */
    private static final List<String> TRANSPOSED = List.of("x_embedder.proj.weight", "final_layer.linear.weight");
    /** The one residual stream of a DiT: every branch adds to the tokens x. */
    public static final String STREAM = "x";
    /** The final layer's LayerNorm epsilon (official: elementwise_affine=False, eps=1e-6). */
    private static final float FINAL_NORM_EPS = 1e-6f;

    private DitModel(DitConfig config, Map<String, org.bytedeco.pytorch.Tensor> weights) {
        this.config = config;
        this.weights = weights;
        int depth = config.depth();
        long C = config.hiddenSize();
        // Every packed or transposed weight replaces its original, which is freed before the next one is made: the
        // model never holds two forms of a weight, and loading never holds more than one weight twice.
        gatePanels = DitWeights.keep(torch.empty(DitOps.packedShape(2L * depth * C, C).toArray()));
        shiftScalePanels = DitWeights.keep(torch.empty(DitOps.packedShape(4L * depth * C, C).toArray()));
        try (PointerScope scope = new PointerScope(); Arena slabs = Arena.ofConfined()) {
            RowPacker gates = new RowPacker(Torch.view(gatePanels), slabs);
            RowPacker shiftScales = new RowPacker(Torch.view(shiftScalePanels), slabs);
            TensorVector gb = new TensorVector();
            TensorVector sb = new TensorVector();
            for (int i = 0; i < depth; i++) {
                org.bytedeco.pytorch.Tensor w = weights.remove("blocks." + i + ".adaLN_modulation.1.weight");
                org.bytedeco.pytorch.Tensor b = weights.remove("blocks." + i + ".adaLN_modulation.1.bias");
                Tensor wv = Torch.view(w);
                for (int chunk : GATE_CHUNKS) {
                    gates.append(wv.narrow0(chunk * C, (chunk + 1) * C));
                    gb.push_back(b.narrow(0, chunk * C, C));
                }
                for (int chunk : SHIFT_SCALE_CHUNKS) {
                    shiftScales.append(wv.narrow0(chunk * C, (chunk + 1) * C));
                    sb.push_back(b.narrow(0, chunk * C, C));
                }
                w.close(); // the appends packed or copied its rows: nothing refers to it any more
                b.close(); // its chunks' views keep it until the scope ends (6C floats)
                HostMemory.releaseFreed(); // the original's block, before the panels' pages fill: no moment holds both
            }
            gates.finish();
            shiftScales.finish();
            gateBias = DitWeights.keep(torch.cat(gb, 0));
            shiftScaleBias = DitWeights.keep(torch.cat(sb, 0));
            frequencies = DitWeights.keep(DitGraph.timestepFrequencies());
        }
        for (String key : PACKED) {
            nativeLayout.put(key, replaced(weights, key, DitModel::packed));
        }
        for (String key : TRANSPOSED) {
            nativeLayout.put(key, replaced(weights, key, w -> w.reshape(w.size(0), -1).t().contiguous()));
        }
        for (int i = 0; i < depth; i++) {
            for (String linear : BLOCK_LINEARS) {
                String key = "blocks." + i + "." + linear + ".weight";
                blockPanels.put(key, replaced(weights, key, DitModel::packed));
            }
        }
        HostMemory.releaseFreed();
        for (int i = 0; i < depth; i++) {
            Tensor[] v = new Tensor[2 * BLOCK_LINEARS.size()];
            for (int j = 0; j < BLOCK_LINEARS.size(); j++) {
                String prefix = "blocks." + i + "." + BLOCK_LINEARS.get(j);
                v[2 * j] = Torch.view(blockPanels.get(prefix + ".weight"));
                v[2 * j + 1] = Torch.view(weights.get(prefix + ".bias"));
            }
            blockWeights.add(new BlockWeights(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]));
        }
        nw = new NativeWeights(
                Torch.view(nativeLayout.get("x_embedder.proj.weight")), Torch.view(weights.get("x_embedder.proj.bias")),
                Torch.view(weights.get("pos_embed")).reshape(config.tokens(), C),
                Torch.view(nativeLayout.get("t_embedder.mlp.0.weight")), Torch.view(weights.get("t_embedder.mlp.0.bias")),
                Torch.view(nativeLayout.get("t_embedder.mlp.2.weight")), Torch.view(weights.get("t_embedder.mlp.2.bias")),
                Torch.view(weights.get("y_embedder.embedding_table.weight")),
                Torch.view(gatePanels), Torch.view(gateBias), Torch.view(shiftScalePanels), Torch.view(shiftScaleBias),
                Torch.view(nativeLayout.get("final_layer.adaLN_modulation.1.weight")),
                Torch.view(weights.get("final_layer.adaLN_modulation.1.bias")),
                Torch.view(nativeLayout.get("final_layer.linear.weight")), Torch.view(weights.get("final_layer.linear.bias")));
        conditioning = new DitConditioning(config, nw, Torch.view(frequencies).toFloatArray());
        List<HookPoint> points = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            points.add(new HookPoint("blocks." + i + ".attn", i, 2 * i, STREAM, config.tokens(), C));
            points.add(new HookPoint("blocks." + i + ".mlp", i, 2 * i + 1, STREAM, config.tokens(), C));
        }
        this.hookPoints = Collections.unmodifiableList(points);
        this.graph = new DitGraph(config, weights::get, frequencies);
    }

    /**
     * The new form of weight {@code key}, which leaves {@code weights} and is freed before this returns: the new
     * form is made in a scope of its own, so no temporary handle keeps the original's memory alive.
     */
    private static org.bytedeco.pytorch.Tensor replaced(Map<String, org.bytedeco.pytorch.Tensor> weights, String key,
            java.util.function.UnaryOperator<org.bytedeco.pytorch.Tensor> form) {
        org.bytedeco.pytorch.Tensor original = weights.remove(key);
        try (PointerScope scope = new PointerScope()) {
            return DitWeights.keep(form.apply(original));
        } finally {
            original.close();
            HostMemory.releaseFreed();
        }
    }

    /**
     * Packs the rows of a (n, k) map handed over in pieces, in order, into its panels ({@link DitOps#packedShape}),
     * so the map never exists unpacked as a whole: whole panels straight from the piece, a panel that straddles two
     * pieces through a (64, k) slab. The panels equal those {@link DitOps#packLinear} makes of the whole map.
     */
    private static final class RowPacker {
        private final Tensor panels;
        private final long k;
        private final Tensor slab;
        private long panel;
        private long pending;

        RowPacker(Tensor panels, Arena arena) {
            this.panels = panels;
            this.k = panels.shape().dim(1);
            this.slab = Tensor.allocate(arena, DType.F32, DitOps.PANEL, k);
        }

        /** Appends rows (m, k). */
        void append(Tensor rows) {
            long m = rows.shape().dim(0);
            long r = 0;
            while (r < m) {
                long whole = (m - r) / DitOps.PANEL;
                if (pending == 0 && whole > 0) {
                    DitOps.packLinear(panels.narrow0(panel, panel + whole), rows.narrow0(r, r + whole * DitOps.PANEL));
                    panel += whole;
                    r += whole * DitOps.PANEL;
                    continue;
                }
                long take = Math.min(DitOps.PANEL - pending, m - r);
                long rowBytes = k * Float.BYTES;
                MemorySegment.copy(rows.segment(), r * rowBytes, slab.segment(), pending * rowBytes, take * rowBytes);
                pending += take;
                r += take;
                if (pending == DitOps.PANEL) {
                    flush();
                }
            }
        }

        /** Packs the last, partial panel (its missing rows are zero, as packLinear pads them). */
        void finish() {
            if (pending > 0) {
                flush();
            }
            if (panel != panels.shape().dim(0)) {
                throw new IllegalStateException("packed " + panel + " panels of " + panels.shape().dim(0));
            }
        }

        private void flush() {
            DitOps.packLinear(panels.narrow0(panel, panel + 1), slab.narrow0(0, pending));
            panel++;
            pending = 0;
        }
    }

    /** W (n, k) packed for {@link DitOps#linearRows}, in a new libtorch tensor. */
    private static org.bytedeco.pytorch.Tensor packed(org.bytedeco.pytorch.Tensor w) {
        org.bytedeco.pytorch.Tensor c = w.contiguous();
        Shape shape = DitOps.packedShape(c.size(0), c.size(1));
        org.bytedeco.pytorch.Tensor p = torch.empty(shape.toArray()); // float32, the default dtype
        DitOps.packLinear(Torch.view(p), Torch.view(c));
        return p;
    }

    /**
     * Builds a model from a state dict with the official key names ({@link DitWeights#owned}: every key present
     * with its shape, finite values, copied through Java into memory the model owns).
     *
     * @throws WeightsMismatchException naming the key, the expected and the found shape, or a NaN or infinite value
     * @throws IllegalArgumentException if the weights would not fit in this machine's memory
     */
    public static DitModel fromStateDict(DitConfig config, Map<String, Tensor> stateDict) {
        return new DitModel(config, DitWeights.owned(config, stateDict));
    }

    /**
     * Loads an official DiT checkpoint ({@link DitWeights#load}): a torch.save'd state dict (.pt, .pth; training
     * checkpoints' "ema" entry is used when present) or a .safetensors file with the official key names.
     *
     * @throws CheckpointException naming the file, the key, and the expected and found shapes
     */
    public static DitModel load(DitConfig config, Path file) throws IOException {
        return new DitModel(config, DitWeights.load(config, file));
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
     * the weights held packed or transposed (the linear maps but the embedding table), which are unpacked into
     * copies. Valid until {@link #close()}.
     */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        long C = config.hiddenSize();
        // the adaLN weights, unpacked once for all blocks
        org.bytedeco.pytorch.Tensor gateWeight = unpacked(gatePanels, 2L * config.depth() * C);
        org.bytedeco.pytorch.Tensor shiftScaleWeight = unpacked(shiftScalePanels, 4L * config.depth() * C);
        for (var e : DitWeights.expectedShapes(config).entrySet()) {
            String key = e.getKey();
            org.bytedeco.pytorch.Tensor t = weights.get(key);
            org.bytedeco.pytorch.Tensor panels = blockPanels.containsKey(key) ? blockPanels.get(key)
                    : PACKED.contains(key) ? nativeLayout.get(key) : null;
            if (panels != null) {
                t = unpacked(panels, e.getValue()[0]);
            } else if (TRANSPOSED.contains(key)) {
                t = nativeLayout.get(key).t().reshape(e.getValue()).contiguous();
            } else if (t == null) {
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

    /**
     * Every tensor the model holds, each in its one resident form, by name: the official key for a weight kept as
     * it is, packed or transposed, and a name of its own for the adaLN panels, their biases and the timestep
     * frequencies. Valid until {@link #close()}.
     */
    Map<String, org.bytedeco.pytorch.Tensor> residentTensors() {
        Map<String, org.bytedeco.pytorch.Tensor> m = new LinkedHashMap<>(weights);
        m.putAll(nativeLayout);
        m.putAll(blockPanels);
        m.put("blocks.*.adaLN_modulation.1.weight[gates]", gatePanels);
        m.put("blocks.*.adaLN_modulation.1.bias[gates]", gateBias);
        m.put("blocks.*.adaLN_modulation.1.weight[shift,scale]", shiftScalePanels);
        m.put("blocks.*.adaLN_modulation.1.bias[shift,scale]", shiftScaleBias);
        m.put("timestep frequencies", frequencies);
        return m;
    }

    /**
     * Bytes of memory the model holds for its weights: float32 values, panels padded to whole panels of 64
     * outputs, and the timestep frequencies. For configs whose hidden size is a multiple of 64 (every official
     * one) that is {@link DitConfig#weightBytes()} plus 512 bytes.
     *
     * @throws IllegalStateException once the model is closed
     */
    public long residentBytes() {
        if (gate.isClosing()) {
            throw new IllegalStateException("the model is closed");
        }
        long bytes = 0;
        for (org.bytedeco.pytorch.Tensor t : residentTensors().values()) {
            bytes += t.nbytes();
        }
        return bytes;
    }

    /** The (n, k) weight back from its panels (n_panels, k, 64): a copy. */
    private static org.bytedeco.pytorch.Tensor unpacked(org.bytedeco.pytorch.Tensor panels, long n) {
        long k = panels.size(1);
        return panels.permute(0, 2, 1).reshape(-1, k).narrow(0, 0, n).contiguous();
    }

    /**
     * One network call. x: (batch, in_channels, H, W) as a flat float32 array; timesteps and labels: one per
     * batch row (labels may be the null class num_classes). Returns (batch, out_channels, H, W) flattened.
     */
    public float[] forward(float[] x, int batch, long[] timesteps, long[] labels, StepContext ctx, BranchHooks hooks) {
        return forward(x, batch, timesteps, labels, ctx, hooks, null, null);
    }

    /**
     * As {@link #forward(float[], int, long[], long[], StepContext, BranchHooks)}, taking the conditioning from a
     * run's {@link StepConditioning} where it covers the call (the same conditioning, bit for bit; null: none), into
     * {@code out} when given (null: a new array). Only a run's conditioning can hand hooks the gates of the calls
     * ahead ({@link BranchHooks#stackGateCalls}): without it a TaylorCache forecasts each step in the official order.
     * A sampling loop that passes the same array at every step allocates nothing on the Java heap per step: fresh
     * heap pages cost a page fault each on first touch.
     *
     * @return out, or the new array
     */
    public float[] forward(float[] x, int batch, long[] timesteps, long[] labels, StepContext ctx, BranchHooks hooks,
                           StepConditioning conditioning, float[] out) {
        gate.enter(); // close() waits for calls in progress: no call reads freed weights
        try {
            return forwardOpen(x, batch, timesteps, labels, ctx, hooks, conditioning, out);
        } finally {
            gate.exit();
        }
    }

    private float[] forwardOpen(float[] x, int batch, long[] timesteps, long[] labels, StepContext ctx, BranchHooks hooks,
                                StepConditioning conditioning, float[] out) {
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
        checkLabels(labels);
        long outLength = (long) batch * config.outChannels() * size * size;
        if (out != null && out.length != outLength) {
            throw new IllegalArgumentException("out must hold batch * " + config.outChannels() + " * " + size + " * " + size
                    + " = " + outLength + " floats for batch " + batch + ", found " + out.length);
        }
        float[] result = out != null ? out : new float[Math.toIntExact(outLength)];
        BranchHooks h = hooks == null ? BranchHooks.NONE : hooks;
        h.beginStep(ctx);
        // a forecast for several steps at once needs their gates: the run's conditioning holds them
        int calls = h instanceof FusedStackHooks fused && fused.replacesStack(ctx) ? fused.stackGateCalls(ctx) : 1;
        StepConditioning.Rows rows = conditioning == null ? null : conditioning.rowsFor(timesteps, labels, calls);
        if (rows != null) {
            // a run's step: its buffers, allocated once per run, and no per-call arena
            StepConditioning.Buffers buffers = conditioning.buffers(config); // rowsFor matched the run's labels: one row each
            MemorySegment.copy(x, 0, buffers.x().segment(), ValueLayout.JAVA_FLOAT, 0, x.length);
            step(buffers.x(), buffers.h(), buffers.out(), rows, ctx, h);
            MemorySegment.copy(buffers.out().segment(), ValueLayout.JAVA_FLOAT, 0, result, 0, result.length);
            return result;
        }
        try (Arena arena = Arena.ofConfined()) {
            rows = conditionRows(arena, timesteps, labels);
            Tensor tokens = Tensor.allocate(arena, DType.F32, batch, config.tokens(), config.hiddenSize());
            Tensor y = Tensor.allocate(arena, DType.F32, batch, config.outChannels(), size, size);
            step(Tensor.ofFloats(arena, x, batch, in, size, size), tokens, y, rows, ctx, h);
            MemorySegment.copy(y.segment(), ValueLayout.JAVA_FLOAT, 0, result, 0, result.length);
            return result;
        }
    }

    private void checkLabels(long[] labels) {
        int maxLabel = config.numClasses() - (config.hasNullClass() ? 0 : 1);
        for (long y : labels) {
            if (y < 0 || y > maxLabel) {
                throw new IllegalArgumentException("labels must be in 0.." + maxLabel + ", found " + y);
            }
        }
    }

    /**
     * The conditioning of a run whose steps use these timesteps in this order, each call with these labels (one
     * per batch row): computed ahead a chunk of steps at a time (see {@link StepConditioning}). Close it after the
     * run.
     */
    public StepConditioning stepConditioning(long[] schedule, long[] labels) {
        if (gate.isClosing()) {
            throw new IllegalStateException("the model is closed");
        }
        if (schedule.length == 0 || labels.length == 0) {
            throw new IllegalArgumentException("a step conditioning needs at least one timestep and one label, found "
                    + schedule.length + " timesteps and " + labels.length + " labels");
        }
        checkLabels(labels);
        return new StepConditioning(this, schedule, labels);
    }

    /** The conditioning rows of (timestep, label) pairs (see {@link DitConditioning#rows}). */
    StepConditioning.Rows conditionRows(Arena arena, long[] timesteps, long[] labels) {
        return conditioning.rows(arena, timesteps, labels);
    }

    /** Bytes the conditioning memo holds: one row of silu(c), gates and final shift/scale per pair met. */
    public long conditioningMemoBytes() {
        return conditioning.memoBytes();
    }

    /** Empties the conditioning memo and frees its memory (for measuring what the memo saves). */
    void clearConditioningMemo() {
        conditioning.clearMemo();
    }

    /**
     * The step, from x (batch, in_channels, H, W) through the tokens h (batch, T, C), every element of which it
     * writes, into out (batch, out_channels, H, W). When the hooks replace the stack (a forecast step), one native
     * pass: patch embedding, the hooks' multi-branch forecast and the final layer ({@link DitOps#forecastStep}),
     * so a forecast step runs no libtorch op and opens no scope. Otherwise the patch embedding natively, the
     * blocks (libtorch, the linear maps natively; the hooks around each branch, and around the whole stack through
     * {@link BranchHooks#wholeStack}), the final layer natively.
     */
    private void step(Tensor x, Tensor h, Tensor out, StepConditioning.Rows conditioning, StepContext ctx, BranchHooks hooks) {
        int batch = Math.toIntExact(x.shape().dim(0));
        int C = config.hiddenSize();
        Tensor gates = conditioning.gates();
        if (hooks != BranchHooks.NONE && hooks.replacesStack(ctx)) {
            List<List<GateView>> gatesByCall = new ArrayList<>(conditioning.callsAhead());
            for (int k = 0; k < conditioning.callsAhead(); k++) {
                Tensor storage = k == 0 ? gates : conditioning.gatesAhead().narrow0((long) k * batch, (long) (k + 1) * batch);
                List<GateView> views = new ArrayList<>(hookPoints.size());
                for (HookPoint hp : hookPoints) {
                    views.add(new GateView(storage, (long) hp.index() * C, C));
                }
                gatesByCall.add(views);
            }
            List<GateView> views = gatesByCall.getFirst();
            boolean onePass = hooks instanceof FusedStackHooks fused && fused.applyStackIn(ctx, hookPoints, gatesByCall, (variant, stack, delta) -> DitOps.forecastStep(
                    variant, out, h, x, nw.embedT(), nw.embedBias(), nw.pos(), stack, delta, conditioning.finalMods(),
                    nw.finalLinearT(), nw.finalLinearBias(), config.patchSize(), FINAL_NORM_EPS));
            if (!onePass) {
                try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
                    DitOps.patchEmbed(Variant.AUTO, h, x, nw.embedT(), nw.embedBias(), nw.pos(), config.patchSize());
                    hooks.applyStack(ctx, h, hookPoints, views);
                    finalLayer(out, h, conditioning);
                }
            }
            hooks.endStep(ctx);
            return;
        }
        try (Arena arena = Arena.ofConfined(); PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            DitOps.patchEmbed(Variant.AUTO, h, x, nw.embedT(), nw.embedBias(), nw.pos(), config.patchSize());
            hooks.wholeStack(ctx, h, branchHooks -> blocks(arena, h, conditioning, ctx, branchHooks));
        }
        finalLayer(out, h, conditioning);
        hooks.endStep(ctx);
    }

    /** Every block on the tokens h (batch, T, C), in place, with {@code hooks} around each branch. */
    private void blocks(Arena arena, Tensor h, StepConditioning.Rows conditioning, StepContext ctx, BranchHooks hooks) {
        int batch = Math.toIntExact(h.shape().dim(0));
        int C = config.hiddenSize();
        int depth = config.depth();
        Tensor gates = conditioning.gates();
        // shift_msa, scale_msa, shift_mlp, scale_mlp of block i at 4iC + 0, C, 2C, 3C
        Tensor shiftScale = Tensor.allocate(arena, DType.F32, batch, 4L * depth * C);
        DitOps.linearRows(Variant.AUTO, shiftScale, conditioning.siluC(), nw.shiftScalePanels(), nw.shiftScaleBias());
        org.bytedeco.pytorch.Tensor ht = Torch.wrap(h);
        org.bytedeco.pytorch.Tensor ss = Torch.wrap(shiftScale);
        org.bytedeco.pytorch.Tensor g = Torch.wrap(gates);
        for (int i = 0; i < depth; i++) {
            // each block's intermediates are freed when it ends: a step holds one block's activations, not depth's
            try (PointerScope block = new PointerScope()) {
                BlockWeights bw = blockWeights.get(i);
                org.bytedeco.pytorch.Tensor ssi = ss.narrow(1, 4L * i * C, 4L * C);
                residual(hooks, hookPoints.get(2 * i), ctx, ht, h, g, gates, 2L * i * C,
                        () -> attention(graph.modulate(ht, ssi, 0), bw));
                residual(hooks, hookPoints.get(2 * i + 1), ctx, ht, h, g, gates, (2L * i + 1) * C,
                        () -> mlp(graph.modulate(ht, ssi, 2L * C), bw));
            }
        }
    }

    private void finalLayer(Tensor out, Tensor h, StepConditioning.Rows conditioning) {
        DitOps.finalLayer(Variant.AUTO, out, h, conditioning.finalMods(), nw.finalLinearT(), nw.finalLinearBias(),
                config.patchSize(), FINAL_NORM_EPS);
    }

    /**
     * A block's attention branch on modulated input (B, T, C), as {@link DitGraph#attention}: the qkv and output
     * maps natively, the heads' softmax attention by libtorch.
     */
    private org.bytedeco.pytorch.Tensor attention(org.bytedeco.pytorch.Tensor x, BlockWeights w) {
        long batch = x.size(0);
        long tokens = x.size(1);
        org.bytedeco.pytorch.Tensor qkv = linear(x, w.qkv(), w.qkvBias())
                .reshape(batch, tokens, 3, config.numHeads(), config.headDim()).permute(2, 0, 3, 1, 4);
        org.bytedeco.pytorch.Tensor o = torch.scaled_dot_product_attention(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2));
        return linear(o.transpose(1, 2), w.proj(), w.projBias());
    }

    /** A block's MLP branch on modulated input, as {@link DitGraph#mlp}: fc1 and fc2 natively, tanh-GELU in place. */
    private org.bytedeco.pytorch.Tensor mlp(org.bytedeco.pytorch.Tensor x, BlockWeights w) {
        org.bytedeco.pytorch.Tensor hidden = linear(x, w.fc1(), w.fc1Bias());
        torch.gelu_(hidden, "tanh");
        return linear(hidden, w.fc2(), w.fc2Bias());
    }

    /**
     * x (B, T, k), any strides, times a packed linear map plus bias: (B, T, n), contiguous. The native product
     * reads its weights once per 64 output columns for all rows, at close to the machine's peak rate.
     */
    private static org.bytedeco.pytorch.Tensor linear(org.bytedeco.pytorch.Tensor x, Tensor panels, Tensor bias) {
        long batch = x.size(0);
        long tokens = x.size(1);
        long k = panels.shape().dim(1);
        long n = bias.shape().dim(0);
        org.bytedeco.pytorch.Tensor in = x.contiguous();
        org.bytedeco.pytorch.Tensor out = torch.empty(batch, tokens, n); // float32, the default dtype
        DitOps.linearRows(Variant.AUTO, Torch.view(out).reshape(batch * tokens, n), Torch.view(in).reshape(batch * tokens, k),
                panels, bias);
        return out;
    }

    private interface TorchBranch {
        org.bytedeco.pytorch.Tensor compute();
    }

    /** x = x + gate * branch, in place on x's memory: by libtorch ops without hooks, else by the hooks. */
    private void residual(BranchHooks hooks, HookPoint point, StepContext ctx, org.bytedeco.pytorch.Tensor h, Tensor xView,
                          org.bytedeco.pytorch.Tensor gates, Tensor gatesView, long gateOffset, TorchBranch branch) {
        if (hooks == BranchHooks.NONE) {
            h.add_(graph.gate(gates, gateOffset).mul(branch.compute()));
        } else {
            hooks.residual(point, ctx, xView, new GateView(gatesView, gateOffset, config.hiddenSize()),
                    () -> Torch.view(branch.compute().contiguous()));
        }
    }

    /** Frees the weights, once the network calls in progress have ended; later calls are refused. */
    @Override
    public void close() {
        if (gate.close()) {
            conditioning.close();
            for (org.bytedeco.pytorch.Tensor t : weights.values()) {
                t.close();
            }
            for (org.bytedeco.pytorch.Tensor t : nativeLayout.values()) {
                t.close();
            }
            for (org.bytedeco.pytorch.Tensor t : blockPanels.values()) {
                t.close();
            }
            gatePanels.close();
            gateBias.close();
            shiftScalePanels.close();
            shiftScaleBias.close();
            frequencies.close();
        }
    }
}
