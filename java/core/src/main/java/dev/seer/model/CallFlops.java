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

    /** Work done once per run whatever its steps (e.g. text conditioning prepared for every call): 0 by default. */
    default double actualPerRun() {
        return 0;
    }
}
