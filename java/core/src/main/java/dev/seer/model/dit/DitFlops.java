package dev.seer.model.dit;

import dev.seer.cache.TaylorSeerSchedule;
import java.util.List;

/**
 * FLOPs of DiT sampling with TaylorSeer: the official count that the paper's DiT numbers use, and a fuller
 * estimate of what actually runs.
 *
 * <p>The official count (Shenyi-Z/TaylorSeer, {@code TaylorSeer-DiT/models.py} DiTBlock.forward with
 * {@code test_FLOPs}, and {@code cache_functions/attention.py}) is per block and network call, with B the doubled
 * guidance batch, N tokens, C hidden, H heads, d = C / H (integer division):
 * <pre>
 * full:     2BNC (two LayerNorms) + BC (SiLU) + BC*6C (adaLN linear, one FLOP per MAC)
 *         + BNC*3C*2 (qkv) + BHNd (q scale) + 2BHN^2d (QK^T) + 5BHN^2 (softmax) + 2BHN^2d (AV) + 2BNC^2 (proj)
 *         + BNC*4C*2 + BN*4C*C*2 (fc1, fc2) + 6BN*4C (GELU)
 * forecast: BC + BC*6C
 * </pre>
 * The MLP width there is hard-coded to 4C whatever {@code mlp_ratio} is. Embedders, the final layer, the
 * sampler, the guidance combine and the Taylor arithmetic are not counted. For DiT-XL/2 at 256 px and 50 DDIM
 * steps this is 23.74 TFLOPs per image (a guidance pair).
 */
public final class DitFlops {

    /** Output channels that classifier-free guidance mixes in the official {@code forward_with_cfg}. */
    static final int GUIDED_CHANNELS = 3;
    /** Width of the sinusoidal timestep embedding fed to the timestep MLP. */
    static final int FREQUENCY_EMBEDDING = 256;
    /** FLOPs per element of a LayerNorm in the estimate: mean, centre, square-accumulate (2), scale. */
    static final int LAYER_NORM_PER_ELEMENT = 5;

    private DitFlops() {
    }

    /**
     * The shape of one DiT network call.
     *
     * @param depth       number of blocks
     * @param hidden      hidden size C
     * @param heads       attention heads H
     * @param tokens      tokens N = (latent / patch)^2
     * @param batch       batch B of one network call (the doubled batch under guidance: cond + uncond)
     * @param mlpRatio    MLP width over C (4 for DiT)
     * @param patch       patch size p
     * @param inChannels  latent channels (4)
     * @param outChannels output channels (8 with learned sigma)
     */
    public record Config(int depth, int hidden, int heads, int tokens, int batch, double mlpRatio, int patch,
                         int inChannels, int outChannels) {

        /** Validates the parameters. */
        public Config {
            positive("depth", depth);
            positive("hidden", hidden);
            positive("heads", heads);
            positive("tokens", tokens);
            positive("batch", batch);
            positive("patch", patch);
            positive("inChannels", inChannels);
            positive("outChannels", outChannels);
            if (!(mlpRatio > 0)) {
                throw new IllegalArgumentException("mlpRatio must be > 0, found " + mlpRatio);
            }
            if (hidden % heads != 0) {
                throw new IllegalArgumentException("hidden must be a multiple of heads, found hidden=" + hidden
                        + ", heads=" + heads);
            }
        }

        /**
         * DiT-XL/2 (depth 28, hidden 1152, 16 heads, patch 2, learned sigma) on a latent of the given size.
         *
         * @param latentSize latent side (image side / 8: 32 for 256 px)
         * @param batch      batch of one network call (2 for one image with guidance)
         * @return the configuration
         */
        public static Config ditXl2(int latentSize, int batch) {
            return dit(28, 1152, 16, 2, latentSize, batch);
        }

        /**
         * A DiT with MLP ratio 4, 4 latent channels and learned sigma.
         *
         * @param depth      blocks
         * @param hidden     hidden size
         * @param heads      heads
         * @param patch      patch size
         * @param latentSize latent side
         * @param batch      batch of one network call
         * @return the configuration
         */
        public static Config dit(int depth, int hidden, int heads, int patch, int latentSize, int batch) {
            int side = latentSize / patch;
            return new Config(depth, hidden, heads, side * side, batch, 4.0, patch, 4, 8);
        }

        /** @return the head dimension C / H */
        public int headDim() {
            return hidden / heads;
        }

        /** @return elements of one token stream, B*N*C */
        public long streamElements() {
            return (long) batch * tokens * hidden;
        }
    }

