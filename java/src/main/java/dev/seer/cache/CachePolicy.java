package dev.seer.cache;

import dev.seer.kernel.NativeKernels;
import java.util.Locale;

/**
 * How a sampling run reuses branch outputs. {@link None} computes everything; {@link Fora} reuses the last full
 * output (order-0 forecasting); {@link TaylorSeer} forecasts with a Taylor expansion of the given max order
 * (Liu et al., ICCV 2025). FORA(N) is exactly TaylorSeer(N, 0).
 */
public sealed interface CachePolicy {
    /** Full steps every {@code interval} steps after the warm-up; 1 for {@link None}. */
    int interval();

    /** Highest Taylor order kept; 0 for FORA and None. */
    int maxOrder();

    /** Short name used by the CLI and reports: none, fora, taylorseer. */
    String name();

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
    }

    /** Parses a policy name (none, fora, taylorseer; case-insensitive) with its parameters. */
    static CachePolicy of(String name, int interval, int order) {
        if (name == null) {
            throw new IllegalArgumentException("cache policy name is null; expected none, fora or taylorseer");
        }
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "none" -> new None();
            case "fora" -> new Fora(interval);
            case "taylorseer" -> new TaylorSeer(interval, order);
            default -> throw new IllegalArgumentException("unknown cache policy '" + name + "'; expected none, fora or taylorseer");
        };
    }

    private static void checkInterval(int interval) {
        if (interval < 1) {
            throw new IllegalArgumentException("interval must be >= 1, found " + interval);
        }
    }
}
