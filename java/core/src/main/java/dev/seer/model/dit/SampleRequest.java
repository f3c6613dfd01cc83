package dev.seer.model.dit;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.FactorDtype;
import dev.seer.cache.ForecastSums;
import dev.seer.cache.TaylorCache;
import dev.seer.kernel.Variant;
import dev.seer.sampling.Cancellation;
import dev.seer.sampling.ProgressListener;
import dev.seer.sampling.SamplerKind;
import dev.seer.tensor.ThreadLimit;

/**
 * One sampling run. Defaults are the paper's DiT setting: DDIM, 50 steps, eta 0, CFG 1.5 on channels 0..2.
 *
 * @param labels       one class label per sample (0..num_classes-1)
 * @param noise        initial latents (n, C, H, W) flattened, or null to draw them from {@code seed}
 * @param steps        sampling steps (respacing of the 1000 training steps, official "S" string)
 * @param sampler      DDIM or DDPM
 * @param eta          DDIM eta in [0, 1] (ignored by DDPM)
 * @param cfgScale     classifier-free guidance scale; 0 turns guidance off (a single conditional batch)
 * @param guideAllChannels apply guidance to every latent channel instead of the official channels 0..2
 * @param policy       the cache policy
 * @param seed         seeds libtorch's CPU generator (like torch.manual_seed): the initial noise when
 *                     {@code noise} is null, then the per-step noise, in the official order
 * @param variant      kernel variant for the cache (AUTO: fastest)
 * @param listener     progress callback
 * @param forecastErrors if not null (and the policy caches), every forecast step also computes each branch and
 *                     reports the forecast's error here (a full step's cost per forecast step: reports only)
 * @param forecastSums whether the forecast steps after a full step add sums prepared at the first of them (the
 *                     factors read once per full step; the same terms in another order, so the latents differ from
 *                     the official order at float rounding) or each forecast in the official order; AUTO (the
 *                     default) sums when the factors exceed {@link ForecastSums#AUTO_MIN_FACTOR_BYTES}
 * @param threads      the most native threads the run starts (libtorch's and Seer's kernels, on the calling thread:
 *                     {@link ThreadLimit}); 0, the default: no limit (the process's thread count)
 * @param clipDenoised clamp pred_x0 to [-1, 1] at every step; null, the default: the pipeline's setting
 * @param cancellation a cancel handle and deadline checked between steps (null, the default: none)
 * @param factorDtype  how a caching policy stores its Taylor factors: F32 (the default, exact), BF16 or F16 (half the
 *                     memory; the arithmetic stays float32, each factor rounded once when stored)
 */
