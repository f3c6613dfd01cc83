package dev.seer.cache;

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
 * TaylorSeer forecasting as branch hooks, for one sampling run with the official DiT schedule (TAYLORSEER.md
 * §2-§3): the step index counts down from S-1; steps S-1 and S-2 are full (warm-up), then every full step is
 * followed by N-1 forecast steps. At a full step every branch is computed and its factors updated with the fused
 * update+residual kernel; at a forecast step no branch runs and the whole stack is added in one multi-branch
 * kernel call. Factor memory is allocated once per run, at the first full step, and freed by {@link #close()}.
 *
 * <p>Not thread-safe: one instance per run. Both halves of a classifier-free-guidance batch share each entry,
 * as in the official DiT code.
 */
public final class TaylorCache implements BranchHooks, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TaylorCache.class);
    /** Official warm-up: the first two steps of the loop are full. */
    static final int FIRST_ENHANCE = 2;

    private final CachePolicy policy;
    private final Variant variant;
    private final Arena arena = Arena.ofShared();
    private final Map<Integer, TaylorFactors> factors = new HashMap<>();
    private final CacheStats.Builder stats;

    private int counter;
    private final List<Integer> fullSteps = new ArrayList<>();
    private int distance;
    private boolean full;
    private boolean derivativesAllowed;
    private boolean forceFull;
    private boolean nonFiniteSeen;
    private boolean closed;

    public TaylorCache(CachePolicy policy, int numSteps, Variant variant) {
        if (policy instanceof CachePolicy.None) {
            throw new IllegalArgumentException("policy 'none' needs no cache; run the model with BranchHooks.NONE");
        }
        if (numSteps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, found " + numSteps);
        }
        this.policy = policy;
        this.variant = variant;
        this.stats = new CacheStats.Builder(numSteps);
    }

    /** The next network call runs every branch, whatever the schedule says (used after a non-finite forecast). */
    public void forceNextFull() {
        forceFull = true;
    }

    /** True if the last forecast produced NaN or Inf; the caller should redo that step with {@link #forceNextFull()}. */
    public boolean lastForecastWasNonFinite() {
        return nonFiniteSeen;
    }

    @Override
    public void beginStep(StepContext ctx) {
        if (closed) {
            throw new IllegalStateException("cache is closed");
        }
        int s = ctx.step();
        int S = ctx.numSteps();
        nonFiniteSeen = false;
        // cal_type: warm-up (s > S - first_enhance - 1) or counter == N - 1 -> full, and the counter restarts
        boolean warmUp = s > S - FIRST_ENHANCE - 1;
        if (warmUp || counter == policy.interval() - 1 || forceFull || factors.isEmpty() && fullSteps.isEmpty()) {
            full = true;
            counter = 0;
            int previous = fullSteps.isEmpty() ? s : fullSteps.getLast();
            fullSteps.add(s);
            distance = s - previous;
            // derivative_approximation's gate: derivatives from the second step of the loop on
            derivativesAllowed = s < S - FIRST_ENHANCE + 1 && distance != 0;
            if (forceFull && !warmUp) {
                stats.recordFallback(s);
            }
            forceFull = false;
        } else {
            full = false;
            counter++;
        }
        stats.recordStep(s, full);
    }

    @Override
    public boolean replacesStack(StepContext ctx) {
        return !full;
    }

    @Override
    public void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch) {
        if (full) {
            Tensor f = branch.compute();
            TaylorFactors tf = factors.computeIfAbsent(point.index(),
                    k -> TaylorFactors.allocate(arena, f.dtype(), f.shape(), policy.maxOrder()));
            int newOrder = derivativesAllowed && !tf.isEmpty() ? Math.min(tf.order() + 1, policy.maxOrder()) : 0;
            Kernels.taylorUpdateResidual(variant, x, gate, f, tf, newOrder, distance);
            stats.recordBranch(true);
        } else {
            TaylorFactors tf = requireFactors(point);
            nonFiniteSeen |= !Kernels.taylorForecastResidual(variant, x, gate, tf, ctx.step() - fullSteps.getLast());
            stats.recordBranch(false);
        }
    }

    @Override
    public void applyStack(StepContext ctx, Tensor x, List<HookPoint> points, List<GateView> gates) {
        List<TaylorFactors> branches = new ArrayList<>(points.size());
        for (HookPoint p : points) {
            branches.add(requireFactors(p));
        }
        try (Arena step = Arena.ofConfined()) {
            BranchStack stack = new BranchStack(step, branches, gates);
            boolean finite = Kernels.taylorForecastResidualMulti(variant, x, stack, ctx.step() - fullSteps.getLast());
            if (!finite) {
                nonFiniteSeen = true;
                LOG.warn("step {}: the Taylor forecast produced NaN or Inf; the step should be recomputed in full", ctx.step());
            }
        }
        for (int i = 0; i < points.size(); i++) {
            stats.recordBranch(false);
        }
    }

    private TaylorFactors requireFactors(HookPoint p) {
        TaylorFactors tf = factors.get(p.index());
        if (tf == null) {
            throw new IllegalStateException("no factors for " + p + ": a forecast step came before any full step");
        }
        return tf;
    }

    /** What the run did so far. */
    public CacheStats stats() {
        long bytes = 0;
        for (TaylorFactors f : factors.values()) {
            bytes += f.byteSize();
        }
        return stats.build(List.copyOf(fullSteps), bytes);
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
