package dev.seer.cache;

import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import dev.seer.kernel.BranchStack;
import dev.seer.kernel.GateView;
import dev.seer.kernel.Kernels;
import dev.seer.kernel.TaylorFactors;
import dev.seer.kernel.Variant;
import dev.seer.model.BranchHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
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
 * by one multi-branch kernel call. Factor memory is allocated once per run, at the first full step, and freed
 * by {@link #close()}.
 *
 * <p>A forecast that produces NaN or Inf is detected inside the kernel; {@link #redoAsFull()} then turns that
 * step into a full one so the caller can recompute it. Not thread-safe: one instance per run. Both halves of
 * a classifier-free-guidance batch share each entry, as in the official DiT code.
 */
public final class TaylorCache implements BranchHooks, AutoCloseable {
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
    /** The whole-stack forecast's tables, in {@link #arena}, for {@link #stackPoints}. */
    private BranchStack stack;
    private List<HookPoint> stackPoints;

    /** Receives the forecast error of every branch at every forecast step (see {@link #measureForecastErrors}). */
    @FunctionalInterface
    public interface ForecastErrorSink {
        /** @param relativeL2 ||forecast - computed|| / ||computed|| of one branch output at one forecast step */
        void record(int step, HookPoint point, double relativeL2);
    }

    /** A cache with the official DiT schedule for {@code numSteps} steps. */
    public TaylorCache(CachePolicy policy, int numSteps, Variant variant) {
        this(policy, TaylorSeerSchedule.Config.dit(numSteps, policy.interval(), policy.maxOrder()), variant);
    }

    public TaylorCache(CachePolicy policy, TaylorSeerSchedule.Config schedule, Variant variant) {
        if (policy instanceof CachePolicy.None) {
            throw new IllegalArgumentException("policy 'none' needs no cache; run the model with BranchHooks.NONE");
        }
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
    }

    /** Whether the step in progress (or just finished) runs every branch. */
    public boolean currentStepIsFull() {
        return current != null && current.isFull();
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
                    k -> TaylorFactors.allocate(arena, f.dtype(), f.shape(), policy.maxOrder()));
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
    public void applyStack(StepContext ctx, Tensor x, List<HookPoint> points, List<GateView> gates) {
        applyStackIn(ctx, points, gates, (v, stack, delta) -> Kernels.taylorForecastResidualMulti(v, x, stack, delta));
    }

    @Override
    public boolean applyStackIn(StepContext ctx, List<HookPoint> points, List<GateView> gates, StackPass pass) {
        // A branch's factors never move once allocated: the stack's tables are built once per run and set of
        // points, and each step only points them at its gates.
        if (stack == null || !points.equals(stackPoints)) {
            List<TaylorFactors> branches = new ArrayList<>(points.size());
            for (HookPoint p : points) {
                branches.add(requireFactors(p));
            }
            stack = new BranchStack(arena, branches, gates);
            stackPoints = List.copyOf(points);
        } else {
            stack.setGates(gates);
        }
        nonFinite |= !pass.run(variant, stack, current.delta());
        forecastBranches += points.size();
        return true;
    }

    /** ||forecast - computed|| / ||computed||, accumulated in double. */
    private double forecastError(TaylorFactors tf, Tensor computed) {
        try (Arena scratch = Arena.ofConfined()) {
            Tensor forecast = Tensor.allocate(scratch, tf.dtype(), tf.shape());
            Kernels.taylorForecast(variant, forecast, tf, current.delta());
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

    /** The steps executed so far, as planned (fallbacks appear as full steps). */
    public List<StepPlan> executedPlan() {
        return List.copyOf(executed);
    }

    /** What the run did so far. */
    public CacheStats stats() {
        long bytes = 0;
        for (TaylorFactors f : factors.values()) {
            bytes += f.byteSize();
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
            factors.clear();
            arena.close();
        }
    }
}
