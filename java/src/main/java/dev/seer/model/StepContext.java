package dev.seer.model;

/**
 * What a network call is for, passed explicitly by the sampler: the position in the sampling loop, the number of
 * steps, the model timestep, and which guidance branch runs (models that run the conditional and unconditional
 * passes separately keep separate cache state per branch; DiT runs both in one batch: {@link Guidance#JOINT}).
 */
public record StepContext(int step, int numSteps, int timestep, Guidance branch) {
    public enum Guidance { JOINT, CONDITIONAL, UNCONDITIONAL }

    public StepContext {
        if (numSteps < 1 || step < 0 || step >= numSteps) {
            throw new IllegalArgumentException("step must be in 0.." + (numSteps - 1) + ", found " + step);
        }
    }
}
