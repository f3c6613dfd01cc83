package dev.seer.sampling;

/**
 * One reverse (or forward) diffusion step on float32 arrays, replicating the tensor-op order of the official
 * DiT sampler ({@code diffusion/gaussian_diffusion.py}: {@code ddim_sample}, {@code p_sample},
 * {@code p_mean_variance} with learned-range variance and epsilon prediction, {@code q_sample}).
 *
 * <p>Arrays are flat views of any shape (typically n*C*H*W); the coefficients are per step, so every element
 * sees the same scalars and the scalars are computed once. Each tensor op of the reference is one Java float
 * operation, rounded before the next (no {@code Math.fma}, no reassociation); a Python float scalar meeting a
 * float32 tensor is applied in float32, as PyTorch does. Table entries are cast with
 * {@link GaussianDiffusion#extract}.
 *
 * <p>Where this may differ from PyTorch by an ulp: {@code sqrt} here is {@code (float) Math.sqrt(double)},
 * which equals the correctly rounded float square root that PyTorch uses on CPU and CUDA, so it does not differ;
 * {@code exp} (only in DDPM's noise scale) is {@code (float) Math.exp(double)}, almost always the correctly
 * rounded float, while PyTorch's vectorised {@code expf} (SLEEF / CUDA {@code expf}) is allowed an ulp of error,
 * so a DDPM sample may differ by an ulp of the noise term. Addition, subtraction, multiplication and division
 * are correctly rounded IEEE float ops in both (PyTorch's eager kernels do not contract them into FMAs).
 *
 * <p>Noise: {@code noise} may be null only when its coefficient is zero (DDIM with eta = 0 or at index 0; DDPM
 * at index 0). Null is then treated as an array of {@code +0.0f}, so the result is {@code mean + (0 * 0)},
 * which equals the official {@code mean + mask * sigma * noise} for every finite noise value except that a
 * mean of {@code -0.0f} becomes {@code +0.0f} (the official sign there depends on the sign of the drawn
 * noise). NaN or infinite coefficients still propagate as in the reference. With a non-null noise the official
 * expression is evaluated in full, so {@code eta = 0} gives the bitwise-identical result whatever the finite
 * noise is (up to the sign of a zero).
 *
 * <p>Every step method writes into {@code out}, which may be the same array as {@code x} (each element reads
 * only its own index before writing it).
 */
public final class DiffusionSteps {

    private final GaussianDiffusion d;
    private final boolean clipDenoised;

    /**
     * @param diffusion the (usually respaced) diffusion whose tables the steps read
     */
    public DiffusionSteps(GaussianDiffusion diffusion) {
        this(diffusion, false);
    }

    /**
     * @param clipDenoised clamp pred_x0 to [-1, 1] in {@link #ddim} and {@link #ddpm} (clip_denoised = True, as
     *                     pixel-space models are sampled in improved-diffusion; DDIM's eps is then re-derived from it)
     */
    public DiffusionSteps(GaussianDiffusion diffusion, boolean clipDenoised) {
        this.d = diffusion;
        this.clipDenoised = clipDenoised;
    }

    /** @return the diffusion these steps read */
    public GaussianDiffusion diffusion() {
        return d;
    }

    /**
     * One DDIM step ({@code ddim_sample}, clip_denoised = False), from index i to i - 1.
     *
     * <pre>
     * pred_x0 = sqrt(1/abar_t) * x - sqrt(1/abar_t - 1) * eps
     * eps'    = (sqrt(1/abar_t) * x - pred_x0) / sqrt(1/abar_t - 1)
     * sigma   = eta * sqrt((1 - abar_prev) / (1 - abar_t)) * sqrt(1 - abar_t / abar_prev)
     * mean    = pred_x0 * sqrt(abar_prev) + sqrt(1 - abar_prev - sigma^2) * eps'       (DDIM eq. 12)
     * out     = mean + [i != 0] * sigma * noise
     * </pre>
     *
     * The official code also computes the learned variance here but DDIM never reads it, so it takes no
     * variance input.
     *
     * @param x     the current latents x_t
     * @param eps   the model's epsilon (after guidance), same length
     * @param i     the respaced step index, S-1 down to 0
     * @param eta   DDIM eta (0 for the deterministic sampler); applied as a float32 scalar
     * @param noise standard normal noise, same length; may be null when the noise coefficient is zero
     * @param out   receives x_{t-1}; may be {@code x}
     */
    public void ddim(float[] x, float[] eps, int i, double eta, float[] noise, float[] out) {
        int n = x.length;
        checkLength("eps", eps, n);
        checkLength("out", out, n);
        checkIndex(i);
        float a = GaussianDiffusion.extract(d.sqrtRecipAlphasCumprod, i);
        float b = GaussianDiffusion.extract(d.sqrtRecipm1AlphasCumprod, i);
        float alphaBar = GaussianDiffusion.extract(d.alphasCumprod, i);
        float alphaBarPrev = GaussianDiffusion.extract(d.alphasCumprodPrev, i);
        float sigma = (float) eta * sqrtf((1f - alphaBarPrev) / (1f - alphaBar)) * sqrtf(1f - alphaBar / alphaBarPrev);
        float sqrtAlphaBarPrev = sqrtf(alphaBarPrev);
        float dirCoef = sqrtf(1f - alphaBarPrev - sigma * sigma);
        float noiseCoef = mask(i) * sigma;
        checkNoise(noise, n, noiseCoef, "DDIM with eta != 0 at index " + i);
        for (int k = 0; k < n; k++) {
            float xk = x[k];
            float predX0 = clip(a * xk - b * eps[k]);
            float epsPrime = (a * xk - predX0) / b;
            float mean = predX0 * sqrtAlphaBarPrev + dirCoef * epsPrime;
            float z = noise == null ? 0f : noise[k];
            out[k] = mean + noiseCoef * z;
        }
    }

