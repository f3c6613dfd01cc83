package dev.seer.tensor;

import org.bytedeco.pytorch.global.torch.ScalarType;

/** Element types Seer stores. Kernels take F32, BF16 and F16; the others appear in checkpoints and labels. */
public enum DType {
    F32(4, "F32", ScalarType.Float, 0),
    BF16(2, "BF16", ScalarType.BFloat16, 1),
    F16(2, "F16", ScalarType.Half, 2),
    F64(8, "F64", ScalarType.Double, -1),
    I64(8, "I64", ScalarType.Long, -1),
    I32(4, "I32", ScalarType.Int, -1),
    I16(2, "I16", ScalarType.Short, -1),
    I8(1, "I8", ScalarType.Char, -1),
    U8(1, "U8", ScalarType.Byte, -1),
    BOOL(1, "BOOL", ScalarType.Bool, -1);

    private final int byteSize;
    private final String safetensorsName;
    private final ScalarType torchType;
    private final int kernelCode;

    DType(int byteSize, String safetensorsName, ScalarType torchType, int kernelCode) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
        this.torchType = torchType;
        this.kernelCode = kernelCode;
    }

    public int byteSize() {
        return byteSize;
    }

    /** The dtype string of the safetensors header ("F32", "BF16", ...). */
    public String safetensorsName() {
        return safetensorsName;
    }

    public ScalarType torchType() {
        return torchType;
    }

    /** True for the storage types the Taylor kernels accept. */
    public boolean isKernelType() {
        return kernelCode >= 0;
    }

    /** The seer_dtype code of seer.h; only valid when {@link #isKernelType()}. */
    public int kernelCode() {
        if (kernelCode < 0) {
            throw new IllegalArgumentException("dtype " + this + " is not a kernel storage type (expected F32, BF16 or F16)");
        }
        return kernelCode;
    }

    public boolean isFloatingPoint() {
        return this == F32 || this == BF16 || this == F16 || this == F64;
    }

    public static DType fromSafetensors(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unsupported safetensors dtype '" + name + "'");
    }

    public static DType fromTorch(ScalarType type) {
        // JavaCPP returns fresh enum objects from native calls; intern() gives the constant that == can match.
        ScalarType canonical = type.intern();
        for (DType d : values()) {
            if (d.torchType == canonical) {
                return d;
            }
        }
        throw new IllegalArgumentException("unsupported libtorch scalar type " + type);
    }
}
