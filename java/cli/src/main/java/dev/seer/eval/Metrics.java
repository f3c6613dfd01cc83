package dev.seer.eval;

/**
 * Quality metrics of generated images, in plain Java (float64 accumulation).
 *
 * <ul>
 *   <li>{@link #psnr}: peak signal-to-noise ratio of images in [-1, 1] (peak-to-peak range 2), in dB;</li>
 *   <li>{@link #ssim}: structural similarity (Wang, Bovik, Sheikh and Simoncelli 2004) with their constants: an 11 x 11
 *       Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03, dynamic range L = 2 (images in [-1, 1]), the mean
 *       of the SSIM map over the window positions that fit inside the image ("valid", as the reference MATLAB
 *       ssim_index computes it);</li>
 *   <li>{@link #frechetDistance}: ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) between Gaussians fitted to two
 *       feature sets (the FID recipe of Heusel et al. 2017), with the trace of the matrix square root computed in
 *       float64 as the sum of the square roots of the eigenvalues of S1^(1/2) S2 S1^(1/2), which is symmetric
 *       positive semi-definite and similar to S1 S2.</li>
 * </ul>
 */
public final class Metrics {
    private Metrics() {
    }

    /** PSNR in dB of {@code a} against reference {@code b} (same length, values in [-1, 1]); +inf when equal. */
    public static double psnr(float[] a, float[] b) {
        check(a, b);
        double se = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            se += d * d;
        }
        double mse = se / a.length;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(4.0 / mse);
    }

    /** The normalised 11 x 11 Gaussian window (sigma 1.5). */
    static double[] gaussianWindow() {
        int size = 11;
        double sigma = 1.5;
        double[] w = new double[size * size];
        double sum = 0;
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < size; j++) {
                double di = i - 5;
                double dj = j - 5;
                w[i * size + j] = Math.exp(-(di * di + dj * dj) / (2 * sigma * sigma));
                sum += w[i * size + j];
            }
        }
        for (int k = 0; k < w.length; k++) {
            w[k] /= sum;
        }
        return w;
    }

    /** SSIM of two h x w images with values in [-1, 1]; 1 when equal. */
    public static double ssim(float[] a, float[] b, int h, int w) {
        check(a, b);
        if (a.length != h * w) {
            throw new IllegalArgumentException("expected " + h + " x " + w + " = " + h * w + " values, found " + a.length);
        }
        int win = 11;
        if (h < win || w < win) {
            throw new IllegalArgumentException("SSIM needs images of at least 11 x 11, found " + h + " x " + w);
        }
        double[] g = gaussianWindow();
        double range = 2.0;
        double c1 = (0.01 * range) * (0.01 * range);
        double c2 = (0.03 * range) * (0.03 * range);
        double total = 0;
        int count = 0;
        for (int y = 0; y + win <= h; y++) {
            for (int x = 0; x + win <= w; x++) {
                double ma = 0;
                double mb = 0;
                double saa = 0;
                double sbb = 0;
                double sab = 0;
                for (int i = 0; i < win; i++) {
                    for (int j = 0; j < win; j++) {
                        double gw = g[i * win + j];
                        double va = a[(y + i) * w + x + j];
                        double vb = b[(y + i) * w + x + j];
                        ma += gw * va;
                        mb += gw * vb;
                        saa += gw * va * va;
                        sbb += gw * vb * vb;
                        sab += gw * va * vb;
                    }
                }
                double va = saa - ma * ma;
                double vb = sbb - mb * mb;
                double cov = sab - ma * mb;
                total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
                count++;
            }
        }
        return total / count;
    }

    /** Mean and covariance (float64, unbiased: divided by n - 1, as numpy.cov) of n feature rows of dimension d. */
    public record Gaussian(double[] mean, double[][] cov) {
    }

    /** Fits a Gaussian to {@code n} rows of {@code d} features stored row-major. */
    public static Gaussian fit(float[] features, int n, int d) {
        if ((long) n * d != features.length) {
            throw new IllegalArgumentException("expected " + n + " x " + d + " features, found " + features.length + " values");
        }
        if (n < 2) {
            throw new IllegalArgumentException("a covariance needs at least 2 samples, found " + n);
        }
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                mean[k] += features[i * d + k];
            }
        }
        for (int k = 0; k < d; k++) {
            mean[k] /= n;
        }
        double[][] cov = new double[d][d];
        double[] c = new double[d];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                c[k] = features[i * d + k] - mean[k];
            }
            for (int p = 0; p < d; p++) {
                double cp = c[p];
                if (cp == 0) {
                    continue;
                }
                double[] row = cov[p];
                for (int q = p; q < d; q++) {
                    row[q] += cp * c[q];
                }
            }
        }
        for (int p = 0; p < d; p++) {
            for (int q = p; q < d; q++) {
                cov[p][q] /= (n - 1);
                cov[q][p] = cov[p][q];
            }
        }
        return new Gaussian(mean, cov);
    }

    /** The Fréchet distance between two fitted Gaussians. */
    public static double frechetDistance(Gaussian g1, Gaussian g2) {
        int d = g1.mean().length;
        if (g2.mean().length != d) {
            throw new IllegalArgumentException("feature dimensions differ: " + d + " and " + g2.mean().length);
        }
        double diff = 0;
        for (int k = 0; k < d; k++) {
            double v = g1.mean()[k] - g2.mean()[k];
            diff += v * v;
        }
        double tr1 = 0;
        double tr2 = 0;
        for (int k = 0; k < d; k++) {
            tr1 += g1.cov()[k][k];
            tr2 += g2.cov()[k][k];
        }
        return diff + tr1 + tr2 - 2 * traceSqrtProduct(g1.cov(), g2.cov());
    }

    /** tr((A B)^(1/2)) for symmetric PSD A and B: the sum of sqrt(eigenvalues of A^(1/2) B A^(1/2)). */
    public static double traceSqrtProduct(double[][] a, double[][] b) {
        double[][] ra = sqrtm(a);
        double[][] m = multiply(multiply(ra, b), ra);
        symmetrize(m);
        double[] ev = SymmetricEigen.decompose(m).values();
        double tr = 0;
        for (double v : ev) {
            tr += Math.sqrt(Math.max(v, 0));
        }
        return tr;
    }

    /** The principal square root of a symmetric positive semi-definite matrix (negative eigenvalues from rounding clipped to 0). */
    public static double[][] sqrtm(double[][] a) {
        SymmetricEigen.Result e = SymmetricEigen.decompose(a);
        int n = a.length;
        double[][] v = e.vectors();
        double[] s = new double[n];
        for (int k = 0; k < n; k++) {
            s[k] = Math.sqrt(Math.max(e.values()[k], 0));
        }
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double sum = 0;
                for (int k = 0; k < n; k++) {
                    sum += v[i][k] * s[k] * v[j][k];
                }
                out[i][j] = sum;
                out[j][i] = sum;
            }
        }
        return out;
    }

    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        int m = b[0].length;
        int k = b.length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < k; p++) {
                double aip = a[i][p];
                if (aip == 0) {
                    continue;
                }
                for (int j = 0; j < m; j++) {
                    out[i][j] += aip * b[p][j];
                }
            }
        }
        return out;
    }

    private static void symmetrize(double[][] m) {
        for (int i = 0; i < m.length; i++) {
            for (int j = i + 1; j < m.length; j++) {
                double v = 0.5 * (m[i][j] + m[j][i]);
                m[i][j] = v;
                m[j][i] = v;
            }
        }
    }

    /** The fraction of {@code predictions} equal to {@code labels}. */
    public static double classConsistency(int[] predictions, long[] labels) {
        if (predictions.length != labels.length || labels.length == 0) {
            throw new IllegalArgumentException(predictions.length + " predictions for " + labels.length + " labels");
        }
        int hit = 0;
        for (int i = 0; i < labels.length; i++) {
            if (predictions[i] == labels[i]) {
                hit++;
            }
        }
        return hit / (double) labels.length;
    }

    private static void check(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("images differ in size: " + a.length + " and " + b.length + " values");
        }
    }
}
