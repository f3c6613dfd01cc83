package dev.seer.eval;

import dev.seer.model.dit.DitPipeline;
import dev.seer.model.dit.SampleRequest;
import dev.seer.tensor.ThreadLimit;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Concurrent samplings on one shared pipeline, as a service runs them: {@code runs} worker threads each sample
 * {@code rounds} times (after one untimed warm-up each), either every call with the process-wide thread count
 * ({@link Mode#ALL_CORES}, what a call does without a limit) or each worker inside a {@link ThreadLimit} of its
 * share of the cores ({@link Mode#SPLIT}). Reports throughput and the latency distribution of single samplings.
 */
public final class ThreadsBench {
    /** How each concurrent call is given threads. */
    public enum Mode {
        /** No limit: every call's parallel regions are as large as the process-wide count. */
        ALL_CORES,
        /** Each worker runs inside {@code ThreadLimit.scoped(threadsPerRun)}. */
        SPLIT;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * One mode's result.
     *
     * @param threadsPerRun the limit each worker ran under (the process-wide count for ALL_CORES)
     * @param seconds       per timed sampling, in the order they finished
     * @param wallSeconds   from the common start of the timed samplings to the last one's end
     * @param cpuSeconds    CPU time of the whole process over the same span (all its threads)
     */
    public record Result(Mode mode, int runs, int threadsPerRun, double[] seconds, double wallSeconds, double cpuSeconds) {
        public int samplings() {
            return seconds.length;
        }

        /** The process's CPU time per sampling: the work a sampling costs, whatever the machine gave it. */
        public double cpuPerSampling() {
            return cpuSeconds / seconds.length;
        }

        /** Samplings per second over the wall time. */
        public double throughput() {
            return seconds.length / wallSeconds;
        }

        public double median() {
            return quantile(0.5);
        }

        public double p95() {
            return quantile(0.95);
        }

        public double max() {
            return Arrays.stream(seconds).max().orElse(Double.NaN);
        }

        /** The slowest sampling over the median: the bench's target is at most 2. */
        public double maxOverMedian() {
            return max() / median();
        }

        /** Nearest-rank quantile of the sampling times. */
        public double quantile(double q) {
            double[] s = seconds.clone();
            Arrays.sort(s);
            int rank = (int) Math.ceil(q * s.length);
            return s[Math.min(s.length, Math.max(1, rank)) - 1];
        }
    }

    private ThreadsBench() {
    }

    /**
     * Runs {@code runs} workers on {@code pipeline}, each sampling {@code request} once untimed and then
     * {@code rounds} times.
     *
     * @param threadsPerRun the limit of each worker in SPLIT mode (ignored for ALL_CORES)
     */
    public static Result run(DitPipeline pipeline, SampleRequest request, Mode mode, int runs, int rounds, int threadsPerRun)
            throws InterruptedException {
        if (pipeline == null || request == null || mode == null) {
            throw new IllegalArgumentException("pipeline, request and mode must not be null");
        }
        if (runs < 1 || rounds < 1 || threadsPerRun < 1) {
            throw new IllegalArgumentException("runs, rounds and threadsPerRun must be >= 1, found " + runs + ", " + rounds
                    + ", " + threadsPerRun);
        }
        CyclicBarrier warm = new CyclicBarrier(runs);
        double[][] times = new double[runs][rounds];
        long[] end = new long[runs];
        long[] start = new long[2];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CyclicBarrier go = new CyclicBarrier(runs, () -> {
            start[0] = System.nanoTime();
            start[1] = processCpuNanos();
        });
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < runs; w++) {
            int worker = w;
            workers.add(Thread.ofPlatform().name("sampling-" + w).start(() -> {
                try {
                    if (mode == Mode.SPLIT) {
                        try (ThreadLimit limit = ThreadLimit.scoped(threadsPerRun)) {
                            work(pipeline, request, warm, go, times[worker]);
                        }
                    } else {
                        work(pipeline, request, warm, go, times[worker]);
                    }
                    end[worker] = System.nanoTime();
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    warm.reset();
                    go.reset();
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a sampling failed: " + failure.get(), failure.get());
        }
        double[] all = Arrays.stream(times).flatMapToDouble(Arrays::stream).toArray();
        long cpu = processCpuNanos() - start[1];
        long last = Arrays.stream(end).max().orElseThrow();
        int used = mode == Mode.SPLIT ? threadsPerRun : dev.seer.tensor.SeerRuntime.threads();
        return new Result(mode, runs, used, all, (last - start[0]) / 1e9, cpu / 1e9);
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    private static void work(DitPipeline pipeline, SampleRequest request, CyclicBarrier warm, CyclicBarrier go, double[] out)
            throws Exception {
        pipeline.sample(request); // warm-up: JIT, libtorch's per-thread set-up, the pipeline's kept memory
        warm.await();
        go.await();
        for (int i = 0; i < out.length; i++) {
            long t0 = System.nanoTime();
            pipeline.sample(request);
            out[i] = (System.nanoTime() - t0) / 1e9;
        }
    }
}
