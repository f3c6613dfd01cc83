package dev.seer.model.dit;

import dev.seer.cache.CacheRun;
import dev.seer.cache.FactorPool;
import dev.seer.cache.RunCache;
import dev.seer.cache.TaylorSeerSchedule;
import dev.seer.sampling.BatchedCfg;
import dev.seer.sampling.Cancellation;
import dev.seer.sampling.DiffusionSampler;
import dev.seer.sampling.DiffusionSteps;
import dev.seer.sampling.GaussianDiffusion;
import dev.seer.sampling.Guidance;
import dev.seer.sampling.RunCancelledException;
import dev.seer.sampling.RunGate;
import dev.seer.sampling.RunStats;
import dev.seer.sampling.SampleResult;
import dev.seer.sampling.SamplingLoop;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.ThreadLimit;
import dev.seer.tensor.Torch;
import java.util.function.IntConsumer;
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
    /** Admits runs until {@link #close()}, which makes runs in progress end at their next step and waits for them. */
    private final RunGate gate = new RunGate("the pipeline");

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

    /**
     * Runs one sampling; thread-safe.
     *
     * @throws RunCancelledException    when the request's {@link Cancellation} is cancelled or past its deadline, or
     *                                  the pipeline is closed while the run is in progress (at the next step boundary)
     * @throws IllegalStateException    when the pipeline (or its model) is already closed
     * @throws IllegalArgumentException naming a parameter the request or the model does not allow
     */
    public SampleResult sample(SampleRequest req) {
        if (req == null) {
            throw new IllegalArgumentException("request is null");
        }
        gate.enter();
        try {
            return run(req);
        } finally {
            gate.exit();
        }
    }

    private SampleResult run(SampleRequest req) {
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
        int S = req.steps();
        GaussianDiffusion diffusion = GaussianDiffusion.create(String.valueOf(S), 1000);
        int batch = req.guided() ? 2 * n : n;
        long[] labels = new long[batch];
        for (int b = 0; b < batch; b++) {
            labels[b] = b < n ? req.labels()[b] : cfg.numClasses();
        }
        Guidance guidance = req.guided()
                ? new BatchedCfg(req.cfgScale(), req.guideAllChannels() ? C : Math.min(3, C), cfg.outChannels())
                : Guidance.NONE;
        long[] schedule = new long[S];
        for (int i = S - 1; i >= 0; i--) {
            schedule[S - 1 - i] = diffusion.timestep(i);
        }

        long t0 = System.nanoTime();
        CacheRun cacheRun = new CacheRun(S, TaylorSeerSchedule.Shape.DIT, TaylorSeerSchedule.Shape.DIT,
                model.hookPoints().size(), req.variant(), req.forecastSums(), factorPool, req.forecastErrors(),
                req.factorDtype());
        boolean clip = req.clipDenoised() != null ? req.clipDenoised() : clipDenoised;
        try (ThreadLimit limit = req.threads() > 0 ? ThreadLimit.scoped(req.threads()) : null;
             PointerScope scope = new PointerScope();
             RunCache cache = req.policy().open(cacheRun);
             DitDenoiser denoiser = new DitDenoiser(model, labels, schedule, req.guided())) {
            Generator gen = torch.createCPUGenerator(req.seed());
            float[] img = req.noise() != null ? req.noise().clone() : Torch.randn(gen, n, C, size, size);
            DiffusionSampler sampler = new DiffusionSampler(new DiffusionSteps(diffusion, clip), req.sampler(),
                    req.eta(), gen, n, batch, C, size, cfg.learnSigma());
            IntConsumer beforeStep = done -> {
                if (gate.isClosing()) {
                    throw new RunCancelledException("the pipeline is closing", done);
                }
                if (req.cancellation() != null) {
                    req.cancellation().check(done);
                }
            };
            RunStats stats = SamplingLoop.run(denoiser, sampler, guidance, cache, img, n, req.listener(), beforeStep, t0);
            return new SampleResult(img, Shape.of(n, C, size, size), stats);
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

    /**
     * Refuses new runs, ends the runs in progress at their next step ({@link RunCancelledException}) and waits for
     * them, then frees the kept factor memory. The model stays open: a pipeline borrows it, its owner closes it.
     */
    @Override
    public void close() {
        if (gate.close()) {
            factorPool.close();
        }
    }
}
