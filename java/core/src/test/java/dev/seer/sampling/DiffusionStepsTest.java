package dev.seer.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DiffusionStepsTest {

    private static final GaussianDiffusion G50 = GaussianDiffusion.create("50", 1000);
    private static final DiffusionSteps STEPS = new DiffusionSteps(G50);
    private static final float[] X = {0.5f, -1.25f, 2.0f, 0.0f, 1e-3f, -3.7f};
    private static final float[] EPS = {0.1f, 0.3f, -0.7f, 1.1f, -2.0f, 0.05f};
    private static final float[] VAR = {-1f, -0.5f, 0f, 0.5f, 1f, 0.3f};
    private static final float[] NOISE = {0.2f, -0.4f, 1.5f, -0.9f, 0.0f, 0.8f};

    /**
     * Expected float bits from numpy float32 arithmetic following the official op order (an independent
     * implementation: numpy's float32 +, -, *, / and sqrt are correctly rounded, as Java's are).
     */
    static Stream<Arguments> ddimCases() {
        return Stream.of(
                Arguments.of(49, 0.0, new int[] {0x3f16aefd, 0xbfcbf32a, 0x4026476b, 0xbe7986e0, 0x3ee377cc, 0xc090fb83}),
                Arguments.of(49, 1.0, new int[] {0x3f2f71bf, 0xbff0512d, 0x406588e8, 0xbf75c3e4, 0x3f4e95e8, 0xc082922a}),
                Arguments.of(25, 0.0, new int[] {0x3f0b59ac, 0xbfb6667b, 0x40139010, 0xbe036640, 0x3e700bf0, 0xc083d918}),
                Arguments.of(25, 1.0, new int[] {0x3f1ee1b7, 0xbfd095da, 0x4041d4f9, 0xbf21fe66, 0x3ee27b34, 0xc071d5fc}),
                Arguments.of(1, 0.0, new int[] {0x3efd3d69, 0xbfa32904, 0x40038157, 0xbd9c544e, 0x3e0f250c, 0xc06dc164}),
                Arguments.of(1, 1.0, new int[] {0x3efdceeb, 0xbfa400fb, 0x4004d96a, 0xbdc24ebf, 0x3e210bd4, 0xc06d4683}),
                Arguments.of(0, 0.0, new int[] {0x3eff8032, 0xbfa0645b, 0x40007455, 0xbc343ba7, 0x3cac0a65, 0xc06cd805}),
                Arguments.of(0, 1.0, new int[] {0x3eff8032, 0xbfa0645b, 0x40007455, 0xbc343ba7, 0x3cac0a65, 0xc06cd805}));
    }

    @ParameterizedTest
    @MethodSource("ddimCases")
    void ddimMatchesFloat32ReferenceBitForBit(int i, double eta, int[] expectedBits) {
        float[] out = STEPS.ddim(X, EPS, i, eta, NOISE);
        assertArrayEquals(expectedBits, bits(out));
    }

    /**
     * A double-precision DDIM (DDIM paper eq. 12), fed the float32 table values the official code uses.
     * With eta > 0 near the end, {@code 1 - abar_prev - sigma^2} cancels to ~1e-6 and {@code 1 - abar/abar_prev}
     * to ~1e-2, so float32 rounding there is amplified; those cases get a 1e-5 tolerance.
     */
    @ParameterizedTest
    @MethodSource("ddimCases")
    void ddimMatchesADoubleReimplementation(int i, double eta, int[] ignored) {
        double ab = (float) G50.alphasCumprod()[i];
        double abp = (float) G50.alphasCumprodPrev()[i];
        double a = (float) G50.sqrtRecipAlphasCumprod()[i];
        double b = (float) G50.sqrtRecipm1AlphasCumprod()[i];
        double tol = eta == 0 ? 1e-6 : 1e-5;
        double sigma = eta * Math.sqrt((1 - abp) / (1 - ab)) * Math.sqrt(1 - ab / abp);
        float[] out = STEPS.ddim(X, EPS, i, eta, NOISE);
        for (int k = 0; k < X.length; k++) {
            double x0 = a * X[k] - b * EPS[k];
            double e = (a * X[k] - x0) / b;
            double expected = Math.sqrt(abp) * x0 + Math.sqrt(1 - abp - sigma * sigma) * e
                    + (i != 0 ? sigma * NOISE[k] : 0);
            assertEquals(expected, out[k], tol * Math.max(1, Math.abs(expected)), "element " + k);
        }
    }

    static Stream<Arguments> ddpmCases() {
        return Stream.of(
                Arguments.of(49, new int[] {0x3f2f71c0, 0xbff05131, 0x406588fa, 0xbf75c424, 0x3f4e95e7, 0xc0829222}),
                Arguments.of(25, new int[] {0x3f1ee1b7, 0xbfd0a2ac, 0x4042051a, 0xbf22abda, 0x3ee27b30, 0xc071b495}),
                Arguments.of(1, new int[] {0x3efdcee3, 0xbfa4590b, 0x4006937e, 0xbe03273a, 0x3e210c00, 0xc06bd5a2}),
                Arguments.of(0, new int[] {0x3eff8032, 0xbfa0645b, 0x40007455, 0xbc343ba7, 0x3cac0a65, 0xc06cd805}));
    }

    @ParameterizedTest
    @MethodSource("ddpmCases")
    void ddpmMatchesFloat32Reference(int i, int[] expectedBits) {
        float[] out = STEPS.ddpm(X, EPS, VAR, i, NOISE);
        for (int k = 0; k < out.length; k++) {
            float expected = Float.intBitsToFloat(expectedBits[k]);
            // exp may differ by an ulp between numpy/PyTorch and Java; it scales the noise term only.
            float tol = 2 * Math.ulp(expected) + 2 * Math.ulp(Math.abs(NOISE[k]));
            assertEquals(expected, out[k], tol, "element " + k);
        }
    }

    @ParameterizedTest
    @MethodSource("ddpmCases")
    void ddpmMatchesADoubleReimplementation(int i, int[] ignored) {
        double a = (float) G50.sqrtRecipAlphasCumprod()[i];
        double b = (float) G50.sqrtRecipm1AlphasCumprod()[i];
        double minLog = (float) G50.posteriorLogVarianceClipped()[i];
        double maxLog = (float) Math.log(G50.betas()[i]);
        double c1 = (float) G50.posteriorMeanCoef1()[i];
        double c2 = (float) G50.posteriorMeanCoef2()[i];
        float[] out = STEPS.ddpm(X, EPS, VAR, i, NOISE);
        for (int k = 0; k < X.length; k++) {
            double frac = (VAR[k] + 1) / 2.0;
            double logVar = frac * maxLog + (1 - frac) * minLog;
            double x0 = a * X[k] - b * EPS[k];
            double expected = c1 * x0 + c2 * X[k] + (i != 0 ? Math.exp(0.5 * logVar) * NOISE[k] : 0);
            assertEquals(expected, out[k], 1e-6 * Math.max(1, Math.abs(expected)), "element " + k);
        }
    }

    @Test
    void ddimWithEtaZeroIsDeterministicAndIgnoresNoise() {
        float[] other = {-3f, 7f, 0.25f, 1e6f, -1e-6f, 2f};
        for (int i : new int[] {49, 30, 1, 0}) {
            float[] a = STEPS.ddim(X, EPS, i, 0.0, NOISE);
            float[] b = STEPS.ddim(X, EPS, i, 0.0, other);
            float[] c = STEPS.ddim(X, EPS, i, 0.0, null);
            assertArrayEquals(bits(a), bits(b), "index " + i);
            assertArrayEquals(bits(a), bits(c), "index " + i);
        }
    }

    @Test
    void lastStepAddsNoNoise() {
        assertArrayEquals(bits(STEPS.ddim(X, EPS, 0, 1.0, null)), bits(STEPS.ddim(X, EPS, 0, 1.0, NOISE)));
        assertArrayEquals(bits(STEPS.ddpm(X, EPS, VAR, 0, null)), bits(STEPS.ddpm(X, EPS, VAR, 0, NOISE)));
        // At index 0 DDIM and DDPM both return the posterior mean at pred_x0, which is pred_x0 itself.
        assertArrayEquals(bits(STEPS.ddim(X, EPS, 0, 0.0, null)), bits(STEPS.ddpm(X, EPS, VAR, 0, null)));
    }

    @Test
    void outMayAliasX() {
        float[] x = X.clone();
        float[] expected = STEPS.ddim(X, EPS, 20, 0.5, NOISE);
        STEPS.ddim(x, EPS, 20, 0.5, NOISE, x);
        assertArrayEquals(bits(expected), bits(x));
        x = X.clone();
        expected = STEPS.ddpm(X, EPS, VAR, 20, NOISE);
        STEPS.ddpm(x, EPS, VAR, 20, NOISE, x);
        assertArrayEquals(bits(expected), bits(x));
    }

    @Test
    void qSampleMatchesFloat32Reference() {
        DiffusionSteps base = new DiffusionSteps(new GaussianDiffusion(GaussianDiffusion.linearBetas(1000)));
        float[] out = base.qSample(X, 500, NOISE);
        assertArrayEquals(new int[] {0x3ea9bd66, 0xbf3b973b, 0x3fffc8b3, 0xbf5d41a3, 0x39923c15, 0xbe870ada},
                bits(out));
    }

    @Test
    void predictXstartInvertsQSample() {
        DiffusionSteps base = new DiffusionSteps(new GaussianDiffusion(GaussianDiffusion.linearBetas(1000)));
        float[] xt = base.qSample(X, 100, NOISE);
        float[] x0 = base.predictXstart(xt, NOISE, 100);
        for (int k = 0; k < X.length; k++) {
            assertEquals(X[k], x0[k], 1e-5f * Math.max(1, Math.abs(X[k])));
        }
    }

    @Test
    void learnedLogVarianceSpansPosteriorToBeta() {
        float[] lv = STEPS.learnedLogVariance(new float[] {-1f, 1f}, 10);
        assertEquals((float) G50.posteriorLogVarianceClipped()[10], lv[0]);
        assertEquals((float) G50.logBetas()[10], lv[1]);
    }

    @Test
    void rejectsBadInputs() {
        assertThrows(IllegalArgumentException.class, () -> STEPS.ddim(X, new float[3], 10, 0.0, null));
        assertThrows(IllegalArgumentException.class, () -> STEPS.ddim(X, EPS, 50, 0.0, null));
        assertThrows(IllegalArgumentException.class, () -> STEPS.ddim(X, EPS, -1, 0.0, null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> STEPS.ddim(X, EPS, 10, 1.0, null));
        assertTrue(e.getMessage().contains("noise"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> STEPS.ddpm(X, EPS, VAR, 10, null));
        assertThrows(IllegalArgumentException.class, () -> STEPS.ddpm(X, EPS, new float[2], 10, NOISE));
        assertThrows(IllegalStateException.class,
                () -> new DiffusionSteps(new GaussianDiffusion(new double[] {0.5})).ddpm(X, EPS, VAR, 0, null));
    }

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int k = 0; k < a.length; k++) {
            b[k] = Float.floatToRawIntBits(a[k]);
        }
        return b;
    }
}
