package dev.seer.sampling;

import dev.seer.tensor.Shape;

/**
 * The final latents of the conditional samples, (n, C, H, W) flattened, and the run's statistics.
 */
public record SampleResult(float[] latents, Shape shape, RunStats stats) {
}
