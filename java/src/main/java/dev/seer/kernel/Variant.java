package dev.seer.kernel;

/** The implementations of each kernel. AUTO is the fastest CPU variant this machine runs. */
public enum Variant {
    AUTO(0), REF(1), AVX2(2), AVX512(3), CUDA(-1);

    private final int code;

    Variant(int code) {
        this.code = code;
    }

    /** The seer_variant code of seer.h (CPU variants only). */
    public int code() {
        if (this == CUDA) {
            throw new IllegalArgumentException("CUDA is not a CPU variant");
        }
        return code;
    }

    public boolean isCpu() {
        return this != CUDA;
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
