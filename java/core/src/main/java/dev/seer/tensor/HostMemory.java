package dev.seer.tensor;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C heap's free memory. Seer keeps freed blocks for reuse (SeerRuntime raises glibc's mmap and trim
 * thresholds, so the ops of a step do not pay page faults again); a load that frees what it replaces (a weight
 * by its packed form) hands those blocks back with {@link #releaseFreed()}, or they stay resident beside the
 * new form.
 */
public final class HostMemory {
    /** glibc's malloc_trim, or null where the C library has none. */
    private static final MethodHandle MALLOC_TRIM = mallocTrim();

    private HostMemory() {
    }

    /**
     * Returns the free pages of every malloc arena to the system (glibc {@code malloc_trim(0)}, which also drops
     * whole free pages inside the heap, not only at its top); a no-op without glibc. Costs a walk over the free
     * lists: call it after freeing much, not per op.
     *
     * @return whether any memory was returned
     */
    public static boolean releaseFreed() {
        if (MALLOC_TRIM == null) {
            return false;
        }
        try {
            return (int) MALLOC_TRIM.invokeExact(0L) != 0;
        } catch (Throwable t) {
            throw new IllegalStateException("malloc_trim failed", t);
        }
    }

    private static MethodHandle mallocTrim() {
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup().find("malloc_trim")
                .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)))
                .orElse(null);
    }
}
