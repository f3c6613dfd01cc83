package dev.seer.cache;

import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import dev.seer.model.BranchHooks;
import dev.seer.model.StepContext;
import java.util.ArrayList;
import java.util.List;

/** The uncached run: every branch of every step computed by the model itself ({@link BranchHooks#NONE}). */
final class NoCache implements RunCache {
    private final int branches;
    private final List<StepPlan> executed = new ArrayList<>();

    NoCache(int branches) {
        this.branches = branches;
    }

    @Override
    public BranchHooks hooks() {
        return BranchHooks.NONE;
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
