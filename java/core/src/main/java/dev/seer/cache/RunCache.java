package dev.seer.cache;

import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import dev.seer.model.BranchHooks;
import dev.seer.model.StepContext;
import java.util.List;

/**
 * One run's cache state, as the sampling loop uses it whatever the policy: the hooks to hand the model, the
 * non-finite redo, and what the run did. Not thread-safe: one instance per run; {@link #close()} frees its memory.
 */
public interface RunCache extends AutoCloseable {
    /** The hooks to pass to every network call of the run. */
    BranchHooks hooks();

    /**
     * After a network call: if its forecast produced NaN or Inf, turns the step into a full one and returns true,
     * and the caller runs the call again (it then computes every branch).
     */
    boolean redoIfNonFinite();

    /**
     * Whether its forecast steps skip the whole block stack and forecast the stack's output (TaylorSeer-Lite), rather
     * than forecasting each branch: for the run's FLOPs.
     */
    default boolean forecastsStackOutput() {
        return false;
    }

    /** After the step's last network call: what the step was. */
    StepPlan stepDone(StepContext ctx);

    /** The steps executed so far, as planned (non-finite fallbacks appear as full steps). */
    List<StepPlan> executedPlan();

    /** What the run did so far. */
    CacheStats stats();

    @Override
    void close();

    /**
     * A run cache that runs every step in full through the given hooks (for hooks of one's own, such as a
     * transcription of a reference's cache in tests); {@link BranchHooks#NONE} is the uncached run.
     */
    static RunCache everyStepFull(BranchHooks hooks, int branches) {
        return new NoCache(hooks, branches);
    }
}
