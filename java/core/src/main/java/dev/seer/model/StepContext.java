package dev.seer.model;

/**
 * What a network call is for, passed explicitly by the sampler: the step index (the position the family's official
 * code counts: DiT's count down, FLUX's up), the number of steps, the model timestep (DiT: the diffusion index;
 * flow models: t in [0, 1]), and which guidance pass runs. DiT runs the conditional and unconditional rows in one
 * batch ({@link Guidance#JOINT}); a family that runs them as separate calls with separate cache state adds its
 * passes here together with the guidance strategy that makes them.
 */
public record StepContext(int step, int numSteps, double timestep, Guidance branch) {
    public enum Guidance { JOINT }

    public StepContext {
        if (numSteps < 1 || step < 0 || step >= numSteps) {
            throw new IllegalArgumentException("step must be in 0.." + (numSteps - 1) + ", found " + step);
        }
        if (branch == null) {
            throw new IllegalArgumentException("the guidance pass is null");
        }
    }
}