public record SampleRequest(long[] labels, float[] noise, int steps, SamplerKind sampler, double eta, double cfgScale,
                            boolean guideAllChannels, CachePolicy policy, long seed, Variant variant,
                            ProgressListener listener, TaylorCache.ForecastErrorSink forecastErrors,
                            ForecastSums forecastSums, int threads, Boolean clipDenoised, Cancellation cancellation,
                            FactorDtype factorDtype) {
    /** The most native threads a run may be given ({@link dev.seer.SeerOptions#MAX_THREADS}). */
    public static final int MAX_THREADS = dev.seer.SeerOptions.MAX_THREADS;

    /** A request with float32 factors. */
    public SampleRequest(long[] labels, float[] noise, int steps, SamplerKind sampler, double eta, double cfgScale,
                         boolean guideAllChannels, CachePolicy policy, long seed, Variant variant,
                         ProgressListener listener, TaylorCache.ForecastErrorSink forecastErrors,
                         ForecastSums forecastSums, int threads, Boolean clipDenoised, Cancellation cancellation) {
        this(labels, noise, steps, sampler, eta, cfgScale, guideAllChannels, policy, seed, variant, listener, forecastErrors,
                forecastSums, threads, clipDenoised, cancellation, FactorDtype.F32);
    }

    public SampleRequest {
        if (labels == null || sampler == null || policy == null || variant == null || listener == null
                || forecastSums == null || factorDtype == null) {
            String missing = labels == null ? "labels" : sampler == null ? "sampler" : policy == null ? "policy"
                    : variant == null ? "variant" : listener == null ? "listener" : forecastSums == null ? "forecastSums"
                    : "factorDtype (expected one of " + FactorDtype.allowed() + ")";
            throw new IllegalArgumentException(missing + " is null");
        }
        if (labels.length < 1) {
            throw new IllegalArgumentException("labels must name at least one class, found none");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, found " + steps);
        }
        if (steps > 1000) {
            throw new IllegalArgumentException("steps must be <= 1000 (the training steps), found " + steps);
        }
        if (!(eta >= 0 && eta <= 1)) {
            // DDIM's sigma = eta sqrt((1 - abar_prev) / (1 - abar)) sqrt(1 - abar / abar_prev) stays below
            // sqrt(1 - abar_prev) only for eta <= 1; past it the step takes the root of a negative number (NaN).
            throw new IllegalArgumentException("eta must be in [0, 1] (DDIM's noise scale), found " + eta);
        }
        if (!(cfgScale >= 0) || Double.isInfinite(cfgScale)) {
            throw new IllegalArgumentException("cfg must be >= 0 (0 turns guidance off), found " + cfgScale);
        }
        if (threads < 0 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be in 0.." + MAX_THREADS + " (0: no limit), found " + threads);
        }
        if (noise != null) {
            // one pass over the noise: a NaN here would silently turn every sample into NaN
            for (int i = 0; i < noise.length; i++) {
                if (!Float.isFinite(noise[i])) {
                    throw new IllegalArgumentException("noise must be finite, found " + noise[i] + " at index " + i);
                }
            }
        }
    }

    public static Builder builder(long... labels) {
        return new Builder(labels);
    }

    public int count() {
        return labels.length;
    }

    public boolean guided() {
        return cfgScale > 0;
    }

    /** Fluent construction with the paper's defaults. */
    public static final class Builder {
        private final long[] labels;
        private float[] noise;
        private int steps = 50;
        private SamplerKind sampler = SamplerKind.DDIM;
        private double eta;
        private double cfgScale = 1.5;
        private boolean guideAllChannels;
        private CachePolicy policy = new CachePolicy.None();
        private long seed;
        private Variant variant = Variant.AUTO;
        private ProgressListener listener = ProgressListener.NONE;
        private TaylorCache.ForecastErrorSink forecastErrors;
        private ForecastSums forecastSums = ForecastSums.AUTO;
        private int threads;
        private Boolean clipDenoised;
        private Cancellation cancellation;
        private FactorDtype factorDtype = FactorDtype.F32;

        Builder(long[] labels) {
            this.labels = labels.clone();
        }

        public Builder noise(float[] v) {
            this.noise = v;
            return this;
        }

        public Builder steps(int v) {
            this.steps = v;
            return this;
        }

        public Builder sampler(SamplerKind v) {
            this.sampler = v;
            return this;
        }

        public Builder eta(double v) {
            this.eta = v;
            return this;
        }

        public Builder cfgScale(double v) {
            this.cfgScale = v;
            return this;
        }

        public Builder guideAllChannels(boolean v) {
            this.guideAllChannels = v;
            return this;
        }

        public Builder policy(CachePolicy v) {
            this.policy = v;
            return this;
        }

        public Builder seed(long v) {
            this.seed = v;
            return this;
        }

        public Builder variant(Variant v) {
            this.variant = v;
            return this;
        }

        public Builder listener(ProgressListener v) {
            this.listener = v;
            return this;
        }

        public Builder forecastErrors(TaylorCache.ForecastErrorSink v) {
            this.forecastErrors = v;
            return this;
        }

        public Builder forecastSums(ForecastSums v) {
            this.forecastSums = v;
            return this;
        }

        /** The most native threads the run starts; 0: no limit. */
        public Builder threads(int v) {
            this.threads = v;
            return this;
        }

        /** Clamp pred_x0 to [-1, 1] at every step (null: the pipeline's setting). */
        public Builder clipDenoised(Boolean v) {
            this.clipDenoised = v;
            return this;
        }

        /** How a caching policy stores its Taylor factors (F32, the default: exact; BF16 or F16: half the memory). */
        public Builder factorDtype(FactorDtype v) {
            if (v == null) {
                throw new IllegalArgumentException("factorDtype is null; expected one of " + FactorDtype.allowed());
            }
            this.factorDtype = v;
            return this;
        }

        /** The same, by name: f32, bf16 or f16 (any case); anything else is an IllegalArgumentException. */
        public Builder factorDtype(String name) {
            return factorDtype(FactorDtype.parse(name));
        }

        /** A cancel handle (and deadline) the run checks between steps; null: none. */
        public Builder cancellation(Cancellation v) {
            this.cancellation = v;
            return this;
        }

        /** A model's recommended settings (e.g. a shipped model's card): steps, sampler, eta, guidance, clipping. */
        public Builder settings(SamplingSettings s) {
            s.applyTo(this);
            this.clipDenoised = s.clipDenoised();
            return this;
        }

        public SampleRequest build() {
            return new SampleRequest(labels, noise, steps, sampler, eta, cfgScale, guideAllChannels, policy, seed, variant,
                    listener, forecastErrors, forecastSums, threads, clipDenoised, cancellation, factorDtype);
        }
    }
}
