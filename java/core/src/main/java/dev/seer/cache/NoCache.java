package dev.seer.cache;

import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import dev.seer.model.BranchHooks;
import dev.seer.model.StepContext;
import java.util.ArrayList;
import java.util.List;

/**
 * Every step full: the uncached run ({@link BranchHooks#NONE}: every branch computed by the model itself), or a run
 * through hooks of one's own ({@link RunCache#everyStepFull}).
 */
final class NoCache implements RunCache {
    private final BranchHooks hooks;
    private final int branches;
    private final List<StepPlan> executed = new ArrayList<>();

    NoCache(BranchHooks hooks, int branches) {
        this.hooks = hooks;
        this.branches = branches;
    }

    @Override
    public BranchHooks hooks() {
        return hooks;
    }

    @Override
    public boolean redoIfNonFinite() {
        return false;
    }

    @Override
    public StepPlan stepDone(StepContext ctx) {
        StepPlan p = new StepPlan(ctx.step(), TaylorSeerSchedule.StepKind.FULL, ctx.step(), 0, 0, 0);
        executed.add(p);
        return p;
    }

    @Override
    public List<StepPlan> executedPlan() {
        return List.copyOf(executed);
    }

    @Override
    public CacheStats stats() {
        List<Integer> all = executed.stream().map(StepPlan::step).toList();
        return new CacheStats(all, List.of(), (long) executed.size() * branches, 0, 0, List.of());
    }

    @Override
    public void close() {
    }
}
