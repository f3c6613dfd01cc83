package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.seer.sampling.DiffusionSteps;
import dev.seer.sampling.GaussianDiffusion;
import org.junit.jupiter.api.Test;

/** Pixel-space sampling clamps pred_x0 to [-1, 1]; without the flag the steps are unchanged. */
class ClipDenoisedTest {

    @Test
    void lastDdimStepReturnsTheClampedPrediction() {
        GaussianDiffusion d = GaussianDiffusion.create("50", 1000);
        float[] x = {3f, -3f, 0.5f, 0f};
        float[] eps = {0f, 0f, 0f, 0f};
        // At index 0 alpha_bar_prev = 1, so x_{-1} = pred_x0 = sqrt(1/abar_0) x.
        float[] clipped = new DiffusionSteps(d, true).ddim(x, eps, 0, 0.0, null);
        float[] plain = new DiffusionSteps(d).ddim(x, eps, 0, 0.0, null);
        assertEquals(1f, clipped[0]);
        assertEquals(-1f, clipped[1]);
        assertEquals(plain[2], clipped[2]);
        assertEquals(3f * GaussianDiffusion.extract(d.sqrtRecipAlphasCumprod(), 0), plain[0], 1e-6);
        // Predictions inside the range are untouched at every step.
        for (int i = 0; i < 50; i++) {
            float[] small = {0.01f, -0.02f, 0f, 0.03f};
            assertArrayEquals(new DiffusionSteps(d).ddim(small, small, i, 0.0, null),
                    new DiffusionSteps(d, true).ddim(small, small, i, 0.0, null), "index " + i);
        }
    }
}
