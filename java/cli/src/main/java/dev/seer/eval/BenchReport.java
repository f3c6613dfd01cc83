package dev.seer.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seer.cache.FactorDtype;
import dev.seer.model.dit.DitConfig;
import dev.seer.sampling.RunStats;
import java.util.List;
import java.util.Locale;

/** The policy bench's report as JSON (one object per row) and as a Markdown table with the limits below it. */
public final class BenchReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchReport() {
    }

    /** Wall-clock and FLOPs speed-ups of a row against the uncached baseline. */
    public record Speedups(double flops, double wall) {
        /** The fraction of the FLOPs speed-up that reaches the wall clock. */
        public double ratio() {
            return wall / flops;
        }
    }

    public static Speedups speedups(PolicyBench.Report report, PolicyBench.RowResult row) {
        double flops = report.flopsOfficial(report.baseline().row()) / report.flopsOfficial(row.row());
        double wall = report.baseline().medianSeconds() / row.medianSeconds();
        return new Speedups(flops, wall);
    }

    public static String json(PolicyBench.Report report, String modelName) {
        ObjectNode root = JSON.createObjectNode();
        PolicyBench.Settings s = report.settings();
        DitConfig c = report.config();
        ObjectNode model = root.putObject("model");
        model.put("name", modelName);
        model.put("depth", c.depth());
        model.put("hidden_size", c.hiddenSize());
        model.put("num_heads", c.numHeads());
        model.put("tokens", c.tokens());
        ObjectNode settings = root.putObject("settings");
        settings.put("steps", s.steps());
        settings.put("sampler", s.sampler().name().toLowerCase(Locale.ROOT));
        settings.put("eta", s.eta());
        settings.put("cfg", s.cfg());
        settings.put("batch", s.batch());
        settings.put("repeats", s.repeats());
        settings.put("samples", s.samples());
        settings.put("seed", s.seed());
        settings.put("threads", org.bytedeco.pytorch.global.torch.get_num_threads());
        PolicyBench.Limits l = report.limits();
        if (l != null) {
            ObjectNode limits = root.putObject("limits");
            limits.put("forecast_row", l.forecastRow() == null ? null : l.forecastRow().label());
            limits.put("forecast_bytes", l.forecastBytes());
            put(limits, "forecasts_per_factor_pass", l.forecastsPerWindow());
            limits.put("forecast_sums", s.forecastSums().name().toLowerCase(java.util.Locale.ROOT));
            put(limits, "stream_triad_gbps", l.streamGbps());
            put(limits, "forecast_step_seconds", l.forecastStepSeconds());
            put(limits, "forecast_floor_seconds", l.forecastFloorSeconds());
            put(limits, "forecast_over_floor", l.forecastRatio());
            limits.put("stack_kernel_bytes", l.stackBytes());
            put(limits, "stack_kernel_seconds", l.stackKernelSeconds());
            put(limits, "stack_kernel_over_floor", l.stackKernelRatio());
            put(limits, "full_step_flops", l.fullStepFlops());
            put(limits, "matmul_gflops", l.matmulGflops());
            put(limits, "model_matmul_gflops", l.modelMatmulGflops());
            put(limits, "packed_matmul_gflops", l.packedGflops());
            put(limits, "full_step_seconds", l.fullStepSeconds());
            put(limits, "full_floor_seconds", l.fullFloorSeconds());
            put(limits, "full_over_floor", l.fullRatio());
        }
        ArrayNode rows = root.putArray("rows");
        for (PolicyBench.RowResult r : report.rows()) {
            ObjectNode o = rows.addObject();
            o.put("policy", r.row().policy().name());
            o.put("family", r.row().family());
            o.put("label", r.row().label());
            o.put("factor_dtype", r.row().isCached() ? r.row().factorDtype().cliName() : null);
            o.put("interval", r.row().policy().interval());
            o.put("order", r.row().policy().maxOrder());
            o.put("steps", r.row().steps());
            o.put("flops_official", report.flopsOfficial(r.row()));
            o.put("flops_actual", report.flopsActual(r.row()));
            put(o, "seconds_median", r.medianSeconds());
            ArrayNode runs = o.putArray("seconds_runs");
            r.runs().forEach(x -> runs.add(x.seconds()));
            put(o, "full_step_seconds", r.medianFullStepSeconds());
            put(o, "forecast_step_seconds", r.medianForecastStepSeconds());
            Speedups sp = speedups(report, r);
            put(o, "speedup_flops", sp.flops());
            put(o, "speedup_wall", sp.wall());
            RunStats m = r.medianRun();
            if (m == null) {
                o.putNull("cache_bytes");
            } else {
                o.put("cache_bytes", m.cacheBytes());
            }
            if (r.peakRssBytes() < 0) {
                o.putNull("peak_rss_bytes");
            } else {
                o.put("peak_rss_bytes", r.peakRssBytes());
            }
            FashionEval.Scores q = r.scores();
            put(o, "fd", q == null ? Double.NaN : q.frechet());
            put(o, "class_consistency", q == null ? Double.NaN : q.classConsistency());
            put(o, "psnr", q == null ? Double.NaN : q.psnr());
            put(o, "ssim", q == null ? Double.NaN : q.ssim());
            o.put("complete", r.complete());
        }
        PolicyBench.ErrorMap e = report.errorMap();
        if (e != null) {
            ObjectNode err = root.putObject("forecast_error");
            err.put("row", e.row().label());
            err.set("steps", JSON.valueToTree(e.steps()));
            err.set("branches", JSON.valueToTree(e.branches()));
            ArrayNode m = err.putArray("relative_l2");
            for (double[] branch : e.relativeL2()) {
                ArrayNode a = m.addArray();
                for (double v : branch) {
                    if (Double.isFinite(v)) {
                        a.add(v);
                    } else {
                        a.addNull();
                    }
                }
            }
        }
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new IllegalStateException("cannot write the bench report as JSON", ex);
        }
    }

    /** JSON has no NaN or infinity: unmeasured or non-finite values are null. */
    private static void put(ObjectNode o, String field, double v) {
        if (Double.isFinite(v)) {
            o.put(field, v);
        } else {
            o.putNull(field);
        }
    }

    public static String markdown(PolicyBench.Report report) {
        StringBuilder b = new StringBuilder();
        PolicyBench.Settings s = report.settings();
        boolean quality = s.measuresQuality();
        b.append("| policy | steps | FLOPs (official) | FLOPs speedup | wall s (median of ").append(s.repeats())
                .append(") | runs' range s | wall speedup | wall / FLOPs | cache MiB | peak RSS MiB | factors | forecast step ms |");
        if (quality) {
            b.append(" Fréchet | class | PSNR dB | SSIM |");
        }
        b.append("\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
        if (quality) {
            b.append("---:|---:|---:|---:|");
        }
        b.append('\n');
        for (PolicyBench.RowResult r : report.rows()) {
            Speedups sp = speedups(report, r);
            RunStats m = r.medianRun();
            BenchRow row = r.row();
            b.append(String.format(Locale.ROOT, "| %s%s | %d | %.4g | %.2fx | %s | %s | %s | %s | %s | %s | %s | %s |",
                    row.withFactorDtype(FactorDtype.F32).label(), r.complete() ? "" : " (incomplete)", row.steps(),
                    report.flopsOfficial(row), sp.flops(),
                    fmt("%.3f", r.medianSeconds()), range(r.runs()), fmt("%.2fx", sp.wall()), fmt("%.2f", sp.ratio()),
                    m == null ? "-" : String.format(Locale.ROOT, "%.1f", m.cacheBytes() / 1048576.0),
                    r.peakRssBytes() < 0 ? "-" : String.format(Locale.ROOT, "%.0f", r.peakRssBytes() / 1048576.0),
                    row.isCached() ? row.factorDtype().cliName() : "-", fmt("%.3f", 1e3 * r.medianForecastStepSeconds())));
            if (quality) {
                FashionEval.Scores q = r.scores();
                b.append(String.format(Locale.ROOT, " %s | %s | %s | %s |", q == null ? "-" : fmt("%.3f", q.frechet()),
                        q == null ? "-" : fmt("%.1f%%", 100 * q.classConsistency()),
                        q == null ? "-" : fmt("%.2f", q.psnr()), q == null ? "-" : fmt("%.4f", q.ssim())));
            }
            b.append('\n');
        }
        PolicyBench.Limits l = report.limits();
        if (l != null) {
            b.append('\n');
            if (l.forecastRow() != null) {
                String moved = l.forecastsPerWindow() > 1
                        ? String.format(Locale.ROOT, "the factors read once per %.2f forecast steps (forecast sums), "
                                + "the step's sum written and read, x and gates", l.forecastsPerWindow())
                        : "the factors, x and gates";
                b.append(String.format(Locale.ROOT, "- Forecast step (%s): %.3f ms measured (mean over the run's forecast steps); "
                                + "floor %.3f ms = %.2f MB (%s) at %.1f GB/s (STREAM triad at the factors' working set, this "
                                + "run): %.2fx the floor.%n",
                        l.forecastRow().label(), 1e3 * l.forecastStepSeconds(), 1e3 * l.forecastFloorSeconds(),
                        l.forecastBytes() / 1e6, moved, l.streamGbps(), l.forecastRatio()));
                if (!Double.isNaN(l.stackKernelSeconds())) {
                    b.append(String.format(Locale.ROOT, "- Forecast kernel alone (the official op order's pass: one "
                                    + "multi-branch forecast over a stack of this model's shape, every factor read, called in a "
                                    + "loop): %.3f ms; floor %.3f ms = %.2f MB at the same triad: %.2fx. A forecast step adds the "
                                    + "patch embedding, the final layer and the Java around them, and in a run its factors come "
                                    + "back from memory.%n",
                            1e3 * l.stackKernelSeconds(), 1e3 * l.stackFloorSeconds(), l.stackBytes() / 1e6,
                            l.stackKernelRatio()));
                }
            }
            b.append(String.format(Locale.ROOT, "- Full step (uncached): %.3f ms measured; floor %.3f ms = %.3g FLOPs at %.1f GFLOP/s "
                            + "(best product rate, this run; at the model's MLP shape: Seer's packed product %.1f, libtorch's "
                            + "matmul %.1f GFLOP/s): %.2fx the floor.%n",
                    1e3 * l.fullStepSeconds(), 1e3 * l.fullFloorSeconds(), l.fullStepFlops(), l.matmulGflops(),
                    l.packedGflops(), l.modelMatmulGflops(), l.fullRatio()));
        }
        return b.toString();
    }

    /** The fastest and the slowest of a row's timed runs: how much the machine moved while the row ran. */
    private static String range(List<RunStats> runs) {
        if (runs.isEmpty()) {
            return "-";
        }
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (RunStats run : runs) {
            lo = Math.min(lo, run.seconds());
            hi = Math.max(hi, run.seconds());
        }
        return String.format(Locale.ROOT, "%.3f-%.3f", lo, hi);
    }

    private static String fmt(String format, double v) {
        return Double.isNaN(v) ? "-" : Double.isInfinite(v) ? (v > 0 ? "inf" : "-inf") : String.format(Locale.ROOT, format, v);
    }
}