    /**
     * Official FLOPs of one block at a full step.
     *
     * @param c the configuration
     * @return FLOPs
     */
    public static long blockFullFlops(Config c) {
        long b = c.batch();
        long n = c.tokens();
        long ch = c.hidden();
        long h = c.heads();
        long d = c.headDim();
        long mlp = 4 * ch; // models.py: mlp_hidden_dim = int(C * 4), regardless of mlp_ratio
        long norms = 2 * b * n * ch;
        long attention = b * n * ch * 3 * ch * 2
                + b * h * n * d
                + b * h * n * n * d * 2
                + b * h * n * n * 5
                + b * h * n * n * d * 2
                + b * n * ch * ch * 2;
        long mlpFlops = b * n * ch * mlp * 2 + b * n * mlp * ch * 2 + b * n * mlp * 6;
        return norms + blockForecastFlops(c) + attention + mlpFlops;
    }

    /**
     * Official FLOPs of one block at a forecast step: the adaLN SiLU and linear only.
     *
     * @param c the configuration
     * @return FLOPs
     */
    public static long blockForecastFlops(Config c) {
        long b = c.batch();
        long ch = c.hidden();
        return b * ch + b * ch * 6 * ch;
    }

    /**
     * Official FLOPs of one full network call (all blocks).
     *
     * @param c the configuration
     * @return FLOPs
     */
    public static long fullStepFlops(Config c) {
        return c.depth() * blockFullFlops(c);
    }

    /**
     * Official FLOPs of one forecast network call (all blocks).
     *
     * @param c the configuration
     * @return FLOPs
     */
    public static long forecastStepFlops(Config c) {
        return c.depth() * blockForecastFlops(c);
    }

    /**
     * The official total over a sampling plan (what {@code --test-FLOPs} prints, times 1e12).
     *
     * @param plan the step plan
     * @param c    the configuration
     * @return FLOPs
     */
    public static double officialTotal(List<TaylorSeerSchedule.StepPlan> plan, Config c) {
        return officialTotal(plan, c, false);
    }

    /**
     * As {@link #officialTotal(List, Config)}, where {@code stackForecast} says whether the forecast steps skip the
     * whole stack (TaylorSeer-Lite: {@link #stackForecastStepFlops}).
     */
    public static double officialTotal(List<TaylorSeerSchedule.StepPlan> plan, Config c, boolean stackForecast) {
        long full = fullStepFlops(c);
        long forecast = stackForecast ? stackForecastStepFlops(c) : forecastStepFlops(c);
        double total = 0;
        for (TaylorSeerSchedule.StepPlan s : plan) {
            total += s.isFull() ? full : forecast;
        }
        return total;
    }

    /**
     * Official FLOPs of a network call whose whole block stack is skipped and its output forecast (TaylorSeer-Lite):
     * 0, since the official count covers only the blocks (no adaLN runs: no block's modulation is needed).
     *
     * @param c the configuration
     * @return FLOPs
     */
    public static long stackForecastStepFlops(Config c) {
        return 0;
    }

    /**
     * The official total of uncached sampling over the same number of steps.
     *
     * @param steps the number of network calls
     * @param c     the configuration
     * @return FLOPs
     */
    public static double officialUncached(int steps, Config c) {
        return (double) steps * fullStepFlops(c);
    }

    /**
     * The official FLOPs speed-up of a plan: uncached FLOPs over the plan's FLOPs.
     *
     * @param plan the step plan
     * @param c    the configuration
     * @return the ratio
     */
    public static double officialSpeedup(List<TaylorSeerSchedule.StepPlan> plan, Config c) {
        return officialUncached(plan.size(), c) / officialTotal(plan, c);
    }

    /**
     * An estimate of all floating-point work of a sampling run, counting what the official figure leaves out.
     * Conventions: a linear layer costs 2 FLOPs per multiply-accumulate (the official adaLN counts 1); a
     * LayerNorm {@value #LAYER_NORM_PER_ELEMENT} per element; SiLU 1 and tanh-GELU 6 per element as in the
     * official count; element-wise adds and multiplies 1 each. Counted per network call:
     * <ul>
     *   <li>patch embedding (a convolution = a linear over p*p*in_channels per token) and the position add;</li>
     *   <li>timestep embedding MLP (256 -&gt; C -&gt; C with SiLU), the label lookup (0) and c = t + y;</li>
     *   <li>per block, full: adaLN, two LayerNorms, two modulates (x * (1 + scale) + shift), attention and MLP as
     *       in the official formula but with the real MLP width int(C * mlp_ratio), two gated residual adds, and
     *       the factor update (a difference and a division per element for each derivative order built, per
     *       cached branch);</li>
     *   <li>per block, forecast: adaLN, the Taylor forecast of each cached branch ((p + 1) terms of
     *       multiply, multiply, add: 3 (p + 1) per element) and the two gated residual adds;</li>
     *   <li>final layer: adaLN (2C), LayerNorm, modulate, linear to p*p*out_channels;</li>
     *   <li>the guidance combine uncond + s * (cond - uncond) on {@value #GUIDED_CHANNELS} channels of half
     *       the batch, when {@code guidance} is set.</li>
     * </ul>
     * The sampler's own per-element arithmetic is not counted.
     *
     * @param plan     the step plan
     * @param c        the configuration
     * @param guidance whether the batch is a classifier-free-guidance pair combined after each call
     * @return FLOPs
     */
    public static double actualFlops(List<TaylorSeerSchedule.StepPlan> plan, Config c, boolean guidance) {
        return actualFlops(plan, c, guidance, false);
    }

