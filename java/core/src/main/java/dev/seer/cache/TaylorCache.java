package dev.seer.cache;

import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import dev.seer.kernel.BranchStack;
import dev.seer.kernel.Kernels;
import dev.seer.kernel.NativeKernels;
import dev.seer.kernel.TaylorFactors;
import dev.seer.kernel.Variant;
import dev.seer.model.BranchHooks;
import dev.seer.model.FusedStackHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.DType;
import dev.seer.tensor.GateView;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TaylorSeer forecasting (FORA when the max order is 0) as branch hooks, for one sampling run. The schedule is
 * {@link TaylorSeerSchedule} (for DiT: the loop index counts down, steps S-1 and S-2 are full, then every full
 * step is followed by N-1 forecast steps). At a full step every branch is computed and its factors updated by
 * the fused update + gated-residual kernel; at a forecast step no branch runs and the whole stack is added to x
 * in one pass. Factor memory is allocated once per run, at the first full step, and freed by {@link #close()}, or
 * taken from a {@link FactorPool} and given back to it by {@link #close()} (a pipeline's runs share one).
 *
 * <p>Forecast sums: the factors only change at full steps, and a forecast step's gates depend only on its
 * timestep, so the stack's contribution sum_k gate_k * forecast_k of every forecast step up to the next full step
 * is known once the first of them comes. With {@link ForecastSums} on (by default when the factors exceed
 * {@link ForecastSums#AUTO_MIN_FACTOR_BYTES}) the first forecast step after a full step computes them all in one pass
 * over the factors ({@link Kernels#taylorForecastSums}: the factors are read once per full step instead of once per
 * forecast step) and each forecast step adds its sum to x. That adds the same terms to x in another order
 * (x + (g_1 f_1 + g_2 f_2 + ...) instead of (x + g_1 f_1) + g_2 f_2 + ...): the results differ from the official
 * order at float rounding. Otherwise each forecast step runs one multi-branch kernel call in the official order
 * (bit-identical to the per-branch kernels).
 *
 * <p>Factor storage ({@link #factorDtype}): float32 branch outputs keep float32 factors by default (the official
 * numerics) or bf16 / f16 ones (half the memory and factor traffic; the arithmetic stays float32 and each factor is
 * rounded once when stored), the activations, gates and forecast sums staying float32 either way.
 *
 * <p>A forecast that produces NaN or Inf is detected inside the kernel; {@link #redoAsFull()} then turns that
 * step into a full one so the caller can recompute it. Not thread-safe: one instance per run. Both halves of
 * a classifier-free-guidance batch share each entry, as in the official DiT code.
 */
public final class TaylorCache implements FusedStackHooks, RunCache {
    private static final Logger LOG = LoggerFactory.getLogger(TaylorCache.class);

    private final CachePolicy policy;
    private final Variant variant;
    private final TaylorSeerSchedule.Classifier classifier;
    private final Arena arena = Arena.ofShared();
    private final Map<Integer, TaylorFactors> factors = new HashMap<>();
    private final List<StepPlan> executed = new ArrayList<>();
    private final List<Integer> fallbacks = new ArrayList<>();
    private StepPlan current;
    private boolean nonFinite;
    private long computedBranches;
    private long forecastBranches;
    private boolean closed;
    private ForecastErrorSink errorSink;
    /** The stack forecast's state of each group of hook points the model hands over (one stream and shape). */
    private final Map<List<HookPoint>, StackGroup> groups = new HashMap<>();
    /**
     * The points list of the last stack forecast and its group. Models hand over the same list at every step, so a
     * forecast step finds its group by identity: hashing a list of records runs interpreted in short runs (a few
     * hundred forecast calls a process) and took 40-80 us of a 0.6 ms forecast step.
     */
    private List<HookPoint> lastPoints;
    private StackGroup lastGroup;
    /** Forecast sums (see the class comment). */
    private ForecastSums forecastSums = ForecastSums.AUTO;
    /** Where the factors and sums come from; null: this cache's arena. */
    private FactorPool pool;
    /** How float32 branch outputs' factors are stored. */
    private FactorDtype factorDtype = FactorDtype.F32;

    /** Receives the forecast error of every branch at every forecast step (see {@link #measureForecastErrors}). */
    @FunctionalInterface
    public interface ForecastErrorSink {
        /** @param relativeL2 ||forecast - computed|| / ||computed|| of one branch output at one forecast step */
        void record(int step, HookPoint point, double relativeL2);
    }

    /**
     * A group's whole-stack forecast tables, in {@link #arena}, and its forecast sums: the sums of loop positions
     * sumsFrom .. sumsFrom + sumsCount - 1, each the only factor of its buffer, each with a single-branch stack
     * whose gate is ones (adding it adds the sum unchanged).
     */
    private static final class StackGroup {
        /** The group's key in {@link #groups}: a copy of the points list it was built for. */
        final List<HookPoint> points;
        final BranchStack stack;
        final List<TaylorFactors> sums = new ArrayList<>();
        final List<BranchStack> sumStacks = new ArrayList<>();
        int sumsFrom;
        int sumsCount;

        StackGroup(List<HookPoint> points, BranchStack stack) {
            this.points = points;
            this.stack = stack;
        }

        boolean sumsCover(int position) {
            return sumsCount > 0 && position >= sumsFrom && position < sumsFrom + sumsCount;
        }
    }

    /** The run cache of a FORA or TaylorSeer policy on the family's schedule shape for it. */
    static TaylorCache open(CachePolicy policy, CacheRun run) {
        TaylorSeerSchedule.Shape shape = policy instanceof CachePolicy.Fora ? run.foraSchedule() : run.schedule();
        TaylorCache cache = new TaylorCache(policy, shape.config(run.steps(), policy.interval(), policy.maxOrder()), run.variant());
        cache.forecastSums(run.forecastSums());
        cache.factorPool(run.factorPool());
        cache.factorDtype(run.factorDtype());
        if (run.forecastErrors() != null) {
            cache.measureForecastErrors(run.forecastErrors());
        }
        return cache;
    }

    /** A cache with the official DiT schedule for {@code numSteps} steps. */
    public TaylorCache(CachePolicy policy, int numSteps, Variant variant) {
        this(policy, TaylorSeerSchedule.Config.dit(numSteps, policy.interval(), policy.maxOrder()), variant);
    }

    public TaylorCache(CachePolicy policy, TaylorSeerSchedule.Config schedule, Variant variant) {
        if (schedule.interval() != policy.interval() || schedule.maxOrder() != policy.maxOrder()) {
            throw new IllegalArgumentException("schedule (interval " + schedule.interval() + ", order " + schedule.maxOrder()
                    + ") does not match policy (interval " + policy.interval() + ", order " + policy.maxOrder() + ")");
        }
        this.policy = policy;
        this.variant = variant;
        this.classifier = new TaylorSeerSchedule.Classifier(schedule);
    }

    @Override
    public void beginStep(StepContext ctx) {
        if (closed) {
            throw new IllegalStateException("cache is closed");
        }
        nonFinite = false;
        if (current != null && current.step() == ctx.step()) {
            return; // the same step again after redoAsFull()
        }
        current = classifier.next(ctx.step());
        executed.add(current);
        if (current.isFull()) {
            dropSums(); // the factors change
        }
    }

    /**
     * Takes the factor and sum memory from {@code pool} (null: allocates it per run) and gives it back at
     * {@link #close()}. Set it before the first step.
     */
    public void factorPool(FactorPool pool) {
        if (!factors.isEmpty() || !groups.isEmpty()) {
            throw new IllegalStateException("the factor pool must be set before the first full step");
        }
        this.pool = pool;
    }

    /**
     * Stores the factors of float32 branch outputs in {@code dtype} (F32, the default: exact). Set it before the first
     * full step.
     */
    public void factorDtype(FactorDtype dtype) {
        if (dtype == null) {
            throw new IllegalArgumentException("factor dtype is null; expected one of " + FactorDtype.allowed());
        }
        if (!factors.isEmpty() || !groups.isEmpty()) {
            throw new IllegalStateException("the factor dtype must be set before the first full step");
        }
        this.factorDtype = dtype;
    }

    private TaylorFactors newFactors(DType dtype, Shape shape, int maxOrder) {
        return pool == null ? TaylorFactors.allocate(arena, dtype, shape, maxOrder) : pool.take(arena, dtype, shape, maxOrder);
    }

    /** Whether the forecast steps after a full step add sums prepared at the first of them (see the class comment). */
    public void forecastSums(ForecastSums mode) {
        if (mode == null) {
            throw new IllegalArgumentException("forecast sums mode is null; expected auto, on or off");
        }
        forecastSums = mode;
        dropSums();
    }

    /** Whether the step in progress (or just finished) runs every branch. */
    public boolean currentStepIsFull() {
        return current != null && current.isFull();
    }

    @Override
    public BranchHooks hooks() {
        return this;
    }

    @Override
    public boolean redoIfNonFinite() {
        if (!nonFinite) {
            return false;
        }
        redoAsFull();
        return true;
    }

    @Override
    public StepPlan stepDone(StepContext ctx) {
        if (current == null || current.step() != ctx.step()) {
            throw new IllegalStateException("step " + ctx.step() + " has not run");
        }
        return current;
    }

    /** True if the forecast of the step just run produced NaN or Inf. */
    public boolean lastForecastWasNonFinite() {
        return nonFinite;
    }

    /**
     * Turns the forecast step just run into a full step: call the model again for the same step and it computes
     * every branch (and updates the factors) instead of forecasting.
     */
    public void redoAsFull() {
        if (current == null || current.isFull()) {
            throw new IllegalStateException("only a forecast step can be redone in full");
        }
        forecastBranches -= factors.size();
        fallbacks.add(current.step());
        dropSums();
        current = classifier.reclassifyAsFull(current.step());
        executed.set(executed.size() - 1, current);
        LOG.warn("step {}: the Taylor forecast was not finite; recomputing the step in full", current.step());
    }

    /**
     * Measures instead of only forecasting: at every forecast step each branch is also computed (on the same x the
     * forecast run sees) and its forecast error reported, while x still gets the forecast, so the run follows the
     * cached trajectory. Costs a full step's work per forecast step; for reports, not for speed.
     */
    public void measureForecastErrors(ForecastErrorSink sink) {
        this.errorSink = sink;
    }

    @Override
    public boolean replacesStack(StepContext ctx) {
        return !current.isFull() && errorSink == null;
    }

    @Override
    public void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch) {
        if (current.isFull()) {
            Tensor f = branch.compute();
            TaylorFactors tf = factors.computeIfAbsent(point.index(),
                    k -> newFactors(factorDtype.storageFor(f.dtype()), f.shape(), policy.maxOrder()));
            Kernels.taylorUpdateResidual(variant, x, gate, f, tf, current.order(), current.distance());
            computedBranches++;
        } else {
            TaylorFactors tf = requireFactors(point);
            if (errorSink != null) {
                errorSink.record(current.step(), point, forecastError(tf, branch.compute()));
            }
            nonFinite |= !Kernels.taylorForecastResidual(variant, x, gate, tf, current.delta());
            forecastBranches++;
        }
    }

    @Override
    public int stackGateCalls(StepContext ctx) {
        if (!sumsWanted() || current.isFull() || groups.values().stream().anyMatch(g -> g.sumsCover(position()))) {
            return 1;
        }
        return 1 + Math.min(classifier.forecastsAhead(), NativeKernels.MAX_SUM_STEPS - 1);
    }

    @Override
    public void applyStack(StepContext ctx, Tensor x, List<HookPoint> points, List<GateView> gates) {
        applyStackIn(ctx, points, List.of(gates), (v, stack, delta) -> Kernels.taylorForecastResidualMulti(v, x, stack, delta));
    }

    @Override
    public boolean applyStackIn(StepContext ctx, List<HookPoint> points, List<List<GateView>> gatesByCall, StackPass pass) {
        List<GateView> gates = gatesByCall.getFirst();
        // A branch's factors never move once allocated: a group's tables are built once per run, and each step
        // only points them at its gates.
        StackGroup group = sameAsLast(points) ? lastGroup : groups.get(points);
        if (group == null) {
            List<TaylorFactors> branches = new ArrayList<>(points.size());
            for (HookPoint p : points) {
                branches.add(requireFactors(p));
            }
            group = new StackGroup(List.copyOf(points), new BranchStack(arena, branches, gates));
            groups.put(group.points, group);
        }
        lastPoints = points;
        lastGroup = group;
        int position = position();
        if (sumsWanted() && !group.sumsCover(position) && gatesByCall.size() > 1
                && group.stack.activationDtype() == DType.F32) {
            prepareSums(group, gatesByCall, position);
        }
        if (group.sumsCover(position)) {
            nonFinite |= !pass.run(variant, group.sumStacks.get(position - group.sumsFrom), 0f);
        } else {
            group.stack.setGates(gates);
            nonFinite |= !pass.run(variant, group.stack, current.delta());
        }
        forecastBranches += points.size();
        return true;
    }

    /** Whether {@code points} is the last stack forecast's list, still holding its group's points (by identity). */
    private boolean sameAsLast(List<HookPoint> points) {
        if (points != lastPoints || points.size() != lastGroup.points.size()) {
            return false;
        }
        for (int i = 0; i < points.size(); i++) {
            if (points.get(i) != lastGroup.points.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** Forgets every group's prepared sums (their memory stays for the next window). */
    private void dropSums() {
        for (StackGroup g : groups.values()) {
            g.sumsCount = 0;
        }
    }

    /** Whether this run's factors (all allocated once a full step has run) call for sums. */
    private boolean sumsWanted() {
        long bytes = 0;
        for (TaylorFactors f : factors.values()) {
            bytes += f.byteSize();
        }
        return forecastSums.appliesTo(bytes);
    }

    /** The loop position of the step in progress. */
    private int position() {
        return classifier.classified() - 1;
    }

    /** The group's forecast sums of the window's steps from position {@code from} on, in one pass. */
    private void prepareSums(StackGroup group, List<List<GateView>> gatesByCall, int from) {
        // no further than this window of forecast steps, whatever the caller handed
        int n = Math.min(gatesByCall.size(), Math.min(1 + classifier.forecastsAhead(), NativeKernels.MAX_SUM_STEPS));
        gatesByCall = gatesByCall.subList(0, n);
        TaylorSeerSchedule.Config schedule = classifier.config();
        float[] deltas = new float[n];
        for (int k = 0; k < n; k++) {
            deltas[k] = schedule.stepAt(from + k) - current.lastFull();
        }
        if (group.sums.size() < n) {
            Shape shape = group.stack.shape();
            float[] one = new float[Math.toIntExact(shape.dim(0) * shape.dim(2))];
            Arrays.fill(one, 1f);
            GateView ones = GateView.of(Tensor.ofFloats(arena, one, shape.dim(0), shape.dim(2)));
            while (group.sums.size() < n) {
                TaylorFactors sum = newFactors(group.stack.activationDtype(), shape, 0); // sums stay float32
                group.sums.add(sum);
                group.sumStacks.add(new BranchStack(arena, List.of(sum), List.of(ones)));
            }
        }
        Kernels.taylorForecastSums(variant, group.sums.subList(0, n), group.stack, gatesByCall, deltas);
        group.sumsFrom = from;
        group.sumsCount = n;
    }

    /** ||forecast - computed|| / ||computed||, accumulated in double. */
    private double forecastError(TaylorFactors tf, Tensor computed) {
        try (Arena scratch = Arena.ofConfined()) {
            Tensor forecast = Tensor.allocate(scratch, computed.dtype(), tf.shape());
            Kernels.taylorForecast(variant, forecast, tf, current.delta());
            return relativeError(forecast, computed);
        }
    }

    /** ||forecast - computed|| / ||computed||, accumulated in double (infinite when only computed is zero). */
    static double relativeError(Tensor forecast, Tensor computed) {
        float[] a = forecast.toFloatArray();
        float[] b = computed.toFloatArray();
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            diff += d * d;
            norm += (double) b[i] * b[i];
        }
        return norm == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(diff / norm);
    }

    private TaylorFactors requireFactors(HookPoint p) {
        TaylorFactors tf = factors.get(p.index());
        if (tf == null) {
            throw new IllegalStateException("no factors for " + p + ": a forecast step came before any full step");
        }
        return tf;
    }

    /** The factors of one hook point, or null before its first full step (tests poison them). */
    TaylorFactors factorsOf(HookPoint point) {
        return factors.get(point.index());
    }

    @Override
    public List<StepPlan> executedPlan() {
        return List.copyOf(executed);
    }

    @Override
    public CacheStats stats() {
        long bytes = 0;
        for (TaylorFactors f : factors.values()) {
            bytes += f.byteSize();
        }
        for (StackGroup g : groups.values()) {
            for (TaylorFactors f : g.sums) {
                bytes += f.byteSize();
            }
        }
        List<Integer> full = new ArrayList<>();
        List<Integer> forecast = new ArrayList<>();
        for (StepPlan p : executed) {
            (p.isFull() ? full : forecast).add(p.step());
        }
        return new CacheStats(full, forecast, computedBranches, forecastBranches, bytes, List.copyOf(fallbacks));
    }

    public CachePolicy policy() {
        return policy;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                if (pool != null) {
                    factors.values().forEach(pool::release);
                    groups.values().forEach(g -> g.sums.forEach(pool::release));
                }
            } finally {
                factors.clear();
                groups.clear();
                lastPoints = null;
                lastGroup = null;
                arena.close();
            }
        }
    }
}