    /**
     * {@link #ddim(float[], float[], int, double, float[], float[])} into a new array.
     *
     * @param x     the current latents x_t
     * @param eps   the model's epsilon (after guidance)
     * @param i     the respaced step index
     * @param eta   DDIM eta
     * @param noise standard normal noise, or null when its coefficient is zero
     * @return x_{t-1}
     */
    public float[] ddim(float[] x, float[] eps, int i, double eta, float[] noise) {
        float[] out = new float[x.length];
        ddim(x, eps, i, eta, noise, out);
        return out;
    }

    /**
     * One ancestral DDPM step ({@code p_sample} with learned-range variance, clip_denoised = False).
     *
     * <pre>
     * frac    = (v + 1) / 2
     * log_var = frac * log(beta_t) + (1 - frac) * posterior_log_variance_clipped_t
     * pred_x0 = sqrt(1/abar_t) * x - sqrt(1/abar_t - 1) * eps
     * mean    = coef1_t * pred_x0 + coef2_t * x
     * out     = mean + [i != 0] * exp(0.5 * log_var) * noise
     * </pre>
     *
     * @param x         the current latents x_t
     * @param eps       the model's epsilon (after guidance)
     * @param varValues the model's variance channels (output channels C..2C-1), in [-1, 1] nominally
     * @param i         the respaced step index, S-1 down to 0
     * @param noise     standard normal noise; may be null only at i = 0
     * @param out       receives x_{t-1}; may be {@code x}
     */
    public void ddpm(float[] x, float[] eps, float[] varValues, int i, float[] noise, float[] out) {
        int n = x.length;
        checkLength("eps", eps, n);
        checkLength("varValues", varValues, n);
        checkLength("out", out, n);
        checkIndex(i);
        if (d.posteriorLogVarianceClipped.length == 0) {
            throw new IllegalStateException("DDPM needs at least 2 diffusion steps (the clipped posterior log "
                    + "variance is undefined for a one-step process)");
        }
        float a = GaussianDiffusion.extract(d.sqrtRecipAlphasCumprod, i);
        float b = GaussianDiffusion.extract(d.sqrtRecipm1AlphasCumprod, i);
        float minLog = GaussianDiffusion.extract(d.posteriorLogVarianceClipped, i);
        float maxLog = GaussianDiffusion.extract(d.logBetas, i);
        float coef1 = GaussianDiffusion.extract(d.posteriorMeanCoef1, i);
        float coef2 = GaussianDiffusion.extract(d.posteriorMeanCoef2, i);
        float m = mask(i);
        if (noise == null && i != 0) {
            throw new IllegalArgumentException("noise is required for DDPM at index " + i + " (only index 0 adds none)");
        }
        if (noise != null) {
            checkLength("noise", noise, n);
        }
        for (int k = 0; k < n; k++) {
            float xk = x[k];
            float logVar = learnedLogVariance(varValues[k], minLog, maxLog);
            float predX0 = clip(a * xk - b * eps[k]);
            float mean = coef1 * predX0 + coef2 * xk;
            float z = noise == null ? 0f : noise[k];
            out[k] = mean + m * expf(0.5f * logVar) * z;
        }
    }

    /**
     * {@link #ddpm(float[], float[], float[], int, float[], float[])} into a new array.
     *
     * @param x         the current latents x_t
     * @param eps       the model's epsilon (after guidance)
     * @param varValues the model's variance channels
     * @param i         the respaced step index
     * @param noise     standard normal noise; may be null only at i = 0
     * @return x_{t-1}
     */
    public float[] ddpm(float[] x, float[] eps, float[] varValues, int i, float[] noise) {
        float[] out = new float[x.length];
        ddpm(x, eps, varValues, i, noise, out);
        return out;
    }

