package dev.seer.model;

import java.util.List;
import java.util.Locale;

/**
 * The memory a sampling run will need at its peak, planned before anything is allocated (any family): the process's
 * fixed cost, the weights as the model holds them, the copies made while they load, one
 * network call's activations and the cache's Taylor factors. The parts add up: what loading freed stays with the process
 * (the allocator keeps it; measured, docs/BENCHMARKS.md "Memory plan"), so the planned peak is their sum.
 *
 * @param model       what is planned, for messages ("DiT-S/2, 2 rows")
 * @param process     bytes of the process itself: the JVM, libtorch and Seer's libraries ({@link #PROCESS_BYTES})
 * @param weights     bytes of the weights as the model holds them
 * @param loading     bytes held besides the weights while they load (the source's copies)
 * @param loadingNote how the loading bytes were counted
 * @param activations bytes of one network call's activations at their peak
 * @param cache       bytes of the cache policy's Taylor factors (and forecast sums)
 * @param cacheNote   how the cache bytes were counted
 */
public record MemoryPlan(String model, long process, long weights, long loading, String loadingNote, long activations,
                         long cache, String cacheNote) {
    /**
     * The process's own resident memory before any model: the JVM, libtorch and Seer's libraries, measured as the peak
     * resident memory of {@code seer sample} on a DiT with 1 block of width 64 (docs/BENCHMARKS.md, "Memory plan").
     */
    public static final long PROCESS_BYTES = 272L << 20;

    public MemoryPlan {
        if (process < 0 || weights < 0 || loading < 0 || activations < 0 || cache < 0) {
            throw new IllegalArgumentException("a memory plan's bytes are >= 0, found process " + process + ", weights "
                    + weights + ", loading " + loading + ", activations " + activations + ", cache " + cache);
        }
    }

    /** The planned peak: process + weights + loading + activations + cache, saturating at Long.MAX_VALUE. */
    public long total() {
        return add(add(add(process, weights), loading), add(activations, cache));
    }

    /** Whether the planned peak fits in {@code availableBytes}. */
    public boolean fits(long availableBytes) {
        return total() <= availableBytes;
    }

    /** The total and its parts in one line: "T (process P + weights W + loading L + activations A + cache C)". */
    public String summary() {
        return bytes(total()) + " (process " + bytes(process) + " + weights " + bytes(weights) + " + loading "
                + bytes(loading) + " + activations " + bytes(activations) + " + cache " + bytes(cache) + ")";
    }

    /** The plan as a table, one line per part, the total last. */
    public List<String> lines() {
        return List.of(
                row("model", model, ""),
                row("process", bytes(process), "JVM, libtorch and Seer's libraries (measured)"),
                row("weights", bytes(weights), "as the model holds them"),
                row("loading", bytes(loading), loadingNote),
                row("activations", bytes(activations), "one network call at its peak"),
                row("cache", bytes(cache), cacheNote),
                row("total", bytes(total()), "the sum: the peak resident memory planned"));
    }

    /** Bytes as "1.23 GiB" or "456.7 MiB". */
    public static String bytes(long b) {
        if (b == Long.MAX_VALUE) {
            return "more than 8 EiB";
        }
        return b >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
    }

    private static String row(String name, String value, String note) {
        return String.format(Locale.ROOT, "%-12s %-12s %s", name, value, note).stripTrailing();
    }

    /** a * b, or Long.MAX_VALUE where it overflows (inputs are non-negative). */
    public static long mul(long a, long b) {
        return Math.multiplyHigh(a, b) != 0 || a * b < 0 ? Long.MAX_VALUE : a * b;
    }

    /** a + b, or Long.MAX_VALUE where it overflows (inputs are non-negative). */
    public static long add(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }
}
