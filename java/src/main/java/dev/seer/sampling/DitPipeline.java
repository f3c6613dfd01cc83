package dev.seer.sampling;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.DitFlops;
import dev.seer.cache.FactorPool;
import dev.seer.cache.TaylorCache;
import dev.seer.cache.TaylorSeerSchedule;
import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import dev.seer.model.BranchHooks;
import dev.seer.model.StepContext;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.StepConditioning;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.global.torch;

/**
 * Class-conditional DiT sampling exactly as the official TaylorSeer-DiT sampler runs it (sample.py,
 * gaussian_diffusion.py): linear betas over 1000 steps respaced to S, the doubled batch [x, x] with labels
 * [y, null] for classifier-free guidance applied to channels 0..2, DDIM or DDPM on the conditional half, and
 * libtorch's CPU generator for every random draw in the official order.
 *
 * <p>Hold one pipeline per loaded model; {@link #sample} may be called from many threads at once, each run
 * with its own cache state. The pipeline keeps the Taylor factor memory of finished runs for the next ones (a
 * {@link FactorPool}: never more than its runs held at once; {@link #releaseKeptMemory()} frees it, and
 * {@link #close()}).
 */
public final class DitPipeline implements AutoCloseable {
    private final DitModel model;
    private final boolean clipDenoised;
    private final FactorPool factorPool = new FactorPool();

    public DitPipeline(DitModel model) {
        this(model, false);
    }

    /** @param clipDenoised clamp pred_x0 to [-1, 1] at every step (for pixel-space models; see {@link DiffusionSteps}) */
    public DitPipeline(DitModel model, boolean clipDenoised) {
        if (model == null) {
            throw new IllegalArgumentException("model is null");
        }
        this.model = model;
        this.clipDenoised = clipDenoised;
    }

    public DitModel model() {
        return model;
    }

