package dev.seer.model.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.FactorDtype;
import dev.seer.cache.ForecastSums;
import dev.seer.model.BranchHooks;
import dev.seer.model.StepContext;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.sampling.DiffusionSteps;
import dev.seer.tensor.Torch;
import dev.seer.sampling.GaussianDiffusion;
import dev.seer.sampling.SampleResult;
import dev.seer.sampling.SamplerKind;
import java.lang.foreign.Arena;
import org.bytedeco.pytorch.global.torch.ScalarType;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DitPipelineTest {
    static final DitConfig TINY = new DitConfig(8, 2, 4, 64, 3, 4, 4.0, 0.1, 10, true);
    static Arena arena;
    static DitModel model;
    static DitPipeline pipeline;

    @BeforeAll
    static void load() {
        arena = Arena.ofShared();
        model = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 3, arena));
        pipeline = new DitPipeline(model);
    }

    @AfterAll
    static void close() {
        pipeline.close();
        model.close();
        arena.close();
    }

    static SampleRequest.Builder request(CachePolicy policy) {
        return SampleRequest.builder(1, 7).steps(50).seed(11).policy(policy);
    }

    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    @Test
    void intervalOneEqualsTheUncachedModelBitForBit() {
        float[] uncached = pipeline.sample(request(new CachePolicy.None()).build()).latents();
        for (int order = 0; order <= 4; order++) {
            SampleResult r = pipeline.sample(request(new CachePolicy.TaylorSeer(1, order)).build());
            assertArrayEquals(bits(uncached), bits(r.latents()), "order " + order);
            assertEquals(50, r.stats().fullSteps().size());
        }
    }

    @Test
    void aRunLimitedToOneThreadGivesTheSameBits() {
        SampleRequest.Builder r = request(new CachePolicy.TaylorSeer(4, 2));
        float[] all = pipeline.sample(r.build()).latents();
        assertArrayEquals(bits(all), bits(pipeline.sample(r.threads(1).build()).latents()));
        var e = assertThrows(IllegalArgumentException.class, () -> r.threads(-1).build());
        assertTrue(e.getMessage().contains("threads must be in 0..1024"), e.getMessage());
    }

    @Test
    void aRequestsClippingOverridesThePipelines() {
        SampleRequest.Builder r = request(new CachePolicy.None()).steps(10);
        try (DitPipeline clipping = new DitPipeline(model, true)) {
            assertArrayEquals(bits(clipping.sample(r.build()).latents()), bits(pipeline.sample(r.clipDenoised(true).build()).latents()));
            assertArrayEquals(bits(pipeline.sample(r.clipDenoised(null).build()).latents()),
                    bits(clipping.sample(r.clipDenoised(false).build()).latents()));
        }
    }

    @Test
    void aRunWhoseSamplesStopBeingFiniteSaysAfterWhichStep() {
        assertEquals(-1, pipeline.sample(request(new CachePolicy.None()).steps(5).build()).stats().firstNonFiniteStep());
        float[] huge = new float[2 * 4 * 8 * 8];
        java.util.Arrays.fill(huge, 3e38f);
        SampleResult r = pipeline.sample(request(new CachePolicy.None()).steps(5).noise(huge).build());
        assertTrue(!r.stats().finite(), "noise at the edge of float range overflows");
        assertEquals(4, r.stats().firstNonFiniteStep(), "the first step (index 4, counting down) already overflows");
    }

    @Test
    void keptFactorMemoryChangesNoBit() {
        SampleRequest o2 = request(new CachePolicy.TaylorSeer(4, 2)).build();
        SampleRequest fora = request(new CachePolicy.Fora(3)).forecastSums(ForecastSums.ON).build();
        try (DitModel copy = DitModel.fromStateDict(TINY, pipeline.model().stateDict()); DitPipeline fresh = new DitPipeline(copy)) {
            float[] first = fresh.sample(o2).latents();
            long kept = fresh.keptFactorBytes();
            assertTrue(kept > 0, "a finished run's factors are kept");
            // runs that reuse them, in another order and with sums, then the first request again
            float[] other = fresh.sample(fora).latents();
            assertArrayEquals(bits(pipeline.sample(fora).latents()), bits(other));
            assertArrayEquals(bits(first), bits(fresh.sample(o2).latents()));
            assertEquals(kept, fresh.keptFactorBytes(), "runs one after another: never more than one run's factors kept");
            fresh.releaseKeptMemory();
            assertEquals(0, fresh.keptFactorBytes());
            assertArrayEquals(bits(first), bits(fresh.sample(o2).latents()));
        }
    }

    @Test
    void orderZeroIsFora() {
        float[] fora = pipeline.sample(request(new CachePolicy.Fora(4)).build()).latents();
        float[] ts0 = pipeline.sample(request(new CachePolicy.TaylorSeer(4, 0)).build()).latents();
        assertArrayEquals(bits(fora), bits(ts0));
    }

    /**
     * Measuring the forecast error computes every branch at forecast steps but still adds the forecast: the run keeps
     * the cached trajectory, and every (forecast step, branch) pair gets one finite error.
     */
    @Test
    void measuringForecastErrorsKeepsTheCachedTrajectory() {
        CachePolicy policy = new CachePolicy.TaylorSeer(4, 2);
        SampleResult plain = pipeline.sample(request(policy).build());
        java.util.Map<String, Double> errors = new java.util.LinkedHashMap<>();
        SampleResult measured = pipeline.sample(request(policy)
                .forecastErrors((step, point, err) -> errors.put(step + " " + point.name(), err)).build());
        assertTrue(relL2(measured.latents(), plain.latents()) <= 1e-6, "relative L2 " + relL2(measured.latents(), plain.latents()));
        assertEquals(plain.stats().fullSteps(), measured.stats().fullSteps());
        int forecastSteps = plain.stats().forecastSteps().size();
        assertEquals(forecastSteps * 2 * TINY.depth(), errors.size());
        for (var e : errors.entrySet()) {
            assertTrue(Double.isFinite(e.getValue()) && e.getValue() > 0 && e.getValue() < 10, e.toString());
        }
    }

    /**
     * Seer's fused kernels and schedule against a transcription of the official cache code, every interval and
     * order, with the forecast sums (the default) and in the official order.
     */
    @Test
    void matchesTheOfficialCacheAlgorithm() {
        for (int interval = 1; interval <= 6; interval++) {
            for (int order = 0; order <= 4; order++) {
                float[] official = sampleWithHooks(new OfficialTaylorHooks(interval, order));
                for (ForecastSums sums : new ForecastSums[] {ForecastSums.ON, ForecastSums.OFF}) {
                    SampleResult seer = pipeline.sample(request(new CachePolicy.TaylorSeer(interval, order))
                            .forecastSums(sums).build());
                    double rel = relL2(seer.latents(), official);
                    assertTrue(rel <= 1e-6, "N=" + interval + " O=" + order + ", forecast sums " + sums
                            + ": relative L2 " + rel);
                }
            }
        }
    }

    /**
     * bf16 and f16 factors: Seer's run equals the official cache with every stored factor rounded by libtorch's own
     * conversion (float32 arithmetic, one rounding per stored factor), and differs from the f32 run by far more.
     */
    @Test
    void narrowFactorsMatchTheOfficialCacheWithItsFactorsRoundedByLibtorch() {
        float[] f32 = pipeline.sample(request(new CachePolicy.TaylorSeer(5, 2)).build()).latents();
        for (FactorDtype dtype : new FactorDtype[] {FactorDtype.BF16, FactorDtype.F16}) {
            float[] oracle = sampleWithHooks(new OfficialTaylorHooks(5, 2, v -> roundedByLibtorch(v, dtype)));
            for (ForecastSums sums : new ForecastSums[] {ForecastSums.ON, ForecastSums.OFF}) {
                SampleResult seer = pipeline.sample(request(new CachePolicy.TaylorSeer(5, 2)).factorDtype(dtype)
                        .forecastSums(sums).build());
                double rel = relL2(seer.latents(), oracle);
                assertTrue(rel <= 1e-6, dtype + ", forecast sums " + sums + ": relative L2 to the oracle " + rel);
            }
            double fromF32 = relL2(oracle, f32);
            assertTrue(fromF32 > 1e-5, dtype + ": the rounding must show, relative L2 to the f32 run " + fromF32);
        }
    }

    /** v rounded to the dtype and back by libtorch's tensor conversion (round to nearest even). */
    static float[] roundedByLibtorch(float[] v, FactorDtype dtype) {
        try (Arena a = Arena.ofConfined(); org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            var t = Torch.wrap(dev.seer.tensor.Tensor.ofFloats(a, v, v.length));
            var narrow = dtype == FactorDtype.BF16 ? ScalarType.BFloat16 : ScalarType.Half;
            return Torch.view(t.to(narrow).to(ScalarType.Float).contiguous()).toFloatArray();
        }
    }

    /** The forecast sums add the same terms in another order: the latents move at float rounding, not more. */
    @Test
    void forecastSumsChangeTheLatentsAtRoundingOnly() {
        for (int interval : new int[] {3, 5}) {
            CachePolicy policy = new CachePolicy.TaylorSeer(interval, 2);
            float[] withSums = pipeline.sample(request(policy).forecastSums(ForecastSums.ON).build()).latents();
            float[] official = pipeline.sample(request(policy).forecastSums(ForecastSums.OFF).build()).latents();
            // the tiny model's factors are far below the automatic threshold: auto runs the official order
            float[] auto = pipeline.sample(request(policy).build()).latents();
            assertArrayEquals(bits(official), bits(auto));
            double rel = relL2(withSums, official);
            assertTrue(rel > 0 && rel <= 1e-6, "N=" + interval + ": relative L2 " + rel);
        }
    }

    /** The same sampling loop as DitPipeline, but driving arbitrary hooks (per-branch, no stack replacement). */
    static float[] sampleWithHooks(BranchHooks hooks) {
        SampleRequest req = request(new CachePolicy.None()).build();
        GaussianDiffusion diffusion = GaussianDiffusion.create("50", 1000);
        DiffusionSteps steps = new DiffusionSteps(diffusion);
        var gen = org.bytedeco.pytorch.global.torch.createCPUGenerator(req.seed());
        int per = 4 * 8 * 8;
        float[] img = Torch.randn(gen, 2, 4, 8, 8);
        long[] labels = {1, 7, 10, 10};
        for (int i = 49; i >= 0; i--) {
            float[] xIn = new float[4 * per];
            for (int b = 0; b < 4; b++) {
                System.arraycopy(img, (b % 2) * per, xIn, b * per, per);
            }
            int t = diffusion.timestep(i);
            float[] out = pipeline.model().forward(xIn, 4, new long[] {t, t, t, t}, labels,
                    new StepContext(i, 50, t, StepContext.Guidance.JOINT), hooks);
            float[] eps = new float[2 * per];
            for (int b = 0; b < 2; b++) {
                for (int k = 0; k < per; k++) {
                    int ch = k / 64;
                    float cond = out[b * 2 * per + k];
                    float uncond = out[(b + 2) * 2 * per + k];
                    eps[b * per + k] = ch < 3 ? uncond + 1.5f * (cond - uncond) : cond;
                }
            }
            float[] noise = java.util.Arrays.copyOf(Torch.randn(gen, 4, 4, 8, 8), 2 * per);
            img = steps.ddim(img, eps, i, 0, noise);
        }
        return img;
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

    @Test
    void statsFollowTheOfficialScheduleAndFlopsCount() {
        SampleResult r = pipeline.sample(request(new CachePolicy.TaylorSeer(5, 2)).forecastSums(ForecastSums.ON).build());
        assertEquals(List.of(49, 48, 43, 38, 33, 28, 23, 18, 13, 8, 3), r.stats().fullSteps());
        assertEquals(11L * 2 * TINY.depth(), r.stats().computedBranches());
        assertEquals(39L * 2 * TINY.depth(), r.stats().forecastBranches());
        // 6 branches x 3 factors, and the forecast sums of 4 steps, of (4 rows x 16 tokens x 64 channels) floats
        assertEquals((6L * 3 + 4) * 4 * 16 * 64 * 4, r.stats().cacheBytes());
        SampleResult official = pipeline.sample(request(new CachePolicy.TaylorSeer(5, 2)).forecastSums(ForecastSums.OFF).build());
        assertEquals(6L * 3 * 4 * 16 * 64 * 4, official.stats().cacheBytes());
        SampleResult none = pipeline.sample(request(new CachePolicy.None()).build());
        double ratio = none.stats().flopsOfficial() / r.stats().flopsOfficial();
        assertTrue(ratio > 4 && ratio < 50.0 / 11, "FLOPs speedup " + ratio);
        assertTrue(r.stats().flopsActual() > r.stats().flopsOfficial());
    }

    @Test
    void ddpmAndEtaAreDeterministicForASeed() {
        SampleResult a = pipeline.sample(request(new CachePolicy.None()).sampler(SamplerKind.DDPM).steps(20).build());
        SampleResult b = pipeline.sample(request(new CachePolicy.None()).sampler(SamplerKind.DDPM).steps(20).build());
        assertArrayEquals(bits(a.latents()), bits(b.latents()));
        SampleResult c = pipeline.sample(request(new CachePolicy.None()).sampler(SamplerKind.DDPM).steps(20).seed(12).build());
        assertTrue(relL2(a.latents(), c.latents()) > 1e-3);
        SampleResult e = pipeline.sample(request(new CachePolicy.None()).eta(1.0).steps(20).build());
        assertTrue(relL2(e.latents(), pipeline.sample(request(new CachePolicy.None()).steps(20).build()).latents()) > 1e-3);
    }

    @Test
    void badRequestsAreRefusedBeforeAnyWork() {
        var e = assertThrows(IllegalArgumentException.class, () -> pipeline.sample(SampleRequest.builder(10).build()));
        assertEquals("labels must be in 0..9, found 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pipeline.sample(SampleRequest.builder(1).noise(new float[5]).build()));
        assertTrue(e.getMessage().contains("noise must have shape (1, 4, 8, 8)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SampleRequest.builder(1).steps(0).build());
        assertEquals("steps must be >= 1, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CachePolicy.TaylorSeer(0, 2));
        assertEquals("interval must be >= 1, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CachePolicy.TaylorSeer(3, 5));
        assertEquals("order must be in 0..4, found 5", e.getMessage());
    }
}
