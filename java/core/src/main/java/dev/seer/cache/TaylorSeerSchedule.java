package dev.seer.cache;

import dev.seer.kernel.NativeKernels;
import java.util.ArrayList;
import java.util.List;

/**
 * The TaylorSeer full/forecast step schedule of the official code (Shenyi-Z/TaylorSeer, {@code cal_type.py},
 * {@code cache_init.py} and {@code taylor_utils/__init__.py} of each model), as pure functions and a small
 * per-run state machine.
 *
 * <p>Steps are visited in loop order. The loop position p is s for a count-up model and S-1-s for DiT, whose
 * step index counts down. A step is full if p &lt; warm-up or the counter equals N - 1; a full step resets the
 * counter to 0, a forecast step increments it. At a full step the Taylor factors grow by one order (capped at
 * max_order) if the previous factors exist and p &gt;= the derivative gate, else they restart at order 0.
 *
 * <table>
 * <caption>Official configurations</caption>
 * <tr><th>model</th><th>direction</th><th>warm-up</th><th>derivative gate</th></tr>
 * <tr><td>DiT ({@code first_enhance = 2})</td><td>down</td><td>2 (steps S-1, S-2)</td><td>1 (none at S-1)</td></tr>
 * <tr><td>FLUX ({@code first_enhance = 3})</td><td>up</td><td>3 (steps 0, 1, 2)</td><td>2 (none at 0, 1)</td></tr>
 * <tr><td>HunyuanVideo, Wan2.1, HiDream ({@code first_enhance = 1})</td><td>up</td><td>1</td><td>0</td></tr>
 * </table>
 *
 * <p>Distances follow the official {@code activated_steps[-1] - activated_steps[-2]}. That list is seeded with
 * one entry ([49] for DiT, [0] otherwise), which makes the first full step's distance 0 for DiT at 50 steps and
 * for every count-up model; this class reports 0 there for any S. The value is never used: the gate blocks
 * derivatives at the first full step.
 */
public final class TaylorSeerSchedule {

    private TaylorSeerSchedule() {
    }

    /** Whether a network call computes the cached branches or forecasts them. */
    public enum StepKind {
        /** The branches run; the Taylor factors are rebuilt from their outputs. */
        FULL,
        /** The branch outputs are forecast from the factors of the latest full step. */
        FORECAST
    }

    /** The order in which step indices are visited. */
    public enum Direction {
        /** s = 0, 1, ..., S-1 (FLUX, HunyuanVideo, Wan, HiDream). */
        UP,
        /** s = S-1, ..., 1, 0 (DiT's respaced diffusion index). */
        DOWN
    }

    /**
     * What a model family's official schedule fixes, whatever the interval and order: the direction of its step
     * index, its warm-up full steps and its derivative gate (see the class comment's table).
     */
    public record Shape(Direction direction, int warmupSteps, int derivativeGate) {
        /** DiT ({@code first_enhance = 2}): counts down, warm-up S-1 and S-2, no derivatives at S-1. */
        public static final Shape DIT = new Shape(Direction.DOWN, 2, 1);
        /** FLUX and FLUX-Kontext ({@code first_enhance = 3}): counts up, warm-up 0, 1, 2, no derivatives at 0, 1. */
        public static final Shape FLUX = new Shape(Direction.UP, 3, 2);
        /** HunyuanVideo, Wan2.1, HiDream ({@code first_enhance = 1}): counts up, one warm-up step. */
        public static final Shape VIDEO = new Shape(Direction.UP, 1, 0);
        /** The official FORA branch of the count-up models: only step 0 forced full ({@link Config#fora}). */
        public static final Shape FORA = new Shape(Direction.UP, 1, 0);

        /** This shape's schedule for S steps, interval N and the given max order. */
        public Config config(int steps, int interval, int maxOrder) {
            return new Config(steps, interval, maxOrder, direction, warmupSteps, derivativeGate);
        }
    }

