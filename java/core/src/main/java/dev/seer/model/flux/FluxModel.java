package dev.seer.model.flux;

import dev.seer.model.BranchHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.DType;
import dev.seer.tensor.GateView;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Torch;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The FLUX transformer's forward pass in libtorch ops, op for op as the BFL reference ({@code flux/model.py},
 * {@code flux/modules/layers.py}, {@code flux/math.py}) computes it in float32, with its residual branches behind
 * {@link BranchHooks}.
 *
 * <p>Hook points, in execution order, named by the checkpoint's key prefixes: in every double block
 * {@code double_blocks.i.img_attn}, {@code .img_mlp}, {@code .txt_attn}, {@code .txt_mlp} (the pre-gate outputs of the
 * attention projection and of the MLP, image stream first, as TaylorSeer-FLUX orders them), then in every single block
 * {@code single_blocks.j.linear2} (the fused output map's result). At each the hooks get the stream's residual
 * (batch, tokens, C) in place, the gate as a view of the block's modulation output, and the branch. A double block's
 * two attention branches share one joint attention over (text, image); it is computed when the first of them is asked
 * for, from the block's input streams, so hooks must compute the image attention branch whenever they compute the text
 * one (TaylorSeer computes all branches of a step or none).
 *
 * <p>Compute dtype: float32 (the default), or bf16 as the reference runs under autocast, with float32 kept where the
 * reference keeps it and where Seer's caches need it. In bf16 every linear map multiplies in bf16 (its input rounded,
 * the weights read in place when stored in bf16) and the GELUs between them run on bf16 tensors; QKNorm, the rotary
 * embedding (as the reference's {@code .float()}), the attention (the reference's runs in bf16, but libtorch's bf16
 * attention is ten times slower than its float32 one on this CPU), the LayerNorms, the modulation, the residual
 * streams and everything the hooks see stay float32.
 * In float32 no conversion runs: the op sequence is the float32 one exactly.
 *
 * <p>Per run, {@link #prepare} computes what does not change across steps (the text tokens' input map, the pooled
 * vector's embedder, the rotary table): the same tensors the reference recomputes at every call. The modulations
 * (every block's adaLN shifts, scales and gates and the final layer's), which depend only on the step's t, are computed
 * for a chunk of the run's steps at a time ({@link Modulations}): one product per weight for all of them, where the
 * reference reads every modulation weight at every call for one row (FLUX-dev: 3.2 G of its 12 G parameters). Every
 * row is the same whichever path (full call, forecast call, hooks) reads it. Every block runs in its own
 * PointerScope, so a step holds one block's temporaries at a time.
 */
public final class FluxModel implements AutoCloseable {
    /** Width of the sinusoidal timestep and guidance embedding (the reference's 256). */
    static final int FREQUENCY_EMBEDDING_SIZE = 256;
    /** The reference's time_factor: timesteps in [0, 1] are embedded as 1000 t. */
    static final double TIME_FACTOR = 1000.0;
    private static final double NORM_EPS = 1e-6;
    /**
     * At most this many of a run's steps share a chunk of {@link Modulations}: a whole run of the usual 50 steps where
     * {@link #CHUNK_BYTES} allows, so that its modulation weights are read once.
     */
    static final int CHUNK_STEPS = 64;
    /** At most these bytes in a chunk of {@link Modulations} (FLUX-dev: 4.2 MB per step and batch row). */
    static final long CHUNK_BYTES = 64L << 20;

    private final FluxParams params;
    private final FluxWeights weights;
    private final DType compute;
    /** Whether the linear maps and the GELUs between them run in bf16 ({@link #compute} BF16). */
    private final boolean bf16;
    private boolean closed;

    /** A model computing in float32 over {@code weights}, which it owns from now on (closed with it). */
    public FluxModel(FluxWeights weights) {
        this(weights, DType.F32);
    }

    /**
     * A model computing in {@code compute} (F32 or BF16; see the class comment) over {@code weights}, which it owns from
     * now on (closed with it).
     */
    public FluxModel(FluxWeights weights, DType compute) {
        SeerRuntime.init();
        if (compute != DType.F32 && compute != DType.BF16) {
            throw new IllegalArgumentException("FLUX computes in F32 or BF16, found " + compute);
        }
        this.params = weights.params();
        this.weights = weights;
        this.compute = compute;
        this.bf16 = compute == DType.BF16;
        weights.prepare(compute);
    }

    /** The dtype the linear maps compute in (F32 or BF16). */
    public DType computeType() {
        return compute;
    }

    public FluxParams params() {
        return params;
    }

    /** The weights this model runs on. */
    public FluxWeights weights() {
        return weights;
    }

    /** The residual stream of each double block's image branches, of its text branches, and of the single blocks. */
    public static final String IMG = "img";
    public static final String TXT = "txt";
    public static final String JOINT = "joint";

    /**
     * The cached branches of a run with these token counts, in execution order (their {@link HookPoint#index()} is
     * the position in this list): every double block's img_attn, img_mlp (stream img), txt_attn, txt_mlp (stream txt),
     * then every single block's linear2 output (stream joint: the text and image tokens together).
     */
    public static List<HookPoint> hookPoints(FluxParams params, long txtTokens, long imgTokens) {
        long c = params.hiddenSize();
        List<HookPoint> points = new ArrayList<>();
        for (int i = 0; i < params.depth(); i++) {
            for (String branch : List.of("img_attn", "img_mlp", "txt_attn", "txt_mlp")) {
                boolean img = branch.startsWith("img");
                points.add(new HookPoint("double_blocks." + i + "." + branch, i, points.size(), img ? IMG : TXT,
                        img ? imgTokens : txtTokens, c));
            }
        }
        for (int j = 0; j < params.depthSingleBlocks(); j++) {
            points.add(new HookPoint("single_blocks." + j + ".linear2", params.depth() + j, points.size(), JOINT,
                    txtTokens + imgTokens, c));
        }
        return List.copyOf(points);
    }

    /** What one sampling run's calls share; close it after the run. */
    static final class Run implements AutoCloseable {
        /** txt_in(txt): (B, L_txt, C). */
        final Tensor txt;
        /** vector_in(y): (B, C). */
        final Tensor vectorIn;
        /** EmbedND(cat(txt_ids, img_ids)): (B, 1, L_txt + L_img, D/2, 2, 2) float32. */
        final Tensor pe;
        final long batch;
        final long txtTokens;
        final long imgTokens;
        /** The run's hook points ({@link #hookPoints(FluxParams, long, long)}). */
        final List<HookPoint> hookPoints;
        /** t of each step of the run's schedule (float, as the reference's calls take it), and the run's guidance. */
        private final float[] stepTimes;
        private final float guidance;
        /** The modulations of the schedule's current chunk of steps, or null. */
        private Modulations chunk;

        private Run(Tensor txt, Tensor vectorIn, Tensor pe, long imgTokens, FluxParams params, float[] stepTimes,
                    float guidance) {
            this.txt = txt;
            this.vectorIn = vectorIn;
            this.pe = pe;
            this.batch = txt.size(0);
            this.txtTokens = txt.size(1);
            this.imgTokens = imgTokens;
            this.hookPoints = FluxModel.hookPoints(params, txtTokens, imgTokens);
            this.stepTimes = stepTimes;
            this.guidance = guidance;
        }

        /** The step a call is for, checked against the run's schedule. */
        private int step(StepContext ctx) {
            if (ctx.numSteps() != stepTimes.length) {
                throw new IllegalArgumentException("the run was prepared for " + stepTimes.length + " steps, the call is for step "
                        + ctx.step() + " of " + ctx.numSteps());
            }
            return ctx.step();
        }

        private void replaceChunk(Modulations next) {
            if (chunk != null) {
                chunk.close();
            }
            chunk = next;
        }

        @Override
        public void close() {
            txt.close();
            vectorIn.close();
            pe.close();
            replaceChunk(null);
        }
    }

    /**
     * Every modulation of the calls at {@code steps} consecutive steps from step {@code first}, as float32 tables of
     * (steps * B) rows, step-major (rows (step - first) * B .. + B - 1 belong to a step): {@code img} and {@code txt}
     * (6C per double block, block i at column 6C i: shift, scale, gate of the attention, then of the MLP), {@code single}
     * (3C per single block, block j at 3C j: shift, scale, gate) and {@code finalMods} (2C: shift, scale).
     */
    private record Modulations(int first, int steps, long batch, Tensor img, Tensor txt, Tensor single, Tensor finalMods)
            implements AutoCloseable {

        boolean holds(int step) {
            return step >= first && step < first + steps;
        }

        /** The (B, width) rows of {@code table} (one of this record's) that belong to {@code step}: contiguous. */
        Tensor rows(Tensor table, int step) {
            return table.narrow(0, (step - first) * batch, batch);
        }

        @Override
        public void close() {
            img.close();
            txt.close();
            single.close();
            finalMods.close();
        }
    }

    /**
     * A run's step-independent tensors from the text tokens (B, L, context_in_dim), the pooled vector (B, vec_in_dim)
     * and the position ids (B, L_txt, 3) and (B, L_img, 3), all float32 (checked by the caller), for calls at the
     * schedule's times {@code schedule[0..steps-1]} (step i at t = schedule[i]) with guidance {@code guidance}.
     */
    Run prepare(Tensor txt, Tensor vec, Tensor txtIds, Tensor imgIds, double[] schedule, double guidance) {
        requireOpen();
        float[] stepTimes = new float[Math.max(0, schedule.length - 1)];
        for (int i = 0; i < stepTimes.length; i++) {
            stepTimes[i] = (float) schedule[i];
        }
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Tensor t = f32(linear(txt, "txt_in"));
            Tensor v = f32(mlpEmbedder(vec, "vector_in"));
            Tensor pe = embedNd(torch.cat(new TensorVector(txtIds, imgIds), 1));
            return new Run(FluxWeights.keep(t), FluxWeights.keep(v), FluxWeights.keep(pe), imgIds.size(1), params,
                    stepTimes, (float) guidance);
        }
    }

    /**
     * One network call: the prediction (B, L_img, out_channels) for packed image tokens {@code img} (B, L_img,
     * in_channels) at the run's step {@code ctx.step()}, whose time t (the same for every row, as the reference's
     * sampler passes it) and guidance (ignored without a guidance embedding) the run holds. The result belongs to the
     * caller's PointerScope.
     */
    Tensor forward(Run run, Tensor img, StepContext ctx, BranchHooks hooks) {
        requireOpen();
        int step = run.step(ctx);
        BranchHooks h = hooks == null ? BranchHooks.NONE : hooks;
        h.beginStep(ctx);
        Tensor out;
        Modulations mods = modulationsFor(run, step);
        try (InferenceMode mode = new InferenceMode()) {
            Tensor imgMods = mods.rows(mods.img(), step);
            Tensor txtMods = mods.rows(mods.txt(), step);
            Tensor singleMods = mods.rows(mods.single(), step);
            Tensor x = f32(linear(img, "img_in"));
            Tensor txt = run.txt.clone();
            Tensor joint;
            if (h != BranchHooks.NONE && h.replacesStack(ctx)) {
                joint = forecastStack(x, txt, imgMods, txtMods, singleMods, run.hookPoints, ctx, h);
            } else {
                // the stack's input and output: the joint stream (txt, img); the double blocks run on the two streams
                // and hand theirs to the joint stream, the single blocks run on it in place
                Tensor stack = torch.cat(new TensorVector(txt, x), 1);
                h.wholeStack(ctx, Torch.view(stack), branchHooks -> {
                    for (int i = 0; i < params.depth(); i++) {
                        try (PointerScope block = new PointerScope()) {
                            doubleBlock(i, x, txt, imgMods, txtMods, run.pe, run.hookPoints, ctx, branchHooks);
                        }
                    }
                    stack.narrow(1, 0, run.txtTokens).copy_(txt);
                    stack.narrow(1, run.txtTokens, run.imgTokens).copy_(x);
                    for (int j = 0; j < params.depthSingleBlocks(); j++) {
                        try (PointerScope block = new PointerScope()) {
                            singleBlock(j, stack, singleMods, run.pe, run.hookPoints, ctx, branchHooks);
                        }
                    }
                });
                joint = stack;
            }
            out = lastLayer(joint.narrow(1, run.txtTokens, run.imgTokens), mods.rows(mods.finalMods(), step));
        }
        h.endStep(ctx);
        return out;
    }

    /**
     * A step whose every branch the hooks forecast: the hooks add each stream's branches in one pass per group
     * (image, text, then the joint stream of the single blocks), with the gates read in place from the step's
     * modulation rows. The image and text streams are independent, so adding all image branches and then all text
     * branches gives the same values as the blocks' interleaved order. Returns the joint stream.
     */
    private Tensor forecastStack(Tensor img, Tensor txt, Tensor imgMods, Tensor txtMods, Tensor singleMods,
                                 List<HookPoint> points, StepContext ctx, BranchHooks hooks) {
        long c = params.hiddenSize();
        int depth = params.depth();
        if (depth > 0) {
            dev.seer.tensor.Tensor imgTable = Torch.view(imgMods);
            dev.seer.tensor.Tensor txtTable = Torch.view(txtMods);
            List<HookPoint> imgPoints = new ArrayList<>();
            List<HookPoint> txtPoints = new ArrayList<>();
            List<GateView> imgGates = new ArrayList<>();
            List<GateView> txtGates = new ArrayList<>();
            for (int i = 0; i < depth; i++) {
                long at = 6L * c * i;
                imgPoints.addAll(points.subList(4 * i, 4 * i + 2));
                txtPoints.addAll(points.subList(4 * i + 2, 4 * i + 4));
                imgGates.addAll(List.of(new GateView(imgTable, at + 2 * c, c), new GateView(imgTable, at + 5 * c, c)));
                txtGates.addAll(List.of(new GateView(txtTable, at + 2 * c, c), new GateView(txtTable, at + 5 * c, c)));
            }
            hooks.applyStack(ctx, Torch.view(img), imgPoints, imgGates);
            hooks.applyStack(ctx, Torch.view(txt), txtPoints, txtGates);
        }
        Tensor joint = torch.cat(new TensorVector(txt, img), 1);
        int singles = params.depthSingleBlocks();
        if (singles > 0) {
            dev.seer.tensor.Tensor table = Torch.view(singleMods);
            List<GateView> gates = new ArrayList<>();
            for (int j = 0; j < singles; j++) {
                gates.add(new GateView(table, 3L * c * j + 2 * c, c));
            }
            hooks.applyStack(ctx, Torch.view(joint), points.subList(4 * depth, points.size()), gates);
        }
        return joint;
    }

    /** The run's modulations for {@code step}: from the current chunk, or a new chunk from that step on. */
    private Modulations modulationsFor(Run run, int step) {
        if (run.chunk == null || !run.chunk.holds(step)) {
            int steps = Math.min(chunkSteps(params, run.batch), run.stepTimes.length - step);
            run.replaceChunk(modulations(run, step, steps));
        }
        return run.chunk;
    }

    /** Steps in a chunk of {@link Modulations} at batch B: up to {@link #CHUNK_STEPS}, within {@link #CHUNK_BYTES}. */
    static int chunkSteps(FluxParams params, long batch) {
        return (int) Math.max(1, Math.min(CHUNK_STEPS, CHUNK_BYTES / Math.max(1, batch * modulationBytesPerRow(params))));
    }

    /** Bytes of one step's modulations for one batch row: 6C per double block and stream, 3C per single block, 2C. */
    static long modulationBytesPerRow(FluxParams params) {
        return (long) Float.BYTES * params.hiddenSize() * (12L * params.depth() + 3L * params.depthSingleBlocks() + 2);
    }

    /**
     * The {@link Modulations} of the run's {@code steps} steps from step {@code first}: silu(vec) for all their rows,
     * then one product per modulation weight over all of them, each written into its table's columns.
     */
    private Modulations modulations(Run run, int first, int steps) {
        long b = run.batch;
        long c = params.hiddenSize();
        long rows = steps * b;
        TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Tensor img = torch.zeros(new long[] {rows, 6 * c * params.depth()}, f32);
            Tensor txt = torch.zeros(new long[] {rows, 6 * c * params.depth()}, f32);
            Tensor single = torch.zeros(new long[] {rows, 3 * c * params.depthSingleBlocks()}, f32);
            TensorVector t = new TensorVector(); // each step's t for its B rows
            for (int s = first; s < first + steps; s++) {
                t.push_back(torch.full(new long[] {b}, new Scalar(run.stepTimes[s]), f32));
            }
            Tensor siluVec = siluVec(run, torch.cat(t, 0), steps);
            for (int i = 0; i < params.depth(); i++) {
                img.narrow(1, 6 * c * i, 6 * c).copy_(linear(siluVec, "double_blocks." + i + ".img_mod.lin"));
                txt.narrow(1, 6 * c * i, 6 * c).copy_(linear(siluVec, "double_blocks." + i + ".txt_mod.lin"));
            }
            for (int j = 0; j < params.depthSingleBlocks(); j++) {
                single.narrow(1, 3 * c * j, 3 * c).copy_(linear(siluVec, "single_blocks." + j + ".modulation.lin"));
            }
            Tensor finalMods = f32(linear(siluVec, "final_layer.adaLN_modulation.1")).contiguous();
            // taken out of the scope only once all four exist: a failure above frees them with it
            return new Modulations(first, steps, b, FluxWeights.keep(img), FluxWeights.keep(txt),
                    FluxWeights.keep(single), FluxWeights.keep(finalMods));
        }
    }

    /**
     * silu(vec) for rows of times {@code t} (R,): vec = time_in(t) [+ guidance_in(the run's guidance)] + vector_in(y),
     * where the run's vector_in rows (B, C) repeat {@code repeats} times (R = repeats * B, rows step-major).
     */
    private Tensor siluVec(Run run, Tensor t, long repeats) {
        long rows = t.size(0);
        Tensor vec = f32(mlpEmbedder(timestepEmbedding(t), "time_in"));
        if (params.guidanceEmbed()) {
            Tensor g = torch.full(new long[] {rows}, new Scalar(run.guidance), new TensorOptions(torch.ScalarType.Float));
            vec = vec.add(f32(mlpEmbedder(timestepEmbedding(g), "guidance_in")));
        }
        vec = vec.add(run.vectorIn.repeat(repeats, 1));
        return torch.silu(vec);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Blocks

    /** The joint attention of a double block, computed once on first demand from the block's input streams. */
    private final class JointAttention {
        private final Tensor img;
        private final Tensor txt;
        private final Tensor imgMods;
        private final Tensor txtMods;
        /** The block's column in the modulation rows. */
        private final long at;
        private final Tensor pe;
        private final String prefix;
        private Tensor imgOut;
        private Tensor txtOut;
        private boolean streamsChanged;

        JointAttention(Tensor img, Tensor txt, Tensor imgMods, Tensor txtMods, long at, Tensor pe, String prefix) {
            this.img = img;
            this.txt = txt;
            this.imgMods = imgMods;
            this.txtMods = txtMods;
            this.at = at;
            this.pe = pe;
            this.prefix = prefix;
        }

        /** Called once the image stream has been updated: the attention can no longer be computed from it. */
        void streamsChanged() {
            streamsChanged = true;
        }

        private void compute() {
            if (imgOut != null) {
                return;
            }
            if (streamsChanged) {
                throw new IllegalStateException(prefix + "txt_attn was asked for after img_attn was forecast: the joint attention"
                        + " needs the block's input streams; hooks must compute img_attn whenever they compute txt_attn");
            }
            long c = params.hiddenSize();
            Tensor[] iq = heads(modulate(img, imgMods, at, c), prefix + "img_attn.qkv", prefix + "img_attn.norm");
            Tensor[] tq = heads(modulate(txt, txtMods, at, c), prefix + "txt_attn.qkv", prefix + "txt_attn.norm");
            Tensor q = torch.cat(new TensorVector(tq[0], iq[0]), 2);
            Tensor k = torch.cat(new TensorVector(tq[1], iq[1]), 2);
            Tensor v = torch.cat(new TensorVector(tq[2], iq[2]), 2);
            Tensor attn = attention(q, k, v, pe);
            long lt = txt.size(1);
            txtOut = attn.narrow(1, 0, lt);
            imgOut = attn.narrow(1, lt, img.size(1));
        }

        Tensor img() {
            compute();
            return imgOut;
        }

        Tensor txt() {
            compute();
            return txtOut;
        }
    }

    /** Double block i; imgMods and txtMods are the step's (B, 6C depth) modulation rows, the block's at 6C i. */
    private void doubleBlock(int i, Tensor img, Tensor txt, Tensor imgMods, Tensor txtMods, Tensor pe,
                             List<HookPoint> hookPoints, StepContext ctx, BranchHooks hooks) {
        long c = params.hiddenSize();
        String p = "double_blocks." + i + ".";
        long at = 6 * c * i; // shift, scale, gate (attention), shift, scale, gate (MLP)
        JointAttention ja = new JointAttention(img, txt, imgMods, txtMods, at, pe, p);
        int base = 4 * i;
        residual(hooks, hookPoints.get(base), ctx, img, imgMods, at + 2 * c, () -> linear(ja.img(), p + "img_attn.proj"));
        ja.streamsChanged();
        residual(hooks, hookPoints.get(base + 1), ctx, img, imgMods, at + 5 * c, () -> mlp(modulate(img, imgMods, at + 3 * c, c), p + "img_mlp"));
        residual(hooks, hookPoints.get(base + 2), ctx, txt, txtMods, at + 2 * c, () -> linear(ja.txt(), p + "txt_attn.proj"));
        residual(hooks, hookPoints.get(base + 3), ctx, txt, txtMods, at + 5 * c, () -> mlp(modulate(txt, txtMods, at + 3 * c, c), p + "txt_mlp"));
    }

    /** Single block j; mods are the step's (B, 3C singles) modulation rows, the block's at 3C j. */
    private void singleBlock(int j, Tensor x, Tensor mods, Tensor pe, List<HookPoint> hookPoints, StepContext ctx,
                             BranchHooks hooks) {
        long c = params.hiddenSize();
        long m = params.mlpHiddenDim();
        String p = "single_blocks." + j + ".";
        long at = 3 * c * j; // shift, scale, gate
        residual(hooks, hookPoints.get(4 * params.depth() + j), ctx, x, mods, at + 2 * c, () -> {
            Tensor both = linear(modulate(x, mods, at, c), p + "linear1"); // (B, L, 3C + M)
            Tensor[] qkv = heads(both.narrow(2, 0, 3 * c), p + "norm");
            Tensor attn = attention(qkv[0], qkv[1], qkv[2], pe);
            Tensor hidden = torch.gelu(both.narrow(2, 3 * c, m), "tanh");
            return linear(torch.cat(new TensorVector(inCompute(attn), hidden), 2), p + "linear2");
        });
    }

    /** final_layer given its adaLN output {@code mod} (B, 2C) = shift, scale: LayerNorm, (1 + scale) * x + shift, linear. */
    private Tensor lastLayer(Tensor x, Tensor mod) {
        return f32(linear(modulate(x, mod, 0, params.hiddenSize()), "final_layer.linear"));
    }

    /** x = x + gate * branch in place: by libtorch ops without hooks (as the reference), else by the hooks. */
    private void residual(BranchHooks hooks, HookPoint point, StepContext ctx, Tensor x, Tensor mod, long gateOffset,
                          Supplier<Tensor> branch) {
        long c = params.hiddenSize();
        if (hooks == BranchHooks.NONE) {
            x.add_(mod.narrow(1, gateOffset, c).unsqueeze(1).mul(f32(branch.get())));
        } else {
            hooks.residual(point, ctx, Torch.view(x), new GateView(Torch.view(mod), gateOffset, c),
                    () -> Torch.view(f32(branch.get()).contiguous()));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Layers

    /** A linear map in the compute dtype: the input rounded to bf16 in bf16 mode, the output in the compute dtype. */
    private Tensor linear(Tensor x, String prefix) {
        String bias = prefix + ".bias";
        TensorOptional b = weights.has(bias) ? new TensorOptional(weights.get(bias)) : new TensorOptional();
        return torch.linear(inCompute(x), weights.get(prefix + ".weight"), b);
    }

    /** {@code x} in the compute dtype (unchanged in float32 mode). */
    private Tensor inCompute(Tensor x) {
        return bf16 ? x.to(torch.ScalarType.BFloat16) : x;
    }

    /** {@code x} in float32 (unchanged in float32 mode, where everything is float32). */
    private Tensor f32(Tensor x) {
        return bf16 ? x.to(torch.ScalarType.Float) : x;
    }

    /** MLPEmbedder: out_layer(silu(in_layer(x))). */
    private Tensor mlpEmbedder(Tensor x, String prefix) {
        return linear(torch.silu(linear(x, prefix + ".in_layer")), prefix + ".out_layer");
    }

    /** The block MLP: Linear, tanh-GELU, Linear ({@code .0} and {@code .2} of the reference's Sequential). */
    private Tensor mlp(Tensor x, String prefix) {
        return linear(torch.gelu(linear(x, prefix + ".0"), "tanh"), prefix + ".2");
    }

    /** (1 + scale) * LayerNorm(x) + shift, shift and scale read from the modulation at {@code shiftOffset}, +C. */
    private static Tensor modulate(Tensor x, Tensor mod, long shiftOffset, long c) {
        Tensor shift = mod.narrow(1, shiftOffset, c).unsqueeze(1);
        Tensor scale = mod.narrow(1, shiftOffset + c, c).unsqueeze(1);
        Tensor n = torch.layer_norm(x, new long[] {c}, new TensorOptional(), new TensorOptional(), NORM_EPS, false);
        return scale.add(new Scalar(1.0)).mul(n).add(shift);
    }

    /** "B L (K H D) -> K B H L D" of a qkv map's output, then QKNorm on q and k: {q, k, v}, each (B, H, L, D). */
    private Tensor[] heads(Tensor qkv, String normPrefix) {
        long b = qkv.size(0);
        long l = qkv.size(1);
        Tensor r = f32(qkv).reshape(b, l, 3, params.numHeads(), params.headDim()).permute(2, 0, 3, 1, 4);
        return new Tensor[] {rmsNorm(r.select(0, 0), normPrefix + ".query_norm.scale"),
                rmsNorm(r.select(0, 1), normPrefix + ".key_norm.scale"), r.select(0, 2)};
    }

    private Tensor[] heads(Tensor x, String qkvPrefix, String normPrefix) {
        return heads(linear(x, qkvPrefix), normPrefix);
    }

    /** RMSNorm in float32: x * rsqrt(mean(x^2) + 1e-6) * scale. */
    private Tensor rmsNorm(Tensor x, String scaleKey) {
        Tensor ms = x.pow(new Scalar(2)).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor rrms = torch.rsqrt(ms.add(new Scalar(NORM_EPS)));
        return x.mul(rrms).mul(weights.get(scaleKey));
    }

    /**
     * Rotary embedding on q and k, softmax attention, heads merged: (B, L, H * D), all float32 in either compute dtype
     * (libtorch's bf16 attention on this CPU took ten times the float32 time: docs/BENCHMARKS.md).
     */
    private static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor pe) {
        Tensor o = torch.scaled_dot_product_attention(applyRope(q, pe), applyRope(k, pe), v);
        long b = o.size(0);
        long l = o.size(2);
        return o.transpose(1, 2).reshape(b, l, o.size(1) * o.size(3));
    }

    /** out[2i] = cos x[2i] - sin x[2i+1], out[2i+1] = sin x[2i] + cos x[2i+1], in the reference's op order. */
    private static Tensor applyRope(Tensor x, Tensor pe) {
        long[] s = x.sizes().vec().get();
        Tensor xr = x.reshape(s[0], s[1], s[2], s[3] / 2, 1, 2);
        Tensor out = pe.select(-1, 0).mul(xr.select(-1, 0)).add(pe.select(-1, 1).mul(xr.select(-1, 1)));
        return out.reshape(s);
    }

    /**
     * EmbedND: per axis i of the ids (B, L, 3), rope(ids[..., i], axes_dim[i], theta) in float64, concatenated over the
     * frequency axis and cast to float32: (B, 1, L, D/2, 2, 2).
     */
    private Tensor embedNd(Tensor ids) {
        int[] axes = params.axesDim();
        TensorVector parts = new TensorVector();
        for (int i = 0; i < axes.length; i++) {
            parts.push_back(rope(ids.select(-1, i), axes[i], params.theta()));
        }
        return torch.cat(parts, -3).unsqueeze(1);
    }

    /**
     * rope(pos, dim, theta): omega = 1 / theta^(arange(0, dim, 2) / dim) in float64, as TaylorSeer-FLUX's copy of the BFL
     * code computes it (later BFL code computes it in the ids' dtype, float32: differences at float rounding);
     * [[cos, -sin], [sin, cos]].
     */
    private static Tensor rope(Tensor pos, int dim, int theta) {
        Tensor scale = torch.arange(new Scalar(0), new Scalar(dim), new Scalar(2), new TensorOptions(torch.ScalarType.Double))
                .div(new Scalar(dim));
        Tensor omega = torch.pow(new Scalar(theta), scale).reciprocal().mul(new Scalar(1.0));
        Tensor out = pos.to(torch.ScalarType.Double).unsqueeze(-1).mul(omega); // (B, L, dim/2)
        Tensor cos = out.cos();
        Tensor sin = out.sin();
        Tensor stacked = torch.stack(new TensorVector(cos, sin.neg(), sin, cos), -1); // (B, L, dim/2, 4)
        long[] s = out.sizes().vec().get();
        return stacked.reshape(s[0], s[1], s[2], 2, 2).to(torch.ScalarType.Float);
    }

    /** timestep_embedding(time_factor * t, 256): [cos(args), sin(args)], args = t * exp(-ln(10000) k / 128). */
    private static Tensor timestepEmbedding(Tensor t) {
        int half = FREQUENCY_EMBEDDING_SIZE / 2;
        Tensor scaled = t.mul(new Scalar(TIME_FACTOR));
        Tensor k = torch.arange(new Scalar(0), new Scalar(half), new TensorOptions(torch.ScalarType.Float));
        Tensor freqs = k.mul(new Scalar(-Math.log(10000.0))).div(new Scalar(half)).exp();
        Tensor args = scaled.unsqueeze(1).mul(freqs.unsqueeze(0));
        return torch.cat(new TensorVector(args.cos(), args.sin()), -1);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the FLUX model is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            weights.close();
        }
    }
}
