package dev.seer.model.dit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.sampling.Cancellation;
import dev.seer.sampling.RunCancelledException;
import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Cancellation, deadlines and closing a pipeline while runs are inside it. */
class RunLifecycleTest {
    static Arena arena;
    static DitModel model;

    @BeforeAll
    static void load() {
        arena = Arena.ofShared();
        model = DitModel.fromStateDict(DitPipelineTest.TINY, DitWeights.random(DitPipelineTest.TINY, 3, arena));
    }

    @AfterAll
    static void close() {
        model.close();
        arena.close();
    }

    @Test
    void aCancelledRunEndsAtTheNextStepAndGivesItsMemoryBack() {
        try (DitPipeline pipeline = new DitPipeline(model)) {
            Cancellation c = Cancellation.create();
            SampleRequest req = SampleRequest.builder(1, 2).steps(20).policy(new CachePolicy.TaylorSeer(3, 2)).cancellation(c)
                    .listener((done, total, full) -> {
                        if (done == 7) {
                            c.cancel();
                        }
                    }).build();
            RunCancelledException e = assertThrows(RunCancelledException.class, () -> pipeline.sample(req));
            assertEquals(7, e.stepsDone());
            assertTrue(e.getMessage().contains("cancelled"), e.getMessage());
            assertTrue(pipeline.keptFactorBytes() > 0, "the run's factor memory went back to the pipeline");
            // the pipeline goes on serving
            SampleRequest.Builder again = SampleRequest.builder(1, 2).steps(20).policy(new CachePolicy.TaylorSeer(3, 2));
            assertEquals(20, pipeline.sample(again.build()).stats().fullSteps().size()
                    + pipeline.sample(again.build()).stats().forecastSteps().size());
        }
    }

    @Test
    void aRunPastItsDeadlineEnds() {
        try (DitPipeline pipeline = new DitPipeline(model)) {
            SampleRequest req = SampleRequest.builder(1).steps(10).cancellation(Cancellation.withDeadline(Duration.ZERO)).build();
            RunCancelledException e = assertThrows(RunCancelledException.class, () -> pipeline.sample(req));
            assertEquals(0, e.stepsDone());
            assertTrue(e.getMessage().contains("deadline"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Cancellation.withDeadline(Duration.ofSeconds(-1)));
        }
    }

    /**
     * Four threads sample on one pipeline while it is closed, 25 times: runs in progress end with
     * RunCancelledException at a step boundary, runs that come after the close are refused with
     * IllegalStateException, nothing else happens, and the model serves a new pipeline afterwards.
     */
    @Test
    void closingUnderLoadEndsRunsAtAStepBoundaryAndNothingElse() throws Exception {
        ConcurrentLinkedQueue<Throwable> other = new ConcurrentLinkedQueue<>();
        AtomicInteger cancelled = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        for (int round = 0; round < 25; round++) {
            DitPipeline pipeline = new DitPipeline(model);
            AtomicInteger started = new AtomicInteger();
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                CachePolicy policy = w % 2 == 0 ? new CachePolicy.TaylorSeer(3, 2) : new CachePolicy.None();
                Thread t = new Thread(() -> {
                    try {
                        while (true) {
                            started.incrementAndGet();
                            pipeline.sample(SampleRequest.builder(1, 4).steps(30).policy(policy).build());
                        }
                    } catch (RunCancelledException e) {
                        cancelled.incrementAndGet();
                    } catch (IllegalStateException e) {
                        if (e.getMessage().equals("the pipeline is closed")) {
                            refused.incrementAndGet();
                        } else {
                            other.add(e);
                        }
                    } catch (Throwable e) {
                        other.add(e);
                    }
                });
                t.start();
                workers.add(t);
            }
            while (started.get() < 4) {
                Thread.onSpinWait();
            }
            Thread.sleep(round % 5);
            pipeline.close();
            for (Thread t : workers) {
                t.join(60_000);
                assertTrue(!t.isAlive(), "a worker ended after the close");
            }
            assertEquals(0, pipeline.keptFactorBytes(), "closing freed the kept factor memory");
        }
        assertEquals(List.of(), List.copyOf(other), "exceptions other than the two documented ones");
        assertEquals(100, cancelled.get() + refused.get());
        assertTrue(cancelled.get() > 0, "some runs were inside the pipeline when it closed");
        try (DitPipeline fresh = new DitPipeline(model)) {
            assertEquals(5, fresh.sample(SampleRequest.builder(1).steps(5).build()).stats().fullSteps().size());
        }
    }
}
