package dev.seer.cache;

import dev.seer.tensor.DType;
import java.util.Locale;

/**
 * How a {@link TaylorCache} stores the Taylor factors of float32 branch outputs. The arithmetic is float32 whatever
 * the choice (load, compute, round once on store: native/include/seer.h); only the stored factors change, so the
 * full steps stay those of the uncached model and the cache's memory and factor traffic shrink. F32, the default, is
 * exact: the bit-identity and official-code checks use it. A branch whose output is already bf16 or f16 keeps its own
 * dtype for its factors.
 */
public enum FactorDtype {
    /** float32 factors: the official numerics (the default). */
    F32(DType.F32),
    /** bfloat16 factors: half the bytes, f32's range, 8 significant bits. */
    BF16(DType.BF16),
    /** IEEE half factors: half the bytes, 11 significant bits, range up to 65504 (larger values become infinite). */
    F16(DType.F16);

    private final DType storage;

    FactorDtype(DType storage) {
        this.storage = storage;
    }

    /** The storage type of the factors of a branch whose output has dtype {@code branch}. */
    public DType storageFor(DType branch) {
        return branch == DType.F32 ? storage : branch;
    }

    /** The lower-case name the options take: f32, bf16, f16. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The names {@link #parse} accepts, for messages: "f32, bf16, f16". */
    public static String allowed() {
        return "f32, bf16, f16";
    }

    /** f32, bf16 or f16 (any case). */
    public static FactorDtype parse(String s) {
        return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
            case "f32" -> F32;
            case "bf16" -> BF16;
            case "f16" -> F16;
            default -> throw new IllegalArgumentException("factor dtype must be one of " + allowed() + ", found '" + s + "'");
        };
    }
}
