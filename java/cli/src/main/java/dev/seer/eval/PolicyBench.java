package dev.seer.eval;

import dev.seer.cache.CachePolicy;
import dev.seer.model.dit.DitFlops;
import dev.seer.cache.FactorDtype;
import dev.seer.cache.ForecastSums;
import dev.seer.cache.TaylorCache;
import dev.seer.cache.TaylorSeerSchedule;
import dev.seer.kernel.DitOps;
import dev.seer.kernel.NativeKernels;
import dev.seer.kernel.Variant;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitPipeline;
import dev.seer.sampling.RunStats;
import dev.seer.model.dit.SampleRequest;
import dev.seer.sampling.SampleResult;
import dev.seer.sampling.SamplerKind;
import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The policy bench: what each cache policy buys in wall-clock time and costs in quality and memory, on one model
 * and one sampler, in one process.
 *
 * <ol>
 *   <li>Limits: the matmul rate and the STREAM triad bandwidth of this machine, measured first.</li>
 *   <li>Speed: every row sampled {@code repeats} times from the same noise, rows interleaved (round r runs every
 *       row once), after one warm-up round; the median is reported, with the peak resident memory of the row's
 *       runs.</li>
 *   <li>Quality (when a probe is given): {@code samples} images per row scored by {@link FashionEval}: Fréchet
 *       distance of the probe's features to the test set's, class consistency, PSNR / SSIM against the uncached
 *       row from the same noise.</li>
 *   <li>Forecast error: one row re-run computing every branch at its forecast steps too (relative L2 per branch
 *       and step).</li>
 * </ol>
 *
 * <p>The {@link Listener} sees the report after every finished unit, so a caller can keep a file up to date: an
 * interrupted bench leaves what it finished, each row marked complete or not.
 */
public final class PolicyBench {
    private PolicyBench() {
    }

    /**
     * @param steps        sampling steps of the uncached and cached rows
     * @param sampler      DDIM or DDPM
     * @param eta          DDIM eta
     * @param cfg          guidance scale (0: none)
     * @param clipDenoised clamp pred_x0 to [-1, 1] (pixel-space models)
     * @param batch        labels per timed sampling (label i mod classes)
     * @param repeats      timed runs per row (the median is reported)
     * @param samples      images per row for the quality scores (>= 2), or 0 for a speed-only bench
     * @param chunk        images per sampling call in the quality phase
     * @param seed         noise seed (the same for every row)
     * @param rows         the rows; the first must be the uncached baseline at {@code steps}
     * @param errorRow     the row whose forecast error is mapped, or null for none
     * @param variant      kernel variant of the caches
     * @param limitSeconds time budget of each limits measurement
     */
    public record Settings(int steps, SamplerKind sampler, double eta, double cfg, boolean clipDenoised, int batch,
                           int repeats, int samples, int chunk, long seed, List<BenchRow> rows, BenchRow errorRow,
                           Variant variant, double limitSeconds, ForecastSums forecastSums) {
        public Settings {
            Objects.requireNonNull(sampler, "sampler");
            Objects.requireNonNull(variant, "variant");
            Objects.requireNonNull(forecastSums, "forecastSums");
            rows = List.copyOf(rows);
            if (rows.isEmpty() || !rows.getFirst().family().equals(BenchRow.UNCACHED) || rows.getFirst().steps() != steps) {
                throw new IllegalArgumentException("the first row must be the uncached baseline at " + steps + " steps");
            }
            if (rows.size() < 2) {
                throw new IllegalArgumentException("the grid is empty: a bench needs at least one row besides the uncached baseline");
            }
            if (batch < 1) {
                throw new IllegalArgumentException("--batch must be >= 1, found " + batch);
            }
            if (repeats < 1) {
                throw new IllegalArgumentException("--repeats must be >= 1, found " + repeats);
            }
            if (samples != 0 && samples < 2) {
                throw new IllegalArgumentException("--samples must be >= 2 (a Fréchet distance needs a covariance), found " + samples);
            }
            if (chunk < 1) {
                throw new IllegalArgumentException("--chunk must be >= 1, found " + chunk);
            }
            if (errorRow != null && (!errorRow.isCached() || !rows.contains(errorRow))) {
                throw new IllegalArgumentException("the forecast-error row must be one of the grid's cached rows, found "
                        + errorRow.label());
            }
            if (!(limitSeconds > 0)) {
                throw new IllegalArgumentException("the limits' time budget must be > 0 s, found " + limitSeconds);
            }
        }

        public boolean measuresQuality() {
            return samples > 0;
        }
    }

