package dev.seer.model;

/** The floating-point work of one network call of a model, for a run's statistics. */
public interface CallFlops {
    /** FLOPs of a full ({@code full}) or forecast call as the family's paper counts them. */
    double official(boolean full);

    /**
     * All the work a call really does: a full call that builds Taylor factors up to {@code order}, or a forecast
     * call that evaluates them up to {@code order}.
     */
    double actual(boolean full, int order);

    /**
     * FLOPs, as the family's paper counts them, of a call whose whole block stack was skipped and its output forecast
     * ({@link BranchHooks#wholeStack}, TaylorSeer-Lite): only the parts outside the stack.
     */
    double officialStackForecast();

    /** All the work of such a call: the parts outside the stack and the forecast of its output up to {@code order}. */
    double actualStackForecast(int order);

    /** Work done once per run whatever its steps (e.g. text conditioning prepared for every call): 0 by default. */
    default double actualPerRun() {
        return 0;
    }
}
