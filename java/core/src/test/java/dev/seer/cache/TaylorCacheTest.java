package dev.seer.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.kernel.Variant;
import dev.seer.model.StepContext;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitWeights;
import dev.seer.model.dit.DitPipeline;
import dev.seer.model.dit.SampleRequest;
import dev.seer.sampling.SampleResult;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class TaylorCacheTest {
    static final DitConfig TINY = new DitConfig(8, 2, 4, 32, 2, 2, 4.0, 0.1, 5, true);

    @Test
    void aNonFiniteForecastIsDetectedAndTheStepRecomputedInFull() {
        try (Arena arena = Arena.ofShared(); DitModel model = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 2, arena));
             TaylorCache cache = new TaylorCache(new CachePolicy.TaylorSeer(3, 2), 10, Variant.AUTO)) {
            float[] x = new float[2 * 4 * 64];
            long[] t = {500, 500};
            long[] y = {1, 5};
            for (int s = 9; s >= 7; s--) {
                model.forward(x, 2, t, y, new StepContext(s, 10, 500, StepContext.Guidance.JOINT), cache);
            }
            // steps 9, 8 full; 7 forecast. Poison one factor, then step 6 (a forecast) must be flagged.
            var factors = cache.factorsOf(model.hookPoints().get(1));
            float[] d = factors.factor(0).toFloatArray();
            d[3] = Float.POSITIVE_INFINITY;
            factors.factor(0).copyFrom(d);
            StepContext six = new StepContext(6, 10, 500, StepContext.Guidance.JOINT);
            model.forward(x, 2, t, y, six, cache);
            assertFalse(cache.currentStepIsFull());
            assertTrue(cache.lastForecastWasNonFinite());
            cache.redoAsFull();
            float[] out = model.forward(x, 2, t, y, six, cache);
            assertTrue(cache.currentStepIsFull());
            assertFalse(cache.lastForecastWasNonFinite());
            for (float v : out) {
                assertTrue(Float.isFinite(v));
            }
            CacheStats stats = cache.stats();
            assertEquals(List.of(6), stats.nonFiniteFallbacks());
            assertEquals(List.of(9, 8, 6), stats.fullSteps());
            assertEquals(List.of(7), stats.forecastSteps());
        }
    }

    /**
     * With a run's conditioning the first forecast step after a full step prepares the sums of the whole window
     * (steps 7 and 6 here): a non-finite factor makes the sum non-finite, and the step is flagged and redone in
     * full.
     */
    @Test
    void aNonFiniteForecastSumIsDetectedAndTheStepRecomputedInFull() {
        long[] schedule = new long[10];
        for (int p = 0; p < 10; p++) {
            schedule[p] = (9 - p) * 100L;
        }
        long[] y = {1, 5};
        try (Arena arena = Arena.ofShared(); DitModel model = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 2, arena));
             TaylorCache cache = new TaylorCache(new CachePolicy.TaylorSeer(3, 2), 10, Variant.AUTO);
             var conditioning = model.stepConditioning(schedule, y)) {
            cache.forecastSums(ForecastSums.ON); // the tiny model's factors are below the automatic threshold
            float[] x = new float[2 * 4 * 64];
            java.util.function.IntFunction<float[]> step = s -> model.forward(x, 2, new long[] {s * 100L, s * 100L}, y,
                    new StepContext(s, 10, s * 100, StepContext.Guidance.JOINT), cache, conditioning, null);
            step.apply(9);
            step.apply(8);
            var factors = cache.factorsOf(model.hookPoints().get(1));
            float[] d = factors.factor(0).toFloatArray();
            d[3] = Float.POSITIVE_INFINITY;
            factors.factor(0).copyFrom(d);
            step.apply(7);
            assertFalse(cache.currentStepIsFull());
            assertTrue(cache.lastForecastWasNonFinite());
            long sumBytes = cache.stats().cacheBytes() - 2L * 2 * 3 * 2 * 16 * 32 * 4;
            assertEquals(2L * 2 * 16 * 32 * 4, sumBytes, "the sums of the window's two forecast steps");
            cache.redoAsFull();
            float[] out = step.apply(7);
            assertTrue(cache.currentStepIsFull());
            assertFalse(cache.lastForecastWasNonFinite());
            for (float v : out) {
                assertTrue(Float.isFinite(v));
            }
            assertEquals(List.of(7), cache.stats().nonFiniteFallbacks());
            assertEquals(List.of(9, 8, 7), cache.stats().fullSteps());
        }
    }

    @Test
    void concurrentSamplingsEqualTheSameSamplingsRunOneAfterAnother() throws Exception {
        try (Arena arena = Arena.ofShared();
             DitModel model = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 4, arena));
             DitPipeline pipeline = new DitPipeline(model)) {
            List<SampleRequest> requests = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                requests.add(SampleRequest.builder(i, 4 - i).steps(20).seed(100 + i)
                        .policy(i % 2 == 0 ? new CachePolicy.TaylorSeer(3, 2) : new CachePolicy.Fora(2)).build());
            }
            List<float[]> sequential = new ArrayList<>();
            for (SampleRequest r : requests) {
                sequential.add(pipeline.sample(r).latents());
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<SampleResult>> futures = new ArrayList<>();
                for (SampleRequest r : requests) {
                    futures.add(pool.submit(() -> pipeline.sample(r)));
                }
                for (int i = 0; i < 4; i++) {
                    assertArrayEquals(sequential.get(i), futures.get(i).get().latents(), "sampling " + i);
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
