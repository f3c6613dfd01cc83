package dev.seer.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A description of dense, contiguous (row-major) memory: dtype, shape, device and address. For host memory it
 * also carries a {@link MemorySegment} view. It owns nothing by itself: {@code owner} is whatever keeps the
 * memory alive (an arena, a libtorch tensor, a mapped file), held so that the address is never the only
 * reference to the memory. Operations live in facades ({@code Torch}, {@code dev.seer.kernel.Kernels}).
 */
public final class Tensor {
    /** Host allocations are aligned for AVX-512 loads. */
    public static final long HOST_ALIGNMENT = 64;

    private final DType dtype;
    private final Shape shape;
    private final Device device;
    private final long address;
    private final MemorySegment segment;
    private final Object owner;

    private Tensor(DType dtype, Shape shape, Device device, long address, MemorySegment segment, Object owner) {
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = Objects.requireNonNull(shape, "shape");
        this.device = Objects.requireNonNull(device, "device");
        this.address = address;
        this.segment = segment;
        this.owner = owner;
    }

    /** A host tensor over {@code segment}, which must be exactly numel * itemsize bytes. */
    public static Tensor ofSegment(DType dtype, Shape shape, MemorySegment segment, Object owner) {
        if (dtype == null || shape == null || segment == null) {
            throw new IllegalArgumentException("a tensor needs a dtype, a shape and a segment, found "
                    + (dtype == null ? "dtype null" : shape == null ? "shape null" : "segment null"));
        }
        long bytes = byteSize(dtype, shape);
        if (segment.byteSize() != bytes) {
            throw new IllegalArgumentException("a " + dtype + " tensor of shape " + shape + " needs " + bytes
                    + " bytes, the segment has " + segment.byteSize());
        }
        return new Tensor(dtype, shape, Device.CPU, segment.address(), segment, owner);
    }

    /** A device tensor known only by address (CUDA memory owned by {@code owner}). */
    public static Tensor ofDeviceAddress(DType dtype, Shape shape, Device device, long address, Object owner) {
        if (device.isCpu()) {
            throw new IllegalArgumentException("ofDeviceAddress is for non-CPU devices, found " + device);
        }
        return new Tensor(dtype, shape, device, address, null, owner);
    }

    /** Zero-filled host memory from {@code arena}, 64-byte aligned; lives as long as the arena. */
    public static Tensor allocate(Arena arena, DType dtype, Shape shape) {
        if (arena == null || dtype == null || shape == null) {
            throw new IllegalArgumentException("an allocation needs an arena, a dtype and a shape, found "
                    + (arena == null ? "arena null" : dtype == null ? "dtype null" : "shape null"));
        }
        long bytes = byteSize(dtype, shape);
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), HOST_ALIGNMENT).asSlice(0, bytes);
        return new Tensor(dtype, shape, Device.CPU, seg.address(), seg, arena);
    }

    /** numel * itemsize, refused when it does not fit a long. */
    public static long byteSize(DType dtype, Shape shape) {
        long n = shape.numel();
        if (n > Long.MAX_VALUE / dtype.byteSize()) {
            throw new IllegalArgumentException("a " + dtype + " tensor of shape " + shape + " needs more than "
                    + Long.MAX_VALUE + " bytes");
        }
        return n * dtype.byteSize();
    }

    public static Tensor allocate(Arena arena, DType dtype, long... dims) {
        return allocate(arena, dtype, Shape.of(dims));
    }

    /** Float32 host tensor holding a copy of {@code values}. */
    public static Tensor ofFloats(Arena arena, float[] values, long... dims) {
        Shape shape = Shape.of(dims);
        if (shape.numel() != values.length) {
            throw new IllegalArgumentException("shape " + shape + " holds " + shape.numel() + " values, found " + values.length);
        }
        Tensor t = allocate(arena, DType.F32, shape);
        MemorySegment.copy(values, 0, t.segment, ValueLayout.JAVA_FLOAT, 0, values.length);
        return t;
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public Device device() {
        return device;
    }

    public long address() {
        return address;
    }

    public Object owner() {
        return owner;
    }

    public long numel() {
        return shape.numel();
    }

    public long byteSize() {
        return shape.numel() * dtype.byteSize();
    }

    /** Seer tensors are always dense and row-major; views of strided libtorch tensors are refused. */
    public boolean isContiguous() {
        return true;
    }

    /** The host memory; throws for device tensors. */
    public MemorySegment segment() {
        if (segment == null) {
            throw new IllegalStateException("tensor on " + device + " has no host memory view");
        }
        return segment;
    }

    /** The same memory with another shape of the same element count. */
    public Tensor reshape(long... dims) {
        Shape s = Shape.of(dims);
        if (s.numel() != numel()) {
            throw new IllegalArgumentException("cannot reshape " + shape + " (" + numel() + " elements) to " + s
                    + " (" + s.numel() + " elements)");
        }
        return new Tensor(dtype, s, device, address, segment, owner);
    }

    /** Rows [from, to) along dimension 0, as a view of the same memory. */
    public Tensor narrow0(long from, long to) {
        if (shape.rank() == 0 || from < 0 || to > shape.dim(0) || from > to) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") are outside dimension 0 of " + shape);
        }
        long[] dims = shape.toArray();
        long rowBytes = byteSize() / Math.max(dims[0], 1);
        dims[0] = to - from;
        MemorySegment seg = segment == null ? null : segment.asSlice(from * rowBytes, (to - from) * rowBytes);
        return new Tensor(dtype, Shape.of(dims), device, address + from * rowBytes, seg, owner);
    }

    /** Copies the elements out as floats (F32, BF16, F16, F64 host tensors). */
    public float[] toFloatArray() {
        MemorySegment seg = segment();
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        switch (dtype) {
            case F32 -> MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 0, out, 0, n);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) seg.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = HalfFloats.bf16ToFloat(seg.getAtIndex(ValueLayout.JAVA_SHORT, i));
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(seg.getAtIndex(ValueLayout.JAVA_SHORT, i));
                }
            }
            default -> throw new IllegalArgumentException("toFloatArray needs a floating-point tensor, found " + dtype);
        }
        return out;
    }

    /** Writes floats into the tensor, rounding to its dtype (round to nearest even). */
    public void copyFrom(float[] values) {
        MemorySegment seg = segment();
        if (values.length != numel()) {
            throw new IllegalArgumentException("tensor of shape " + shape + " holds " + numel() + " values, found " + values.length);
        }
        switch (dtype) {
            case F32 -> MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT, 0, values.length);
            case F64 -> {
                for (int i = 0; i < values.length; i++) {
                    seg.setAtIndex(ValueLayout.JAVA_DOUBLE, i, values[i]);
                }
            }
            case BF16 -> {
                for (int i = 0; i < values.length; i++) {
                    seg.setAtIndex(ValueLayout.JAVA_SHORT, i, HalfFloats.floatToBf16(values[i]));
                }
            }
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    seg.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(values[i]));
                }
            }
            default -> throw new IllegalArgumentException("copyFrom needs a floating-point tensor, found " + dtype);
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + shape + " " + device + "]";
    }
}
