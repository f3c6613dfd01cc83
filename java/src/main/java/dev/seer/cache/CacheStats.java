package dev.seer.cache;

import java.util.ArrayList;
import java.util.List;

/**
 * What a cached run did: the full steps (loop indices, in loop order), how many branch evaluations were
 * computed and forecast, the bytes of Taylor factors held, and the steps that had to be recomputed in full
 * because a forecast was not finite.
 */
public record CacheStats(List<Integer> fullSteps, List<Integer> forecastSteps, long computedBranches,
                         long forecastBranches, long cacheBytes, List<Integer> nonFiniteFallbacks) {

    static final class Builder {
        private final List<Integer> forecast = new ArrayList<>();
        private final List<Integer> fallbacks = new ArrayList<>();
        private long computed;
        private long predicted;

        Builder(int numSteps) {
        }

        void recordStep(int step, boolean full) {
            if (!full) {
                forecast.add(step);
            }
        }

        void recordFallback(int step) {
            fallbacks.add(step);
            forecast.remove(Integer.valueOf(step));
        }

        void recordBranch(boolean wasComputed) {
            if (wasComputed) {
                computed++;
            } else {
                predicted++;
            }
        }

        CacheStats build(List<Integer> fullSteps, long bytes) {
            return new CacheStats(fullSteps, List.copyOf(forecast), computed, predicted, bytes, List.copyOf(fallbacks));
        }
    }
}
