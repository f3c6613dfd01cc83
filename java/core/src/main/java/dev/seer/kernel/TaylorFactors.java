package dev.seer.kernel;

import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The Taylor factors D^0..D^p of one cached branch: maxOrder + 1 buffers of the branch's shape, allocated once
 * (stable addresses for the whole run) together with the pointer array the kernels take. {@link #order()} is the
 * highest factor currently valid, or -1 before the first full step.
 */
public final class TaylorFactors {
    private final DType dtype;
    private final Shape shape;
    private final int maxOrder;
    private final Tensor[] factors;
    private final MemorySegment pointers;
    private int order = -1;

    private TaylorFactors(DType dtype, Shape shape, int maxOrder, Tensor[] factors, MemorySegment pointers) {
        this.dtype = dtype;
        this.shape = shape;
        this.maxOrder = maxOrder;
        this.factors = factors;
        this.pointers = pointers;
    }

    /** Allocates maxOrder + 1 zeroed buffers of {@code shape} in {@code arena}. */
    public static TaylorFactors allocate(Arena arena, DType dtype, Shape shape, int maxOrder) {
        if (arena == null) {
            throw new IllegalArgumentException("Taylor factors need an arena, a dtype and a shape, found arena null");
        }
        check(dtype, shape, maxOrder);
        Tensor[] f = new Tensor[maxOrder + 1];
        for (int i = 0; i <= maxOrder; i++) {
            f[i] = Tensor.allocate(arena, dtype, shape);
        }
        return of(arena, f);
    }

    /**
     * Factors over buffers allocated elsewhere (a pool's, which outlive one run): D^i is {@code buffers[i]}, none
     * valid yet, whatever the buffers hold. The pointer table the kernels take goes into {@code tables}; the
     * buffers must stay allocated as long as the factors are used.
     */
    public static TaylorFactors of(Arena tables, Tensor... buffers) {
        if (tables == null || buffers == null || buffers.length == 0) {
            throw new IllegalArgumentException("Taylor factors need an arena for their table and at least one buffer, found "
                    + (tables == null ? "arena null" : "no buffers"));
        }
        check(buffers[0] == null ? null : buffers[0].dtype(), buffers[0] == null ? null : buffers[0].shape(),
                buffers.length - 1);
        MemorySegment ptrs = tables.allocate(ValueLayout.ADDRESS, NativeKernels.MAX_ORDER + 1);
        for (int i = 0; i < buffers.length; i++) {
            Tensor b = buffers[i];
            if (b == null || b.dtype() != buffers[0].dtype() || !b.shape().equals(buffers[0].shape()) || !b.isContiguous()) {
                throw new IllegalArgumentException("Taylor factor buffer " + i + " must be a contiguous " + buffers[0].dtype()
                        + " tensor of shape " + buffers[0].shape() + ", found " + (b == null ? "null"
                        : (b.isContiguous() ? "" : "a strided ") + b.dtype() + " " + b.shape()));
            }
            ptrs.setAtIndex(ValueLayout.ADDRESS, i, b.segment());
        }
        return new TaylorFactors(buffers[0].dtype(), buffers[0].shape(), buffers.length - 1, buffers.clone(), ptrs);
    }

    /** Refuses what no factors can be: a null dtype or shape, a dtype the kernels do not store, a bad max order. */
    public static void check(DType dtype, Shape shape, int maxOrder) {
        if (dtype == null || shape == null) {
            throw new IllegalArgumentException("Taylor factors need a dtype and a shape, found "
                    + (dtype == null ? "dtype null" : "shape null"));
        }
        checkMaxOrder(maxOrder);
        if (!dtype.isKernelType()) {
            throw new IllegalArgumentException("Taylor factors must be F32, BF16 or F16, found " + dtype);
        }
    }

    static void checkMaxOrder(int maxOrder) {
        if (maxOrder < 0 || maxOrder > NativeKernels.MAX_ORDER) {
            throw new IllegalArgumentException("max order must be in 0.." + NativeKernels.MAX_ORDER + ", found " + maxOrder);
        }
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public int maxOrder() {
        return maxOrder;
    }

    /** Highest valid factor index, -1 when empty. */
    public int order() {
        return order;
    }

    public boolean isEmpty() {
        return order < 0;
    }

    /** D^i (valid for i <= order()). */
    public Tensor factor(int i) {
        if (i < 0 || i > maxOrder) {
            throw new IllegalArgumentException("factor index must be in 0.." + maxOrder + ", found " + i);
        }
        return factors[i];
    }

    /** Forgets every factor (a new run, or a full step that must rebuild from scratch). */
    public void clear() {
        order = -1;
    }

    /**
     * The factors' memory is still there and usable from this thread: their arena holds the buffers and the
     * pointer table, so a closed arena would hand C freed addresses.
     */
    void checkUsable(String op) {
        if (!pointers.scope().isAlive()) {
            throw new IllegalArgumentException(op + ": the factors' arena was closed");
        }
        if (!pointers.isAccessibleBy(Thread.currentThread())) {
            throw new IllegalArgumentException(op + ": the factors' arena is confined to another thread");
        }
    }

    void setOrder(int order) {
        this.order = order;
    }

    MemorySegment pointerArray() {
        return pointers;
    }

    long bytes() {
        return (long) factors.length * factors[0].byteSize();
    }

    /** Bytes held by the buffers (all maxOrder + 1 of them). */
    public long byteSize() {
        return bytes();
    }

    boolean overlaps(Tensor t) {
        for (Tensor f : factors) {
            if (Kernels.overlap(f, t)) {
                return true;
            }
        }
        return false;
    }
}
