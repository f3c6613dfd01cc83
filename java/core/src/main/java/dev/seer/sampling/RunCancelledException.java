package dev.seer.sampling;

/**
 * Ends a sampling run between two steps: its caller cancelled it ({@link Cancellation#cancel}), its deadline passed,
 * or its pipeline is closing. The run's memory is freed before this reaches the caller; nothing was written.
 */
public final class RunCancelledException extends RuntimeException {
    private final int stepsDone;

    public RunCancelledException(String reason, int stepsDone) {
        super(reason + " (after " + stepsDone + " steps)");
        this.stepsDone = stepsDone;
    }

    /** Steps the run had finished. */
    public int stepsDone() {
        return stepsDone;
    }
}
