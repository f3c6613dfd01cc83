package dev.seer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seer.cache.CachePolicy;
import dev.seer.eval.ProcessMemory;
import dev.seer.eval.ShippedModels;
import dev.seer.eval.Soak;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.SampleRequest;
import dev.seer.tensor.SeerRuntime;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seer soak}: many samplings of the shipped model in one JVM; fails if memory keeps growing. */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Leak check: run many consecutive samplings of the shipped Fashion-MNIST DiT in one process and "
                + "compare its memory at the end of a warm-up with its memory at the end: resident set (VmRSS, and the "
                + "peak VmHWM), JavaCPP's native bytes and live pointers (Pointer.totalBytes / totalCount, "
                + "Pointer.physicalBytes) and the Java heap after a collection.",
                "Every sampling uses --policy except every --uncached-every-th one, which runs uncached, so both "
                        + "paths are soaked. Memory is also read every --read-every samplings; the report gives the "
                        + "maximum. Exits 1 if the resident set, JavaCPP's bytes or JavaCPP's pointers grew by more "
                        + "than --max-growth percent."})
final class SoakCommand implements Callable<Integer> {
    @Option(names = "--samplings", paramLabel = "N", defaultValue = "300",
            description = "Samplings in all, warm-up included, 1..1000000. Default: ${DEFAULT-VALUE}.")
    int samplings;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "20",
            description = "Samplings before the baseline reading, 0..samplings-1 (0: read before the first). Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "10",
            description = "Labels per sampling (label i mod 10), 1..1000. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "50",
            description = "DDIM steps per sampling, 1..1000. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--cfg", paramLabel = "SCALE", defaultValue = "4.0",
            description = "Guidance scale, a finite number >= 0 (0: no guidance). Default: ${DEFAULT-VALUE} (the shipped model's).")
    double cfg;

    @Option(names = "--policy", paramLabel = "SPEC", defaultValue = "taylorseer:5:2",
            description = "Cache policy of the cached samplings: taylorseer:N:O, fora:N or none (N >= 1, O in 0..4). Default: ${DEFAULT-VALUE}.")
    String policy;

    @Option(names = "--uncached-every", paramLabel = "K", defaultValue = "5",
            description = "Every K-th sampling runs uncached, K in 0..samplings (0: none). Default: ${DEFAULT-VALUE}.")
    int uncachedEvery;

    @Option(names = "--read-every", paramLabel = "N", defaultValue = "10",
            description = "Read the memory every N samplings after the warm-up (for the maximum), 1..samplings. Default: ${DEFAULT-VALUE}.")
    int readEvery;

    @Option(names = "--max-growth", paramLabel = "PERCENT", defaultValue = "5",
            description = "Allowed growth from the warm-up to the end, in percent, a finite number >= 0. Default: ${DEFAULT-VALUE}.")
    double maxGrowth;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the first sampling; sampling i uses seed + i. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--json", description = "Print the report as one JSON object instead of a table. Default: off.")
    boolean json;

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Override
    public Integer call() throws Exception {
        // Everything is validated before any work starts.
        OptionChecks.range("--samplings", samplings, 1, 1_000_000);
        OptionChecks.range("--warmup", warmup, 0, samplings - 1);
        OptionChecks.range("--batch", batch, 1, 1000);
        OptionChecks.range("--steps", steps, 1, 1000);
        OptionChecks.finiteRange("--cfg", cfg, 0, Double.MAX_VALUE);
        CachePolicy cachePolicy = OptionChecks.policy("--policy", policy);
        OptionChecks.range("--uncached-every", uncachedEvery, 0, samplings);
        OptionChecks.range("--read-every", readEvery, 1, samplings);
        OptionChecks.finiteRange("--max-growth", maxGrowth, 0, Double.MAX_VALUE);
        threads.validate();
        var settings = new Soak.Settings(samplings, warmup, batch, steps, cfg, cachePolicy, uncachedEvery, readEvery, seed);
        SampleRequest.builder(0).steps(steps).cfgScale(cfg).build(); // the API's own checks, before the model loads
        threads.apply();

        PrintStream err = System.err;
        long start = System.nanoTime();
        Soak.Report report;
        try (DitModel dit = ShippedModels.fashionDit()) {
            report = Soak.run(dit, settings, new Soak.Listener() {
                private long lastRss = -1;

                @Override
                public void sampled(int done, int total, boolean uncached, double seconds) {
                    err.printf(Locale.ROOT, "\rsoak [%s] %d/%d samplings  %s  RSS %s  %.0f s", ProgressBar.bar(done, total),
                            done, total, uncached ? "uncached" : "cached  ", lastRss < 0 ? "-" : mib(lastRss),
                            (System.nanoTime() - start) / 1e9);
                    if (done == total) {
                        err.println();
                    }
                    err.flush();
                }

                @Override
                public void read(Soak.Reading r) {
                    lastRss = r.memory().rssBytes();
                }
            });
        }
        boolean passed = report.within(maxGrowth);
        if (json) {
            System.out.println(toJson(report, maxGrowth, passed));
        } else {
            print(System.out, report, maxGrowth, passed);
        }
        if (!passed) {
            err.printf(Locale.ROOT, "seer soak: memory grew by more than %s%% from the warm-up to the end%n", maxGrowth);
            return 1;
        }
        return 0;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    static String toJson(Soak.Report r, double maxGrowth, boolean passed) throws Exception {
        ObjectMapper om = new ObjectMapper();
        ObjectNode o = om.createObjectNode();
        Soak.Settings s = r.settings();
        o.put("model", "fashion-dit");
        o.put("samplings", s.samplings());
        o.put("warmup", s.warmup());
        o.put("batch", s.batch());
        o.put("steps", s.steps());
        o.put("cfg", s.cfgScale());
        o.put("policy", s.policy().spec());
        o.put("uncached_every", s.uncachedEvery());
        o.put("cached_samplings", r.cached());
        o.put("uncached_samplings", r.uncached());
        o.put("threads", SeerRuntime.threads());
        o.put("seconds", r.seconds());
        o.put("nonfinite_fallbacks", r.nonFiniteFallbacks());
        o.set("warm", memory(om, r.warm()));
        o.set("end", memory(om, r.end()));
        o.set("max", memory(om, r.max()));
        ObjectNode g = o.putObject("growth_percent");
        g.put("rss", r.rssGrowthPercent());
        g.put("javacpp_bytes", r.javacppBytesGrowthPercent());
        g.put("javacpp_pointers", r.javacppPointersGrowthPercent());
        g.put("heap_used", r.heapGrowthPercent());
        o.put("max_growth_percent", maxGrowth);
        o.put("passed", passed);
        ArrayNode trace = o.putArray("trace");
        for (Soak.Reading reading : r.trace()) {
            ObjectNode t = memory(om, reading.memory());
            t.put("samplings", reading.samplings());
            trace.add(t);
        }
        return om.writeValueAsString(o);
    }

    private static ObjectNode memory(ObjectMapper om, ProcessMemory m) {
        ObjectNode n = om.createObjectNode();
        n.put("rss_bytes", m.rssBytes());
        n.put("peak_rss_bytes", m.peakRssBytes());
        n.put("javacpp_bytes", m.javacppBytes());
        n.put("javacpp_pointers", m.javacppPointers());
        n.put("javacpp_physical_bytes", m.physicalBytes());
        n.put("heap_used_bytes", m.heapUsedBytes());
        return n;
    }

    private static void print(PrintStream p, Soak.Report r, double maxGrowth, boolean passed) {
        Soak.Settings s = r.settings();
        p.printf(Locale.ROOT, "soak: %d samplings of the Fashion-MNIST DiT (%d cached with %s, %d uncached), batch %d, "
                        + "%d DDIM steps, cfg %s, threads %d, %.1f s of sampling%n", s.samplings(), r.cached(),
                s.policy().spec(), r.uncached(), s.batch(), s.steps(), s.cfgScale(), SeerRuntime.threads(),
                r.seconds());
        p.printf(Locale.ROOT, "%-26s %16s %16s %16s %9s%n", "", "warm-up (" + s.warmup() + ")",
                "end (" + s.samplings() + ")", "max", "growth");
        row(p, "resident set (VmRSS)", mib(r.warm().rssBytes()), mib(r.end().rssBytes()), mib(r.max().rssBytes()), r.rssGrowthPercent());
        row(p, "peak resident (VmHWM)", mib(r.warm().peakRssBytes()), mib(r.end().peakRssBytes()), mib(r.max().peakRssBytes()),
                ProcessMemory.growthPercent(r.warm().peakRssBytes(), r.end().peakRssBytes()));
        row(p, "JavaCPP bytes", String.valueOf(r.warm().javacppBytes()), String.valueOf(r.end().javacppBytes()),
                String.valueOf(r.max().javacppBytes()), r.javacppBytesGrowthPercent());
        row(p, "JavaCPP live pointers", String.valueOf(r.warm().javacppPointers()), String.valueOf(r.end().javacppPointers()),
                String.valueOf(r.max().javacppPointers()), r.javacppPointersGrowthPercent());
        row(p, "JavaCPP physical bytes", mib(r.warm().physicalBytes()), mib(r.end().physicalBytes()), mib(r.max().physicalBytes()),
                ProcessMemory.growthPercent(r.warm().physicalBytes(), r.end().physicalBytes()));
        row(p, "Java heap used after GC", mib(r.warm().heapUsedBytes()), mib(r.end().heapUsedBytes()), mib(r.max().heapUsedBytes()),
                r.heapGrowthPercent());
        p.printf(Locale.ROOT, "%s: resident set, JavaCPP bytes and pointers grew by at most %s (allowed %s%%)%n",
                passed ? "PASSED" : "FAILED",
                fmtPercent(Math.max(r.rssGrowthPercent(), Math.max(r.javacppBytesGrowthPercent(), r.javacppPointersGrowthPercent()))),
                maxGrowth);
    }

    private static void row(PrintStream p, String name, String warm, String end, String max, double growth) {
        p.printf(Locale.ROOT, "%-26s %16s %16s %16s %9s%n", name, warm, end, max, fmtPercent(growth));
    }

    private static String fmtPercent(double v) {
        return Double.isInfinite(v) ? "+inf%" : String.format(Locale.ROOT, "%+.2f%%", v);
    }
}
