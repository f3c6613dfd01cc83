package dev.seer.model.flux;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.CacheRun;
import dev.seer.cache.FactorDtype;
import dev.seer.cache.ForecastSums;
import dev.seer.cache.RunCache;
import dev.seer.cache.TaylorSeerSchedule;
import dev.seer.kernel.Variant;
import dev.seer.model.BranchHooks;
import dev.seer.sampling.FlowMatchEuler;
import dev.seer.sampling.Guidance;
import dev.seer.sampling.ProgressListener;
import dev.seer.sampling.RunStats;
import dev.seer.sampling.SamplingLoop;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.Arena;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * One FLUX sampling run as the reference's {@code denoise} (TaylorSeer-FLUX: {@code denoise_cache}): the official
 * schedule ({@link #schedule}), one network call per step with the current time and the guidance value as (B,)
 * vectors, and the Euler step {@code img += (t_prev - t_curr) * pred}; latents are packed 2x2 into tokens on the way in
 * and unpacked on the way out. A cache policy runs on the official FLUX schedule (steps count up, warm-up 0, 1, 2, no
 * derivatives at 0 and 1: {@link TaylorSeerSchedule.Shape#FLUX}); FORA on the official FORA branch's
 * ({@link TaylorSeerSchedule.Shape#FORA}).
 *
 * <p>Where this loop differs from DiT's ({@code DitPipeline}), for the one generic loop: the step index counts up and
 * is the loop position; the model time is a float in [0, 1] ({@link StepContext#timestep()} carries round(1000 t) only
 * for logs); no classifier-free-guidance batch (guidance is a model input); a flow-matching Euler update with the
 * schedule's float32 values and a float32 product; the noise is drawn once; the model takes and returns libtorch
 * tensors and prepares per-run conditioning ({@link FluxModel#prepare}); the cache is configured with the FLUX
 * schedule; the model runs every branch through {@link BranchHooks#residual} (no whole-stack forecast pass).
 */
public final class FluxSampler {
    /** The reference's schedule shift line: mu from (256, 0.5) to (4096, 1.15) image tokens. */
    public static final double BASE_SHIFT = 0.5;
    public static final double MAX_SHIFT = 1.15;

    private FluxSampler() {
    }

    /**
     * What to run.
     *
     * @param steps    network calls; with timesteps in the inputs it must be their count - 1
     * @param height   latent height H (even); ignored when the inputs hold noise
     * @param width    latent width W (even); ignored when the inputs hold noise
     * @param guidance the guidance value fed to a guidance-embedding model (dev), ignored otherwise
     * @param shift    whether the schedule is time-shifted (the reference: on for dev, off for schnell)
     * @param seed     seed of libtorch's CPU generator for the noise (as torch.manual_seed) when the inputs hold none
     * @param policy   none, FORA or TaylorSeer
     * @param variant  the Taylor kernels' variant
     * @param listener told after each step
     * @param factorDtype how the cache stores its Taylor factors (F32: exact; BF16 or F16: half the memory)
     */
    public record Request(int steps, int height, int width, double guidance, boolean shift, long seed, CachePolicy policy,
                          Variant variant, ProgressListener listener, FactorDtype factorDtype) {
        /** A request with float32 factors. */
        public Request(int steps, int height, int width, double guidance, boolean shift, long seed, CachePolicy policy,
                       Variant variant, ProgressListener listener) {
            this(steps, height, width, guidance, shift, seed, policy, variant, listener, FactorDtype.F32);
        }

        public Request {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be >= 1, found " + steps);
            }
            if (height < 2 || width < 2 || height % 2 != 0 || width % 2 != 0) {
                throw new IllegalArgumentException("latent height and width must be even and >= 2, found " + height + "x" + width);
            }
            if (!Double.isFinite(guidance)) {
                throw new IllegalArgumentException("guidance must be finite, found " + guidance);
            }
            if (policy == null || variant == null || listener == null) {
                throw new IllegalArgumentException("policy, variant and listener must not be null");
            }
            if (factorDtype == null) {
                throw new IllegalArgumentException("factorDtype must not be null; expected one of " + FactorDtype.allowed());
            }
        }
    }

    /**
     * A run's outcome.
     *
     * @param latents   the final latents (B, C, H, W), unpacked, row-major
     * @param shape     {B, C, H, W}
     * @param timesteps the schedule used (steps + 1 values)
     * @param stats     what the run did and cost
     */
    public record Result(float[] latents, Shape shape, double[] timesteps, RunStats stats) {
    }

    /**
     * The reference's {@code get_schedule}: {@code linspace(1, 0, steps + 1)} in float32, and with {@code shift}
     * t -> e^mu / (e^mu + (1 / t - 1)) with mu on the line through (256, 0.5) and (4096, 1.15) at the image's token
     * count, computed in float32 by the same op sequence; returned as the float32 values widened to double (Python's
     * {@code tolist()}).
     */
    public static double[] schedule(int steps, long imageSeqLen, boolean shift) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, found " + steps);
        }
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor t = torch.linspace(new Scalar(1.0), new Scalar(0.0), steps + 1,
                    new TensorOptions(torch.ScalarType.Float));
            if (shift) {
                double m = (MAX_SHIFT - BASE_SHIFT) / (4096 - 256);
                double b = BASE_SHIFT - m * 256;
                double mu = m * imageSeqLen + b;
                double e = Math.exp(mu);
                // e / (e + (1 / t - 1) ** 1.0), as Python evaluates it on a tensor: 1 / t is reciprocal() * 1
                org.bytedeco.pytorch.Tensor inner = t.reciprocal().mul(new Scalar(1.0)).sub(new Scalar(1.0)).pow(new Scalar(1.0));
                t = inner.add(new Scalar(e)).reciprocal().mul(new Scalar(e));
            }
            float[] f = Torch.view(t.contiguous()).toFloatArray();
            double[] out = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                out[i] = f[i];
            }
            return out;
        }
    }

    /** b c (h 2) (w 2) -> b (h w) (c 2 2). */
    static org.bytedeco.pytorch.Tensor pack(org.bytedeco.pytorch.Tensor x) {
        long b = x.size(0);
        long c = x.size(1);
        long h = x.size(2) / 2;
        long w = x.size(3) / 2;
        return x.reshape(b, c, h, 2, w, 2).permute(0, 2, 4, 1, 3, 5).reshape(b, h * w, c * 4);
    }

    /** b (h w) (c 2 2) -> b c (h 2) (w 2). */
    static org.bytedeco.pytorch.Tensor unpack(org.bytedeco.pytorch.Tensor x, long h, long w) {
        long b = x.size(0);
        long c = x.size(2) / 4;
        return x.reshape(b, h, w, c, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(b, c, h * 2, w * 2);
    }

    /** img_ids (B, h*w, 3): (0, row, column) as the reference's prepare() builds them, float32. */
    static org.bytedeco.pytorch.Tensor imageIds(long batch, long h, long w) {
        float[] v = new float[(int) (h * w * 3)];
        for (int r = 0; r < h; r++) {
            for (int c = 0; c < w; c++) {
                int i = (int) ((r * w + c) * 3);
                v[i + 1] = r;
                v[i + 2] = c;
            }
        }
        return fromFloats(v, 1, h * w, 3).expand(batch, h * w, 3).contiguous();
    }

    private static org.bytedeco.pytorch.Tensor fromFloats(float[] v, long... shape) {
        try (Arena arena = Arena.ofConfined()) {
            return Torch.wrap(Tensor.ofFloats(arena, v, shape)).clone();
        }
    }

    /**
     * Runs one sampling through the one sampling loop: FLUX's denoiser for this run, the Euler sampler over the
     * schedule, no guidance outside the model, and the policy's run cache on the official FLUX schedule (FORA: the
     * official FORA branch).
     *
     * @throws IllegalArgumentException when the inputs do not fit the request (the step count, the noise size)
     */
    public static Result sample(FluxModel model, FluxInputs in, Request req) {
        return run(model, in, req, null);
    }

    /** The final latents of a run whose every step is full through the given hooks (tests: other cache implementations). */
    static float[] sampleWithHooks(FluxModel model, FluxInputs in, Request req, BranchHooks hooks) {
        return run(model, in, req, hooks).latents();
    }

    /** The schedule of a run: the inputs' timesteps, else the official one; checked against the request. */
    private static double[] schedule(FluxInputs in, Request req) {
        long imgTokens = (in.noise() != null ? in.noiseShape()[2] * in.noiseShape()[3] : (long) req.height() * req.width()) / 4;
        double[] ts = in.timesteps() != null ? in.timesteps() : schedule(req.steps(), imgTokens, req.shift());
        if (ts.length - 1 != req.steps()) {
            throw new IllegalArgumentException("the inputs' timesteps make " + (ts.length - 1) + " steps; the request asks for " + req.steps());
        }
        return ts;
    }

    /** The policy's run cache on the official FLUX schedules, or every step full through hooks of one's own. */
    private static RunCache openCache(Request req, BranchHooks ownHooks, int steps, int branches) {
        if (ownHooks != null) {
            return RunCache.everyStepFull(ownHooks, branches);
        }
        return req.policy().open(new CacheRun(steps, TaylorSeerSchedule.Shape.FLUX, TaylorSeerSchedule.Shape.FORA, branches,
                req.variant(), ForecastSums.OFF, null, null, req.factorDtype()));
    }

    private static Result run(FluxModel model, FluxInputs in, Request req, BranchHooks ownHooks) {
        FluxParams p = model.params();
        long batch = in.batch();
        long height = in.noise() != null ? in.noiseShape()[2] : req.height();
        long width = in.noise() != null ? in.noiseShape()[3] : req.width();
        long h = height / 2;
        long w = width / 2;
        long imgTokens = h * w;
        if (in.imgIds() != null && in.imgIds().length != batch * imgTokens * 3) {
            throw new IllegalArgumentException("img_ids hold " + in.imgIds().length / (3 * batch) + " tokens per sample; the latents "
                    + height + "x" + width + " make " + imgTokens);
        }
        double[] ts = schedule(in, req);
        int steps = ts.length - 1;
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor txt = fromFloats(in.txt(), in.txtShape());
            org.bytedeco.pytorch.Tensor vec = fromFloats(in.vec(), batch, p.vecInDim());
            org.bytedeco.pytorch.Tensor txtIds = in.txtIds() != null ? fromFloats(in.txtIds(), batch, in.txtTokens(), 3)
                    : torch.zeros(new long[] {batch, in.txtTokens(), 3}, new TensorOptions(torch.ScalarType.Float));
            org.bytedeco.pytorch.Tensor imgIds = in.imgIds() != null ? fromFloats(in.imgIds(), batch, imgTokens, 3) : imageIds(batch, h, w);
            org.bytedeco.pytorch.Tensor noise;
            if (in.noise() != null) {
                noise = fromFloats(in.noise(), in.noiseShape());
            } else {
                Generator gen = torch.createCPUGenerator(req.seed());
                noise = torch.randn(new long[] {batch, p.latentChannels(), height, width}, new GeneratorOptional(gen),
                        new TensorOptions(torch.ScalarType.Float));
            }
            float[] img = Torch.view(pack(noise).contiguous()).toFloatArray();
            try (FluxDenoiser denoiser = new FluxDenoiser(model, model.prepare(txt, vec, txtIds, imgIds, ts, req.guidance()));
                 RunCache cache = openCache(req, ownHooks, steps, denoiser.hookPoints().size())) {
                RunStats stats = SamplingLoop.run(denoiser, new FlowMatchEuler(ts), Guidance.NONE, cache, img, (int) batch,
                        req.listener(), done -> { }, t0);
                float[] latents;
                try (Arena arena = Arena.ofConfined()) {
                    org.bytedeco.pytorch.Tensor packed = Torch.wrap(Tensor.ofFloats(arena, img, batch, imgTokens, p.inChannels()));
                    latents = Torch.view(unpack(packed, h, w).contiguous()).toFloatArray();
                }
                return new Result(latents, Shape.of(batch, p.latentChannels(), height, width), ts.clone(), stats);
            }
        }
    }
}
