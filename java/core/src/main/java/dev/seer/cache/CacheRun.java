package dev.seer.cache;

import dev.seer.kernel.Variant;

/**
 * What a {@link CachePolicy} needs to open one run's cache state.
 *
 * @param steps          network calls in the run (S)
 * @param schedule       the family's official TaylorSeer schedule shape (direction, warm-up, derivative gate)
 * @param foraSchedule   the family's official FORA schedule shape (DiT: its TaylorSeer shape at order 0)
 * @param branches       hook points the model offers per network call
 * @param variant        kernel variant (AUTO: the fastest)
 * @param forecastSums   whether forecast steps add sums prepared at the first of them (see {@link TaylorCache})
 * @param factorPool     where factor memory comes from and goes back to; null: allocated per run
 * @param forecastErrors if not null, every forecast step also computes each branch and reports its error here
 * @param factorDtype    how the factors of float32 branch outputs are stored (F32: exact)
 */
public record CacheRun(int steps, TaylorSeerSchedule.Shape schedule, TaylorSeerSchedule.Shape foraSchedule, int branches,
                       Variant variant, ForecastSums forecastSums, FactorPool factorPool,
                       TaylorCache.ForecastErrorSink forecastErrors, FactorDtype factorDtype) {
    /** A run with float32 factors. */
    public CacheRun(int steps, TaylorSeerSchedule.Shape schedule, TaylorSeerSchedule.Shape foraSchedule, int branches,
                    Variant variant, ForecastSums forecastSums, FactorPool factorPool,
                    TaylorCache.ForecastErrorSink forecastErrors) {
        this(steps, schedule, foraSchedule, branches, variant, forecastSums, factorPool, forecastErrors, FactorDtype.F32);
    }

    public CacheRun {
        if (factorDtype == null) {
            throw new IllegalArgumentException("a cache run needs a factor dtype (" + FactorDtype.allowed() + "), found null");
        }
        if (steps < 1 || branches < 0 || schedule == null || foraSchedule == null || variant == null
                || forecastSums == null) {
            throw new IllegalArgumentException("a cache run needs steps >= 1, branches >= 0, schedules, a variant and a"
                    + " forecast-sums mode, found steps " + steps + ", branches " + branches + ", schedule " + schedule
                    + ", FORA schedule " + foraSchedule
                    + ", variant " + variant + ", forecast sums " + forecastSums);
        }
    }
}
