package dev.seer.cache;

import dev.seer.kernel.NativeKernels;
import dev.seer.model.BranchHooks;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * How a sampling run reuses branch outputs: a factory of per-run cache state ({@link RunCache}) that the sampling
 * loop uses without knowing the policy. {@link None} computes everything; {@link Fora} reuses the last full output
 * (order-0 forecasting); {@link TaylorSeer} forecasts with a Taylor expansion of the given max order (Liu et al.,
 * ICCV 2025). FORA(N) is exactly TaylorSeer(N, 0).
 *
 * <p>Every command and the Java API name a policy in one syntax, read by {@link #parse} alone: {@code none},
 * {@code fora:N}, {@code taylorseer:N:O}. A new policy is a new class and one line in {@link #KINDS}.
 */
public interface CachePolicy {
    /** Full steps every {@code interval} steps after the warm-up; 1 for a policy that never forecasts. */
    int interval();

    /** Highest Taylor order kept; 0 for FORA and None. */
    int maxOrder();

    /** The policy's kind, the first field of its {@link #spec}: none, fora, taylorseer. */
    String name();

    /** The policy in the syntax {@link #parse} reads. */
    String spec();

    /** For tables and pictures: "uncached", "FORA N=3", "TaylorSeer N=4 O=2". */
    default String label() {
        return spec();
    }

    /**
     * Whether its forecast steps skip the whole block stack and forecast the stack's output ({@link TaylorSeerLite}),
     * rather than forecasting each branch: what a forecast step costs.
     */
    default boolean forecastsStackOutput() {
        return false;
    }

    /**
     * Bytes of the Taylor factors a run holds, planned before it: (order + 1) factors of every hook point
     * ({@code branchElements}: the elements of every hook point's output in one network call, summed), at
     * {@code elementBytes} per element, saturating at Long.MAX_VALUE. {@code stackElements} (the block stack's output
     * in one call) is for policies that forecast it instead.
     */
    default long factorBytes(long branchElements, long stackElements, int elementBytes) {
        return saturatingProduct(saturatingProduct(maxOrder() + 1L, branchElements), elementBytes);
    }

    /** a * b for non-negative a and b, or Long.MAX_VALUE where it overflows. */
    static long saturatingProduct(long a, long b) {
        return Math.multiplyHigh(a, b) != 0 || a * b < 0 ? Long.MAX_VALUE : a * b;
    }

    /** The cache state of one run. */
    RunCache open(CacheRun run);

    record None() implements CachePolicy {
        @Override
        public int interval() {
            return 1;
        }

        @Override
        public int maxOrder() {
            return 0;
        }

        @Override
        public String name() {
            return "none";
        }

        @Override
        public String spec() {
            return "none";
        }

        @Override
        public String label() {
            return "uncached";
        }

        @Override
        public long factorBytes(long branchElements, long stackElements, int elementBytes) {
            return 0;
        }

        @Override
        public RunCache open(CacheRun run) {
            return new NoCache(BranchHooks.NONE, run.branches());
        }
    }

    record Fora(int interval) implements CachePolicy {
        public Fora {
            checkInterval(interval);
        }

        @Override
        public int maxOrder() {
            return 0;
        }

        @Override
        public String name() {
            return "fora";
        }

        @Override
        public String spec() {
            return "fora:" + interval;
        }

        @Override
        public String label() {
            return "FORA N=" + interval;
        }

        @Override
        public RunCache open(CacheRun run) {
            return TaylorCache.open(this, run);
        }
    }

    record TaylorSeer(int interval, int maxOrder) implements CachePolicy {
        public TaylorSeer {
            checkInterval(interval);
            if (maxOrder < 0 || maxOrder > NativeKernels.MAX_ORDER) {
                throw new IllegalArgumentException("order must be in 0.." + NativeKernels.MAX_ORDER + ", found " + maxOrder);
            }
        }

        @Override
        public String name() {
            return "taylorseer";
        }

        @Override
        public String spec() {
            return "taylorseer:" + interval + ":" + maxOrder;
        }

        @Override
        public String label() {
            return "TaylorSeer N=" + interval + " O=" + maxOrder;
        }

        @Override
        public RunCache open(CacheRun run) {
            return TaylorCache.open(this, run);
        }
    }

    /** Each policy kind by name: the syntax after the name (for messages) and how to build it from its numbers. */
    record Kind(String syntax, int fields, Function<int[], CachePolicy> make) {
    }

    /** The policies {@link #parse} knows, by name. */
    Map<String, Kind> KINDS = kinds();

    private static Map<String, Kind> kinds() {
        Map<String, Kind> m = new LinkedHashMap<>();
        m.put("none", new Kind("none", 0, f -> new None()));
        m.put("fora", new Kind("fora:N", 1, f -> new Fora(f[0])));
        m.put("taylorseer", new Kind("taylorseer:N:O", 2, f -> new TaylorSeer(f[0], f[1])));
        m.put(TaylorSeerLite.NAME, new Kind(TaylorSeerLite.NAME + ":N:O", 2, f -> new TaylorSeerLite(f[0], f[1])));
        return java.util.Collections.unmodifiableMap(m);
    }

    /** What {@link #parse} accepts, for messages: "none, fora:N, taylorseer:N:O (N >= 1, O in 0..4)". */
    static String syntax() {
        return String.join(", ", KINDS.values().stream().map(Kind::syntax).toList())
                + " (N >= 1, O in 0.." + NativeKernels.MAX_ORDER + ")";
    }

    /**
     * Reads a policy in the one syntax: {@code none}, {@code fora:N}, {@code taylorseer:N:O} (names in any case).
     *
     * @throws IllegalArgumentException naming the spec and what is allowed
     */
    static CachePolicy parse(String spec) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        String[] f = s.split(":", -1);
        Kind kind = KINDS.get(f[0]);
        if (kind == null || f.length != kind.fields() + 1) {
            throw new IllegalArgumentException("'" + spec + "' is not a cache policy; allowed: " + syntax());
        }
        int[] numbers = new int[kind.fields()];
        for (int i = 0; i < numbers.length; i++) {
            try {
                numbers[i] = Integer.parseInt(f[i + 1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + spec + "' is not a cache policy; allowed: " + syntax());
            }
        }
        try {
            return kind.make().apply(numbers);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + spec + "': " + e.getMessage() + "; allowed: " + syntax());
        }
    }

    /** As {@link #parse}, from the shorthand options {@code --cache NAME --interval N --order O}. */
    static CachePolicy of(String name, int interval, int order) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        Kind kind = KINDS.get(n);
        if (kind == null) {
            throw new IllegalArgumentException("'" + name + "' is not a cache policy; allowed: " + String.join(", ", KINDS.keySet()));
        }
        int[] numbers = Arrays.copyOf(new int[] {interval, order}, kind.fields());
        return parse(n + Arrays.stream(numbers).mapToObj(v -> ":" + v).reduce("", String::concat));
    }

    private static void checkInterval(int interval) {
        if (interval < 1) {
            throw new IllegalArgumentException("interval must be >= 1, found " + interval);
        }
    }
}
