package dev.seer.cli;

import dev.seer.tensor.SeerRuntime;
import picocli.CommandLine.Option;

/** {@code --threads}, shared by every command that runs libtorch or the kernels. */
final class ThreadsOption {
    /** More threads than this is a typo, not a machine: OpenMP would try to start them all. */
    static final int MAX = 1024;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for libtorch and Seer's kernels, 1..1024. Default: all cores (or SEER_THREADS).")
    Integer threads;

    void validate() {
        if (threads != null) {
            OptionChecks.range("--threads", threads, 1, MAX);
        }
    }

    /** Starts the runtime and applies the thread count, if one was given. */
    void apply() {
        validate();
        SeerRuntime.init();
        if (threads != null) {
            SeerRuntime.setThreads(threads);
        }
    }
}
