package dev.seer.sampling;

/** Told after each sampling step; the CLI draws a progress bar with it. Called on the sampling thread. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total, full) -> { };

    /**
     * @param done  steps finished so far (1..total)
     * @param total steps in the run
     * @param full  whether the step just finished ran every branch (false: forecast)
     */
    void onStep(int done, int total, boolean full);
}
