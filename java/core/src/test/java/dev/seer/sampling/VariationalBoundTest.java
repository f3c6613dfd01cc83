package dev.seer.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VariationalBoundTest {

    @Test
    void normalKlHandComputed() {
        assertEquals(0f, VariationalBound.normalKl(0f, 0f, 0f, 0f));
        // Unit variances, means 1 apart: (1/2) * 1^2.
        assertEquals(0.5f, VariationalBound.normalKl(1f, 0f, 0f, 0f));
        // Variance 2 vs 1, same mean: (1/2) * (-1 - ln 2 + 2) = 0.1534264.
        assertEquals(0.5 * (1 - Math.log(2)), VariationalBound.normalKl(0f, (float) Math.log(2), 0f, 0f), 1e-7);
        // Variance 1 vs e^2, means 2 apart: (1/2) * (-1 + 2 + e^-2 + 4 e^-2) = 0.8383382.
        assertEquals(0.5 * (1 + 5 * Math.exp(-2)), VariationalBound.normalKl(2f, 0f, 0f, 2f), 1e-6);
    }

    @Test
    void cdfApproximation() {
        assertEquals(0.5f, VariationalBound.approxStandardNormalCdf(0f));
        // 0.5 * (1 + tanh(sqrt(2/pi) * (1 + 0.044715))) = 0.8411920.
        assertEquals(0.8411920, VariationalBound.approxStandardNormalCdf(1f), 1e-6);
        assertEquals(1 - 0.8411920, VariationalBound.approxStandardNormalCdf(-1f), 1e-6);
    }

    @Test
    void discretizedLikelihoodHandComputed() {
        // Centre bin of a standard normal: Phi(1/255) - Phi(-1/255) ~= 2 * phi(0) / 255 = 0.0062574.
        double centre = Math.log(2 / Math.sqrt(2 * Math.PI) / 255);
        assertEquals(centre, VariationalBound.discretizedGaussianLogLikelihood(0f, 0f, 0f), 2e-4);
        // Edge bins run to infinity: x = -1 takes log Phi(-1 + 1/255), x = 1 takes log(1 - Phi(1 - 1/255)).
        double lowEdge = Math.log(VariationalBound.approxStandardNormalCdf((float) (-1 + 1 / 255.0)));
        assertEquals(lowEdge, VariationalBound.discretizedGaussianLogLikelihood(-1f, 0f, 0f), 1e-6);
        double highEdge = Math.log(1 - VariationalBound.approxStandardNormalCdf((float) (1 - 1 / 255.0)));
        assertEquals(highEdge, VariationalBound.discretizedGaussianLogLikelihood(1f, 0f, 0f), 1e-6);
        // A far-off mean hits the 1e-12 floor.
        assertEquals(Math.log(1e-12f), VariationalBound.discretizedGaussianLogLikelihood(0f, 50f, -5f), 1e-6);
    }

    /**
     * Expected values from numpy float32 arithmetic in the official op order, mean in float64. The first
     * column rounds exp, tanh and log from float64 (as Java does); the second uses numpy's float32 versions,
     * which are not always correctly rounded. The KL's {@code -1 + lv2 - lv1 + exp(lv1 - lv2)} cancels to ~1e-4, so an ulp of exp
     * moves the small terms by up to ~1e-4 relative.
     */
    @ParameterizedTest
    @CsvSource({"0, 1.2458849530497684, 1.2458849315519371", "1, 0.08605343736884775, 0.0860534518127032",
            "500, 0.00022540047989072674, 0.00022538614625365684",
            "999, 0.0004171555573284025, 0.00041711973635696274"})
    void termMatchesFloat32Reference(int t, double expected, double numpyExpected) {
        GaussianDiffusion g = new GaussianDiffusion(GaussianDiffusion.linearBetas(1000));
        float[] x0 = {-1.0f, -0.5f, 0.0f, 0.25f, 0.999f, 1.0f};
        float[] noise = {0.2f, -0.4f, 1.5f, -0.9f, 0.0f, 0.8f};
        float[] eps = {0.1f, -0.3f, 1.2f, -1.0f, 0.2f, 0.7f};
        float[] var = {-1f, -0.5f, 0f, 0.5f, 1f, 0.3f};
        float[] xt = new DiffusionSteps(g).qSample(x0, t, noise);
        double bits = VariationalBound.termBits(g, x0, xt, eps, var, t);
        assertEquals(expected, bits, 1e-12 * Math.abs(expected));
        assertEquals(numpyExpected, bits, 2e-4 * Math.abs(expected));
    }

    @Test
    void termIsZeroWhenTheModelIsExact() {
        GaussianDiffusion g = new GaussianDiffusion(GaussianDiffusion.linearBetas(1000));
        float[] x0 = {0.3f, -0.2f};
        float[] noise = {1f, -1f};
        int t = 300;
        float[] xt = new DiffusionSteps(g).qSample(x0, t, noise);
        // v = -1 selects the true posterior log variance; the exact eps gives (nearly) the true mean.
        double bits = VariationalBound.termBits(g, x0, xt, noise, new float[] {-1f, -1f}, t);
        assertEquals(0.0, bits, 1e-6);
    }
}
