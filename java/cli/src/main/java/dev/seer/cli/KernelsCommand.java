package dev.seer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seer.eval.KernelBench;
import dev.seer.eval.KernelBench.Check;
import dev.seer.eval.KernelBench.Op;
import dev.seer.eval.KernelBench.Report;
import dev.seer.eval.KernelBench.Result;
import dev.seer.eval.KernelBench.StreamResult;
import dev.seer.kernel.NativeKernels;
import dev.seer.kernel.Variant;
import dev.seer.tensor.DType;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code seer kernels}: validates every CPU variant of the Taylor kernels against the reference, then times the
 * AUTO variant against the STREAM triad/copy of the same working set and the libtorch op chain.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = "Validate the CPU kernel variants bit for bit against the reference, then time the AUTO variant: GB/s "
                + "(bytes read + written once each), fraction of the STREAM triad measured in the same run at the same working "
                + "set, and speed-up over the libtorch op chain of a straightforward implementation. Exits 1 if a validation fails.")
final class KernelsCommand implements Callable<Integer> {
    static final List<String> DTYPES = List.of("f32", "bf16", "f16");

    @Option(names = "--quick", description = "Sizes 64KiB,1MiB,16MiB (unless --sizes is given) and 0.2 s of timing per case instead of 1 s; for CI. Default: off.")
    boolean quick;

    @Option(names = "--sizes", split = ",", paramLabel = "SIZE",
            description = "Working sets (bytes read + written per call): integers with an optional KiB/MiB/GiB suffix, 4KiB..4096MiB. Default: 64KiB,1MiB,16MiB,64MiB,256MiB (--quick: 64KiB,1MiB,16MiB).")
    List<String> sizes;

    @Option(names = "--ops", split = ",", paramLabel = "OP", completionCandidates = OpNames.class,
            description = "Kernels: ${COMPLETION-CANDIDATES}. Default: all.")
    List<String> ops;

