package dev.seer.model.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.TaylorSeerLite;
import dev.seer.cache.TaylorSeerSchedule;
import dev.seer.model.BranchHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.sampling.DiffusionSteps;
import dev.seer.sampling.GaussianDiffusion;
import dev.seer.sampling.SampleResult;
import dev.seer.tensor.GateView;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TaylorSeer-Lite on a tiny DiT: against a float64 oracle of the stack output's forecast, its bits, bytes and FLOPs. */
class TaylorSeerLiteTest {
    static final DitConfig TINY = new DitConfig(8, 2, 4, 64, 3, 4, 4.0, 0.1, 10, true);
    static final int STEPS = 30;
    static Arena arena;
    static DitModel model;
    static DitPipeline pipeline;

    @BeforeAll
    static void load() {
        arena = Arena.ofShared();
        model = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 5, arena));
        pipeline = new DitPipeline(model);
    }

    @AfterAll
    static void close() {
        pipeline.close();
        model.close();
        arena.close();
    }

    static SampleRequest.Builder request(CachePolicy policy) {
        return SampleRequest.builder(1, 7).steps(STEPS).seed(11).policy(policy);
    }

    @Test
    void parsesPrintsAndNamesItself() {
        CachePolicy p = CachePolicy.parse("TaylorSeer-Lite:5:2");
        assertEquals(new TaylorSeerLite(5, 2), p);
        assertEquals("taylorseer-lite:5:2", p.spec());
        assertEquals("TaylorSeer-Lite N=5 O=2", p.label());
        assertEquals("taylorseer-lite", p.name());
        assertTrue(p.forecastsStackOutput());
        assertEquals(new TaylorSeerLite(4, 1), CachePolicy.of("taylorseer-lite", 4, 1));
        assertTrue(CachePolicy.syntax().contains("taylorseer-lite:N:O"), CachePolicy.syntax());
        for (String bad : new String[] {"taylorseer-lite:5", "taylorseer-lite:0:2", "taylorseer-lite:3:5", "taylorseer-lite:a:1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CachePolicy.parse(bad));
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("taylorseer-lite:N:O"),
                    e.getMessage());
        }
    }

    @Test
    void intervalOneEqualsTheUncachedModelBitForBit() {
        float[] uncached = pipeline.sample(request(new CachePolicy.None()).build()).latents();
        SampleResult lite = pipeline.sample(request(new TaylorSeerLite(1, 2)).build());
        assertArrayEquals(bits(uncached), bits(lite.latents()));
        assertEquals(STEPS, lite.stats().fullSteps().size());
    }

    /**
     * The latents of a Lite run against a run whose forecast of the stack output is computed here, from the stack
     * outputs recorded at the full steps, with the official recursion in float64 (one rounding, on the forecast).
     */
    @Test
    void matchesAFloat64ForecastOfTheRecordedStackOutputs() {
        float[] uncached = pipeline.sample(request(new CachePolicy.None()).build()).latents();
        for (int interval = 2; interval <= 5; interval++) {
            for (int order = 0; order <= 3; order++) {
                float[] oracle = sampleWithHooks(new Float64StackForecast(interval, order));
                float[] lite = pipeline.sample(request(new TaylorSeerLite(interval, order)).build()).latents();
                double rel = relL2(lite, oracle);
                assertTrue(rel <= 1e-5, "N=" + interval + " O=" + order + ": relative L2 " + rel);
                // the forecast moves the latents: the check above is not between two uncached runs
                assertTrue(relL2(lite, uncached) > 1e3 * Math.max(rel, 1e-9), "N=" + interval + " O=" + order);
            }
        }
    }

    @Test
    void holdsOneStackOutputPerOrderAndCountsOnlyWhatRunsOutsideTheStack() {
        SampleResult lite = pipeline.sample(request(new TaylorSeerLite(5, 2)).build());
        SampleResult full = pipeline.sample(request(new CachePolicy.TaylorSeer(5, 2)).build());
        assertEquals(full.stats().fullSteps(), lite.stats().fullSteps());
        // 3 factors of (4 rows x 16 tokens x 64 channels) floats, against 3 per branch (6 branches)
        assertEquals(3L * 4 * 16 * 64 * 4, lite.stats().cacheBytes());
        assertEquals(6 * lite.stats().cacheBytes(), full.stats().cacheBytes());

        DitFlops.Config fc = DitFlops.Config.dit(TINY.depth(), TINY.hiddenSize(), TINY.numHeads(), TINY.patchSize(),
                TINY.inputSize(), 4);
        int fullSteps = lite.stats().fullSteps().size();
        int forecastSteps = lite.stats().forecastSteps().size();
        // official: only the blocks count, and a skipped stack runs none of them
        assertEquals((double) fullSteps * DitFlops.fullStepFlops(fc), lite.stats().flopsOfficial());
        assertTrue(lite.stats().flopsOfficial() < full.stats().flopsOfficial());
        // actual: a forecast step costs what an uncached step costs outside its blocks, plus one forecast
        List<TaylorSeerSchedule.StepPlan> plan = TaylorSeerSchedule.plan(STEPS, 5, 2);
        double outside = 0;
        double fullWork = 0;
        for (TaylorSeerSchedule.StepPlan p : plan) {
            if (p.isFull()) {
                fullWork += DitFlops.actualStepFlops(fc, p.kind(), p.order(), true);
            } else {
                outside += outsideBlocks(fc) + 3L * (p.order() + 1) * fc.streamElements();
            }
        }
        assertEquals(fullWork + outside, lite.stats().flopsActual(), 1e-6 * lite.stats().flopsActual());
        assertEquals(forecastSteps, plan.stream().filter(p -> !p.isFull()).count());
    }

    /** bf16 factors of the stack output: half the cache, and samples near the float32-factor run's. */
    @Test
    void narrowFactorsHalveTheCacheAndStayNearTheFloat32Run() {
        CachePolicy lite = CachePolicy.parse("taylorseer-lite:4:2");
        SampleResult f32 = pipeline.sample(request(lite).build());
        SampleResult bf16 = pipeline.sample(request(lite).factorDtype(dev.seer.cache.FactorDtype.BF16).build());
        assertEquals(f32.stats().cacheBytes(), 2 * bf16.stats().cacheBytes());
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < f32.latents().length; i++) {
            double d = (double) f32.latents()[i] - bf16.latents()[i];
            diff += d * d;
            norm += (double) f32.latents()[i] * f32.latents()[i];
        }
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel > 0 && rel < 1e-2, "relative L2 of bf16 against f32 factors: " + rel);
    }

    /** A model that does not hand its stack to the hooks is refused at its first step, not cached wrongly. */
    @Test
    void aModelThatKeepsItsStackIsRefused() {
        var cache = new TaylorSeerLite(3, 1).open(new dev.seer.cache.CacheRun(STEPS, TaylorSeerSchedule.Shape.DIT,
                TaylorSeerSchedule.Shape.DIT, 6, dev.seer.kernel.Variant.AUTO, dev.seer.cache.ForecastSums.AUTO, null, null));
        BranchHooks hooks = cache.hooks();
        StepContext ctx = new StepContext(STEPS - 1, STEPS, 999, StepContext.Guidance.JOINT);
        hooks.beginStep(ctx);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> hooks.residual(model.hookPoints().getFirst(), ctx, null, null, null));
        assertTrue(e.getMessage().contains("taylorseer-lite"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> hooks.endStep(ctx));
        cache.close();
    }

    /** Patch embedding, timestep embedding, c, final layer and guidance combine of one call: f(1 block) - (f(2) - f(1)). */
    private static long outsideBlocks(DitFlops.Config fc) {
        long[] f = new long[3];
        for (int depth = 1; depth <= 2; depth++) {
            f[depth] = DitFlops.actualStepFlops(new DitFlops.Config(depth, fc.hidden(), fc.heads(), fc.tokens(), fc.batch(),
                    fc.mlpRatio(), fc.patch(), fc.inChannels(), fc.outChannels()), TaylorSeerSchedule.StepKind.FULL, 0, true);
        }
        return 2 * f[1] - f[2];
    }

    /**
     * The oracle: the official DiT schedule (steps count down; S-1 and S-2 full; then a full step every N), the
     * stack output recorded at full steps, D^0 = F and D^(i+1) = (D^i - D^i_prev) / d with d the latest spacing,
     * every number in double; at a forecast step the stack does not run and its output is sum D^i delta^i / i!.
     */
    static final class Float64StackForecast implements BranchHooks {
        private final int interval;
        private final int maxOrder;
        private int counter;
        private int lastFull = Integer.MIN_VALUE;
        private boolean full;
        private int position;
        private double[][] factors;

        Float64StackForecast(int interval, int maxOrder) {
            this.interval = interval;
            this.maxOrder = maxOrder;
        }

        @Override
        public void beginStep(StepContext ctx) {
            int p = position++;
            full = p < 2 || counter == interval - 1;
            counter = full ? 0 : counter + 1;
        }

        @Override
        public void wholeStack(StepContext ctx, Tensor out, Blocks blocks) {
            int s = ctx.step();
            if (full) {
                blocks.run(BranchHooks.NONE);
                float[] f = out.toFloatArray();
                double[] d0 = new double[f.length];
                for (int i = 0; i < f.length; i++) {
                    d0[i] = f[i];
                }
                // derivatives from the second full step on (the official gate), one order more per full step
                int order = factors == null ? 0 : Math.min(factors.length, maxOrder);
                double[][] next = new double[order + 1][];
                next[0] = d0;
                double d = s - lastFull;
                for (int k = 0; k < order; k++) {
                    next[k + 1] = new double[f.length];
                    for (int i = 0; i < f.length; i++) {
                        next[k + 1][i] = (next[k][i] - factors[k][i]) / d;
                    }
                }
                factors = next;
                lastFull = s;
                return;
            }
            double delta = s - lastFull;
            float[] forecast = new float[Math.toIntExact(out.numel())];
            for (int i = 0; i < forecast.length; i++) {
                double sum = 0;
                double term = 1;
                for (int k = 0; k < factors.length; k++) {
                    sum += factors[k][i] * term;
                    term *= delta / (k + 1);
                }
                forecast[i] = (float) sum;
            }
            out.copyFrom(forecast);
        }

        @Override
        public void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch) {
            throw new AssertionError("the stack is handed over whole");
        }
    }

    /** The pipeline's loop (DDIM, guidance 1.5 on channels 0..2, labels 1 and 7) driving the given hooks. */
    static float[] sampleWithHooks(BranchHooks hooks) {
        SampleRequest req = request(new CachePolicy.None()).build();
        GaussianDiffusion diffusion = GaussianDiffusion.create(String.valueOf(STEPS), 1000);
        DiffusionSteps steps = new DiffusionSteps(diffusion);
        var gen = org.bytedeco.pytorch.global.torch.createCPUGenerator(req.seed());
        int per = 4 * 8 * 8;
        float[] img = Torch.randn(gen, 2, 4, 8, 8);
        long[] labels = {1, 7, 10, 10};
        for (int i = STEPS - 1; i >= 0; i--) {
            float[] xIn = new float[4 * per];
            for (int b = 0; b < 4; b++) {
                System.arraycopy(img, (b % 2) * per, xIn, b * per, per);
            }
            int t = diffusion.timestep(i);
            float[] out = model.forward(xIn, 4, new long[] {t, t, t, t}, labels,
                    new StepContext(i, STEPS, t, StepContext.Guidance.JOINT), hooks);
            float[] eps = new float[2 * per];
            for (int b = 0; b < 2; b++) {
                for (int k = 0; k < per; k++) {
                    float cond = out[b * 2 * per + k];
                    float uncond = out[(b + 2) * 2 * per + k];
                    eps[b * per + k] = k / 64 < 3 ? uncond + 1.5f * (cond - uncond) : cond;
                }
            }
            float[] noise = java.util.Arrays.copyOf(Torch.randn(gen, 4, 4, 8, 8), 2 * per);
            img = steps.ddim(img, eps, i, 0, noise);
        }
        return img;
    }

    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    static double relL2(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }
}