    /** What one row measured so far. */
    public static final class RowResult {
        private final BenchRow row;
        private final List<RunStats> runs = new ArrayList<>();
        private long peakRssBytes = -1;
        private FashionEval.Scores scores;
        private boolean complete;

        RowResult(BenchRow row) {
            this.row = row;
        }

        public BenchRow row() {
            return row;
        }

        /** The timed runs, in order. */
        public List<RunStats> runs() {
            return List.copyOf(runs);
        }

        /** The run with the median wall time (the lower middle one for an even count), or null before any run. */
        public RunStats medianRun() {
            if (runs.isEmpty()) {
                return null;
            }
            List<RunStats> sorted = new ArrayList<>(runs);
            sorted.sort((a, b) -> Double.compare(a.seconds(), b.seconds()));
            return sorted.get((sorted.size() - 1) / 2);
        }

        /** Median wall time of the timed runs (mean of the middle two for an even count); NaN before any run. */
        public double medianSeconds() {
            return median(runs.stream().mapToDouble(RunStats::seconds).toArray());
        }

        /** Median over runs of the mean time of one forecast network call; NaN without forecast steps. */
        public double medianForecastStepSeconds() {
            return median(runs.stream().filter(r -> !r.forecastSteps().isEmpty())
                    .mapToDouble(r -> r.secondsForecast() / r.forecastSteps().size()).toArray());
        }

        /** Median over runs of the mean time of one full network call. */
        public double medianFullStepSeconds() {
            return median(runs.stream().filter(r -> !r.fullSteps().isEmpty())
                    .mapToDouble(r -> r.secondsFull() / r.fullSteps().size()).toArray());
        }

        /** Peak resident memory of the process during this row's timed runs, or -1 where unknown. */
        public long peakRssBytes() {
            return peakRssBytes;
        }

        /** The quality scores, or null before (or without) the quality phase. */
        public FashionEval.Scores scores() {
            return scores;
        }

        public boolean complete() {
            return complete;
        }
    }

    /**
     * The machine's limits and the model's distance to them.
     *
     * @param forecastBytes         bytes a forecast step of {@code forecastRow} must move on average
     *                              ({@link #forecastBytes})
     * @param forecastsPerWindow    forecast steps per pass over the factors (1 without forecast sums)
     * @param streamGbps            STREAM triad bandwidth at the factors' working set, GB/s
     * @param forecastStepSeconds   measured time of one forecast network call of that row (median)
     * @param fullStepFlops         FLOPs really spent by one full network call
     * @param matmulGflops          the best float32 product rate measured (libtorch's matmul at a square shape and
     *                              at the model's MLP shape, Seer's packed product at the MLP shape), GFLOP/s
     * @param modelMatmulGflops     libtorch's matmul rate at the model's own MLP shape, GFLOP/s
     * @param packedGflops          Seer's packed product ({@link DitOps#linearRows}, what the blocks use) at the
     *                              model's MLP shape, GFLOP/s
     * @param fullStepSeconds       measured time of one full network call of the uncached row (median)
     * @param stackBytes            bytes one multi-branch forecast over the model's stack moves: every factor, x
     *                              read and written, the gates
     * @param stackKernelSeconds    that forecast kernel alone, called in a loop on a stack of the model's shape
     *                              (median; NaN for a non-CPU variant): how close the kernel itself comes to memory
     */
    public record Limits(BenchRow forecastRow, long forecastBytes, double forecastsPerWindow, double streamGbps,
                         double forecastStepSeconds, double fullStepFlops, double matmulGflops, double modelMatmulGflops,
                         double packedGflops, double fullStepSeconds, long stackBytes, double stackKernelSeconds) {
        public double forecastFloorSeconds() {
            return forecastBytes / (streamGbps * 1e9);
        }

        /** The multi-branch kernel's own floor: its bytes at the same triad. */
        public double stackFloorSeconds() {
            return stackBytes / (streamGbps * 1e9);
        }

        public double stackKernelRatio() {
            return stackKernelSeconds / stackFloorSeconds();
        }

        public double fullFloorSeconds() {
            return fullStepFlops / (matmulGflops * 1e9);
        }

        /** Measured over floor; NaN when not measured. */
        public double forecastRatio() {
            return forecastStepSeconds / forecastFloorSeconds();
        }

        public double fullRatio() {
            return fullStepSeconds / fullFloorSeconds();
        }
    }

