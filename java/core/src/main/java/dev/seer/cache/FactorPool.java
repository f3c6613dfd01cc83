package dev.seer.cache;

import dev.seer.kernel.TaylorFactors;
import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Taylor factor memory kept from one sampling run to the next. A run's factors are one buffer per branch and order
 * (18 MB on the shipped model, 56 MB on DiT-S/2, hundreds on DiT-XL/2), and fresh Java memory comes zeroed: a pass of
 * stores over memory that is not in any cache, and, where the allocator gave the pages back to the system, a page
 * fault per 4 KiB, in every run. The pool hands a finished run's buffers to the next run instead, as they are: a
 * run never reads a factor before its full step writes it (every {@link TaylorFactors} it hands out starts empty).
 *
 * <p>It keeps only what runs gave back, buffer by buffer, as raw memory: a request takes the smallest kept buffer of
 * at least its bytes and at most twice them (so float32 factors' memory serves a run with bf16 or f16 factors of
 * the same shape, and back, as a bench that interleaves factor dtypes does). When none fits, it frees everything it
 * keeps (of sizes the runs no longer use) before allocating: it never holds more than the runs held at once.
 * {@link #close()} frees what it keeps; buffers still lent are freed when they come back. Thread-safe: the runs of
 * one pipeline share one pool.
 */
public final class FactorPool implements AutoCloseable {
    /** Raw memory kept for the next run, in its own arena so that it can be freed alone. */
    private record Kept(Arena arena, MemorySegment memory) {
    }

    private final List<Kept> kept = new ArrayList<>();
    /** What each lent buffer (a tensor over the first bytes of a kept memory) came from. */
    private final Map<Tensor, Kept> lent = new IdentityHashMap<>();
    private boolean closed;

    /**
     * Factors of maxOrder + 1 buffers of {@code shape}, kept ones where the pool has them; their pointer table goes
     * into {@code tables} (the run's arena). Give them back with {@link #release} once the run is done with them.
     */
    public synchronized TaylorFactors take(Arena tables, DType dtype, Shape shape, int maxOrder) {
        if (closed) {
            throw new IllegalStateException("the factor pool is closed");
        }
        if (tables == null) {
            throw new IllegalArgumentException("Taylor factors need an arena for their table, found null");
        }
        TaylorFactors.check(dtype, shape, maxOrder);
        Tensor[] buffers = new Tensor[maxOrder + 1];
        try {
            for (int i = 0; i <= maxOrder; i++) {
                buffers[i] = buffer(dtype, shape);
            }
            return TaylorFactors.of(tables, buffers);
        } catch (RuntimeException | OutOfMemoryError e) {
            for (Tensor t : buffers) { // what was taken before the failure is kept again
                if (t != null) {
                    kept.add(lent.remove(t));
                }
            }
            throw e;
        }
    }

    private Tensor buffer(DType dtype, Shape shape) {
        long bytes = Tensor.byteSize(dtype, shape);
        int best = -1;
        for (int i = 0; i < kept.size(); i++) {
            long size = kept.get(i).memory().byteSize();
            if (size >= bytes && size / 2 <= bytes && (best < 0 || size < kept.get(best).memory().byteSize())) {
                best = i;
            }
        }
        Kept k;
        if (best >= 0) {
            k = kept.remove(best);
        } else {
            freeKept(); // none fits: what is kept is of sizes the runs no longer use
            Arena arena = Arena.ofShared();
            try {
                k = new Kept(arena, arena.allocate(Math.max(1, bytes), Tensor.HOST_ALIGNMENT));
            } catch (RuntimeException | OutOfMemoryError e) {
                arena.close();
                throw e;
            }
        }
        Tensor t = Tensor.ofSegment(dtype, shape, k.memory().asSlice(0, bytes), k.arena());
        lent.put(t, k);
        return t;
    }

    /** Takes back the buffers of factors from {@link #take}; the factors must not be used afterwards. */
    public synchronized void release(TaylorFactors factors) {
        if (factors == null) {
            throw new IllegalArgumentException("factors are null");
        }
        for (int i = 0; i <= factors.maxOrder(); i++) {
            if (!lent.containsKey(factors.factor(i))) {
                throw new IllegalArgumentException("buffer " + i + " of these factors is not lent by this pool"
                        + " (taken elsewhere, or released already)");
            }
        }
        for (int i = 0; i <= factors.maxOrder(); i++) {
            Kept k = lent.remove(factors.factor(i));
            if (closed) {
                k.arena().close();
            } else {
                kept.add(k);
            }
        }
    }

    /** Bytes kept for the next runs. */
    public synchronized long keptBytes() {
        long n = 0;
        for (Kept k : kept) {
            n += k.memory().byteSize();
        }
        return n;
    }

    /** Bytes lent to runs in progress (the whole memory behind each lent buffer). */
    public synchronized long lentBytes() {
        long n = 0;
        for (Kept k : lent.values()) {
            n += k.memory().byteSize();
        }
        return n;
    }

    /** Frees what is kept (a service that will not sample for a while); the pool stays usable. */
    public synchronized void trim() {
        freeKept();
    }

    private void freeKept() {
        for (Kept k : kept) {
            k.arena().close();
        }
        kept.clear();
    }

    @Override
    public synchronized void close() {
        closed = true;
        freeKept();
    }
}