    /**
     * A schedule configuration.
     *
     * @param steps          S, the number of network calls, at least 1
     * @param interval       N: after the warm-up each full step is followed by N - 1 forecast steps; at least 1
     * @param maxOrder       the highest Taylor order, 0..{@value NativeKernels#MAX_ORDER} (0 is FORA: plain reuse)
     * @param direction      the order in which step indices are visited
     * @param warmupSteps    the number of leading loop positions that are always full, at least 1
     * @param derivativeGate the first loop position at which a full step may build derivatives, at least 0
     */
    public record Config(int steps, int interval, int maxOrder, Direction direction, int warmupSteps,
                         int derivativeGate) {

        /** Validates the parameters. */
        public Config {
            requireAtLeast("steps", steps, 1);
            requireAtLeast("interval", interval, 1);
            if (maxOrder < 0 || maxOrder > NativeKernels.MAX_ORDER) {
                throw new IllegalArgumentException("maxOrder must be in 0.." + NativeKernels.MAX_ORDER + ", found " + maxOrder);
            }
            if (direction == null) {
                throw new IllegalArgumentException("direction must not be null");
            }
            requireAtLeast("warmupSteps", warmupSteps, 1);
            requireAtLeast("derivativeGate", derivativeGate, 0);
        }

        /**
         * The official DiT schedule: steps count down, warm-up S-1 and S-2, no derivatives at S-1.
         *
         * @param steps    S
         * @param interval N
         * @param maxOrder max_order (0 gives FORA on DiT's schedule)
         * @return the configuration
         */
        public static Config dit(int steps, int interval, int maxOrder) {
            return Shape.DIT.config(steps, interval, maxOrder);
        }

        /**
         * The official FLUX schedule (also FLUX-Kontext): steps count up, warm-up 0, 1, 2, no derivatives at 0
         * and 1. The official defaults are N = 6, max_order = 1.
         *
         * @param steps    S
         * @param interval N
         * @param maxOrder max_order
         * @return the configuration
         */
        public static Config flux(int steps, int interval, int maxOrder) {
            return Shape.FLUX.config(steps, interval, maxOrder);
        }

        /**
         * The official video/HiDream schedule (HunyuanVideo, Wan2.1, HiDream): steps count up, one warm-up
         * step, derivatives from the second full step on.
         *
         * @param steps    S
         * @param interval N
         * @param maxOrder max_order
         * @return the configuration
         */
        public static Config video(int steps, int interval, int maxOrder) {
            return Shape.VIDEO.config(steps, interval, maxOrder);
        }

        /**
         * FORA (uniform reuse, order 0) as the official code's FORA branch runs it: steps count up, only step 0
         * is forced full, then every N-th step.
         *
         * @param steps    S
         * @param interval N
         * @return the configuration
         */
        public static Config fora(int steps, int interval) {
            return Shape.FORA.config(steps, interval, 0);
        }

        /**
         * @param position a loop position 0..S-1
         * @return the step index visited at that position
         */
        public int stepAt(int position) {
            return direction == Direction.UP ? position : steps - 1 - position;
        }

        /**
         * @param step a step index 0..S-1
         * @return its loop position
         */
        public int positionOf(int step) {
            return direction == Direction.UP ? step : steps - 1 - step;
        }
    }

    /**
     * The classification of one step and what a cache needs to act on it.
     *
     * @param step     the step index s
     * @param kind     full or forecast
     * @param lastFull the latest full step s_k (s itself for a full step)
     * @param distance d_k = s_k - s_(k-1), the divisor of this full step's finite differences (for a forecast,
     *                 that of its full step); 0 at the first full step, negative for DiT
     * @param delta    for a forecast, s - s_k (negative for DiT); 0 for a full step
     * @param order    the order p of the factors after this step (a full step sets it; a forecast uses it)
     */
    public record StepPlan(int step, StepKind kind, int lastFull, int distance, int delta, int order) {

        /** @return whether this step is full */
        public boolean isFull() {
            return kind == StepKind.FULL;
        }
    }