    /** Relative L2 forecast error of every branch (rows, execution order) at every forecast step (columns, loop order). */
    public record ErrorMap(BenchRow row, List<Integer> steps, List<String> branches, double[][] relativeL2) {
    }

    /** The bench's state: filled in as it runs. */
    public static final class Report {
        private final Settings settings;
        private final DitConfig config;
        private final List<RowResult> rows = new ArrayList<>();
        private Limits limits;
        private ErrorMap errorMap;

        Report(Settings settings, DitConfig config) {
            this.settings = settings;
            this.config = config;
            for (BenchRow r : settings.rows()) {
                rows.add(new RowResult(r));
            }
        }

        public Settings settings() {
            return settings;
        }

        public DitConfig config() {
            return config;
        }

        public List<RowResult> rows() {
            return List.copyOf(rows);
        }

        public RowResult baseline() {
            return rows.getFirst();
        }

        /** Null until measured. */
        public Limits limits() {
            return limits;
        }

        /** Null until measured (or when no error row was asked for). */
        public ErrorMap errorMap() {
            return errorMap;
        }

        /** The FLOPs configuration of one timed sampling (the doubled batch under guidance). */
        public DitFlops.Config flopsConfig() {
            return PolicyBench.flopsConfig(config, settings.batch(), settings.cfg());
        }

        /** Official FLOPs of a row, computed from its schedule (the same count the runs report). */
        public double flopsOfficial(BenchRow r) {
            return DitFlops.officialTotal(TaylorSeerSchedule.plan(r.steps(), r.policy().interval(), r.policy().maxOrder()),
                    flopsConfig(), r.policy().forecastsStackOutput());
        }

        /** FLOPs really spent by a row (embedders, final layer and Taylor work included). */
        public double flopsActual(BenchRow r) {
            return DitFlops.actualFlops(TaylorSeerSchedule.plan(r.steps(), r.policy().interval(), r.policy().maxOrder()),
                    flopsConfig(), settings.cfg() > 0, r.policy().forecastsStackOutput());
        }
    }

    /** Progress and intermediate results. */
    public interface Listener {
        /** Work units done out of the total (timed runs, quality chunks, the error map), with what runs now. */
        void progress(int done, int total, String what);

        /** The report changed: a phase step finished. */
        default void updated(Report report) throws IOException {
        }
    }

