package dev.seer.kernel;

/**
 * The CPU implementations of each kernel (seer_variant in seer.h). AUTO is the fastest one this machine runs. The
 * CUDA kernels are a library of their own ({@link CudaKernels}), not a variant.
 */
public enum Variant {
    AUTO(0), REF(1), AVX2(2), AVX512(3);

    private final int code;

    Variant(int code) {
        this.code = code;
    }

    /** The seer_variant code of seer.h. */
    public int code() {
        return code;
    }

    public static Variant fromCode(int code) {
        for (Variant v : values()) {
            if (v.code == code) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown variant code " + code);
    }
}