    /**
     * Classifies the steps of one sampling run, one network call at a time, like the official
     * {@code cal_type} with its counter. Create one per run (and per separately cached guidance branch).
     */
    public static final class Classifier {

        private final Config config;
        private int position;
        private int counter;
        private int lastFull = Integer.MIN_VALUE;
        private int distance;
        private int order = -1;

        /** @param config the schedule */
        public Classifier(Config config) {
            this.config = config;
        }

        /** @return the schedule */
        public Config config() {
            return config;
        }

        /**
         * Classifies the next step of the loop.
         *
         * @param s the step index; must be the next one in loop order
         * @return the plan for this step
         * @throws IllegalStateException if s is not the next step or the run is over
         */
        public StepPlan next(int s) {
            if (position >= config.steps()) {
                throw new IllegalStateException("all " + config.steps() + " steps have been classified");
            }
            int expected = config.stepAt(position);
            if (s != expected) {
                throw new IllegalStateException("expected step " + expected + " next, found " + s);
            }
            int p = position++;
            boolean full = p < config.warmupSteps() || counter == config.interval() - 1;
            if (full) {
                counter = 0;
                distance = lastFull == Integer.MIN_VALUE ? 0 : s - lastFull;
                lastFull = s;
                boolean grow = order >= 0 && p >= config.derivativeGate();
                order = grow ? Math.min(order + 1, config.maxOrder()) : 0;
                return new StepPlan(s, StepKind.FULL, s, distance, 0, order);
            }
            counter++;
            return new StepPlan(s, StepKind.FORECAST, lastFull, distance, s - lastFull, order);
        }

        /**
         * How many of the steps after the one classified last will be forecasts before the next full step (or the
         * end of the run), by the same rule as {@link #next}; classifies nothing. The factors stay as they are
         * across them, so a cache can prepare all their forecasts at once.
         */
        public int forecastsAhead() {
            int ahead = 0;
            int c = counter;
            for (int p = position; p < config.steps(); p++, c++, ahead++) {
                if (p < config.warmupSteps() || c == config.interval() - 1) {
                    break;
                }
            }
            return ahead;
        }

        /**
         * Turns the step just classified as a forecast into a full step (the fallback after a non-finite
         * forecast): the counter restarts and the factors grow as at any full step after the warm-up.
         */
        public StepPlan reclassifyAsFull(int s) {
            if (position == 0 || config.stepAt(position - 1) != s) {
                throw new IllegalStateException("step " + s + " is not the step classified last");
            }
            if (s == lastFull) {
                throw new IllegalStateException("step " + s + " is already full");
            }
            counter = 0;
            distance = s - lastFull;
            lastFull = s;
            order = Math.min(order + 1, config.maxOrder());
            return new StepPlan(s, StepKind.FULL, s, distance, 0, order);
        }

        /** @return how many steps have been classified */
        public int classified() {
            return position;
        }
    }

    /**
     * The official DiT plan (see {@link Config#dit}), in loop order S-1 down to 0.
     *
     * @param steps    S
     * @param interval N
     * @param maxOrder max_order
     * @return one plan per step, in loop order
     */
    public static List<StepPlan> plan(int steps, int interval, int maxOrder) {
        return plan(Config.dit(steps, interval, maxOrder));
    }

    /**
     * The whole plan of a configuration, in loop order.
     *
     * @param config the schedule
     * @return one plan per step, in loop order
     */
    public static List<StepPlan> plan(Config config) {
        Classifier c = new Classifier(config);
        List<StepPlan> out = new ArrayList<>(config.steps());
        for (int p = 0; p < config.steps(); p++) {
            out.add(c.next(config.stepAt(p)));
        }
        return List.copyOf(out);
    }

    /**
     * @param plan a plan
     * @return the full steps' indices, in loop order
     */
    public static int[] fullSteps(List<StepPlan> plan) {
        return plan.stream().filter(StepPlan::isFull).mapToInt(StepPlan::step).toArray();
    }

    private static void requireAtLeast(String name, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + ", found " + value);
        }
    }
}