    /**
     * Runs the bench.
     *
     * @param probe the quality probe; may be null only for a speed-only bench ({@code samples == 0})
     */
    public static Report run(DitModel model, FashionProbe probe, Metrics.Gaussian reference, Settings s, Listener listener)
            throws IOException {
        if (s.measuresQuality() && (probe == null || reference == null)) {
            throw new IllegalArgumentException("a quality bench needs a probe and the reference features; use samples 0 for speed only");
        }
        Report report = new Report(s, model.config());
        int chunksPerRow = s.measuresQuality() ? (s.samples() + s.chunk() - 1) / s.chunk() : 0;
        int warmups = s.rows().size();
        int total = warmups + s.repeats() * s.rows().size() + chunksPerRow * s.rows().size() + (s.errorRow() == null ? 0 : 1);
        int[] done = {0};
        Runnable tick = () -> done[0]++;

        listener.progress(done[0], total, "measuring the machine's limits");
        Machine machine = measureMachine(report, s.limitSeconds());

        try (DitPipeline pipeline = new DitPipeline(model, s.clipDenoised())) {
            long[] labels = labels(s.batch(), model.config().numClasses());
            // Warm-up: every row once, so that the JIT has compiled every row's paths and the allocator has settled
            // (with a warm-up of two rows only, the first timed round still ran the uncached row twice as slow).
            for (int i = 0; i < warmups; i++) {
                BenchRow r = s.rows().get(i);
                listener.progress(done[0], total, "warm-up: " + r.label());
                pipeline.sample(request(s, r, labels, null));
                tick.run();
            }
            boolean peakResettable = ProcessMemory.resetPeak();
            for (int rep = 0; rep < s.repeats(); rep++) {
                for (RowResult row : report.rows) {
                    listener.progress(done[0], total, "timing " + (rep + 1) + "/" + s.repeats() + ": " + row.row.label());
                    if (peakResettable) {
                        ProcessMemory.resetPeak();
                    }
                    SampleResult res = pipeline.sample(request(s, row.row, labels, null));
                    row.runs.add(res.stats());
                    if (peakResettable) {
                        row.peakRssBytes = Math.max(row.peakRssBytes, ProcessMemory.peakResidentBytes());
                    }
                    tick.run();
                }
                if (!s.measuresQuality() && rep == s.repeats() - 1) {
                    report.rows.forEach(r -> r.complete = true);
                }
                listener.updated(report);
            }
            report.limits = limits(report, machine);
            listener.updated(report);

            if (s.measuresQuality()) {
                FashionEval.Generated base = null;
                for (RowResult row : report.rows) {
                    String what = "quality: " + row.row.label();
                    int before = done[0];
                    FashionEval.Generated g = FashionEval.generate(model, s.samples(), row.row.steps(), s.sampler(), s.eta(),
                            s.cfg(), row.row.policy(), row.row.factorDtype(), s.seed(), s.chunk(), (d, t, full) -> listener.progress(
                                    before + (d + s.chunk() - 1) / s.chunk(), total, what + " " + d + "/" + t));
                    done[0] = before + chunksPerRow;
                    // The first row is the uncached baseline: scored alone, then the reference of every other row.
                    row.scores = FashionEval.score(probe, g, reference, base);
                    if (base == null) {
                        base = g;
                    }
                    row.complete = true;
                    listener.updated(report);
                }
            }

            if (s.errorRow() != null) {
                listener.progress(done[0], total, "forecast error: " + s.errorRow().label());
                report.errorMap = errorMap(pipeline, s, labels);
                tick.run();
                listener.updated(report);
            }
            listener.progress(total, total, "done");
            return report;
        }
    }

    private static SampleRequest request(Settings s, BenchRow r, long[] labels,
                                         TaylorCache.ForecastErrorSink sink) {
        return SampleRequest.builder(labels).steps(r.steps()).sampler(s.sampler()).eta(s.eta()).cfgScale(s.cfg())
                .policy(r.policy()).seed(s.seed()).variant(s.variant()).forecastErrors(sink)
                .forecastSums(s.forecastSums()).factorDtype(r.factorDtype()).build();
    }

