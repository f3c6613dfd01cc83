package dev.seer.sampling;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * A Gaussian diffusion process given by its betas, with the float64 coefficient tables of the official DiT code
 * (facebookresearch/DiT and Shenyi-Z/TaylorSeer, {@code diffusion/gaussian_diffusion.py}, itself from OpenAI's
 * improved-diffusion), and the timestep respacing of {@code diffusion/respace.py}.
 *
 * <p>Every table is computed in double exactly as numpy computes it (element-wise IEEE operations, a sequential
 * cumulative product), so {@link #extract} yields the same float32 values that {@code _extract_into_tensor}
 * feeds to the sampler. The only functions that may differ from numpy in the last bit of a double are
 * {@link Math#log} (numpy uses the platform libm or its own SIMD log); {@link Math#sqrt} is correctly rounded
 * like numpy's. A last-bit difference in a double almost never survives the cast to float.
 *
 * <p>Instances are immutable; accessors return copies. The model-variance type is learned-range and the model
 * predicts epsilon, as in {@code create_diffusion} with its defaults.
 */
public final class GaussianDiffusion {

    private final int originalNumSteps;
    private final int[] timestepMap;
    final double[] betas;
    final double[] alphasCumprod;
    final double[] alphasCumprodPrev;
    final double[] alphasCumprodNext;
    final double[] sqrtAlphasCumprod;
    final double[] sqrtOneMinusAlphasCumprod;
    final double[] sqrtRecipAlphasCumprod;
    final double[] sqrtRecipm1AlphasCumprod;
    final double[] posteriorVariance;
    final double[] posteriorLogVarianceClipped;
    final double[] posteriorMeanCoef1;
    final double[] posteriorMeanCoef2;
    final double[] logBetas;

    /**
     * A diffusion over {@code betas.length} steps whose timestep map is the identity.
     *
     * @param betas the per-step betas, each in (0, 1]
     * @throws IllegalArgumentException if betas is empty or a beta is outside (0, 1]
     */
    public GaussianDiffusion(double[] betas) {
        this(betas, identity(betas.length), betas.length);
    }

    private GaussianDiffusion(double[] betasIn, int[] timestepMap, int originalNumSteps) {
        int n = betasIn.length;
        if (n == 0) {
            throw new IllegalArgumentException("betas must not be empty");
        }
        for (int i = 0; i < n; i++) {
            double b = betasIn[i];
            if (!(b > 0 && b <= 1)) {
                throw new IllegalArgumentException("betas must be in (0, 1], found betas[" + i + "] = " + b);
            }
        }
        this.originalNumSteps = originalNumSteps;
        this.timestepMap = timestepMap.clone();
        betas = betasIn.clone();

        double[] alphas = new double[n];
        alphasCumprod = new double[n];
        double acc = 1.0;
        for (int i = 0; i < n; i++) {
            alphas[i] = 1.0 - betas[i];
            // numpy's cumprod multiplies left to right: ac[0] = alphas[0], ac[i] = ac[i-1] * alphas[i].
            acc = i == 0 ? alphas[0] : acc * alphas[i];
            alphasCumprod[i] = acc;
        }
        alphasCumprodPrev = new double[n];
        alphasCumprodNext = new double[n];
        alphasCumprodPrev[0] = 1.0;
        System.arraycopy(alphasCumprod, 0, alphasCumprodPrev, 1, n - 1);
        System.arraycopy(alphasCumprod, 1, alphasCumprodNext, 0, n - 1);
        alphasCumprodNext[n - 1] = 0.0;

        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        logBetas = new double[n];
        for (int i = 0; i < n; i++) {
            double ac = alphasCumprod[i];
            double acPrev = alphasCumprodPrev[i];
            sqrtAlphasCumprod[i] = Math.sqrt(ac);
            sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1.0 - ac);
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1.0 / ac);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1.0 / ac - 1);
            // Same association as the numpy expressions: (a * b) / c.
            posteriorVariance[i] = betas[i] * (1.0 - acPrev) / (1.0 - ac);
            posteriorMeanCoef1[i] = betas[i] * Math.sqrt(acPrev) / (1.0 - ac);
            posteriorMeanCoef2[i] = (1.0 - acPrev) * Math.sqrt(alphas[i]) / (1.0 - ac);
            logBetas[i] = Math.log(betas[i]);
        }
        // The posterior variance is 0 at t = 0, so its log is clipped by repeating the value at t = 1. The
        // official code leaves the table empty for a one-step process; so do we (DDPM then cannot run).
        if (n > 1) {
            posteriorLogVarianceClipped = new double[n];
            posteriorLogVarianceClipped[0] = Math.log(posteriorVariance[1]);
            for (int i = 1; i < n; i++) {
                posteriorLogVarianceClipped[i] = Math.log(posteriorVariance[i]);
            }
        } else {
            posteriorLogVarianceClipped = new double[0];
        }
    }

    /**
     * Mirrors the official {@code create_diffusion(timestep_respacing, diffusion_steps=...)} with its defaults:
     * the linear beta schedule, epsilon prediction, learned-range variance, then respacing.
     *
     * @param timestepRespacing {@code "S"}, comma-separated section counts such as {@code "10,15,20"}, or
     *                          {@code "ddimN"}; null or empty keeps all steps
     * @param diffusionSteps    the number of training diffusion steps (1000 for DiT)
     * @return the respaced diffusion
     * @throws IllegalArgumentException for a respacing that cannot be realised
     */
    public static GaussianDiffusion create(String timestepRespacing, int diffusionSteps) {
        double[] base = linearBetas(diffusionSteps);
        int[] use = timestepRespacing == null || timestepRespacing.isEmpty()
                ? identity(diffusionSteps)
                : spaceTimesteps(diffusionSteps, timestepRespacing);
        return respace(base, use);
    }

    /**
     * The linear schedule of Ho et al. scaled to any number of steps ({@code get_named_beta_schedule("linear")}):
     * {@code linspace(scale * 1e-4, scale * 0.02, T)} with {@code scale = 1000 / T}, in float64.
     *
     * @param diffusionSteps T, at least 1
     * @return T betas
     */
    public static double[] linearBetas(int diffusionSteps) {
        if (diffusionSteps < 1) {
            throw new IllegalArgumentException("diffusionSteps must be >= 1, found " + diffusionSteps);
        }
        double scale = 1000.0 / diffusionSteps;
        return linspace(scale * 0.0001, scale * 0.02, diffusionSteps);
    }

    /**
     * numpy's {@code linspace(start, stop, num)} (endpoint included) with its exact arithmetic:
     * {@code step = (stop - start) / (num - 1)}, {@code y[i] = i * step + start}, and the last element set to
     * {@code stop}.
     *
     * @param start first value
     * @param stop  last value
     * @param num   number of values, at least 0
     * @return the values
     */
    public static double[] linspace(double start, double stop, int num) {
        if (num < 0) {
            throw new IllegalArgumentException("num must be >= 0, found " + num);
        }
        double[] y = new double[num];
        if (num == 0) {
            return y;
        }
        if (num == 1) {
            y[0] = start;
            return y;
        }
        int div = num - 1;
        double delta = stop - start;
        double step = delta / div;
        for (int i = 0; i < num; i++) {
            // numpy divides by div and multiplies by delta instead when the step underflows to zero.
            double v = step == 0 ? (i / (double) div) * delta : i * step;
            y[i] = v + start;
        }
        y[num - 1] = stop;
        return y;
    }

    /**
     * The kept timesteps of {@code space_timesteps(numTimesteps, sectionCounts)}, ascending.
     *
     * <p>{@code "ddimN"} takes the smallest integer stride i with {@code ceil(T / i) == N}. Otherwise the steps
     * are split into equal sections (the first {@code T % k} sections one step longer) and each section of
     * size {@code size} is strided by {@code (size - 1) / (count - 1)}, accumulated in a double and rounded
     * half to even like Python's {@code round}.
     *
     * @param numTimesteps  T, the number of original steps
     * @param sectionCounts the respacing string
     * @return the kept original step indices, ascending, without duplicates
     * @throws IllegalArgumentException if the request cannot be met
     */
    public static int[] spaceTimesteps(int numTimesteps, String sectionCounts) {
        if (numTimesteps < 1) {
            throw new IllegalArgumentException("numTimesteps must be >= 1, found " + numTimesteps);
        }
        TreeSet<Integer> steps = new TreeSet<>();
        if (sectionCounts.startsWith("ddim")) {
            int desired = parseCount(sectionCounts.substring(4), sectionCounts);
            for (int stride = 1; stride < numTimesteps; stride++) {
                if ((numTimesteps + stride - 1) / stride == desired) {
                    for (int t = 0; t < numTimesteps; t += stride) {
                        steps.add(t);
                    }
                    return toArray(steps);
                }
            }
            // The official message prints the number of original steps here; we name both numbers.
            throw new IllegalArgumentException("cannot create exactly " + desired
                    + " steps with an integer stride from " + numTimesteps + " steps");
        }
        String[] parts = sectionCounts.split(",", -1);
        int[] counts = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            counts[i] = parseCount(parts[i], sectionCounts);
        }
        int sizePer = numTimesteps / counts.length;
        int extra = numTimesteps % counts.length;
        int startIdx = 0;
        for (int i = 0; i < counts.length; i++) {
            int size = sizePer + (i < extra ? 1 : 0);
            int count = counts[i];
            if (size < count) {
                throw new IllegalArgumentException("cannot divide section of " + size + " steps into " + count);
            }
            double fracStride = count <= 1 ? 1.0 : (size - 1) / (double) (count - 1);
            double cur = 0.0;
            for (int k = 0; k < count; k++) {
                steps.add(startIdx + (int) Math.rint(cur));
                cur += fracStride;
            }
            startIdx += size;
        }
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("respacing \"" + sectionCounts + "\" keeps no timesteps");
        }
        return toArray(steps);
    }

    /**
     * {@code SpacedDiffusion}: keeps the given original steps; the new betas are
     * {@code 1 - alphas_cumprod[i] / alphas_cumprod[previous kept]} in float64.
     *
     * @param baseBetas    the betas of the original process
     * @param useTimesteps kept original indices (any order, duplicates ignored)
     * @return the respaced diffusion, whose timestep map lists the kept indices ascending
     */
    public static GaussianDiffusion respace(double[] baseBetas, int[] useTimesteps) {
        GaussianDiffusion base = new GaussianDiffusion(baseBetas);
        boolean[] keep = new boolean[baseBetas.length];
        for (int t : useTimesteps) {
            if (t < 0 || t >= baseBetas.length) {
                throw new IllegalArgumentException("timestep must be in 0.." + (baseBetas.length - 1)
                        + ", found " + t);
            }
            keep[t] = true;
        }
        double last = 1.0;
        double[] newBetas = new double[baseBetas.length];
        int[] map = new int[baseBetas.length];
        int k = 0;
        for (int i = 0; i < baseBetas.length; i++) {
            if (keep[i]) {
                double ac = base.alphasCumprod[i];
                newBetas[k] = 1 - ac / last;
                map[k++] = i;
                last = ac;
            }
        }
        return new GaussianDiffusion(Arrays.copyOf(newBetas, k), Arrays.copyOf(map, k), baseBetas.length);
    }

    /**
     * The official {@code _extract_into_tensor}: a float64 table entry cast to float32.
     *
     * @param arr a table of this class
     * @param t   the (respaced) step index
     * @return {@code (float) arr[t]}
     */
    public static float extract(double[] arr, int t) {
        return (float) arr[t];
    }

    /** @return the number of (respaced) steps S */
    public int numSteps() {
        return betas.length;
    }

    /** @return the number of steps of the original process (1000 for DiT) */
    public int originalNumSteps() {
        return originalNumSteps;
    }

    /** @return for each respaced index, the original timestep fed to the model (ascending) */
    public int[] timestepMap() {
        return timestepMap.clone();
    }

    /**
     * @param i a respaced index
     * @return the original timestep the model sees at that index
     */
    public int timestep(int i) {
        return timestepMap[i];
    }

    /** @return betas */
    public double[] betas() {
        return betas.clone();
    }

    /** @return the cumulative products of 1 - beta */
    public double[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** @return alphas_cumprod shifted right by one, starting with 1 */
    public double[] alphasCumprodPrev() {
        return alphasCumprodPrev.clone();
    }

    /** @return alphas_cumprod shifted left by one, ending with 0 */
    public double[] alphasCumprodNext() {
        return alphasCumprodNext.clone();
    }

    /** @return sqrt(alphas_cumprod) */
    public double[] sqrtAlphasCumprod() {
        return sqrtAlphasCumprod.clone();
    }

    /** @return sqrt(1 - alphas_cumprod) */
    public double[] sqrtOneMinusAlphasCumprod() {
        return sqrtOneMinusAlphasCumprod.clone();
    }

    /** @return sqrt(1 / alphas_cumprod) */
    public double[] sqrtRecipAlphasCumprod() {
        return sqrtRecipAlphasCumprod.clone();
    }

    /** @return sqrt(1 / alphas_cumprod - 1) */
    public double[] sqrtRecipm1AlphasCumprod() {
        return sqrtRecipm1AlphasCumprod.clone();
    }

    /** @return the variance of q(x_{t-1} | x_t, x_0) */
    public double[] posteriorVariance() {
        return posteriorVariance.clone();
    }

    /** @return log of the posterior variance with entry 0 replaced by entry 1 (empty for a one-step process) */
    public double[] posteriorLogVarianceClipped() {
        return posteriorLogVarianceClipped.clone();
    }

    /** @return the coefficient of x_0 in the posterior mean */
    public double[] posteriorMeanCoef1() {
        return posteriorMeanCoef1.clone();
    }

    /** @return the coefficient of x_t in the posterior mean */
    public double[] posteriorMeanCoef2() {
        return posteriorMeanCoef2.clone();
    }

    /** @return log(betas), the upper end of the learned-range log variance */
    public double[] logBetas() {
        return logBetas.clone();
    }

    private static int parseCount(String s, String whole) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid timestep respacing \"" + whole + "\": \"" + s
                    + "\" is not an integer", e);
        }
    }

    private static int[] identity(int n) {
        int[] m = new int[n];
        for (int i = 0; i < n; i++) {
            m[i] = i;
        }
        return m;
    }

    private static int[] toArray(TreeSet<Integer> set) {
        return set.stream().mapToInt(Integer::intValue).toArray();
    }
}
