package dev.seer.sampling;

import dev.seer.model.StepContext;

/**
 * The reverse process of a sampling run: which network calls it makes, in loop order, and how each prediction
 * moves the samples. DDIM and DDPM ({@link DiffusionSampler}); flow-matching Euler for flow models.
 */
public interface Sampler {
    /** Network calls of the run (S). */
    int steps();

    /** The step index and model timestep of the k-th call, k = 0..S-1 in loop order. */
    StepContext context(int k);

    /**
     * After the k-th call: moves the samples x (n, per) in place from the model's guided output, one row of
     * outPer floats per sample.
     */
    void step(int k, float[] x, float[] output);
}
