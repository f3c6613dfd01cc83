package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitWeights;
import dev.seer.model.dit.DitPipeline;
import dev.seer.model.dit.SampleRequest;
import dev.seer.tensor.SeerRuntime;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** The concurrency bench's bookkeeping (no timing is asserted: speed lives in docs/BENCHMARKS.md). */
class ThreadsBenchTest {

    @Test
    void runsEveryWorkerAndCountsEverySampling() throws Exception {
        DitConfig c = new DitConfig(8, 4, 1, 32, 2, 2, 4.0, 0.1, 3, true);
        DitModel model;
        try (Arena arena = Arena.ofConfined()) {
            model = DitModel.fromStateDict(c, DitWeights.random(c, 0, arena));
        }
        SampleRequest r = SampleRequest.builder(1).steps(3).cfgScale(2).policy(new CachePolicy.TaylorSeer(2, 1)).build();
        try (DitPipeline pipeline = new DitPipeline(model)) {
            ThreadsBench.Result split = ThreadsBench.run(pipeline, r, ThreadsBench.Mode.SPLIT, 3, 2, 1);
            assertEquals(6, split.samplings());
            assertEquals(1, split.threadsPerRun());
            assertTrue(split.wallSeconds() > 0 && split.median() > 0 && split.p95() >= split.median()
                    && split.max() >= split.p95() && split.maxOverMedian() >= 1);
            ThreadsBench.Result all = ThreadsBench.run(pipeline, r, ThreadsBench.Mode.ALL_CORES, 2, 1, 1);
            assertEquals(2, all.samplings());
            assertEquals(SeerRuntime.threads(), all.threadsPerRun());
            assertThrows(IllegalArgumentException.class, () -> ThreadsBench.run(pipeline, r, ThreadsBench.Mode.SPLIT, 0, 1, 1));
        }
    }

    @Test
    void quantilesAreNearestRank() {
        ThreadsBench.Result r = new ThreadsBench.Result(ThreadsBench.Mode.SPLIT, 1, 1,
                new double[] {5, 1, 4, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 10, 4);
        assertEquals(10, r.median());
        assertEquals(19, r.p95());
        assertEquals(20, r.max());
        assertEquals(2.0, r.throughput());
        assertEquals(0.2, r.cpuPerSampling());
    }
}
