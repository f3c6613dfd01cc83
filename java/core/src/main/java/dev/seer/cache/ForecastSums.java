package dev.seer.cache;

import java.util.Locale;

/**
 * Whether a {@link TaylorCache} prepares the forecast sums of a window of forecast steps at its first step (see
 * the class comment there) or runs one multi-branch forecast per step in the official op order.
 */
public enum ForecastSums {
    /**
     * Sums when the stack's factors exceed {@link #AUTO_MIN_FACTOR_BYTES}: then every forecast step would stream them
     * from memory, and reading them once per window wins (DiT-S/2, 56 MiB: 0.9 against 1.3 ms a forecast step).
     * Smaller factors are read from the cache at little cost and the sums' extra work is not repaid (the shipped
     * Fashion-MNIST DiT, 19 MB: the same forecast-step time either way within the machine's noise), so there AUTO
     * keeps the official op order.
     */
    AUTO,
    /** Always sums (windows of one forecast step excepted). */
    ON,
    /** Never: each forecast step runs the multi-branch forecast in the official op order. */
    OFF;

    /** AUTO's threshold on the stack's factor bytes: the last-level cache of the machines Seer is measured on. */
    public static final long AUTO_MIN_FACTOR_BYTES = 32L << 20;

    /** Whether a stack with this many bytes of factors uses sums. */
    public boolean appliesTo(long factorBytes) {
        return this == ON || this == AUTO && factorBytes > AUTO_MIN_FACTOR_BYTES;
    }

    /** auto, on or off (any case). */
    public static ForecastSums parse(String s) {
        return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "on" -> ON;
            case "off" -> OFF;
            default -> throw new IllegalArgumentException("forecast sums must be auto, on or off, found '" + s + "'");
        };
    }
}
