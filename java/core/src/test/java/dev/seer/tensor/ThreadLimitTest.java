package dev.seer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.seer.kernel.NativeKernels;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * A thread limit bounds the calling thread's parallel regions (libtorch's, as libtorch itself reports them, and
 * Seer's kernels), on that thread only, and is restored on close.
 */
class ThreadLimitTest {

    /** Runs {@code work} on a fresh platform thread (where libtorch has not set anything up yet). */
    private static <T> T onFreshThread(java.util.concurrent.Callable<T> work) throws Exception {
        AtomicReference<Object> out = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                out.set(work.call());
            } catch (Throwable e) {
                out.set(e);
            }
        });
        t.join();
        if (out.get() instanceof Throwable e) {
            throw new AssertionError("on a fresh thread: " + e, e);
        }
        @SuppressWarnings("unchecked")
        T value = (T) out.get();
        return value;
    }

    /** A libtorch op large enough to run through ATen's parallel_for (and its per-thread set-up). */
    private static void parallelTorchOp() {
        try (PointerScope scope = new PointerScope()) {
            torch.ones(1 << 20).mul(torch.ones(1 << 20)).sum().item_float();
        }
    }

    @Test
    void limitsLibtorchAndKernelsOnTheCallingThreadOnly() throws Exception {
        int all = SeerRuntime.threads();
        assumeTrue(all > 1, "needs a process-wide thread count above 1 to tell a limit from the default, found " + all);
        NativeKernels kernels = NativeKernels.cpu();
        int[] seen = onFreshThread(() -> {
            try (ThreadLimit limit = ThreadLimit.scoped(1)) {
                // libtorch's first parallel op on a thread resets its team size to the process count: the limit
                // must survive it
                parallelTorchOp();
                int inside = torch.get_num_threads();
                int omp = kernels.openMpMaxThreads();
                int seerKernels = kernels.numThreads();
                int current = ThreadLimit.current();
                int other = CompletableFuture.supplyAsync(() -> {
                    parallelTorchOp();
                    return torch.get_num_threads();
                }, r -> Thread.ofPlatform().start(r)).join();
                limit.close();
                return new int[] {inside, omp, seerKernels, current, other, torch.get_num_threads(),
                        kernels.threadLimit(), kernels.numThreads()};
            }
        });
        assertEquals(1, seen[0], "libtorch's thread count inside the limit");
        assertEquals(1, seen[1], "the OpenMP team size inside the limit");
        assertEquals(1, seen[2], "Seer's kernels inside the limit");
        assertEquals(1, seen[3], "ThreadLimit.current()");
        assertEquals(all, seen[4], "another thread keeps the process-wide count");
        assertEquals(all, seen[5], "libtorch's count after close");
        assertEquals(0, seen[6], "no limit after close");
        assertEquals(all, seen[7], "the kernels' count after close");
    }

    /** OS threads whose name is {@code name}: a thread libgomp starts for a team inherits its creator's name. */
    private static long osThreadsNamed(String name) throws java.io.IOException {
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
            return tasks.filter(t -> {
                try {
                    return java.nio.file.Files.readString(t.resolve("comm")).trim().equals(name);
                } catch (java.io.IOException e) {
                    return false; // the thread ended meanwhile
                }
            }).count();
        }
    }

    /** Runs a parallel libtorch op on a fresh thread called {@code name}; returns the OS threads of that name after it. */
    private static long threadsAfterOp(String name, int limit) throws Exception {
        long[] count = new long[1];
        Thread t = Thread.ofPlatform().name(name).start(() -> {
            try {
                if (limit > 0) {
                    try (ThreadLimit l = ThreadLimit.scoped(limit)) {
                        parallelTorchOp();
                        count[0] = osThreadsNamed(name);
                    }
                } else {
                    parallelTorchOp();
                    count[0] = osThreadsNamed(name);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        t.join();
        return count[0];
    }

    @Test
    void libtorchStartsNoMoreThreadsThanTheLimit() throws Exception {
        int all = SeerRuntime.threads();
        assumeTrue(all > 1, "needs a process-wide thread count above 1, found " + all);
        assumeTrue(java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/self/task")), "needs Linux /proc");
        // OpenMP keeps a pool of team threads per thread that opens regions; they carry its name
        assertEquals(all, threadsAfterOp("tl-unlimited", 0), "without a limit: the thread and its team of " + all);
        assertEquals(1, threadsAfterOp("tl-limit-1", 1), "with limit 1: no team thread at all");
    }

    @Test
    void scopesNestByNarrowingAndRestore() throws Exception {
        NativeKernels kernels = NativeKernels.cpu();
        int[] seen = onFreshThread(() -> {
            int[] r = new int[6];
            try (ThreadLimit outer = ThreadLimit.scoped(3)) {
                r[0] = outer.threads();
                try (ThreadLimit wider = ThreadLimit.scoped(8)) {
                    r[1] = wider.threads();
                    r[2] = torch.get_num_threads();
                }
                try (ThreadLimit narrower = ThreadLimit.scoped(1)) {
                    r[3] = kernels.numThreads();
                }
                r[4] = kernels.threadLimit();
            }
            r[5] = kernels.threadLimit();
            return r;
        });
        assertEquals(3, seen[0]);
        assertEquals(3, seen[1], "an inner scope cannot widen the outer one");
        assertEquals(3, seen[2]);
        assertEquals(1, seen[3], "an inner scope narrows");
        assertEquals(3, seen[4], "closing the inner scope restores the outer limit");
        assertEquals(0, seen[5]);
    }

    @Test
    void callAndRunReturnTheWorkAndRestore() throws Exception {
        NativeKernels kernels = NativeKernels.cpu();
        int[] seen = onFreshThread(() -> {
            int inside = ThreadLimit.call(2, () -> kernels.threadLimit());
            int[] ran = new int[1];
            ThreadLimit.run(1, () -> ran[0] = kernels.threadLimit());
            assertThrows(IllegalStateException.class, () -> ThreadLimit.run(1, () -> {
                throw new IllegalStateException("work failed");
            }));
            return new int[] {inside, ran[0], kernels.threadLimit()};
        });
        assertEquals(2, seen[0]);
        assertEquals(1, seen[1]);
        assertEquals(0, seen[2], "restored after normal and failed work");
    }

    @Test
    void shareSplitsTheProcessCount() {
        int all = SeerRuntime.threads();
        assertEquals(all, ThreadLimit.share(1));
        assertEquals(Math.max(1, all / 4), ThreadLimit.share(4));
        assertEquals(1, ThreadLimit.share(all + 1));
    }

    @Test
    void badUseIsRefused() throws Exception {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> ThreadLimit.scoped(0));
        assertTrue(zero.getMessage().contains("threads must be in 1..1024, found 0"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ThreadLimit.scoped(NativeKernels.MAX_THREADS + 1));
        assertThrows(IllegalArgumentException.class, () -> ThreadLimit.share(0));
        assertThrows(IllegalArgumentException.class, () -> ThreadLimit.call(1, null));

        ThreadLimit limit = onFreshThread(() -> ThreadLimit.scoped(1));
        IllegalStateException elsewhere = assertThrows(IllegalStateException.class, limit::close);
        assertTrue(elsewhere.getMessage().contains("closed on the thread that opened it"), elsewhere.getMessage());

        AtomicReference<Throwable> virtual = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                ThreadLimit.scoped(1).close();
            } catch (Throwable e) {
                virtual.set(e);
            }
        }).join();
        assertTrue(virtual.get() instanceof IllegalStateException && virtual.get().getMessage().contains("platform thread"),
                String.valueOf(virtual.get()));
    }
}
