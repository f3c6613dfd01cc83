package dev.seer.eval;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.FactorDtype;
import java.util.Locale;

/**
 * One row of the policy bench: a cache policy at a number of sampling steps. The family groups rows for plots:
 * "uncached" (the baseline), "steps" (uncached with fewer steps: the equal-FLOPs baseline of a cached row), and
 * otherwise the policy's own name (fora, taylorseer, and any policy added later). A cached row stores its Taylor
 * factors in {@code factorDtype}; uncached rows have none and say F32.
 */
public record BenchRow(String family, CachePolicy policy, int steps, FactorDtype factorDtype) {
    public BenchRow {
        if (factorDtype == null) {
            throw new IllegalArgumentException("a bench row needs a factor dtype (" + FactorDtype.allowed() + "), found null");
        }
    }

    /** A row with float32 factors. */
    public BenchRow(String family, CachePolicy policy, int steps) {
        this(family, policy, steps, FactorDtype.F32);
    }

    /** This row with its factors stored in {@code dtype} (a cached row's variant for the factor-dtype columns). */
    public BenchRow withFactorDtype(FactorDtype dtype) {
        return new BenchRow(family, policy, steps, dtype);
    }

    public static final String UNCACHED = "uncached";
    public static final String FEWER_STEPS = "steps";

    public static BenchRow uncached(int steps) {
        return new BenchRow(UNCACHED, new CachePolicy.None(), steps);
    }

    public static BenchRow fewerSteps(int steps) {
        return new BenchRow(FEWER_STEPS, new CachePolicy.None(), steps);
    }

    public static BenchRow cached(CachePolicy policy, int steps) {
        if (policy instanceof CachePolicy.None) {
            throw new IllegalArgumentException("a cached row needs a caching policy, found none");
        }
        return new BenchRow(policy.name(), policy, steps);
    }

    public boolean isCached() {
        return !(policy instanceof CachePolicy.None);
    }

    /** A short human label: "uncached 50 steps", "12 steps", "FORA N=5", "TaylorSeer N=5 O=2". */
    public String label() {
        return switch (family) {
            case UNCACHED -> "uncached " + steps + " steps";
            case FEWER_STEPS -> steps + " steps";
            default -> factorDtype == FactorDtype.F32 ? policy.label() : policy.label() + " " + factorDtype.cliName();
        };
    }

    /** A file-name friendly id: uncached-50, steps-12, fora-5, taylorseer-5-2. */
    public String id() {
        return switch (family) {
            case UNCACHED -> "uncached-" + steps;
            case FEWER_STEPS -> "steps-" + steps;
            default -> (policy instanceof CachePolicy.Fora
                    ? family + "-" + policy.interval()
                    : String.format(Locale.ROOT, "%s-%d-%d", family, policy.interval(), policy.maxOrder()))
                    + (factorDtype == FactorDtype.F32 ? "" : "-" + factorDtype.cliName());
        };
    }
}
