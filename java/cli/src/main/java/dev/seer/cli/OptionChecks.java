package dev.seer.cli;

import dev.seer.cache.CachePolicy;
import dev.seer.kernel.NativeKernels;
import dev.seer.sampling.SamplerKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The CLI's option checks. Every refusal has one shape, so users and tests can rely on it:
 * {@code --steps: 0 is not allowed; allowed: 1..1000}: the option, the value found, the allowed values.
 * Commands check every option before any work starts (the API checks again, in its own words).
 */
final class OptionChecks {
    private OptionChecks() {
    }

    static IllegalArgumentException invalid(String option, Object value, String allowed) {
        String shown = value instanceof String s ? "'" + s + "'" : String.valueOf(value);
        return new IllegalArgumentException(option + ": " + shown + " is not allowed; allowed: " + allowed);
    }

    /** min <= value <= max. */
    static void range(String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw invalid(option, value, min + ".." + max);
        }
    }

    /** value >= min. */
    static void atLeast(String option, long value, long min) {
        if (value < min) {
            throw invalid(option, value, "an integer >= " + min);
        }
    }

    /** A finite value >= min (and <= max). */
    static void finiteRange(String option, double value, double min, double max) {
        if (!(value >= min && value <= max) || Double.isInfinite(value)) {
            throw invalid(option, value, max == Double.MAX_VALUE
                    ? "a finite number >= " + fmt(min) : "a number in [" + fmt(min) + ", " + fmt(max) + "]");
        }
    }

    /** A finite value > 0 (and <= max). */
    static void positive(String option, double value, double max) {
        if (!(value > 0 && value <= max) || Double.isInfinite(value)) {
            throw invalid(option, value, max == Double.MAX_VALUE ? "a finite number > 0" : "a number in (0, " + fmt(max) + "]");
        }
    }

    /** min <= value < max (a half-open range, such as a decay in [0, 1)). */
    static void halfOpen(String option, double value, double min, double max) {
        if (!(value >= min && value < max)) {
            throw invalid(option, value, "a number in [" + fmt(min) + ", " + fmt(max) + ")");
        }
    }

    /** An input file that must exist (null: the option was not given). */
    static void existingFile(String option, Path file, String allowed) {
        if (file != null && !Files.isRegularFile(file)) {
            throw invalid(option, file.toString(), allowed + " (no such file)");
        }
    }

    /**
     * An output file given as text: {@link #writableFile(String, Path)}, and no trailing '/' (which names a
     * directory; Path would drop it and write a file of the directory's name). Null stays null.
     */
    static Path outputFile(String option, String value) {
        if (value == null) {
            return null;
        }
        if (value.isEmpty() || value.endsWith("/") || value.endsWith(java.io.File.separator)) {
            throw invalid(option, value, "a file path (a trailing '" + java.io.File.separator + "' names a directory)");
        }
        Path file;
        try {
            file = Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            throw invalid(option, value, "a file path (" + e.getReason() + ")");
        }
        writableFile(option, file);
        return file;
    }

    /**
     * An output file whose directory exists and is writable, and which is absent or a regular file (never a
     * directory or device, which the write would replace), checked before hours of work rather than after.
     */
    static void writableFile(String option, Path file) {
        if (file == null) {
            return;
        }
        if (Files.isDirectory(file)) {
            throw invalid(option, file.toString(), "a file path, not a directory");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw invalid(option, file.toString(), "a new file or an existing regular file (this is a device, FIFO or socket)");
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw invalid(option, file.toString(), "a file in an existing, writable directory (" + dir + " is not one)");
        }
    }

    /** A cache policy in the one syntax {@link CachePolicy#parse} reads: {@code none}, {@code fora:N}, {@code taylorseer:N:O}. */
    static CachePolicy policy(String option, String spec) {
        try {
            return CachePolicy.parse(spec);
        } catch (IllegalArgumentException e) {
            throw invalid(option, spec, CachePolicy.syntax());
        }
    }

    /**
     * The run's cache policy from {@code --policy SPEC} or its shorthand {@code --cache NAME --interval N --order O}
     * (not both; null: not given), the shorthand's interval and order defaulting to the model family's official ones.
     */
    static CachePolicy policy(String spec, String cache, Integer interval, Integer order, int defaultInterval,
                              int defaultOrder) {
        if (spec != null) {
            if (cache != null || interval != null || order != null) {
                throw invalid("--policy", spec, "either --policy or --cache/--interval/--order, not both");
            }
            return policy("--policy", spec);
        }
        int n = interval == null ? defaultInterval : interval;
        int o = order == null ? defaultOrder : order;
        range("--interval", n, 1, 1000);
        range("--order", o, 0, NativeKernels.MAX_ORDER);
        String name = cache == null ? "taylorseer" : cache.toLowerCase(Locale.ROOT);
        if (!CachePolicy.KINDS.containsKey(name)) {
            throw invalid("--cache", cache, String.join(", ", CachePolicy.KINDS.keySet()));
        }
        return CachePolicy.of(name, n, o);
    }

    /** A sampler name: ddim or ddpm (case-insensitive). */
    static SamplerKind sampler(String option, String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "ddim" -> SamplerKind.DDIM;
            case "ddpm" -> SamplerKind.DDPM;
            default -> throw invalid(option, name, "ddim or ddpm");
        };
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}
