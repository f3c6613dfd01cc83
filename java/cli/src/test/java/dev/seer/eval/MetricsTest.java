package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class MetricsTest {

    @Test
    void sqrtmOfAKnownSquare() {
        // R symmetric positive definite; sqrtm(R * R) must give R back.
        Random rnd = new Random(1);
        int n = 12;
        double[][] b = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                b[i][j] = rnd.nextGaussian();
            }
        }
        double[][] r = Metrics.multiply(b, transpose(b));
        for (int i = 0; i < n; i++) {
            r[i][i] += 0.5;
        }
        double[][] a = Metrics.multiply(r, r);
        double[][] s = Metrics.sqrtm(a);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(r[i][j], s[i][j], 1e-9 * (1 + Math.abs(r[i][j])), "(" + i + ", " + j + ")");
            }
        }
    }

    @Test
    void sqrtmOfDiagonalAndRotated() {
        // A = Q diag(4, 9) Q^T with Q a rotation: sqrt(A) = Q diag(2, 3) Q^T.
        double c = Math.cos(0.3);
        double s = Math.sin(0.3);
        double[][] q = {{c, -s}, {s, c}};
        double[][] a = Metrics.multiply(Metrics.multiply(q, new double[][] {{4, 0}, {0, 9}}), transpose(q));
        double[][] want = Metrics.multiply(Metrics.multiply(q, new double[][] {{2, 0}, {0, 3}}), transpose(q));
        double[][] got = Metrics.sqrtm(a);
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                assertEquals(want[i][j], got[i][j], 1e-12);
            }
        }
    }

    @Test
    void frechetOfASetWithItselfIsZero() {
        float[] f = randomFeatures(500, 16, 3, 0, 1);
        Metrics.Gaussian g = Metrics.fit(f, 500, 16);
        assertEquals(0, Metrics.frechetDistance(g, g), 1e-9);
    }

    @Test
    void frechetOfShiftedScaledGaussiansMatchesTheClosedForm() {
        // For diagonal covariances FD = |mu1 - mu2|^2 + sum_k (sigma1_k - sigma2_k)^2.
        int d = 4;
        double[] mean1 = {0, 1, 2, 3};
        double[] mean2 = {0.5, 1, 2, 1};
        double[] sd1 = {1, 2, 0.5, 1};
        double[] sd2 = {1, 1, 1.5, 3};
        double[][] c1 = new double[d][d];
        double[][] c2 = new double[d][d];
        double want = 0;
        for (int k = 0; k < d; k++) {
            c1[k][k] = sd1[k] * sd1[k];
            c2[k][k] = sd2[k] * sd2[k];
            want += (mean1[k] - mean2[k]) * (mean1[k] - mean2[k]) + (sd1[k] - sd2[k]) * (sd1[k] - sd2[k]);
        }
        double got = Metrics.frechetDistance(new Metrics.Gaussian(mean1, c1), new Metrics.Gaussian(mean2, c2));
        assertEquals(want, got, 1e-10);
        // The same through fitted samples: a set and its shifted copy differ by |shift|^2 exactly.
        float[] f = randomFeatures(400, 8, 5, 0, 1);
        float[] shifted = f.clone();
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] += 0.25f;
        }
        double fd = Metrics.frechetDistance(Metrics.fit(f, 400, 8), Metrics.fit(shifted, 400, 8));
        assertEquals(8 * 0.25 * 0.25, fd, 1e-4);
    }

    @Test
    void psnrAndSsimOfIdenticalImages() {
        float[] a = randomFeatures(1, 28 * 28, 7, 0, 0.5f);
        assertEquals(Double.POSITIVE_INFINITY, Metrics.psnr(a, a.clone()));
        assertEquals(1.0, Metrics.ssim(a, a.clone(), 28, 28), 1e-12);
    }

    @Test
    void psnrAndSsimOfAConstantOffset() {
        float delta = 0.1f;
        float[] a = new float[28 * 28];
        float[] b = new float[28 * 28];
        java.util.Arrays.fill(b, delta);
        // mse = delta^2, peak-to-peak range 2: 10 log10(4 / delta^2).
        assertEquals(10 * Math.log10(4 / ((double) delta * delta)), Metrics.psnr(b, a), 1e-4);
        // Flat images: SSIM = (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1) = C1 / (delta^2 + C1), C1 = (0.01 * 2)^2.
        double c1 = 0.02 * 0.02;
        assertEquals(c1 / ((double) delta * delta + c1), Metrics.ssim(a, b, 28, 28), 1e-6);
    }

    @Test
    void classConsistencyCounts() {
        assertEquals(0.75, Metrics.classConsistency(new int[] {1, 2, 3, 4}, new long[] {1, 2, 3, 0}));
        assertThrows(IllegalArgumentException.class, () -> Metrics.classConsistency(new int[] {1}, new long[] {1, 2}));
    }

    private static float[] randomFeatures(int n, int d, long seed, float mean, float sd) {
        Random rnd = new Random(seed);
        float[] f = new float[n * d];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (mean + sd * rnd.nextGaussian());
        }
        return f;
    }

    private static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }
}
