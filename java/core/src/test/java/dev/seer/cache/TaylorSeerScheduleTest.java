package dev.seer.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.TaylorSeerSchedule.Classifier;
import dev.seer.cache.TaylorSeerSchedule.Config;
import dev.seer.cache.TaylorSeerSchedule.StepKind;
import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Expected tables were produced by running the official cal_type / derivative_approximation logic. */
class TaylorSeerScheduleTest {

    static Stream<Arguments> fullStepTables() {
        return Stream.of(
                Arguments.of("DiT N=4 O=3", Config.dit(50, 4, 3),
                        new int[] {49, 48, 44, 40, 36, 32, 28, 24, 20, 16, 12, 8, 4, 0},
                        new int[] {0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
                        new int[] {0, -1, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4}),
                Arguments.of("DiT N=5 O=3", Config.dit(50, 5, 3),
                        new int[] {49, 48, 43, 38, 33, 28, 23, 18, 13, 8, 3},
                        new int[] {0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3},
                        new int[] {0, -1, -5, -5, -5, -5, -5, -5, -5, -5, -5}),
                Arguments.of("DiT N=3 O=3", Config.dit(50, 3, 3),
                        new int[] {49, 48, 45, 42, 39, 36, 33, 30, 27, 24, 21, 18, 15, 12, 9, 6, 3, 0},
                        new int[] {0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
                        new int[] {0, -1, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3}),
                Arguments.of("DiT N=4 O=0 (FORA)", Config.dit(50, 4, 0),
                        new int[] {49, 48, 44, 40, 36, 32, 28, 24, 20, 16, 12, 8, 4, 0},
                        new int[14],
                        new int[] {0, -1, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4}),
                Arguments.of("FLUX N=6 O=2", Config.flux(50, 6, 2),
                        new int[] {0, 1, 2, 8, 14, 20, 26, 32, 38, 44},
                        new int[] {0, 0, 1, 2, 2, 2, 2, 2, 2, 2},
                        new int[] {0, 1, 1, 6, 6, 6, 6, 6, 6, 6}),
                Arguments.of("FLUX N=6 O=1 (official default)", Config.flux(50, 6, 1),
                        new int[] {0, 1, 2, 8, 14, 20, 26, 32, 38, 44},
                        new int[] {0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
                        new int[] {0, 1, 1, 6, 6, 6, 6, 6, 6, 6}),
                Arguments.of("HunyuanVideo N=5 O=1", Config.video(50, 5, 1),
                        new int[] {0, 5, 10, 15, 20, 25, 30, 35, 40, 45},
                        new int[] {0, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                        new int[] {0, 5, 5, 5, 5, 5, 5, 5, 5, 5}),
                Arguments.of("FORA N=3", Config.fora(10, 3),
                        new int[] {0, 3, 6, 9}, new int[4], new int[] {0, 3, 3, 3}),
                Arguments.of("DiT S=1", Config.dit(1, 4, 4), new int[] {0}, new int[] {0}, new int[] {0}),
                Arguments.of("DiT S=3 N=4", Config.dit(3, 4, 2), new int[] {2, 1}, new int[] {0, 1},
                        new int[] {0, -1}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fullStepTables")
    void fullStepsOrdersAndDistances(String name, Config config, int[] full, int[] orders, int[] distances) {
        List<StepPlan> plan = TaylorSeerSchedule.plan(config);
        assertEquals(config.steps(), plan.size());
        assertArrayEquals(full, TaylorSeerSchedule.fullSteps(plan));
        List<StepPlan> fulls = plan.stream().filter(StepPlan::isFull).toList();
        assertArrayEquals(orders, fulls.stream().mapToInt(StepPlan::order).toArray(), "orders");
        assertArrayEquals(distances, fulls.stream().mapToInt(StepPlan::distance).toArray(), "distances");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fullStepTables")
    void forecastsReferToTheLatestFullStep(String name, Config config, int[] full, int[] orders, int[] distances) {
        List<StepPlan> plan = TaylorSeerSchedule.plan(config);
        StepPlan last = null;
        for (int p = 0; p < plan.size(); p++) {
            StepPlan s = plan.get(p);
            assertEquals(config.stepAt(p), s.step(), "loop order");
            if (s.isFull()) {
                assertEquals(s.step(), s.lastFull());
                assertEquals(0, s.delta());
                last = s;
            } else {
                assertEquals(last.step(), s.lastFull());
                assertEquals(s.step() - last.step(), s.delta());
                assertEquals(last.order(), s.order());
                assertEquals(last.distance(), s.distance());
                assertTrue(Math.abs(s.delta()) >= 1 && Math.abs(s.delta()) < config.interval());
            }
        }
    }

    @Test
    void ditForecastDeltasAreNegative() {
        List<StepPlan> plan = TaylorSeerSchedule.plan(50, 4, 3);
        // Steps 47, 46, 45 follow the full step 48; 43, 42, 41 follow 44.
        int[] deltas = plan.stream().filter(s -> !s.isFull()).limit(6).mapToInt(StepPlan::delta).toArray();
        assertArrayEquals(new int[] {-1, -2, -3, -1, -2, -3}, deltas);
        assertEquals(new StepPlan(47, StepKind.FORECAST, 48, -1, -1, 1), plan.get(2));
        assertEquals(new StepPlan(44, StepKind.FULL, 44, -4, 0, 2), plan.get(5));
    }

    @Test
    void fluxForecastDeltasArePositive() {
        List<StepPlan> plan = TaylorSeerSchedule.plan(Config.flux(50, 6, 2));
        int[] deltas = IntStream.range(3, 8).map(p -> plan.get(p).delta()).toArray();
        assertArrayEquals(new int[] {1, 2, 3, 4, 5}, deltas);
    }

    @Test
    void intervalOneMakesEveryStepFull() {
        List<StepPlan> plan = TaylorSeerSchedule.plan(50, 1, 2);
        assertEquals(50, TaylorSeerSchedule.fullSteps(plan).length);
        // Orders grow 0, 1, 2 and stay capped; distances are -1 after the first step.
        assertArrayEquals(new int[] {0, 1, 2, 2, 2}, plan.stream().limit(5).mapToInt(StepPlan::order).toArray());
        assertTrue(plan.stream().skip(1).allMatch(s -> s.distance() == -1));
    }

    /** forecastsAhead() counts the forecast steps the plan has next, for every schedule family, S and N. */
    @Test
    void forecastsAheadCountsTheForecastStepsThatFollow() {
        for (int steps : new int[] {1, 7, 50}) {
            for (int interval = 1; interval <= 7; interval++) {
                for (Config config : List.of(Config.dit(steps, interval, 2), Config.flux(steps, interval, 1),
                        Config.video(steps, interval, 1), Config.fora(steps, interval))) {
                    List<StepPlan> plan = TaylorSeerSchedule.plan(config);
                    TaylorSeerSchedule.Classifier c = new TaylorSeerSchedule.Classifier(config);
                    for (int p = 0; p < steps; p++) {
                        c.next(config.stepAt(p));
                        int want = 0;
                        while (p + 1 + want < steps && !plan.get(p + 1 + want).isFull()) {
                            want++;
                        }
                        assertEquals(want, c.forecastsAhead(), config + " after position " + p);
                    }
                }
            }
        }
    }

    @Test
    void classifierMatchesPlanAndEnforcesLoopOrder() {
        Config config = Config.dit(50, 4, 3);
        Classifier c = new Classifier(config);
        List<StepPlan> plan = TaylorSeerSchedule.plan(config);
        for (int s = 49; s >= 0; s--) {
            assertEquals(plan.get(49 - s), c.next(s));
        }
        assertEquals(50, c.classified());
        assertThrows(IllegalStateException.class, () -> c.next(0));
        Classifier fresh = new Classifier(config);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> fresh.next(0));
        assertEquals("expected step 49 next, found 0", e.getMessage());
    }

    static Stream<Arguments> invalidConfigs() {
        return Stream.of(
                Arguments.of((Supplier<?>) () -> Config.dit(50, 0, 3), "interval must be >= 1, found 0"),
                Arguments.of((Supplier<?>) () -> Config.dit(0, 4, 3), "steps must be >= 1, found 0"),
                Arguments.of((Supplier<?>) () -> Config.dit(50, 4, 5), "maxOrder must be in 0..4, found 5"),
                Arguments.of((Supplier<?>) () -> Config.flux(50, 6, -1), "maxOrder must be in 0..4, found -1"),
                Arguments.of((Supplier<?>) () -> new Config(50, 4, 1, TaylorSeerSchedule.Direction.UP, 0, 0),
                        "warmupSteps must be >= 1, found 0"),
                Arguments.of((Supplier<?>) () -> new Config(50, 4, 1, TaylorSeerSchedule.Direction.UP, 1, -1),
                        "derivativeGate must be >= 0, found -1"),
                Arguments.of((Supplier<?>) () -> TaylorSeerSchedule.plan(50, -2, 1),
                        "interval must be >= 1, found -2"));
    }

    @ParameterizedTest
    @MethodSource("invalidConfigs")
    void invalidParametersAreNamed(Supplier<?> make, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::get);
        assertEquals(message, e.getMessage());
    }
}