    private static long[] labels(int n, int classes) {
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % classes;
        }
        return y;
    }

    private static ErrorMap errorMap(DitPipeline pipeline, Settings s, long[] labels) {
        Map<Integer, Map<String, Double>> byStep = new LinkedHashMap<>();
        List<String> branches = new ArrayList<>();
        pipeline.sample(request(s, s.errorRow(), labels, (step, point, err) -> {
            byStep.computeIfAbsent(step, k -> new LinkedHashMap<>()).put(point.name(), err);
            if (!branches.contains(point.name())) {
                branches.add(point.name());
            }
        }));
        List<Integer> steps = new ArrayList<>(byStep.keySet());
        double[][] m = new double[branches.size()][steps.size()];
        for (int j = 0; j < steps.size(); j++) {
            Map<String, Double> col = byStep.get(steps.get(j));
            for (int i = 0; i < branches.size(); i++) {
                m[i][j] = col.getOrDefault(branches.get(i), Double.NaN);
            }
        }
        return new ErrorMap(s.errorRow(), steps, branches, m);
    }

    // ---- limits ----

    private record Machine(long forecastBytes, double forecastsPerWindow, BenchRow forecastRow, double streamGbps,
                           double matmulGflops, double modelMatmulGflops, double packedGflops, long stackBytes,
                           double stackKernelSeconds) {
    }

    /** The FLOPs configuration of one timed sampling of {@code batch} labels: guidance doubles the batch. */
    public static DitFlops.Config flopsConfig(DitConfig c, int batch, double cfg) {
        int rows = cfg > 0 ? 2 * batch : batch;
        return DitFlops.Config.dit(c.depth(), c.hiddenSize(), c.numHeads(), c.patchSize(), c.inputSize(), rows);
    }

    /**
     * The row whose forecast step is held against its floor (the branch stack's forecast, float32 factor bytes): the
     * error row, else the last TaylorSeer row with float32 factors, else any cached one; never a row that forecasts
     * the stack's output instead (null if only such rows).
     */
    static BenchRow forecastRow(Settings s) {
        if (s.errorRow() != null && !s.errorRow().policy().forecastsStackOutput()) {
            return s.errorRow();
        }
        BenchRow pick = null;
        for (BenchRow r : s.rows()) {
            if (r.isCached() && !r.policy().forecastsStackOutput() && (pick == null
                    || r.policy() instanceof CachePolicy.TaylorSeer && r.factorDtype() == FactorDtype.F32)) {
                pick = r;
            }
        }
        return pick;
    }

    /**
     * Bytes one forecast step must move for the stack, on average over a run (float32). One multi-branch forecast
     * per step: every factor read, x read and written, the gates read. With forecast sums: the factors read once
     * per window of forecast steps ({@code forecastsPerWindow} of them on average), each step's sum written once and
     * read once, x read and written, the gates read.
     */
    public static long forecastBytes(DitConfig c, int batch, int maxOrder, double forecastsPerWindow, boolean sums) {
        long elements = (long) batch * c.tokens() * c.hiddenSize();
        long gates = (long) 2 * c.depth() * batch * c.hiddenSize() * 4;
        long x = 2 * elements * 4;
        if (!sums) {
            return factorBytes(c, batch, maxOrder) + x + gates;
        }
        return Math.round(factorBytes(c, batch, maxOrder) / forecastsPerWindow) + 2 * elements * 4 + x + gates;
    }

    /** Bytes of the stack's Taylor factors (float32): what a pass over them reads. */
    static long factorBytes(DitConfig c, int batch, int maxOrder) {
        return (long) 2 * c.depth() * (maxOrder + 1) * batch * c.tokens() * c.hiddenSize() * 4;
    }

    /**
     * Forecast steps per pass over the factors in a run of this row with forecast sums: the runs of consecutive
     * forecast steps in its plan, each cut into pieces of at most {@link NativeKernels#MAX_SUM_STEPS}; 1 without
     * forecast steps.
     */
    static double forecastsPerWindow(BenchRow row, int steps) {
        CachePolicy p = row.policy();
        List<TaylorSeerSchedule.StepPlan> plan = TaylorSeerSchedule.plan(steps, p.interval(), p.maxOrder());
        int forecasts = 0;
        int windows = 0;
        int run = 0;
        for (TaylorSeerSchedule.StepPlan step : plan) {
            if (step.isFull()) {
                run = 0;
                continue;
            }
            forecasts++;
            if (run++ % NativeKernels.MAX_SUM_STEPS == 0) {
                windows++;
            }
        }
        return windows == 0 ? 1 : (double) forecasts / windows;
    }

    private static Machine measureMachine(Report report, double seconds) {
        Settings s = report.settings;
        DitConfig c = report.config;
        DitFlops.Config fc = report.flopsConfig();
        BenchRow row = forecastRow(s);
        // windows of one forecast step prepare no sums
        boolean sums = row != null && s.forecastSums().appliesTo(factorBytes(c, fc.batch(), row.policy().maxOrder()))
                && forecastsPerWindow(row, row.steps()) > 1;
        double window = sums ? forecastsPerWindow(row, row.steps()) : 1;
        long bytes = row == null ? 0 : forecastBytes(c, fc.batch(), row.policy().maxOrder(), window, sums);
        // the triad at the factors' working set: what a pass over them streams
        double stream = row == null ? Double.NaN : KernelBench.measureStream(Math.max(KernelBench.MIN_SIZE,
                factorBytes(c, fc.batch(), row.policy().maxOrder())), seconds).triadGbps();
        long m = (long) fc.batch() * c.tokens();
        long hidden = (long) (c.hiddenSize() * c.mlpRatio());
        double model = matmulGflops(m, c.hiddenSize(), hidden, seconds);
        double square = matmulGflops(1024, 1024, 1024, seconds);
        double packed = packedGflops(m, c.hiddenSize(), hidden, seconds);
        long stackBytes = row == null ? 0 : forecastBytes(c, fc.batch(), row.policy().maxOrder(), 1, false);
        double kernel = row == null ? Double.NaN
                : stackKernelSeconds(c, fc.batch(), row.policy().maxOrder(), s.variant(), seconds);
        return new Machine(bytes, window, row, stream, Math.max(packed, Math.max(model, square)), model, packed,
                stackBytes, kernel);
    }

    /**
     * One multi-branch forecast over a stack of the model's shape (2 * depth branches of (batch, tokens, hidden),
     * float32), called in a loop: median seconds per call. The factors stay as warm as the caches let them.
     */
    static double stackKernelSeconds(DitConfig c, int batch, int order, Variant variant, double seconds) {
        KernelBench.Layout layout = new KernelBench.Layout(KernelBench.Op.TAYLOR_FORECAST_RESIDUAL_MULTI, DType.F32, order,
                batch, c.tokens(), c.hiddenSize(), 2 * c.depth(), 1, 0);
        try (KernelBuffers b = new KernelBuffers(layout.op(), DType.F32, order, layout)) {
            b.fillPattern();
            return KernelBench.medianSeconds(() -> b.runSeer(variant), seconds);
        }
    }

    private static Limits limits(Report report, Machine machine) {
        RowResult forecast = null;
        for (RowResult r : report.rows) {
            if (r.row.equals(machine.forecastRow())) {
                forecast = r;
            }
        }
        double forecastSeconds = forecast == null ? Double.NaN : forecast.medianForecastStepSeconds();
        double fullFlops = DitFlops.actualStepFlops(report.flopsConfig(), TaylorSeerSchedule.StepKind.FULL, 0,
                report.settings.cfg() > 0);
        return new Limits(machine.forecastRow(), machine.forecastBytes(), machine.forecastsPerWindow(), machine.streamGbps(),
                forecastSeconds, fullFlops, machine.matmulGflops(), machine.modelMatmulGflops(), machine.packedGflops(),
                report.baseline().medianFullStepSeconds(), machine.stackBytes(), machine.stackKernelSeconds());
    }

    /** libtorch float32 (m x k) @ (k x n), GFLOP/s (2mkn FLOPs per call), median of calls over {@code seconds}. */
    public static double matmulGflops(long m, long k, long n, double seconds) {
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
            org.bytedeco.pytorch.Tensor a = torch.rand(new long[] {m, k}, f32);
            org.bytedeco.pytorch.Tensor b = torch.rand(new long[] {k, n}, f32);
            org.bytedeco.pytorch.Tensor out = torch.zeros(new long[] {m, n}, f32);
            double t = KernelBench.medianSeconds(() -> torch.mm_out(out, a, b), seconds);
            return 2.0 * m * k * n / t / 1e9;
        }
    }

    /**
     * Seer's packed float32 product, (m x k) times a packed (k x n) linear map plus bias, GFLOP/s (2mkn FLOPs per
     * call), median of calls over {@code seconds}.
     */
    public static double packedGflops(long m, long k, long n, double seconds) {
        try (Arena arena = Arena.ofConfined()) {
            java.util.Random rnd = new java.util.Random(1);
            Tensor x = Tensor.allocate(arena, DType.F32, m, k);
            Tensor w = Tensor.allocate(arena, DType.F32, n, k);
            for (Tensor t : new Tensor[] {x, w}) {
                float[] v = new float[Math.toIntExact(t.numel())];
                for (int i = 0; i < v.length; i++) {
                    v[i] = rnd.nextFloat();
                }
                t.copyFrom(v);
            }
            Tensor panels = Tensor.allocate(arena, DType.F32, DitOps.packedShape(n, k));
            DitOps.packLinear(panels, w);
            Tensor bias = Tensor.allocate(arena, DType.F32, n);
            Tensor y = Tensor.allocate(arena, DType.F32, m, n);
            double t = KernelBench.medianSeconds(() -> DitOps.linearRows(Variant.AUTO, y, x, panels, bias), seconds);
            return 2.0 * m * k * n / t / 1e9;
        }
    }

    static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
