package dev.seer.sampling;

import java.time.Duration;

/**
 * A cancel handle and an optional deadline for one or more runs, checked by the sampling loop between steps: a
 * service cancels it when its client has gone, or gives it the request's time budget. Thread-safe.
 */
public final class Cancellation {
    private final long deadlineNanos;
    private volatile boolean cancelled;

    private Cancellation(long deadlineNanos) {
        this.deadlineNanos = deadlineNanos;
    }

    /** A handle without a deadline. */
    public static Cancellation create() {
        return new Cancellation(Long.MAX_VALUE);
    }

    /** A handle whose runs end at the first step boundary after {@code budget} from now. */
    public static Cancellation withDeadline(Duration budget) {
        if (budget == null || budget.isNegative()) {
            throw new IllegalArgumentException("deadline must be a duration >= 0, found " + budget);
        }
        long now = System.nanoTime();
        long nanos = budget.compareTo(Duration.ofDays(365)) > 0 ? Long.MAX_VALUE - now : budget.toNanos();
        return new Cancellation(now + nanos);
    }

    /** Ends the runs that use this handle at their next step boundary. */
    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /** Throws {@link RunCancelledException} when cancelled or past the deadline. */
    public void check(int stepsDone) {
        if (cancelled) {
            throw new RunCancelledException("the run was cancelled", stepsDone);
        }
        if (deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos >= 0) {
            throw new RunCancelledException("the run's deadline passed", stepsDone);
        }
    }
}
