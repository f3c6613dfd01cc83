package dev.seer.model;

import java.util.List;

/**
 * A model of any family as the one sampling loop drives it, for one run: the run's conditioning (class labels,
 * text embeddings, ...) is prepared when the family opens it, and each {@link #call} is one network call on the
 * run's batch. The loop knows nothing else of the family. Closing it frees the run's state, never the model.
 */
public interface Denoiser extends AutoCloseable {
    /** The residual branches a cache can attach to, in execution order, with their streams and shapes. */
    List<HookPoint> hookPoints();

    /** Floats of one call's input, the whole batch (e.g. (rows, C, H, W) latents). */
    int inputLength();

    /** Floats of one call's output, the whole batch. */
    int outputLength();

    /** One network call: x to out, with {@code hooks} around every residual branch. */
    void call(float[] x, StepContext ctx, BranchHooks hooks, float[] out);

    /** The work of one call, for the run's statistics. */
    CallFlops flops();

    @Override
    void close();
}