    /**
     * {@code _predict_xstart_from_eps}: {@code sqrt(1/abar_t) * x - sqrt(1/abar_t - 1) * eps}.
     *
     * @param x   x_t
     * @param eps epsilon
     * @param i   the step index
     * @return the predicted x_0
     */
    public float[] predictXstart(float[] x, float[] eps, int i) {
        int n = x.length;
        checkLength("eps", eps, n);
        checkIndex(i);
        float a = GaussianDiffusion.extract(d.sqrtRecipAlphasCumprod, i);
        float b = GaussianDiffusion.extract(d.sqrtRecipm1AlphasCumprod, i);
        float[] out = new float[n];
        for (int k = 0; k < n; k++) {
            out[k] = a * x[k] - b * eps[k];
        }
        return out;
    }

    /**
     * {@code q_posterior_mean_variance}'s mean: {@code coef1_t * x0 + coef2_t * x_t}.
     *
     * @param xStart x_0 (or its prediction)
     * @param x      x_t
     * @param i      the step index
     * @return the posterior mean of x_{t-1}
     */
    public float[] posteriorMean(float[] xStart, float[] x, int i) {
        int n = x.length;
        checkLength("xStart", xStart, n);
        checkIndex(i);
        float coef1 = GaussianDiffusion.extract(d.posteriorMeanCoef1, i);
        float coef2 = GaussianDiffusion.extract(d.posteriorMeanCoef2, i);
        float[] out = new float[n];
        for (int k = 0; k < n; k++) {
            out[k] = coef1 * xStart[k] + coef2 * x[k];
        }
        return out;
    }

    /**
     * The learned-range log variance of {@code p_mean_variance}: interpolates, per element, between the clipped
     * posterior log variance (v = -1) and log beta (v = +1).
     *
     * @param varValues the model's variance channels
     * @param i         the step index
     * @return the model log variance per element
     */
    public float[] learnedLogVariance(float[] varValues, int i) {
        checkIndex(i);
        if (d.posteriorLogVarianceClipped.length == 0) {
            throw new IllegalStateException("a learned-range variance needs at least 2 diffusion steps");
        }
        float minLog = GaussianDiffusion.extract(d.posteriorLogVarianceClipped, i);
        float maxLog = GaussianDiffusion.extract(d.logBetas, i);
        float[] out = new float[varValues.length];
        for (int k = 0; k < out.length; k++) {
            out[k] = learnedLogVariance(varValues[k], minLog, maxLog);
        }
        return out;
    }

    /**
     * {@code q_sample}: diffuses x_0 to step t, {@code sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise}.
     *
     * @param x0    clean latents
     * @param t     the step index of this diffusion's tables
     * @param noise standard normal noise, same length
     * @return x_t
     */
    public float[] qSample(float[] x0, int t, float[] noise) {
        int n = x0.length;
        checkLength("noise", noise, n);
        checkIndex(t);
        float a = GaussianDiffusion.extract(d.sqrtAlphasCumprod, t);
        float b = GaussianDiffusion.extract(d.sqrtOneMinusAlphasCumprod, t);
        float[] out = new float[n];
        for (int k = 0; k < n; k++) {
            out[k] = a * x0[k] + b * noise[k];
        }
        return out;
    }

    private float clip(float predX0) {
        return clipDenoised ? Math.max(-1f, Math.min(1f, predX0)) : predX0;
    }

    static float learnedLogVariance(float v, float minLog, float maxLog) {
        float frac = (v + 1f) / 2f;
        return frac * maxLog + (1f - frac) * minLog;
    }

    /** Correctly rounded float square root (the double sqrt of a float rounds to the same float). */
    static float sqrtf(float v) {
        return (float) Math.sqrt(v);
    }

    static float expf(float v) {
        return (float) Math.exp(v);
    }

    private static float mask(int i) {
        return i != 0 ? 1f : 0f;
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= d.numSteps()) {
            throw new IllegalArgumentException("step index must be in 0.." + (d.numSteps() - 1) + ", found " + i);
        }
    }

    private static void checkNoise(float[] noise, int n, float coef, String what) {
        if (noise == null) {
            // A zero (or NaN) coefficient times zero noise is exactly what the reference adds for finite noise.
            if (coef != 0f && !Float.isNaN(coef)) {
                throw new IllegalArgumentException("noise is required for " + what);
            }
            return;
        }
        checkLength("noise", noise, n);
    }

    static void checkLength(String name, float[] a, int n) {
        if (a == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (a.length != n) {
            throw new IllegalArgumentException(name + " has " + a.length + " elements, expected " + n);
        }
    }
}
