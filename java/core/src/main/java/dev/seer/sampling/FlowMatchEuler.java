package dev.seer.sampling;

import dev.seer.model.StepContext;

/**
 * Euler steps of a flow-matching model over a given time schedule (FLUX's {@code denoise}): the step index counts up
 * 0..S-1, call k runs at t_k, and x += (t_(k+1) - t_k) * v with the velocity v the model predicts. The difference is
 * taken in double and rounded to float32, then multiplied and added in float32, as the reference's tensor ops do.
 */
public final class FlowMatchEuler implements Sampler {
    private final double[] timesteps;

    /** @param timesteps S + 1 times, from t_0 (noise) to t_S */
    public FlowMatchEuler(double[] timesteps) {
        if (timesteps == null || timesteps.length < 2) {
            throw new IllegalArgumentException("a flow schedule needs at least 2 times, found "
                    + (timesteps == null ? "none" : timesteps.length));
        }
        for (double t : timesteps) {
            if (!Double.isFinite(t)) {
                throw new IllegalArgumentException("the flow schedule's times must be finite, found " + t);
            }
        }
        this.timesteps = timesteps.clone();
    }

    @Override
    public int steps() {
        return timesteps.length - 1;
    }

    @Override
    public StepContext context(int k) {
        return new StepContext(k, steps(), timesteps[k], StepContext.Guidance.JOINT);
    }

    @Override
    public void step(int k, float[] x, float[] output) {
        float dt = (float) (timesteps[k + 1] - timesteps[k]);
        for (int i = 0; i < x.length; i++) {
            x[i] += dt * output[i];
        }
    }
}
