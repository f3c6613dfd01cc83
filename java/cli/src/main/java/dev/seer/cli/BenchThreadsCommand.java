package dev.seer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seer.cache.CachePolicy;
import dev.seer.eval.ThreadsBench;
import dev.seer.models.ShippedModels;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitPipeline;
import dev.seer.model.dit.SampleRequest;
import dev.seer.model.dit.SamplingSettings;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.ThreadLimit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seer bench-threads}: concurrent samplings of the shipped model with and without per-run thread limits. */
@Command(name = "bench-threads", mixinStandardHelpOptions = true,
        description = {"Concurrent samplings of the shipped Fashion-MNIST DiT on one shared pipeline, as a service runs "
                + "them: --runs worker threads each sample --rounds times (after one untimed warm-up), for each mode: "
                + "all-cores (every call runs parallel regions as large as the process-wide thread count) and split "
                + "(each worker inside a ThreadLimit of --threads-per-run, default the cores divided among the runs). "
                + "Prints throughput and the latency median, p95 and max per mode.",
                "Run it with a busy process on the machine to see what a shared machine does to each mode "
                        + "(tools/bench-threads.sh starts one)."})
final class BenchThreadsCommand implements Callable<Integer> {
    @Option(names = "--runs", defaultValue = "4", description = "Concurrent workers, 1..64. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--rounds", defaultValue = "10", description = "Timed samplings per worker and mode, 1..10000. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--steps", defaultValue = "50", description = "Sampling steps, 1..1000. Default: ${DEFAULT-VALUE} (the model card's).")
    int steps;

    @Option(names = "--batch", defaultValue = "1", description = "Labels per sampling, 1..100. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--modes", split = ",", defaultValue = "all-cores,split", description = "Modes, in order: all-cores, split. Default: ${DEFAULT-VALUE}.")
    List<String> modes;

    @Option(names = "--threads-per-run", description = "The limit of each worker in split mode, 1..1024. Default: the process-wide thread count divided by --runs, at least 1.")
    Integer threadsPerRun;

    @Option(names = "--json", description = "Print one JSON object instead of a table. Default: off.")
    boolean json;

    @Mixin
    PolicyOptions policyOptions = new PolicyOptions();

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Override
    public Integer call() throws Exception {
        OptionChecks.range("--runs", runs, 1, 64);
        OptionChecks.range("--rounds", rounds, 1, 10_000);
        OptionChecks.range("--steps", steps, 1, 1000);
        OptionChecks.range("--batch", batch, 1, 100);
        if (threadsPerRun != null) {
            OptionChecks.range("--threads-per-run", threadsPerRun, 1, ThreadsOption.MAX);
        }
        CachePolicy policy = policyOptions.policy(4, 4);
        List<ThreadsBench.Mode> modeOrder = new ArrayList<>();
        for (String m : modes) {
            modeOrder.add(switch (m.trim().toLowerCase(Locale.ROOT)) {
                case "all-cores" -> ThreadsBench.Mode.ALL_CORES;
                case "split" -> ThreadsBench.Mode.SPLIT;
                default -> throw OptionChecks.invalid("--modes", m, "all-cores, split");
            });
        }
        if (!ShippedModels.hasFashionDit()) {
            throw new IllegalStateException("this build does not ship the Fashion-MNIST DiT (" + ShippedModels.FASHION_DIT_WEIGHTS + ")");
        }
        threads.apply();
        int share = threadsPerRun != null ? threadsPerRun : ThreadLimit.share(runs);
        SamplingSettings settings = ShippedModels.FASHION_DIT_SETTINGS;
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = i % 10;
        }
        SampleRequest request = SampleRequest.builder(labels).settings(settings).steps(steps).policy(policy).seed(0).build();
        List<ThreadsBench.Result> results = new ArrayList<>();
        try (DitModel model = ShippedModels.fashionDit(); DitPipeline pipeline = new DitPipeline(model)) {
            for (ThreadsBench.Mode mode : modeOrder) {
                System.err.printf("%s: %d workers x %d samplings ...%n", mode.label(), runs, rounds);
                results.add(ThreadsBench.run(pipeline, request, mode, runs, rounds, share));
            }
        }
        print(results, policy);
        return 0;
    }

    private void print(List<ThreadsBench.Result> results, CachePolicy policy) throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        if (json) {
            ObjectMapper om = new ObjectMapper();
            ObjectNode o = om.createObjectNode();
            o.put("cores", cores);
            o.put("process_threads", SeerRuntime.threads());
            o.put("runs", runs);
            o.put("rounds", rounds);
            o.put("steps", steps);
            o.put("batch", batch);
            o.put("policy", policy.toString());
            ArrayNode rows = o.putArray("modes");
            for (ThreadsBench.Result r : results) {
                ObjectNode row = rows.addObject();
                row.put("mode", r.mode().label());
                row.put("threads_per_run", r.threadsPerRun());
                row.put("samplings", r.samplings());
                row.put("wall_seconds", r.wallSeconds());
                row.put("throughput_per_second", r.throughput());
                row.put("median_seconds", r.median());
                row.put("p95_seconds", r.p95());
                row.put("max_seconds", r.max());
                row.put("max_over_median", r.maxOverMedian());
                row.put("cpu_seconds_per_sampling", r.cpuPerSampling());
                row.set("seconds", om.valueToTree(r.seconds()));
            }
            System.out.println(om.writeValueAsString(o));
            return;
        }
        System.out.printf("%d concurrent samplings of the shipped DiT (%d steps, batch %d, %s), %d rounds each; %d cores, "
                + "process-wide threads %d%n", runs, steps, batch, policy, rounds, cores, SeerRuntime.threads());
        System.out.printf("%-10s %8s %9s %8s %11s %9s %9s %9s %8s %10s%n", "mode", "thr/run", "samplings", "wall s",
                "samplings/s", "median s", "p95 s", "max s", "max/med", "cpu s/smpl");
        for (ThreadsBench.Result r : results) {
            System.out.printf(Locale.ROOT, "%-10s %8d %9d %8.2f %11.2f %9.3f %9.3f %9.3f %8.2f %10.3f%n", r.mode().label(),
                    r.threadsPerRun(), r.samplings(), r.wallSeconds(), r.throughput(), r.median(), r.p95(), r.max(),
                    r.maxOverMedian(), r.cpuPerSampling());
        }
    }
}
