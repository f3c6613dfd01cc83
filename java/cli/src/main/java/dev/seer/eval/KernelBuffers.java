package dev.seer.eval;

import dev.seer.eval.KernelBench.Layout;
import dev.seer.eval.KernelBench.Op;
import dev.seer.kernel.BranchStack;
import dev.seer.tensor.GateView;
import dev.seer.kernel.Kernels;
import dev.seer.kernel.TaylorFactors;
import dev.seer.kernel.Variant;
import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.global.torch;

/**
 * The buffers of one kernel call (x, feature, out, the factors of every branch, the adaLN modulation the gates
 * are read from), allocated in one arena, with the Seer call and the equivalent libtorch op chain over the very
 * same memory. Used by {@link KernelBench} (validation and timing) and by the JMH benchmarks.
 *
 * <p>Shapes: every buffer is the layout's (batch, tokens, channels); the flat ops see it as n elements. The
 * modulation is (batch, layers * 6 * channels), one DiT adaLN output per layer side by side, and branch k reads
 * its gate in place from layer k / 2, chunk 2 (gate_msa) for even k and chunk 5 (gate_mlp) for odd k, as DiT
 * does: the libtorch chain gets the same gate as a narrowed, non-contiguous view. The sums op serves several
 * steps, each with its own modulation: (steps * B, layers * 6C), step s in rows s * B .. (s + 1) * B - 1.
 */
final class KernelBuffers implements AutoCloseable {
    static final float DELTA = -2f;     // forecast distance Δ = s - s_k (DiT counts steps down)
    static final float DISTANCE = -4f;  // d_k between full steps (interval 4)
    /** The sums op's Δ per step: the forecast steps after a full step at N = 5. */
    static final float[] SUM_DELTAS = sumDeltas();

    final Op op;
    final DType dtype;
    final int order;
    final Layout layout;
    final Shape shape;
    final Tensor x;        // (B, N, C): residual stream (the ops with gates; sums: its unfused form)
    final Tensor feature;  // (B, N, C): the fresh branch output F (update ops)
    final Tensor out;      // (B, N, C): forecast output (taylor_forecast)
    final Tensor mods;     // (steps * B, layers * 6C)
    final List<TaylorFactors> branches = new ArrayList<>();
    final List<GateView> gates = new ArrayList<>();          // step 0's
    final List<List<GateView>> gatesByStep = new ArrayList<>();
    final List<TaylorFactors> sums = new ArrayList<>();      // sums only: one order-0 buffer per step
    final BranchStack stack; // stack ops only
    private final Arena arena;

    // libtorch views of the same memory, built once (wrapping costs JNI calls)
    private final List<Pointer> torchObjects = new ArrayList<>();
    private org.bytedeco.pytorch.Tensor tx;
    private org.bytedeco.pytorch.Tensor tFeature;
    private org.bytedeco.pytorch.Tensor[][] tFactors; // [branch][i]
    private org.bytedeco.pytorch.Tensor[][] tGates;    // [step][branch], (B, 1, C) views
    private Scalar[] coeff;                            // 1/i!
    private Scalar[][] power;                          // [step][i]: Δ^i
    private Scalar zero;
    private Scalar distance;

