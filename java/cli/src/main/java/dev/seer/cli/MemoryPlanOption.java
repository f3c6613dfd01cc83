package dev.seer.cli;

import picocli.CommandLine.Option;

/** {@code --ignore-memory-plan}, shared by the sampling commands: whether a run whose memory plan does not fit is refused. */
final class MemoryPlanOption {
    @Option(names = "--ignore-memory-plan", description = "Run even when the memory plan (seer plan) exceeds this machine's memory. Default: off, such a run is refused before it starts.")
    boolean ignore;
}
