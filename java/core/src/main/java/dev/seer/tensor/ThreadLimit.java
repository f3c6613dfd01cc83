package dev.seer.tensor;

import dev.seer.kernel.NativeKernels;
import java.util.function.Supplier;
import org.bytedeco.pytorch.global.torch;

/**
 * Bounds the native threads of the work done on the calling thread: Seer's kernels and libtorch's CPU ops run
 * at most {@code n} threads each parallel region, whatever the process-wide count ({@link SeerRuntime#threads()})
 * says. Other threads are not affected, so concurrent samplings can each take a share of the cores instead of
 * each running a team as large as all of them (which, with one busy process on the machine, makes every
 * parallel region wait for a descheduled thread).
 *
 * <p>How it works: OpenMP keeps the team size of a thread's next parallel region per thread, and libtorch sizes
 * its regions by it (ATen's parallel_for opens a plain {@code omp parallel}; {@code at::get_num_threads()} is
 * {@code omp_get_max_threads()} of the caller); the native {@code seer_set_thread_limit} sets it and caps Seer's
 * kernels too. libtorch's one-time per-thread set-up, which would otherwise reset the team size to the process
 * count at the thread's first parallel op, is run before the limit is set.
 *
 * <pre>{@code
 * try (ThreadLimit limit = ThreadLimit.scoped(2)) {
 *     result = pipeline.sample(request);        // at most 2 threads per parallel region
 * }
 * SampleResult r = ThreadLimit.call(1, () -> pipeline.sample(request));
 * }</pre>
 *
 * <p>Scopes nest: an inner scope can only narrow the limit of the scope around it ({@link #threads()} says the
 * limit in force), and closing it restores the outer one. A scope must be closed on the thread that opened it,
 * a platform thread (the limit belongs to the OS thread; a virtual thread could move to another carrier).
 * Threads are counted per parallel region: a run's thread holds at most {@code n} threads busy at a time. Not
 * covered: an OpenBLAS thread pool, which exists only when {@code SeerOptions.blasThreads} (default 1) or the
 * environment asks for one.
 */
public final class ThreadLimit implements AutoCloseable {
    private final Thread owner;
    private final int previous;
    private final int threads;
    private boolean closed;

    private ThreadLimit(Thread owner, int previous, int threads) {
        this.owner = owner;
        this.previous = previous;
        this.threads = threads;
    }

    /**
     * Limits the calling thread to {@code threads} threads until the returned scope is closed.
     *
     * @param threads 1..{@link NativeKernels#MAX_THREADS}
     */
    public static ThreadLimit scoped(int threads) {
        if (threads < 1 || threads > NativeKernels.MAX_THREADS) {
            throw new IllegalArgumentException("threads must be in 1.." + NativeKernels.MAX_THREADS + ", found " + threads);
        }
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("a ThreadLimit needs a platform thread: the native limit belongs to the OS "
                    + "thread, and a virtual thread can move between carrier threads");
        }
        NativeKernels kernels = NativeKernels.cpu();
        // libtorch sets a thread's team size to the process count at its first parallel op; do that first
        torch.get_num_threads();
        int previous = kernels.threadLimit();
        int effective = previous > 0 ? Math.min(previous, threads) : threads;
        kernels.setThreadLimit(effective);
        return new ThreadLimit(Thread.currentThread(), previous, effective);
    }

    /** Runs {@code work} on the calling thread with at most {@code threads} threads, and returns its result. */
    public static <T> T call(int threads, Supplier<T> work) {
        if (work == null) {
            throw new IllegalArgumentException("work is null");
        }
        try (ThreadLimit limit = scoped(threads)) {
            return work.get();
        }
    }

    /** Runs {@code work} on the calling thread with at most {@code threads} threads. */
    public static void run(int threads, Runnable work) {
        if (work == null) {
            throw new IllegalArgumentException("work is null");
        }
        try (ThreadLimit limit = scoped(threads)) {
            work.run();
        }
    }

    /**
     * The threads a parallel region started on the calling thread would use now: its limit if it has one, else
     * libtorch's count for the thread.
     */
    public static int current() {
        NativeKernels kernels = NativeKernels.cpu();
        int limit = kernels.threadLimit();
        return limit > 0 ? limit : torch.get_num_threads();
    }

    /**
     * A share of the cores for one of {@code concurrentRuns} runs at once: {@code cores / concurrentRuns},
     * at least 1, where cores is {@link SeerRuntime#threads()}.
     */
    public static int share(int concurrentRuns) {
        if (concurrentRuns < 1) {
            throw new IllegalArgumentException("concurrentRuns must be >= 1, found " + concurrentRuns);
        }
        return Math.max(1, SeerRuntime.threads() / concurrentRuns);
    }

    /** The limit in force inside this scope. */
    public int threads() {
        return threads;
    }

    /** Restores the limit that was in force when this scope was opened. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("a ThreadLimit must be closed on the thread that opened it (" + owner.getName()
                    + "), not on " + Thread.currentThread().getName());
        }
        closed = true;
        NativeKernels.cpu().setThreadLimit(previous);
    }
}
