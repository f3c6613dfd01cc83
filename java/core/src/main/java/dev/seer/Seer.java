package dev.seer;

import dev.seer.tensor.SeerRuntime;

/**
 * Seer's process-wide set-up. Everything Seer changes in the process (thread counts, environment variables read by
 * native libraries, malloc thresholds, where native libraries are extracted) is listed in {@link SeerOptions}, set
 * once when Seer first starts (the first model load, sampling or kernel call), and logged at debug level (logger
 * {@code dev.seer.tensor.SeerRuntime}).
 *
 * <pre>{@code
 * // at service start-up, before anything else of Seer runs:
 * Seer.configure(SeerOptions.builder()
 *         .threads(8)                       // libtorch's process-wide count; runs can ask for fewer (ThreadLimit)
 *         .tuneMalloc(false)                // leave glibc's malloc alone
 *         .extractDir(Path.of("/opt/app/natives"))
 *         .build());
 * // or change nothing in the process at all:
 * Seer.configure(SeerOptions.untouched());
 * }</pre>
 *
 * <p>Without a call to {@code configure}, Seer starts with {@link SeerOptions#defaults()}: system properties and
 * environment variables read at start.
 */
public final class Seer {
    private Seer() {
    }

    /**
     * Sets the options Seer starts with. Call it before Seer's first use; until then the last call wins, and after
     * it only the options Seer started with are accepted (a no-op).
     *
     * @throws IllegalStateException    if Seer has already started with other options
     * @throws IllegalArgumentException if options is null
     */
    public static void configure(SeerOptions options) {
        SeerRuntime.configure(options);
    }

    /** The options Seer started with, or will start with (the configured ones, else the defaults). */
    public static SeerOptions options() {
        return SeerRuntime.options();
    }

    /** Whether Seer has started (its process-wide settings are applied and libtorch is loaded). */
    public static boolean started() {
        return SeerRuntime.started();
    }
}