    /**
     * As {@link #actualFlops(List, Config, boolean)}, where {@code stackForecast} says whether the forecast steps skip
     * the whole stack ({@link #actualStackForecastFlops}).
     */
    public static double actualFlops(List<TaylorSeerSchedule.StepPlan> plan, Config c, boolean guidance, boolean stackForecast) {
        double total = 0;
        for (TaylorSeerSchedule.StepPlan s : plan) {
            total += !s.isFull() && stackForecast ? actualStackForecastFlops(c, s.order(), guidance)
                    : actualStepFlops(c, s.kind(), s.order(), guidance);
        }
        return total;
    }

    /**
     * {@link #actualFlops} for a network call whose whole block stack is skipped and its output forecast
     * (TaylorSeer-Lite): what runs outside the stack (patch embedding, timestep embedding, c, final layer, the
     * guidance combine) and the forecast of the one stack output, (p + 1) terms of multiply, multiply, add.
     *
     * @param c        the configuration
     * @param order    the Taylor order the forecast uses
     * @param guidance whether the guidance combine runs after the call
     * @return FLOPs
     */
    public static long actualStackForecastFlops(Config c, int order, boolean guidance) {
        return outsideStackFlops(c, guidance) + 3L * (order + 1) * c.streamElements();
    }

    /**
     * {@link #actualFlops} for one network call.
     *
     * @param c        the configuration
     * @param kind     full or forecast
     * @param order    the Taylor order after a full step, or used by a forecast
     * @param guidance whether the guidance combine runs after the call
     * @return FLOPs
     */
    public static long actualStepFlops(Config c, TaylorSeerSchedule.StepKind kind, int order, boolean guidance) {
        long b = c.batch();
        long n = c.tokens();
        long ch = c.hidden();
        long pp = (long) c.patch() * c.patch();
        long elems = c.streamElements();
        long adaLn6 = b * ch + 2 * b * ch * 6 * ch;
        long perBlock;
        if (kind == TaylorSeerSchedule.StepKind.FULL) {
            long h = c.heads();
            long d = c.headDim();
            long mlp = (long) (ch * c.mlpRatio());
            long attention = b * n * ch * 3 * ch * 2 + b * h * n * d + b * h * n * n * d * 2 + b * h * n * n * 5
                    + b * h * n * n * d * 2 + b * n * ch * ch * 2;
            long mlpFlops = b * n * ch * mlp * 2 + b * n * mlp * ch * 2 + b * n * mlp * 6;
            long norms = 2 * LAYER_NORM_PER_ELEMENT * elems;
            long modulate = 2 * (b * ch + 2 * elems);
            long residual = 2 * 2 * elems;
            long factorUpdate = 2 * 2L * order * elems;
            perBlock = adaLn6 + norms + modulate + attention + mlpFlops + residual + factorUpdate;
        } else {
            long forecast = 2 * 3L * (order + 1) * elems;
            long residual = 2 * 2 * elems;
            perBlock = adaLn6 + forecast + residual;
        }
        return outsideStackFlops(c, guidance) + c.depth() * perBlock;
    }

    /** The work of a call outside its blocks: patch embedding, timestep embedding, c, final layer, guidance combine. */
    private static long outsideStackFlops(Config c, boolean guidance) {
        long b = c.batch();
        long n = c.tokens();
        long ch = c.hidden();
        long pp = (long) c.patch() * c.patch();
        long elems = c.streamElements();
        long patchEmbed = b * n * (2 * pp * c.inChannels() * ch) + elems;
        long timestep = b * (2L * FREQUENCY_EMBEDDING * ch + ch + 2 * ch * ch);
        long condition = b * ch;
        long finalLayer = b * ch + 2 * b * ch * 2 * ch
                + LAYER_NORM_PER_ELEMENT * elems
                + b * ch + 2 * elems
                + b * n * 2 * ch * pp * c.outChannels();
        long cfg = guidance ? 3L * (b / 2) * GUIDED_CHANNELS * n * pp : 0;
        return patchEmbed + timestep + condition + finalLayer + cfg;
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, found " + v);
        }
    }
}