    /** The --ops names, from KernelBench.Op (checked against libseer_cpu's op list by OpTableTest). */
    static final class OpNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Op.names().iterator();
        }
    }

    @Option(names = "--dtypes", split = ",", paramLabel = "DTYPE", description = "Storage types: f32, bf16, f16. Default: all.")
    List<String> dtypes;

    @Option(names = "--order", defaultValue = "2", description = "Taylor order p, 0..4 (2 is the setting of the TaylorSeer paper's DiT/FLUX rows). Default: ${DEFAULT-VALUE}.")
    int order;

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Option(names = "--min-time", paramLabel = "SECONDS", description = "Timing budget per case in seconds, in (0, 600]. Default: 1, or 0.2 with --quick.")
    Double minTime;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the validation inputs, any integer. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--json", description = "One JSON object per line per kernel/dtype/size instead of tables (validation summary on stderr). Default: off.")
    boolean json;

    @Override
    public Integer call() {
        // Everything is validated before any work starts.
        List<Long> sizeList = parseSizes();
        List<Op> opList = parseOps();
        List<DType> dtypeList = parseDTypes();
        OptionChecks.range("--order", order, 0, NativeKernels.MAX_ORDER);
        threads.validate();
        if (minTime != null) {
            OptionChecks.positive("--min-time", minTime, 600);
        }
        double seconds = minTime != null ? minTime : quick ? 0.2 : 1.0;
        var settings = new KernelBench.Settings(opList, dtypeList, sizeList, order, seconds, seed);

        threads.apply();
        PrintStream out = System.out;
        PrintStream err = System.err;
        ObjectMapper om = new ObjectMapper();
        Map<String, Boolean> validated = new LinkedHashMap<>();
        long start = System.nanoTime();
        Report report = KernelBench.run(settings, new KernelBench.Listener() {
            @Override
            public void progress(String message) {
                err.printf(Locale.ROOT, "[%6.1f s] %s%n", (System.nanoTime() - start) / 1e9, message);
                err.flush();
            }

            @Override
            public void validated(Check c) {
                validated.merge(c.op() + " " + KernelBench.dtypeName(c.dtype()), c.passed(), Boolean::logicalAnd);
                if (!c.passed()) {
                    err.println("VALIDATION FAILED: " + c.op() + " " + KernelBench.dtypeName(c.dtype()) + " "
                            + KernelBench.variantName(c.variant()) + ": " + c.detail());
                }
            }

            @Override
            public void measured(Result r) {
                if (json) {
                    out.println(toJson(om, r, validated.getOrDefault(r.op() + " " + KernelBench.dtypeName(r.dtype()), false)));
                    out.flush();
                }
            }
        });
        if (json) {
            printValidation(err, report, settings);
        } else {
            printValidation(out, report, settings);
            out.println();
            printSpeed(out, report, settings);
        }
        if (!report.allPassed()) {
            err.println("seer kernels: validation failed for "
                    + report.checks().stream().filter(c -> !c.passed())
                    .map(c -> c.op() + " " + KernelBench.dtypeName(c.dtype()) + " " + KernelBench.variantName(c.variant()))
                    .collect(Collectors.joining(", ")));
            return 1;
        }
        return 0;
    }

    private List<Long> parseSizes() {
        if (sizes == null) {
            return quick ? KernelBench.QUICK_SIZES : KernelBench.SIZES;
        }
        String allowed = "allowed: bytes as an integer or with a KiB/MiB/GiB suffix, from 4KiB to 4096MiB (e.g. 65536, 64KiB, 16MiB)";
        List<Long> r = new ArrayList<>();
        for (String s : sizes) {
            long v;
            try {
                v = KernelBench.parseSize(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--sizes: '" + s + "' is not a size; " + allowed);
            }
            if (v < KernelBench.MIN_SIZE || v > KernelBench.MAX_SIZE) {
                throw new IllegalArgumentException("--sizes: '" + s + "' (" + v + " bytes) is out of range; " + allowed);
            }
            r.add(v);
        }
        return r;
    }

    private List<Op> parseOps() {
        if (ops == null) {
            return List.of(Op.values());
        }
        List<Op> r = new ArrayList<>();
        for (String s : ops) {
            try {
                r.add(Op.parse(s.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--ops: '" + s + "' is not a kernel; allowed: " + String.join(", ", Op.names()));
            }
        }
        return r;
    }

    private List<DType> parseDTypes() {
        if (dtypes == null) {
            return List.of(DType.F32, DType.BF16, DType.F16);
        }
        List<DType> r = new ArrayList<>();
        for (String s : dtypes) {
            try {
                r.add(KernelBench.parseDType(s.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--dtypes: '" + s + "' is not a kernel dtype; allowed: " + String.join(", ", DTYPES));
            }
        }
        return r;
    }

    static String toJson(ObjectMapper om, Result r, boolean validated) {
        ObjectNode o = om.createObjectNode();
        o.put("name", r.op().id());
        o.put("dtype", KernelBench.dtypeName(r.dtype()));
        o.put("bytes", r.bytes());
        o.put("seconds", r.seconds());
        o.put("gbps", r.gbps());
        o.put("fraction_of_triad", r.fractionOfTriad());
        o.put("speedup_vs_libtorch", r.speedupVsLibtorch());
        o.put("size", r.workingSet());
        o.put("shape", r.layout().describe());
        o.put("variant", KernelBench.variantName(r.variant()));
        o.put("order", r.order());
        o.put("threads", r.threads());
        o.put("triad_gbps", r.stream().triadGbps());
        o.put("copy_gbps", r.stream().copyGbps());
        o.put("libtorch_seconds", r.libtorchSeconds());
        if (r.op() == Op.TAYLOR_FORECAST_RESIDUAL_MULTI) {
            o.put("branches", r.layout().branches());
            o.put("per_branch_seconds", r.unfusedSeconds());
            o.put("speedup_vs_per_branch", r.speedupVsUnfused());
        }
        if (r.op() == Op.TAYLOR_FORECAST_SUMS) {
            o.put("branches", r.layout().branches());
            o.put("steps", r.layout().steps());
            o.put("per_step_multi_seconds", r.unfusedSeconds());
            o.put("speedup_vs_per_step_multi", r.speedupVsUnfused());
        }
        o.put("validated", validated);
        try {
            return om.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void printValidation(PrintStream p, Report report, KernelBench.Settings s) {
        List<Variant> variants = KernelBench.availableVariants();
        p.printf(Locale.ROOT, "Validation: each CPU variant bit for bit against the reference (order %d, fresh random inputs of shapes %s)%n",
                s.order(), KernelBench.VALIDATION_SHAPES.stream().map(Object::toString).collect(Collectors.joining(" and ")));
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-32s %-5s", "op", "dtype"));
        for (Variant v : variants) {
            head.append(String.format(Locale.ROOT, " %-7s", KernelBench.variantName(v)));
        }
        p.println(head);
        for (Op op : s.ops()) {
            for (DType d : s.dtypes()) {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-32s %-5s", op, KernelBench.dtypeName(d)));
                for (Variant v : variants) {
                    String cell = report.checks().stream().filter(c -> c.op() == op && c.dtype() == d && c.variant() == v)
                            .findFirst().map(c -> c.passed() ? "ok" : "FAILED").orElse("-");
                    row.append(String.format(Locale.ROOT, " %-7s", cell));
                }
                p.println(row);
            }
        }
        p.println("(ref is checked against the libtorch op chain in f32; in bf16/f16 ref is the specification, since libtorch"
                + " rounds after every op; multi is checked against per-branch ref calls, sums against one ref multi call per"
                + " step on a zeroed buffer)");
        for (Check c : report.checks()) {
            if (!c.passed()) {
                p.println("FAILED " + c.op() + " " + KernelBench.dtypeName(c.dtype()) + " " + KernelBench.variantName(c.variant())
                        + " (" + c.against() + "): " + c.detail());
            }
        }
    }

    private static void printSpeed(PrintStream p, Report report, KernelBench.Settings s) {
        if (report.results().isEmpty()) {
            return;
        }
        Result first = report.results().getFirst();
        p.printf(Locale.ROOT, "Speed: AUTO = %s, %d threads, order %d, median per call over >= %.1f s per case%n",
                KernelBench.variantName(first.variant()), first.threads(), s.order(), s.minSeconds());
        p.printf(Locale.ROOT, "%-9s %12s %12s%n", "size", "triad GB/s", "copy GB/s");
        for (StreamResult st : report.streams()) {
            p.printf(Locale.ROOT, "%-9s %12.1f %12.1f%n", KernelBench.formatSize(st.workingSet()), st.triadGbps(), st.copyGbps());
        }
        p.println();
        p.printf(Locale.ROOT, "%-32s %-5s %-8s %-30s %11s %7s %8s %10s %12s%n", "op", "dtype", "size", "shape", "time (us)",
                "GB/s", "% triad", "x libtorch", "x unfused");
        for (Result r : report.results()) {
            p.printf(Locale.ROOT, "%-32s %-5s %-8s %-30s %11.1f %7.1f %7.0f%% %10.2f %12s%n", r.op(), KernelBench.dtypeName(r.dtype()),
                    KernelBench.formatSize(r.workingSet()), r.layout().describe(), r.seconds() * 1e6, r.gbps(),
                    100 * r.fractionOfTriad(), r.speedupVsLibtorch(),
                    Double.isNaN(r.speedupVsUnfused()) ? "" : String.format(Locale.ROOT, "%.2f", r.speedupVsUnfused()));
        }
        if (report.results().stream().anyMatch(r -> !Double.isNaN(r.speedupVsUnfused()))) {
            p.println("(x unfused: against the same work in the calls the op fuses: one taylor_forecast_residual call per branch"
                    + " for multi, one multi call per step for sums)");
        }
    }
}
