package dev.seer.cache;

import java.util.List;

/**
 * What a cached run did: the full and forecast steps (loop indices, in loop order), how many branch
 * evaluations were computed and forecast, the bytes of Taylor factors held, and the steps recomputed in full
 * because a forecast was not finite.
 */
public record CacheStats(List<Integer> fullSteps, List<Integer> forecastSteps, long computedBranches,
                         long forecastBranches, long cacheBytes, List<Integer> nonFiniteFallbacks) {
}
