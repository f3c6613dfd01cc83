package dev.seer.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seer.cache.CachePolicy;
import dev.seer.cache.FactorDtype;
import dev.seer.kernel.Variant;
import dev.seer.model.flux.FluxInputs;
import dev.seer.model.flux.FluxModel;
import dev.seer.model.flux.FluxParams;
import dev.seer.model.flux.FluxSampler;
import dev.seer.sampling.ProgressListener;
import dev.seer.sampling.RunStats;
import dev.seer.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The policy bench on a FLUX model: uncached, each cached policy, and uncached with fewer steps at each cached row's
 * official FLOPs, in each compute dtype asked for (one model per dtype), all from the same text inputs and noise, in
 * one process. Per row: FLOPs (official count and really spent, {@link dev.seer.model.flux.FluxFlops}), wall-clock
 * (median of the timed runs, after one untimed one-step run per dtype; the first timed round goes dtype by dtype and
 * gives each row's latents and the fewer-steps rows, later rounds interleave every row), the speed-ups against the
 * uncached row of the same dtype and the fraction of the FLOPs speed-up that reaches the wall clock, the cache's
 * bytes, and the fidelity of the final latents to the uncached row of the first dtype (relative L2, and PSNR with
 * {@link Metrics#psnr}'s peak of 2).
 */
public final class FluxPolicyBench {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private FluxPolicyBench() {
    }

    /**
     * @param steps        sampling steps of the uncached and cached rows
     * @param latentHeight latent height (even)
     * @param latentWidth  latent width (even)
     * @param guidance     the guidance value (models with a guidance embedding)
     * @param repeats      timed runs per row (the median is reported)
     * @param seed         noise seed (the same for every row)
     * @param policies     the cached rows (FORA, TaylorSeer, ...)
     * @param fewerSteps   whether to add the uncached rows at the cached rows' FLOPs
     * @param factorDtypes how the cached rows store their Taylor factors: each cached row once per dtype
     */
    public record Settings(int steps, int latentHeight, int latentWidth, double guidance, int repeats, long seed,
                           List<CachePolicy> policies, boolean fewerSteps, List<FactorDtype> factorDtypes) {
        /** Settings with float32 factors. */
        public Settings(int steps, int latentHeight, int latentWidth, double guidance, int repeats, long seed,
                        List<CachePolicy> policies, boolean fewerSteps) {
            this(steps, latentHeight, latentWidth, guidance, repeats, seed, policies, fewerSteps, List.of(FactorDtype.F32));
        }

        public Settings {
            policies = List.copyOf(policies);
            factorDtypes = List.copyOf(new java.util.LinkedHashSet<>(factorDtypes));
            if (factorDtypes.isEmpty()) {
                throw new IllegalArgumentException("the bench needs at least one factor dtype");
            }
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be >= 1, found " + steps);
            }
            if (repeats < 1) {
                throw new IllegalArgumentException("repeats must be >= 1, found " + repeats);
            }
            if (policies.isEmpty() || policies.stream().anyMatch(p -> p instanceof CachePolicy.None)) {
                throw new IllegalArgumentException("the grid needs at least one caching policy and no 'none' (the uncached row is always run)");
            }
        }
    }

    /** One row: its timed runs and the final latents of its untimed run. */
    public static final class RowResult {
        private final BenchRow row;
        private final DType compute;
        private final List<RunStats> runs = new ArrayList<>();
        private float[] latents;

        RowResult(BenchRow row, DType compute) {
            this.row = row;
            this.compute = compute;
        }

        public BenchRow row() {
            return row;
        }

        /** The dtype this row computed in. */
        public DType compute() {
            return compute;
        }

        public List<RunStats> runs() {
            return List.copyOf(runs);
        }

        /** Median wall time of the timed runs (mean of the middle two for an even count). */
        public double medianSeconds() {
            return median(runs.stream().mapToDouble(RunStats::seconds));
        }

        /** Median over runs of the mean time of one full network call. */
        public double medianFullCallSeconds() {
            return median(runs.stream().filter(r -> !r.fullSteps().isEmpty()).mapToDouble(r -> r.secondsFull() / r.fullSteps().size()));
        }

        /** Median over runs of the mean time of one forecast network call; NaN without forecast steps. */
        public double medianForecastCallSeconds() {
            return median(runs.stream().filter(r -> !r.forecastSteps().isEmpty())
                    .mapToDouble(r -> r.secondsForecast() / r.forecastSteps().size()));
        }

        private static double median(java.util.stream.DoubleStream values) {
            double[] s = values.sorted().toArray();
            int n = s.length;
            return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        /** The statistics of the first timed run (FLOPs, steps and cache bytes are the same in every run). */
        public RunStats stats() {
            return runs.getFirst();
        }
    }

    /** What ran and what it measured: the rows of each dtype, dtype by dtype, each starting with its uncached row. */
    public record Report(String model, FluxParams params, List<DType> computeTypes, long txtTokens, Settings settings,
                         int threads, List<RowResult> rows) {
        /** The fidelity reference: the uncached row of the first dtype. */
        public RowResult baseline() {
            return rows.getFirst();
        }

        /** The uncached row in the dtype of {@code row}: its speed-ups' base. */
        public RowResult baseline(RowResult row) {
            return rows.stream().filter(r -> r.compute == row.compute && r.row.family().equals(BenchRow.UNCACHED))
                    .findFirst().orElseThrow();
        }

        public long imageTokens() {
            return (long) settings.latentHeight() / 2 * (settings.latentWidth() / 2);
        }
    }

    /** Told before each run. */
    public interface Listener {
        void progress(int done, int total, String what);
    }

    /**
     * Runs the bench on {@code models} (one per compute dtype, the same weights; the first gives the fidelity
     * reference) from {@code inputs} (text conditioning; the noise is drawn from the seed unless the inputs hold it).
     */
    public static Report run(String modelName, List<FluxModel> models, FluxInputs inputs, Settings s, Listener listener) {
        Objects.requireNonNull(listener, "listener");
        if (models.isEmpty() || models.stream().map(FluxModel::computeType).distinct().count() != models.size()) {
            throw new IllegalArgumentException("one model per compute dtype, at least one; found " + models.size());
        }
        List<RowResult> rows = new ArrayList<>();
        int done = 0;
        int perDtype = 2 * s.policies().size() * s.factorDtypes().size() + 1;
        int total = models.size() * (1 + perDtype * s.repeats()); // a bound until the fewer-steps rows are known
        // untimed: one one-step run per model warms the process (the first libtorch calls, the JIT)
        for (FluxModel model : models) {
            listener.progress(done++, total, "warm-up " + computeName(model.computeType()));
            sample(model, inputs, s, BenchRow.uncached(1));
        }
        // the first timed round, dtype by dtype: each row's latents and FLOPs, then the fewer-steps rows they ask for
        for (FluxModel model : models) {
            DType d = model.computeType();
            List<RowResult> own = new ArrayList<>();
            own.add(new RowResult(BenchRow.uncached(s.steps()), d));
            for (CachePolicy p : s.policies()) {
                for (FactorDtype f : s.factorDtypes()) {
                    own.add(new RowResult(BenchRow.cached(p, s.steps()).withFactorDtype(f), d));
                }
            }
            for (RowResult r : own) {
                first(r, model, inputs, s, listener, done++, total);
            }
            if (s.fewerSteps()) {
                double base = own.getFirst().stats().flopsOfficial();
                Set<Integer> fewer = new TreeSet<>(java.util.Comparator.reverseOrder());
                for (RowResult r : own.subList(1, own.size())) {
                    int steps = (int) Math.max(1, Math.round(s.steps() * r.stats().flopsOfficial() / base));
                    if (steps < s.steps()) {
                        fewer.add(steps);
                    }
                }
                for (int steps : fewer) {
                    RowResult r = new RowResult(BenchRow.fewerSteps(steps), d);
                    first(r, model, inputs, s, listener, done++, total);
                    own.add(r);
                }
            }
            rows.addAll(own);
        }
        total = done + rows.size() * (s.repeats() - 1);
        for (int round = 1; round < s.repeats(); round++) {
            for (RowResult r : rows) {
                FluxModel model = models.stream().filter(m -> m.computeType() == r.compute).findFirst().orElseThrow();
                listener.progress(done++, total, "run " + (round + 1) + "/" + s.repeats() + " " + r.row().label() + " "
                        + computeName(r.compute));
                r.runs.add(sample(model, inputs, s, r.row()).stats());
            }
        }
        listener.progress(total, total, "done");
        return new Report(modelName, models.getFirst().params(), models.stream().map(FluxModel::computeType).toList(),
                inputs.txtTokens(), s, org.bytedeco.pytorch.global.torch.get_num_threads(), List.copyOf(rows));
    }

    /** The row's first timed run: also its latents. */
    private static void first(RowResult r, FluxModel model, FluxInputs inputs, Settings s, Listener listener, int done, int total) {
        listener.progress(done, total, "run 1/" + s.repeats() + " " + r.row().label() + " " + computeName(r.compute));
        FluxSampler.Result result = sample(model, inputs, s, r.row());
        r.latents = result.latents();
        r.runs.add(result.stats());
    }

    private static FluxSampler.Result sample(FluxModel model, FluxInputs inputs, Settings s, BenchRow row) {
        boolean guidance = model.params().guidanceEmbed();
        return FluxSampler.sample(model, inputs, new FluxSampler.Request(row.steps(), s.latentHeight(), s.latentWidth(),
                s.guidance(), guidance, s.seed(), row.policy(), Variant.AUTO, ProgressListener.NONE, row.factorDtype()));
    }

    /** FLOPs speed-up, wall speed-up and their ratio of a row against the uncached row of its dtype. */
    public static BenchReport.Speedups speedups(Report report, RowResult row) {
        RowResult base = report.baseline(row);
        double flops = base.stats().flopsOfficial() / row.stats().flopsOfficial();
        double wall = base.medianSeconds() / row.medianSeconds();
        return new BenchReport.Speedups(flops, wall);
    }

    /** Relative L2 distance of a row's final latents to the uncached row's. */
    public static double relativeL2(Report report, RowResult row) {
        float[] ref = report.baseline().latents;
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) row.latents[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    /** How the bench names a compute dtype: float32 or bf16. */
    public static String computeName(DType d) {
        return d == DType.BF16 ? "bf16" : "float32";
    }

    /** One line on what ran. */
    public static String header(Report r) {
        FluxParams p = r.params();
        Settings s = r.settings();
        return String.format(Locale.ROOT, "%s (depth %d + %d single, hidden %d, %d heads): %d image + %d text tokens, %d steps, "
                        + "guidance %s, compute %s, %d timed runs per row (median), seed %d, %d threads", r.model(), p.depth(),
                p.depthSingleBlocks(), p.hiddenSize(), p.numHeads(), r.imageTokens(), r.txtTokens(), s.steps(),
                p.guidanceEmbed() ? s.guidance() : "none", String.join(" and ", r.computeTypes().stream().map(FluxPolicyBench::computeName).toList()),
                s.repeats(), s.seed(), r.threads());
    }

    /** The rows as a Markdown table. */
    public static String markdown(Report r) {
        StringBuilder b = new StringBuilder();
        b.append("Speed-ups against the uncached row of the same dtype; rel. L2 and PSNR against the uncached "
                + computeName(r.computeTypes().getFirst()) + " latents.\n\n");
        b.append("| row | dtype | steps | full steps | FLOPs (official) | FLOPs speed-up | wall s | wall speed-up | wall/FLOPs | full call s | forecast call s | rel. L2 | PSNR dB | cache MiB |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (RowResult row : r.rows()) {
            RunStats st = row.stats();
            BenchReport.Speedups sp = speedups(r, row);
            double psnr = Metrics.psnr(row.latents, r.baseline().latents);
            double forecast = row.medianForecastCallSeconds();
            b.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %.4g | %.2fx | %.3f | %.2fx | %.3f | %.3f | %s | %.3g | %s | %.1f |%n",
                    row.row().label(), computeName(row.compute), row.row().steps(), st.fullSteps().size(), st.flopsOfficial(),
                    sp.flops(), row.medianSeconds(), sp.wall(), sp.ratio(), row.medianFullCallSeconds(),
                    Double.isNaN(forecast) ? "" : String.format(Locale.ROOT, "%.3f", forecast), relativeL2(r, row),
                    Double.isInfinite(psnr) ? "inf" : String.format(Locale.ROOT, "%.2f", psnr), st.cacheBytes() / 1048576.0));
        }
        return b.toString();
    }

    /** The report as JSON: the model, the settings and one object per row. */
    public static String json(Report r) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode model = root.putObject("model");
        FluxParams p = r.params();
        model.put("name", r.model());
        model.put("family", "flux");
        model.put("depth", p.depth());
        model.put("depth_single_blocks", p.depthSingleBlocks());
        model.put("hidden_size", p.hiddenSize());
        model.put("num_heads", p.numHeads());
        model.put("image_tokens", r.imageTokens());
        model.put("text_tokens", r.txtTokens());
        ObjectNode settings = root.putObject("settings");
        Settings s = r.settings();
        settings.put("steps", s.steps());
        settings.put("guidance", p.guidanceEmbed() ? s.guidance() : null);
        ArrayNode dtypes = settings.putArray("compute_dtypes");
        r.computeTypes().forEach(d -> dtypes.add(computeName(d)));
        settings.put("repeats", s.repeats());
        settings.put("seed", s.seed());
        settings.put("threads", r.threads());
        ArrayNode rows = root.putArray("rows");
        for (RowResult row : r.rows()) {
            RunStats st = row.stats();
            BenchReport.Speedups sp = speedups(r, row);
            ObjectNode o = rows.addObject();
            o.put("id", row.row().id() + "-" + computeName(row.compute));
            o.put("label", row.row().label());
            o.put("family", row.row().family());
            o.put("policy", row.row().policy().spec());
            o.put("steps", row.row().steps());
            o.put("compute_dtype", computeName(row.compute));
            o.set("full_steps", JSON.valueToTree(st.fullSteps()));
            o.put("flops_official", st.flopsOfficial());
            o.put("flops_actual", st.flopsActual());
            o.put("flops_speedup", sp.flops());
            o.put("seconds_median", row.medianSeconds());
            o.set("seconds", JSON.valueToTree(row.runs.stream().mapToDouble(RunStats::seconds).toArray()));
            o.put("seconds_full_call", row.medianFullCallSeconds());
            if (!Double.isNaN(row.medianForecastCallSeconds())) {
                o.put("seconds_forecast_call", row.medianForecastCallSeconds());
            }
            o.put("wall_speedup", sp.wall());
            o.put("wall_over_flops", sp.ratio());
            o.put("relative_l2", relativeL2(r, row));
            double psnr = Metrics.psnr(row.latents, r.baseline().latents);
            if (Double.isFinite(psnr)) {
                o.put("psnr_db", psnr);
            } else {
                o.putNull("psnr_db");
            }
            o.put("cache_bytes", st.cacheBytes());
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
