package dev.seer.sampling;

/**
 * The variational-bound term that the official DiT {@code training_losses} adds for a learned-range variance
 * ({@code _vb_terms_bpd} with the mean frozen, clip_denoised = False), and its pieces from
 * {@code diffusion/diffusion_utils.py}: {@code normal_kl} and {@code discretized_gaussian_log_likelihood}.
 *
 * <p>Element-wise values follow the reference's float32 op order; the mean over the non-batch dimensions is
 * accumulated in double here, whereas PyTorch sums float32 with a cascaded float sum, so the two means can differ
 * at the float-rounding level. {@code exp}, {@code log} and {@code tanh} go through double and are rounded to
 * float, which may differ from PyTorch's vectorised float versions by an ulp.
 */
public final class VariationalBound {

    /** {@code np.sqrt(2 / np.pi)}, applied to a float32 tensor as a float32 scalar. */
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float HALF_BIN = (float) (1.0 / 255.0);
    private static final float LOG_FLOOR = 1e-12f;
    private static final double LN2 = Math.log(2.0);

    private VariationalBound() {
    }

    /**
     * KL divergence between two Gaussians given by mean and log variance, in nats ({@code normal_kl}):
     * {@code 0.5 * (-1 + lv2 - lv1 + exp(lv1 - lv2) + (m1 - m2)^2 * exp(-lv2))}.
     *
     * @param mean1   mean of the first Gaussian
     * @param logvar1 log variance of the first Gaussian
     * @param mean2   mean of the second Gaussian
     * @param logvar2 log variance of the second Gaussian
     * @return KL(N1 || N2)
     */
    public static float normalKl(float mean1, float logvar1, float mean2, float logvar2) {
        float diff = mean1 - mean2;
        return 0.5f * (-1f + logvar2 - logvar1 + DiffusionSteps.expf(logvar1 - logvar2)
                + diff * diff * DiffusionSteps.expf(-logvar2));
    }

    /**
     * The tanh approximation of the standard normal CDF used by the reference
     * ({@code approx_standard_normal_cdf}).
     *
     * @param x the argument
     * @return approximately Phi(x)
     */
    public static float approxStandardNormalCdf(float x) {
        float cube = x * x * x;
        return 0.5f * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (x + 0.044715f * cube)));
    }

    /**
     * Log-likelihood, in nats, of one value of an image quantised to 256 levels in [-1, 1] under a Gaussian
     * ({@code discretized_gaussian_log_likelihood}); the edge bins extend to infinity.
     *
     * @param x        the target value (uint8 rescaled to [-1, 1])
     * @param mean     the Gaussian mean
     * @param logScale the log standard deviation
     * @return log P(bin of x)
     */
    public static float discretizedGaussianLogLikelihood(float x, float mean, float logScale) {
        float centered = x - mean;
        float invStdv = DiffusionSteps.expf(-logScale);
        float cdfPlus = approxStandardNormalCdf(invStdv * (centered + HALF_BIN));
        float cdfMin = approxStandardNormalCdf(invStdv * (centered - HALF_BIN));
        if (x < -0.999f) {
            return logf(clampMin(cdfPlus));
        }
        if (x > 0.999f) {
            return logf(clampMin(1f - cdfMin));
        }
        return logf(clampMin(cdfPlus - cdfMin));
    }

    /**
     * The variational-bound term for one sample, in bits per dimension: at t = 0 the decoder negative
     * log-likelihood of x_0, otherwise KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)), each averaged over all
     * elements of the sample and divided by ln 2. The model's mean comes from its epsilon (frozen in training)
     * and its variance from the learned-range channels.
     *
     * @param diffusion the (training) diffusion
     * @param xStart    x_0 for one sample (C*H*W)
     * @param xT        x_t for the same sample
     * @param eps       the model's epsilon channels
     * @param varValues the model's variance channels
     * @param t         the step index
     * @return the term in bits per dimension
     */
    public static double termBits(GaussianDiffusion diffusion, float[] xStart, float[] xT, float[] eps,
                                  float[] varValues, int t) {
        DiffusionSteps steps = new DiffusionSteps(diffusion);
        int n = xStart.length;
        DiffusionSteps.checkLength("xT", xT, n);
        DiffusionSteps.checkLength("eps", eps, n);
        DiffusionSteps.checkLength("varValues", varValues, n);
        float[] trueMean = steps.posteriorMean(xStart, xT, t);
        float trueLogVar = GaussianDiffusion.extract(diffusion.posteriorLogVarianceClipped, t);
        float[] modelMean = steps.posteriorMean(steps.predictXstart(xT, eps, t), xT, t);
        float[] modelLogVar = steps.learnedLogVariance(varValues, t);
        double sum = 0;
        for (int k = 0; k < n; k++) {
            if (t == 0) {
                sum += -discretizedGaussianLogLikelihood(xStart[k], modelMean[k], 0.5f * modelLogVar[k]);
            } else {
                sum += normalKl(trueMean[k], trueLogVar, modelMean[k], modelLogVar[k]);
            }
        }
        return sum / n / LN2;
    }

    private static float clampMin(float v) {
        return Math.max(v, LOG_FLOOR);
    }

    private static float logf(float v) {
        return (float) Math.log(v);
    }
}
