package dev.seer.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class GaussianDiffusionTest {

    /** Values printed by numpy running the official formulas (float.hex), for create("50", 1000). */
    @Test
    void tablesMatchNumpyBitForBit() {
        GaussianDiffusion g = GaussianDiffusion.create("50", 1000);
        int[] at = {0, 1, 25, 49};
        assertBits(new double[] {0x1.a36e2eb1c4000p-14, 0x1.940ab09ab4c00p-8, 0x1.87c915f29628cp-3,
                0x1.51b977c334160p-2}, g.betas(), at);
        assertBits(new double[] {0x1.fff2e48e8a71ep-1, 0x1.fccae3dd30332p-1, 0x1.1fb160a84438ap-4,
                0x1.528cc8c616219p-15}, g.alphasCumprod(), at);
        assertBits(new double[] {0x1.000346ec78e6ap+0, 0x1.00ce3f3cc3442p+0, 0x1.e2f9cf259b7ccp+1,
                0x1.3ad22773ef33fp+7}, g.sqrtRecipAlphasCumprod(), at);
        assertBits(new double[] {0x1.47b2464d66f85p-7, 0x1.4536fa4f50d44p-4, 0x1.d1b49d8eab67bp+1,
                0x1.3ad0871c41fa7p+7}, g.sqrtRecipm1AlphasCumprod(), at);
        assertBits(new double[] {0x0.0p+0, 0x1.9cc6c233e8006p-14, 0x1.80c8c2412c432p-3,
                0x1.51b7c029cf78dp-2}, g.posteriorVariance(), at);
        assertBits(new double[] {0x1.0000000000000p+0, 0x1.f7da2ceac2d35p-1, 0x1.f0bcfd10417cfp-5,
                0x1.4f79031e81101p-9}, g.posteriorMeanCoef1(), at);
        assertBits(new double[] {0x0.0p+0, 0x1.04ba0fa59beb3p-6, 0x1.c433a18a982e8p-1,
                0x1.a32435ef468e5p-1}, g.posteriorMeanCoef2(), at);
        // Logs: Math.log is not guaranteed to round like numpy's log, so allow one ulp.
        assertUlps(new double[] {-0x1.273e1c74cf9d9p+3, -0x1.273e1c74cf9d9p+3, -0x1.ac04044ea4050p+0,
                -0x1.1bf88b72625b5p+0}, g.posteriorLogVarianceClipped(), at);
        assertUlps(new double[] {-0x1.26bb1bbb55554p+3, -0x1.45af7ff1df66cp+2, -0x1.a766494064c87p+0,
                -0x1.1bf73e3894733p+0}, g.logBetas(), at);
    }

    @Test
    void linearScheduleMatchesNumpyLinspace() {
        double[] b = GaussianDiffusion.linearBetas(1000);
        assertEquals(0x1.a36e2eb1c432dp-14, b[0]);
        assertEquals(0x1.f6fb0896a69acp-14, b[1]);
        assertEquals(0x1.49a50f8377ee4p-7, b[500]);
        assertEquals(0.02, b[999]);
        assertArrayEquals(new double[] {2.0}, GaussianDiffusion.linspace(2.0, 5.0, 1));
        assertArrayEquals(new double[] {0.0, 0.5, 1.0}, GaussianDiffusion.linspace(0.0, 1.0, 3));
    }

    static Stream<Arguments> respacings() {
        return Stream.of(
                Arguments.of("50", 1000, 50, new int[] {0, 20, 41, 61}, new int[] {958, 979, 999}),
                Arguments.of("250", 1000, 250, new int[] {0, 4, 8, 12}, new int[] {991, 995, 999}),
                Arguments.of("ddim50", 1000, 50, new int[] {0, 20, 40, 60}, new int[] {940, 960, 980}),
                Arguments.of("ddim1000", 1000, 1000, new int[] {0, 1, 2, 3}, new int[] {997, 998, 999}),
                Arguments.of("1", 1000, 1, new int[] {0}, new int[] {0}),
                Arguments.of("", 1000, 1000, new int[] {0, 1, 2}, new int[] {998, 999}));
    }

    @ParameterizedTest
    @MethodSource("respacings")
    void respacingMaps(String spec, int steps, int count, int[] head, int[] tail) {
        GaussianDiffusion g = GaussianDiffusion.create(spec, steps);
        int[] map = g.timestepMap();
        assertEquals(count, g.numSteps());
        assertEquals(count, map.length);
        assertEquals(steps, g.originalNumSteps());
        assertArrayEquals(head, Arrays.copyOf(map, head.length));
        assertArrayEquals(tail, Arrays.copyOfRange(map, map.length - tail.length, map.length));
        for (int k = 1; k < map.length; k++) {
            assertTrue(map[k] > map[k - 1], "ascending at " + k);
        }
    }

    @Test
    void fiftyStepMapMatchesPythonRoundHalfToEven() {
        // Printed by the official space_timesteps(1000, "50"): stride 999/49 accumulated, then round().
        int[] map = GaussianDiffusion.spaceTimesteps(1000, "50");
        int[] expected = {0, 20, 41, 61, 82, 102, 122, 143, 163, 183, 204, 224, 245, 265, 285, 306, 326, 347, 367,
                387, 408, 428, 449, 469, 489, 510, 530, 550, 571, 591, 612, 632, 652, 673, 693, 714, 734, 754, 775,
                795, 816, 836, 856, 877, 897, 917, 938, 958, 979, 999};
        assertArrayEquals(expected, map);
    }

    @Test
    void roundsHalfToEven() {
        // Stride 2.5: 2.5 rounds down to 2 and 7.5 up to 8 (half to even), where half-up would give 3 and 8.
        assertArrayEquals(new int[] {0, 2, 5}, GaussianDiffusion.spaceTimesteps(6, "3"));
        assertArrayEquals(new int[] {0, 2, 5, 8, 10}, GaussianDiffusion.spaceTimesteps(11, "5"));
    }

    @Test
    void sectionsFromTheOfficialDocstring() {
        int[] expected = {0, 11, 22, 33, 44, 55, 66, 77, 88, 99, 100, 107, 114, 121, 128, 135, 142, 149, 157, 164,
                171, 178, 185, 192, 199, 200, 205, 210, 216, 221, 226, 231, 236, 242, 247, 252, 257, 263, 268, 273,
                278, 283, 289, 294, 299};
        assertArrayEquals(expected, GaussianDiffusion.spaceTimesteps(300, "10,15,20"));
    }

    @Test
    void fullRespacingIsTheIdentity() {
        GaussianDiffusion spaced = GaussianDiffusion.create("1000", 1000);
        GaussianDiffusion plain = new GaussianDiffusion(GaussianDiffusion.linearBetas(1000));
        assertArrayEquals(IntStream.range(0, 1000).toArray(), spaced.timestepMap());
        // Like the official SpacedDiffusion, the betas are re-derived as 1 - ac[i] / ac[i-1], which can move
        // alphas_cumprod by an ulp or so; the float32 values the sampler sees almost never change.
        double[] a = plain.alphasCumprod();
        double[] b = spaced.alphasCumprod();
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-14 * a[i], "alphas_cumprod " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"50", "250", "1000", "ddim50", "10,15,20", "25"})
    void betasInRangeAndAlphasCumprodDecreasing(String spec) {
        GaussianDiffusion g = GaussianDiffusion.create(spec, spec.contains(",") ? 300 : 1000);
        double[] b = g.betas();
        double[] ac = g.alphasCumprod();
        for (int i = 0; i < b.length; i++) {
            assertTrue(b[i] > 0 && b[i] <= 1, "beta " + i);
            if (i > 0) {
                assertTrue(ac[i] < ac[i - 1], "alphas_cumprod decreasing at " + i);
            }
        }
        assertEquals(1.0, g.alphasCumprodPrev()[0]);
        assertEquals(0.0, g.alphasCumprodNext()[b.length - 1]);
    }

    @Test
    void respacedBetasComeFromTheKeptAlphasCumprod() {
        GaussianDiffusion base = new GaussianDiffusion(GaussianDiffusion.linearBetas(1000));
        GaussianDiffusion g = GaussianDiffusion.create("50", 1000);
        double[] ac = base.alphasCumprod();
        assertEquals(1 - ac[0], g.betas()[0]);
        assertEquals(1 - ac[20] / ac[0], g.betas()[1]);
        assertEquals(1 - ac[999] / ac[979], g.betas()[49]);
    }

    @Test
    void extractCastsToFloat() {
        assertEquals((float) 0.1, GaussianDiffusion.extract(new double[] {0.1}, 0));
    }

    @Test
    void invalidRequestsNameTheProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GaussianDiffusion.spaceTimesteps(1000, "1001"));
        assertEquals("cannot divide section of 1000 steps into 1001", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GaussianDiffusion.spaceTimesteps(300, "10,101,20"));
        assertEquals("cannot divide section of 100 steps into 101", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GaussianDiffusion.spaceTimesteps(1000, "ddim600"));
        assertTrue(e.getMessage().startsWith("cannot create exactly 600 steps with an integer stride"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GaussianDiffusion.spaceTimesteps(1000, "ddimx"));
        assertThrows(IllegalArgumentException.class, () -> GaussianDiffusion.spaceTimesteps(1000, "0"));
        assertThrows(IllegalArgumentException.class, () -> GaussianDiffusion.create("50", 10)); // betas > 1
        assertThrows(IllegalArgumentException.class, () -> new GaussianDiffusion(new double[] {0.1, 0.0}));
    }

    @Test
    void accessorsReturnCopies() {
        GaussianDiffusion g = GaussianDiffusion.create("50", 1000);
        g.betas()[0] = 42;
        g.timestepMap()[1] = 42;
        assertTrue(g.betas()[0] < 1);
        assertEquals(20, g.timestepMap()[1]);
    }

    private static void assertBits(double[] expected, double[] actual, int[] at) {
        for (int k = 0; k < at.length; k++) {
            assertEquals(expected[k], actual[at[k]], "index " + at[k]);
        }
    }

    private static void assertUlps(double[] expected, double[] actual, int[] at) {
        for (int k = 0; k < at.length; k++) {
            assertEquals(expected[k], actual[at[k]], Math.ulp(expected[k]), "index " + at[k]);
        }
    }
}