    KernelBuffers(Op op, DType dtype, int order, Layout layout) {
        this.op = op;
        this.dtype = dtype;
        this.order = order;
        this.layout = layout;
        this.shape = Shape.of(layout.batch(), layout.tokens(), layout.channels());
        this.arena = Arena.ofShared();
        boolean ok = false;
        try {
            boolean residual = op.usesGates();
            x = residual ? Tensor.allocate(arena, dtype, shape) : null;
            feature = op.readsFeature() ? Tensor.allocate(arena, dtype, shape) : null;
            out = op == Op.TAYLOR_FORECAST ? Tensor.allocate(arena, dtype, shape) : null;
            int layers = (layout.branches() + 1) / 2;
            mods = residual ? Tensor.allocate(arena, dtype, op.steps() * layout.batch(), layers * 6L * layout.channels()) : null;
            List<Tensor> stepRows = new ArrayList<>(); // one view per step: a step's gates share their storage
            for (int s = 0; residual && s < op.steps(); s++) {
                gatesByStep.add(new ArrayList<>());
                stepRows.add(mods.narrow0(s * layout.batch(), (s + 1) * layout.batch()));
            }
            Tensor zeros = Tensor.allocate(arena, dtype, shape);
            for (int k = 0; k < layout.branches(); k++) {
                TaylorFactors f = TaylorFactors.allocate(arena, dtype, shape, order);
                // order 0..p valid: build it up with full steps of a zero feature, the data is filled in later
                for (int i = 0; i <= order; i++) {
                    Kernels.taylorUpdate(Variant.AUTO, f, zeros, i, 1f);
                }
                branches.add(f);
                if (residual) {
                    long column = (k / 2) * 6L * layout.channels() + (k % 2 == 0 ? 2 : 5) * layout.channels();
                    for (int s = 0; s < op.steps(); s++) {
                        gatesByStep.get(s).add(new GateView(stepRows.get(s), column, layout.channels()));
                    }
                    gates.add(gatesByStep.getFirst().getLast());
                }
            }
            stack = op.isStack() ? new BranchStack(arena, branches, gates) : null;
            for (int s = 0; op == Op.TAYLOR_FORECAST_SUMS && s < op.steps(); s++) {
                sums.add(TaylorFactors.allocate(arena, dtype, shape, 0));
            }
            ok = true;
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    /** Every input from a Gaussian source: factors D^i with scale 1/(i+1), gates with scale 0.5. */
    void fillRandom(Random r) {
        if (x != null) {
            x.copyFrom(randn(r, x.numel(), 1));
        }
        if (feature != null) {
            feature.copyFrom(randn(r, feature.numel(), 1));
        }
        if (mods != null) {
            mods.copyFrom(randn(r, mods.numel(), 0.5));
        }
        for (TaylorFactors f : branches) {
            for (int i = 0; i <= order; i++) {
                f.factor(i).copyFrom(randn(r, f.factor(i).numel(), 1.0 / (i + 1)));
            }
        }
    }

    /** Benign deterministic values, written fast (timing only; every page is touched). */
    void fillPattern() {
        float base = 0.5f;
        for (Tensor t : allInputs()) {
            fill(t, base);
            base += 0.25f;
        }
        if (out != null) {
            fill(out, 0f);
        }
        for (TaylorFactors sum : sums) {
            fill(sum.factor(0), 0f);
        }
    }

    private List<Tensor> allInputs() {
        List<Tensor> ts = new ArrayList<>();
        if (x != null) {
            ts.add(x);
        }
        if (feature != null) {
            ts.add(feature);
        }
        if (mods != null) {
            ts.add(mods);
        }
        for (TaylorFactors f : branches) {
            for (int i = 0; i <= order; i++) {
                ts.add(f.factor(i));
            }
        }
        return ts;
    }

    private void fill(Tensor t, float base) {
        int chunk = 4096;
        float[] pattern = new float[chunk];
        for (int i = 0; i < chunk; i++) {
            pattern[i] = base + (i % 97) * 0.001f * (t == mods ? 0.1f : 1f);
        }
        try (Arena tmp = Arena.ofConfined()) {
            Tensor p = Tensor.allocate(tmp, dtype, chunk);
            p.copyFrom(pattern);
            MemorySegment dst = t.segment();
            long bytes = dst.byteSize();
            long step = p.byteSize();
            for (long off = 0; off < bytes; off += step) {
                MemorySegment.copy(p.segment(), 0, dst, off, Math.min(step, bytes - off));
            }
        }
    }

    private static float[] sumDeltas() {
        float[] d = new float[KernelBench.SUM_STEPS];
        for (int s = 0; s < d.length; s++) {
            d[s] = -1f - s;
        }
        return d;
    }

    static float[] randn(Random r, long n, double scale) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    // ---- Seer ----

    /** One call of the op through the {@link Kernels} facade. */
    void runSeer(Variant v) {
        switch (op) {
            case TAYLOR_UPDATE -> Kernels.taylorUpdate(v, branches.getFirst(), feature, order, DISTANCE);
            case TAYLOR_FORECAST -> Kernels.taylorForecast(v, out, branches.getFirst(), DELTA);
            case TAYLOR_FORECAST_RESIDUAL -> Kernels.taylorForecastResidual(v, x, gates.getFirst(), branches.getFirst(), DELTA);
            case TAYLOR_FORECAST_RESIDUAL_MULTI -> Kernels.taylorForecastResidualMulti(v, x, stack, DELTA);
            case TAYLOR_UPDATE_RESIDUAL -> Kernels.taylorUpdateResidual(v, x, gates.getFirst(), feature, branches.getFirst(),
                    order, DISTANCE);
            case TAYLOR_FORECAST_SUMS -> Kernels.taylorForecastSums(v, sums, stack, gatesByStep, SUM_DELTAS);
        }
    }

    /**
     * A stack op's definition, into its outputs (what validation compares it with): multi, one
     * taylor_forecast_residual call per branch, in stack order; sums, each sum zeroed and one
     * taylor_forecast_residual_multi call with its step's gates and Δ added to it.
     */
    void runDefinition(Variant v) {
        if (op == Op.TAYLOR_FORECAST_SUMS) {
            for (int s = 0; s < sums.size(); s++) {
                Tensor sum = sums.get(s).factor(0);
                sum.segment().fill((byte) 0);
                multiStep(v, sum, s);
            }
            return;
        }
        runUnfused(v);
    }

    /**
     * A stack op's work as the calls it fuses do it in a run (what timing compares it with): multi, one
     * taylor_forecast_residual call per branch; sums, one taylor_forecast_residual_multi call per step on x, the
     * official op order of those forecast steps.
     */
    void runUnfused(Variant v) {
        if (op == Op.TAYLOR_FORECAST_SUMS) {
            for (int s = 0; s < sums.size(); s++) {
                multiStep(v, x, s);
            }
            return;
        }
        for (int k = 0; k < branches.size(); k++) {
            Kernels.taylorForecastResidual(v, x, gates.get(k), branches.get(k), DELTA);
        }
    }

    /** target += the stack's forecast with step s's gates and Δ (the stack keeps step 0's gates between calls). */
    private void multiStep(Variant v, Tensor target, int s) {
        stack.setGates(gatesByStep.get(s));
        Kernels.taylorForecastResidualMulti(v, target, stack, SUM_DELTAS[s]);
        stack.setGates(gates);
    }

    /** The bytes the op writes, in order (the outputs a validation compares). */
    List<byte[]> outputs() {
        List<byte[]> o = new ArrayList<>();
        switch (op) {
            case TAYLOR_FORECAST -> o.add(bytes(out.segment()));
            case TAYLOR_FORECAST_RESIDUAL, TAYLOR_FORECAST_RESIDUAL_MULTI -> o.add(bytes(x.segment()));
            case TAYLOR_FORECAST_SUMS -> {
                for (TaylorFactors sum : sums) {
                    o.add(bytes(sum.factor(0).segment()));
                }
            }
            case TAYLOR_UPDATE, TAYLOR_UPDATE_RESIDUAL -> {
                if (x != null) {
                    o.add(bytes(x.segment()));
                }
                for (int i = 0; i <= order; i++) {
                    o.add(bytes(branches.getFirst().factor(i).segment()));
                }
            }
        }
        return o;
    }

    /** Names of {@link #outputs()}, for mismatch reports. */
    String outputName(int index) {
        return switch (op) {
            case TAYLOR_FORECAST -> "out";
            case TAYLOR_FORECAST_RESIDUAL, TAYLOR_FORECAST_RESIDUAL_MULTI -> "x";
            case TAYLOR_UPDATE -> "factor " + index;
            case TAYLOR_UPDATE_RESIDUAL -> index == 0 ? "x" : "factor " + (index - 1);
            case TAYLOR_FORECAST_SUMS -> "sum " + index;
        };
    }

    private static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    // ---- libtorch ----

    /**
     * Wraps the buffers for libtorch, once. Call it outside any PointerScope that closes before this object
     * does (the wrappers must outlive per-call scopes).
     */
    void prepareTorch() {
        if (tFactors != null) {
            return;
        }
        tx = x == null ? null : keep(Torch.wrap(x));
        tFeature = feature == null ? null : keep(Torch.wrap(feature));
        tFactors = new org.bytedeco.pytorch.Tensor[branches.size()][order + 1];
        tGates = new org.bytedeco.pytorch.Tensor[gatesByStep.size()][gates.size()];
        org.bytedeco.pytorch.Tensor tMods = mods == null ? null : keep(Torch.wrap(mods));
        for (int k = 0; k < branches.size(); k++) {
            for (int i = 0; i <= order; i++) {
                tFactors[k][i] = keep(Torch.wrap(branches.get(k).factor(i)));
            }
            for (int s = 0; s < gatesByStep.size(); s++) {
                GateView g = gatesByStep.get(s).get(k);
                org.bytedeco.pytorch.Tensor rows = keep(tMods.narrow(0, s * layout.batch(), layout.batch()));
                org.bytedeco.pytorch.Tensor narrowed = keep(rows.narrow(1, g.columnOffset(), g.channels()));
                tGates[s][k] = keep(narrowed.unsqueeze(1));
            }
        }
        float[] deltas = op == Op.TAYLOR_FORECAST_SUMS ? SUM_DELTAS : new float[] {DELTA};
        coeff = new Scalar[order + 1];
        power = new Scalar[deltas.length][order + 1];
        double fact = 1;
        for (int i = 0; i <= order; i++) {
            fact *= Math.max(i, 1);
            coeff[i] = keep(new Scalar(1.0 / fact));
            for (int s = 0; s < deltas.length; s++) {
                power[s][i] = keep(new Scalar(Math.pow(deltas[s], i))); // exact: Δ is a small integer
            }
        }
        zero = keep(new Scalar(0L));
        distance = keep(new Scalar((double) DISTANCE));
    }

    private <T extends Pointer> T keep(T p) {
        torchObjects.add(p);
        return p;
    }

    /**
     * The op as the straightforward libtorch code writes it (TaylorSeer's official taylor_formula and
     * derivative_approximation, DiT's {@code x + gate.unsqueeze(1) * branch}). Returns the results in the order
     * of {@link #outputs()}; they belong to the caller's PointerScope. {@link #prepareTorch()} must have run.
     */
    List<org.bytedeco.pytorch.Tensor> torchChain() {
        if (tFactors == null) {
            throw new IllegalStateException("prepareTorch() first");
        }
        List<org.bytedeco.pytorch.Tensor> r = new ArrayList<>();
        switch (op) {
            case TAYLOR_FORECAST -> r.add(torchForecast(0, 0));
            case TAYLOR_FORECAST_RESIDUAL -> r.add(tx.add(tGates[0][0].mul(torchForecast(0, 0))));
            case TAYLOR_FORECAST_RESIDUAL_MULTI -> r.add(torchStack(tx, 0));
            case TAYLOR_FORECAST_SUMS -> {
                for (int s = 0; s < sums.size(); s++) {
                    r.add(torchStack(torch.zeros_like(tx), s));
                }
            }
            case TAYLOR_UPDATE -> r.addAll(torchUpdate());
            case TAYLOR_UPDATE_RESIDUAL -> {
                r.add(tx.add(tGates[0][0].mul(tFeature)));
                r.addAll(torchUpdate());
            }
        }
        return r;
    }

    /** One libtorch chain with its temporaries freed, as a timed unit. */
    void runTorch() {
        prepareTorch();
        try (PointerScope scope = new PointerScope()) {
            torchChain();
        }
    }

    // x = x + gate_k * forecast_k for every branch k in order, with step s's gates and Δ
    private org.bytedeco.pytorch.Tensor torchStack(org.bytedeco.pytorch.Tensor x, int s) {
        org.bytedeco.pytorch.Tensor cur = x;
        for (int k = 0; k < branches.size(); k++) {
            cur = cur.add(tGates[s][k].mul(torchForecast(k, s)));
        }
        return cur;
    }

    // output = 0; output += (1 / i!) * D^i * (Δ ** i), Δ of step s
    private org.bytedeco.pytorch.Tensor torchForecast(int k, int s) {
        org.bytedeco.pytorch.Tensor outT = null;
        for (int i = 0; i <= order; i++) {
            org.bytedeco.pytorch.Tensor term = tFactors[k][i].mul(coeff[i]).mul(power[s][i]);
            if (outT == null) {
                outT = term.add(zero);
            } else {
                outT.add_(term);
            }
        }
        return outT;
    }

    // D'^0 = F; D'^(i+1) = (D'^i - D^i) / d
    private List<org.bytedeco.pytorch.Tensor> torchUpdate() {
        List<org.bytedeco.pytorch.Tensor> r = new ArrayList<>();
        org.bytedeco.pytorch.Tensor cur = tFeature;
        r.add(cur);
        for (int i = 0; i < order; i++) {
            cur = cur.sub(tFactors[0][i]).div(distance);
            r.add(cur);
        }
        return r;
    }

    @Override
    public void close() {
        for (int i = torchObjects.size() - 1; i >= 0; i--) {
            torchObjects.get(i).close();
        }
        torchObjects.clear();
        arena.close();
    }
}