    /** Runs one sampling; thread-safe. */
    public SampleResult sample(SampleRequest req) {
        if (req == null) {
            throw new IllegalArgumentException("request is null");
        }
        SeerRuntime.init();
        DitConfig cfg = model.config();
        int n = req.count();
        int C = cfg.inChannels();
        int size = cfg.inputSize();
        int per = C * size * size;
        for (long y : req.labels()) {
            if (y < 0 || y >= cfg.numClasses()) {
                throw new IllegalArgumentException("labels must be in 0.." + (cfg.numClasses() - 1) + ", found " + y);
            }
        }
        if (req.noise() != null && req.noise().length != (long) n * per) {
            throw new IllegalArgumentException("noise must have shape (" + n + ", " + C + ", " + size + ", " + size
                    + ") = " + (long) n * per + " values for " + n + " labels, found " + req.noise().length + " values");
        }
        if (req.guided() && !cfg.hasNullClass()) {
            throw new IllegalArgumentException("guidance needs a null class (class_dropout_prob > 0); use cfg 0 for this model");
        }
        int guidedChannels = req.guideAllChannels() ? C : Math.min(3, C);
        int S = req.steps();
        GaussianDiffusion diffusion = GaussianDiffusion.create(String.valueOf(S), 1000);
        DiffusionSteps steps = new DiffusionSteps(diffusion, clipDenoised);
        int batch = req.guided() ? 2 * n : n;
        long[] labels = new long[batch];
        for (int b = 0; b < batch; b++) {
            labels[b] = b < n ? req.labels()[b] : cfg.numClasses();
        }

        long t0 = System.nanoTime();
        double full = 0;
        double forecast = 0;
        TaylorCache cache = req.policy() instanceof CachePolicy.None ? null : new TaylorCache(req.policy(), S, req.variant());
        if (cache != null) {
            cache.forecastSums(req.forecastSums());
            cache.factorPool(factorPool);
        }
        if (cache != null && req.forecastErrors() != null) {
            cache.measureForecastErrors(req.forecastErrors());
        }
        List<StepPlan> uncachedPlan = new ArrayList<>();
        long[] schedule = new long[S];
        for (int i = S - 1; i >= 0; i--) {
            schedule[S - 1 - i] = diffusion.timestep(i);
        }
        try (PointerScope scope = new PointerScope(); StepConditioning conditioning = model.stepConditioning(schedule, labels)) {
            Generator gen = torch.createCPUGenerator(req.seed());
            float[] img = req.noise() != null ? req.noise().clone() : DitModel.randn(gen, n, C, size, size);
            float[] xIn = new float[batch * per];
            float[] eps = new float[n * per];
            float[] var = new float[n * per];
            float[] out = new float[batch * cfg.outChannels() * size * size];
            for (int i = S - 1; i >= 0; i--) {
                int t = diffusion.timestep(i);
                long[] ts = new long[batch];
                java.util.Arrays.fill(ts, t);
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(img, (b % n) * per, xIn, b * per, per);
                }
                StepContext ctx = new StepContext(i, S, t, StepContext.Guidance.JOINT);
                long s0 = System.nanoTime();
                // the same arrays at every step: nothing new on the Java heap per step
                model.forward(xIn, batch, ts, labels, ctx, cache == null ? BranchHooks.NONE : cache, conditioning, out);
                if (cache != null && cache.lastForecastWasNonFinite()) {
                    cache.redoAsFull();
                    model.forward(xIn, batch, ts, labels, ctx, cache, conditioning, out);
                }
                boolean wasFull = cache == null || cache.currentStepIsFull();
                double dt = (System.nanoTime() - s0) / 1e9;
                if (wasFull) {
                    full += dt;
                } else {
                    forecast += dt;
                }
                if (cache == null) {
                    uncachedPlan.add(new StepPlan(i, TaylorSeerSchedule.StepKind.FULL, i, 0, 0, 0));
                }
                splitOutput(out, n, req, guidedChannels, per, eps, var);
                // The official loop draws randn_like(x) for the whole doubled batch at every step, DDIM included;
                // deterministic DDIM multiplies it by zero, and nothing draws from the generator after the steps.
                boolean noiseUnused = req.sampler() == SamplerKind.DDIM && req.eta() == 0;
                float[] noise = noiseUnused ? null : java.util.Arrays.copyOf(DitModel.randn(gen, batch, C, size, size), n * per);
                if (req.sampler() == SamplerKind.DDIM) {
                    steps.ddim(img, eps, i, req.eta(), noise, img);
                } else {
                    steps.ddpm(img, eps, var, i, noise, img);
                }
                req.listener().onStep(S - i, S, wasFull);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            List<StepPlan> plan = cache == null ? uncachedPlan : cache.executedPlan();
            DitFlops.Config fc = DitFlops.Config.dit(cfg.depth(), cfg.hiddenSize(), cfg.numHeads(), cfg.patchSize(),
                    cfg.inputSize(), batch);
            RunStats stats;
            if (cache == null) {
                List<Integer> all = plan.stream().map(StepPlan::step).toList();
                stats = new RunStats(all, List.of(), (long) S * 2 * cfg.depth(), 0, DitFlops.officialTotal(plan, fc),
                        DitFlops.actualFlops(plan, fc, req.guided()), 0, seconds, full, forecast, seconds - full - forecast, List.of());
            } else {
                var cs = cache.stats();
                stats = new RunStats(cs.fullSteps(), cs.forecastSteps(), cs.computedBranches(), cs.forecastBranches(),
                        DitFlops.officialTotal(plan, fc), DitFlops.actualFlops(plan, fc, req.guided()), cs.cacheBytes(),
                        seconds, full, forecast, seconds - full - forecast, cs.nonFiniteFallbacks());
            }
            return new SampleResult(img, Shape.of(n, C, size, size), stats);
        } finally {
            if (cache != null) {
                cache.close();
            }
        }
    }

    /**
     * Guidance as the official forward_with_cfg: eps = uncond + scale * (cond - uncond) on the guided channels,
     * the conditional row's own values elsewhere; the learned variance channels are the conditional row's.
     */
    private void splitOutput(float[] out, int n, SampleRequest req, int guidedChannels, int per, float[] eps, float[] var) {
        DitConfig cfg = model.config();
        int C = cfg.inChannels();
        int plane = per / C;
        int oc = cfg.outChannels();
        float scale = (float) req.cfgScale();
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < C; ch++) {
                int src = (b * oc + ch) * plane;
                int dst = (b * C + ch) * plane;
                if (req.guided() && ch < guidedChannels) {
                    int un = ((b + n) * oc + ch) * plane;
                    for (int k = 0; k < plane; k++) {
                        float cond = out[src + k];
                        float uncond = out[un + k];
                        eps[dst + k] = uncond + scale * (cond - uncond);
                    }
                } else {
                    System.arraycopy(out, src, eps, dst, plane);
                }
                if (cfg.learnSigma()) {
                    System.arraycopy(out, (b * oc + C + ch) * plane, var, dst, plane);
                }
            }
        }
    }

    /** Bytes of Taylor factor memory kept for the next runs. */
    public long keptFactorBytes() {
        return factorPool.keptBytes();
    }

    /** Frees the Taylor factor memory kept for the next runs (they allocate theirs again); runs in progress keep theirs. */
    public void releaseKeptMemory() {
        factorPool.trim();
    }

    /** Closes the model and frees the kept factor memory. */
    @Override
    public void close() {
        factorPool.close();
        model.close();
    }
}
