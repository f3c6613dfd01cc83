package dev.seer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.seer.sampling.GaussianDiffusion;
import dev.seer.sampling.VariationalBound;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Torch;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The libtorch-ops objective against the float-array oracle {@link VariationalBound} on the same numbers. */
class DiffusionLossTest {

    @Test
    void vbTermMatchesTheFloatOracle() {
        SeerRuntime.init();
        GaussianDiffusion d = GaussianDiffusion.create("", 1000);
        DiffusionLoss loss = new DiffusionLoss(d);
        int b = 5;
        int n = 2 * 4 * 4;
        int[] t = {0, 1, 17, 500, 999};
        Random rnd = new Random(3);
        float[] x0 = new float[b * n];
        float[] xt = new float[b * n];
        float[] eps = new float[b * n];
        float[] var = new float[b * n];
        for (int i = 0; i < x0.length; i++) {
            // x0 on the 8-bit grid in [-1, 1], edges included, as training images are.
            x0[i] = (rnd.nextInt(256)) / 127.5f - 1f;
            if (i % 7 == 0) {
                x0[i] = -1f;
            }
            if (i % 11 == 0) {
                x0[i] = 1f;
            }
            xt[i] = (float) rnd.nextGaussian();
            eps[i] = (float) rnd.nextGaussian();
            var[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor out = loss.vbTermBits(DiffusionLoss.floats(x0, b, 2, 4, 4), DiffusionLoss.floats(xt, b, 2, 4, 4),
                    DiffusionLoss.floats(eps, b, 2, 4, 4), DiffusionLoss.floats(var, b, 2, 4, 4), t);
            float[] got = Torch.view(out.contiguous()).toFloatArray();
            for (int i = 0; i < b; i++) {
                double want = VariationalBound.termBits(d, slice(x0, i, n), slice(xt, i, n), slice(eps, i, n), slice(var, i, n), t[i]);
                assertEquals(want, got[i], 1e-5 * Math.max(1, Math.abs(want)), "t = " + t[i]);
            }
        }
    }

    @Test
    void mseTermIsTheMeanSquaredEpsilonError() {
        SeerRuntime.init();
        DiffusionLoss loss = new DiffusionLoss(GaussianDiffusion.create("", 1000));
        try (PointerScope scope = new PointerScope()) {
            float[] out = {1, 2, 3, 4, 0, 0, 0, 0};
            float[] noise = {0, 0, 0, 0};
            Tensor l = loss.perSample(DiffusionLoss.floats(out, 1, 2, 2, 2), DiffusionLoss.floats(new float[4], 1, 1, 2, 2),
                    DiffusionLoss.floats(new float[4], 1, 1, 2, 2), DiffusionLoss.floats(noise, 1, 1, 2, 2), new int[] {5}, false);
            assertEquals((1 + 4 + 9 + 16) / 4.0, l.item().toDouble(), 1e-6);
        }
    }

    private static float[] slice(float[] a, int i, int n) {
        return java.util.Arrays.copyOfRange(a, i * n, (i + 1) * n);
    }
}
