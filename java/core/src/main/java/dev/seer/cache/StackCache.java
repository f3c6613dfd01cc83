package dev.seer.cache;

import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import dev.seer.kernel.Kernels;
import dev.seer.kernel.TaylorFactors;
import dev.seer.kernel.Variant;
import dev.seer.model.BranchHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.DType;
import dev.seer.tensor.GateView;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run cache of {@link TaylorSeerLite}: Taylor factors of the block stack's output, one set per run. Through
 * {@link BranchHooks#wholeStack}: at a full step the blocks run uncached ({@link BranchHooks#NONE}) and the stack's
 * output updates the factors ({@link Kernels#taylorUpdate}); at a forecast step the blocks do not run and the output
 * is the forecast ({@link Kernels#taylorForecast}). A forecast that is not finite turns the step into a full one, as
 * in {@link TaylorCache}. The factors are stored in the run's {@link FactorDtype}. Both halves of a guidance batch
 * share the entry, as in the official DiT code. Not thread-safe: one instance per run.
 */
final class StackCache implements RunCache, BranchHooks {
    private static final Logger LOG = LoggerFactory.getLogger(StackCache.class);

    private final TaylorSeerLite policy;
    private final TaylorSeerSchedule.Classifier classifier;
    private final Variant variant;
    private final int branches;
    private final FactorPool pool;
    private final TaylorCache.ForecastErrorSink errorSink;
    private final FactorDtype factorDtype;
    private final Arena arena = Arena.ofShared();
    private final List<StepPlan> executed = new ArrayList<>();
    private final List<Integer> fallbacks = new ArrayList<>();
    private TaylorFactors factors;
    private StepPlan current;
    private boolean stackSeen;
    private boolean nonFinite;
    private long computedBranches;
    private long forecastBranches;
    private boolean closed;

    StackCache(TaylorSeerLite policy, TaylorSeerSchedule.Config schedule, CacheRun run) {
        this.policy = policy;
        this.classifier = new TaylorSeerSchedule.Classifier(schedule);
        this.variant = run.variant();
        this.branches = run.branches();
        this.pool = run.factorPool();
        this.errorSink = run.forecastErrors();
        this.factorDtype = run.factorDtype();
    }

    @Override
    public BranchHooks hooks() {
        return this;
    }

    @Override
    public boolean forecastsStackOutput() {
        return true;
    }

    @Override
    public void beginStep(StepContext ctx) {
        if (closed) {
            throw new IllegalStateException("cache is closed");
        }
        nonFinite = false;
        stackSeen = false;
        if (current != null && current.step() == ctx.step()) {
            return; // the same step again after a non-finite forecast
        }
        current = classifier.next(ctx.step());
        executed.add(current);
    }

    @Override
    public void wholeStack(StepContext ctx, Tensor out, Blocks blocks) {
        stackSeen = true;
        if (current.isFull()) {
            blocks.run(BranchHooks.NONE);
            if (factors == null) {
                DType storage = factorDtype.storageFor(out.dtype());
                factors = pool == null ? TaylorFactors.allocate(arena, storage, out.shape(), policy.maxOrder())
                        : pool.take(arena, storage, out.shape(), policy.maxOrder());
            }
            Kernels.taylorUpdate(variant, factors, out, current.order(), current.distance());
            computedBranches += branches;
            return;
        }
        if (factors == null) {
            throw new IllegalStateException("no factors of the block stack: a forecast step came before any full step");
        }
        if (errorSink != null) {
            try (Arena scratch = Arena.ofConfined()) {
                Tensor forecast = Tensor.allocate(scratch, out.dtype(), out.shape());
                nonFinite |= !Kernels.taylorForecast(variant, forecast, factors, current.delta());
                blocks.run(BranchHooks.NONE);
                errorSink.record(current.step(), stackPoint(out), TaylorCache.relativeError(forecast, out));
                out.segment().copyFrom(forecast.segment());
            }
        } else {
            nonFinite |= !Kernels.taylorForecast(variant, out, factors, current.delta());
        }
        forecastBranches += branches;
    }

    /** The whole stack as one point, for the forecast-error report. */
    private static HookPoint stackPoint(Tensor out) {
        return new HookPoint("stack", 0, 0, "stack", out.shape().dim(1), out.shape().dim(2));
    }

    @Override
    public void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch) {
        throw new IllegalStateException(TaylorSeerLite.NAME + ": the model called the hook of branch " + point
                + " instead of handing its whole block stack to the cache (BranchHooks.wholeStack); this family does"
                + " not support " + TaylorSeerLite.NAME);
    }

    @Override
    public void endStep(StepContext ctx) {
        if (!stackSeen) {
            throw new IllegalStateException(TaylorSeerLite.NAME + ": the model did not hand its block stack to the cache"
                    + " (BranchHooks.wholeStack); this family does not support " + TaylorSeerLite.NAME);
        }
    }

    @Override
    public boolean redoIfNonFinite() {
        if (!nonFinite) {
            return false;
        }
        forecastBranches -= branches;
        fallbacks.add(current.step());
        current = classifier.reclassifyAsFull(current.step());
        executed.set(executed.size() - 1, current);
        LOG.warn("step {}: the forecast of the block stack's output was not finite; recomputing the step in full",
                current.step());
        return true;
    }

    @Override
    public StepPlan stepDone(StepContext ctx) {
        if (current == null || current.step() != ctx.step()) {
            throw new IllegalStateException("step " + ctx.step() + " has not run");
        }
        return current;
    }

    @Override
    public List<StepPlan> executedPlan() {
        return List.copyOf(executed);
    }

    @Override
    public CacheStats stats() {
        List<Integer> full = new ArrayList<>();
        List<Integer> forecast = new ArrayList<>();
        for (StepPlan p : executed) {
            (p.isFull() ? full : forecast).add(p.step());
        }
        return new CacheStats(full, forecast, computedBranches, forecastBranches,
                factors == null ? 0 : factors.byteSize(), List.copyOf(fallbacks));
    }

    /** The stack output's factors, or null before the first full step (tests poison them). */
    TaylorFactors factors() {
        return factors;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                if (pool != null && factors != null) {
                    pool.release(factors);
                }
            } finally {
                factors = null;
                arena.close();
            }
        }
    }
}
