package dev.seer.sampling;

import java.util.List;

/**
 * What a sampling run did and cost.
 *
 * @param fullSteps         loop indices of the full steps, in loop order
 * @param forecastSteps     loop indices of the forecast steps
 * @param computedBranches  branch evaluations really computed
 * @param forecastBranches  branch evaluations forecast
 * @param flopsOfficial     FLOPs as the official TaylorSeer code counts them (per CFG pair)
 * @param flopsActual       FLOPs really spent, including embedders, final layer and the Taylor work
 * @param cacheBytes        bytes of Taylor factors held
 * @param seconds           wall time of the whole run
 * @param secondsFull       wall time of the full steps' network calls
 * @param secondsForecast   wall time of the forecast steps' network calls
 * @param secondsOther      the rest: sampler arithmetic, noise, guidance, set-up
 * @param nonFiniteFallbacks steps recomputed in full because a forecast was NaN or infinite
 * @param firstNonFiniteStep the step index after which the samples first held a NaN or infinite value, or -1 when
 *                          they stayed finite (the result is then unusable: a caller should not write it)
 */
public record RunStats(List<Integer> fullSteps, List<Integer> forecastSteps, long computedBranches,
                       long forecastBranches, double flopsOfficial, double flopsActual, long cacheBytes,
                       double seconds, double secondsFull, double secondsForecast, double secondsOther,
                       List<Integer> nonFiniteFallbacks, int firstNonFiniteStep) {
    /** Whether the final samples are finite. */
    public boolean finite() {
        return firstNonFiniteStep < 0;
    }
}
