package dev.seer.cli;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.FactorDtype;
import dev.seer.cache.ForecastSums;
import dev.seer.eval.BenchGrid;
import dev.seer.eval.BenchPlots;
import dev.seer.eval.BenchReport;
import dev.seer.eval.BenchRow;
import dev.seer.eval.FashionEval;
import dev.seer.eval.FashionProbe;
import dev.seer.eval.Metrics;
import dev.seer.eval.PolicyBench;
import dev.seer.eval.ShippedModels;
import dev.seer.io.FashionMnist;
import dev.seer.io.TextFiles;
import dev.seer.kernel.Variant;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitWeights;
import dev.seer.sampling.SamplerKind;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seer bench}: the speed / quality / memory table of cache policies on one model. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Run a matrix of cache policies on one model and one sampler: uncached; FORA and TaylorSeer over a grid; "
                + "uncached with fewer steps at the FLOPs of each cached row (the equal-FLOPs baseline). Per row: FLOPs "
                + "(official count and really spent), wall-clock (median of --repeats runs, rows interleaved), peak resident "
                + "memory and cache bytes, and with a probe the quality of --samples images: Fréchet distance of the probe's "
                + "features to the test set, class consistency, PSNR / SSIM against the uncached sample from the same noise.",
                "Also: the forecast and full steps against this machine's limits (STREAM bandwidth, matmul rate) measured "
                        + "in the same run, and the forecast error per branch and step of one row.",
                "Writes DIR/bench.json (rewritten after every finished part; each row says whether it is complete), "
                        + "DIR/bench.md and PNG plots; prints the table."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", description = "A preset (DiT-S/2, ...) or a config JSON file. Default: the shipped Fashion-MNIST DiT.")
    String model;

    @Option(names = "--weights", description = "An existing weights file for --model (.safetensors or .pt). Default: none, "
            + "and a preset gets random weights (speed rows only: give --speed-only).")
    Path weights;

    @Option(names = "--weights-seed", defaultValue = "0", description = "Seed of the random weights, any integer. Default: ${DEFAULT-VALUE}.")
    long weightsSeed;

    @Option(names = "--input-size", defaultValue = "32", description = "Latent size H = W for presets, 1..4096, a multiple of the patch (32: 256 tokens at patch 2). Default: ${DEFAULT-VALUE}.")
    int inputSize;

    @Option(names = "--num-classes", defaultValue = "1000", description = "Classes for presets, 1..1000000. Default: ${DEFAULT-VALUE}.")
    int numClasses;

    @Option(names = "--probe", description = "An existing probe weights file for the quality columns (the model must make "
            + "1 x 28 x 28 images). Default: the shipped probe with the shipped model, none otherwise.")
    Path probe;

    @Option(names = "--speed-only", description = "Skip the quality columns (for models without a probe). Default: off.")
    boolean speedOnly;

    @Option(names = "--data", description = "Fashion-MNIST directory (the quality reference). Default: ${DEFAULT-VALUE}.")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--steps", defaultValue = "50", description = "Sampling steps of the uncached and cached rows (1..1000). Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--sampler", defaultValue = "ddim", description = "ddim or ddpm. Default: ${DEFAULT-VALUE}.")
    String sampler;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM eta, 0..1. Default: ${DEFAULT-VALUE}.")
    double eta;

    @Option(names = "--cfg", description = "Guidance scale, a finite number >= 0 (0: none). Default: 4 for the shipped model, else 1.5.")
    Double cfg;

    @Option(names = "--batch", description = "Labels per timed sampling (label i mod classes), 1..4096. Default: 10 for the shipped model, else 1.")
    Integer batch;

    @Option(names = "--repeats", description = "Timed runs per row, 1..1000; the median is reported. Default: 5, or 3 with --quick.")
    Integer repeats;

    @Option(names = "--samples", description = "Images per row for the quality columns, 2..60000. Default: 1000, or 50 with --quick.")
    Integer samples;

    @Option(names = "--chunk", defaultValue = "100", description = "Images per sampling call in the quality phase, 1..10000. Default: ${DEFAULT-VALUE}.")
    int chunk;

    @Option(names = "--seed", defaultValue = "0", description = "Noise seed, the same for every row, any integer. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--policies", split = ",", description = "The grid: fora:N, taylorseer:N:O and taylorseer-lite:N:O, where N and O are numbers "
            + "or ranges a..b. Default: fora:2..6,taylorseer:2..6:1..3; with --quick fora:5,taylorseer:3:2,taylorseer:5:2.")
    List<String> policies;

    @Option(names = "--error-row", description = "The cached row whose forecast error is mapped per branch and step "
            + "(taylorseer:N:O or fora:N, one of the grid's); 'none' to skip. Default: taylorseer:5:2 when in the grid, "
            + "else the grid's last TaylorSeer row.")
    String errorRow;

    @Option(names = "--quick", description = "A short run: the quick grid, 3 repeats, 50 samples per row. Default: off.")
    boolean quick;

    @Option(names = "--out-dir", defaultValue = "bench", description = "Directory for bench.json, bench.md and the plots (created if missing). Default: ${DEFAULT-VALUE}.")
    Path outDir;

    @Option(names = "--out-json", description = "The JSON file, in an existing writable directory. Default: DIR/bench.json.")
    Path outJson;

    @Option(names = "--limit-seconds", defaultValue = "1.0", description = "Time budget of each limits measurement (STREAM, matmul), seconds in (0, 600]. Default: ${DEFAULT-VALUE}.")
    double limitSeconds;

    @Option(names = "--variant", defaultValue = "auto", description = "Kernel variant: auto, ref, avx2, avx512. Default: ${DEFAULT-VALUE}.")
    String variant;

    @Option(names = "--forecast-sums", defaultValue = "auto", description = "Forecast sums for the cached rows: auto, on or off (see seer sample --help). Default: ${DEFAULT-VALUE}.")
    String forecastSums;

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Mixin
    FluxBenchOptions flux = new FluxBenchOptions();

    @Option(names = "--factor-dtype", split = ",", paramLabel = "DTYPE", description = "Storage of the cached rows' Taylor "
            + "factors, f32, bf16 or f16; several (comma-separated) give each cached row once per dtype, side by side. "
            + "Default: f32.")
    List<String> factorDtypes;

    @Override
    public Integer call() throws Exception {
        if (FluxBenchOptions.isFlux(model)) {
            return flux.run(this);
        }
        // Everything is checked before any work starts.
        boolean shipped = model == null && weights == null;
        if (model == null && weights != null) {
            throw OptionChecks.invalid("--weights", weights.toString(), "a weights file together with --model");
        }
        OptionChecks.existingFile("--weights", weights, "an existing .pt, .pth, .bin or .safetensors file");
        OptionChecks.existingFile("--probe", probe, "an existing probe weights file");
        OptionChecks.range("--steps", steps, 1, 1000);
        OptionChecks.finiteRange("--eta", eta, 0, 1);
        OptionChecks.range("--chunk", chunk, 1, 10_000);
        OptionChecks.positive("--limit-seconds", limitSeconds, 600);
        threads.validate();
        if (samples != null) {
            OptionChecks.range("--samples", samples, 2, 60_000);
        }
        if (repeats != null) {
            OptionChecks.range("--repeats", repeats, 1, 1000);
        }
        if (batch != null) {
            OptionChecks.range("--batch", batch, 1, 4096);
        }
        if (cfg != null) {
            OptionChecks.finiteRange("--cfg", cfg, 0, Double.MAX_VALUE);
        }
        if (!shipped) {
            OptionChecks.range("--input-size", inputSize, 1, 4096);
            OptionChecks.range("--num-classes", numClasses, 1, 1_000_000);
        }
        DitConfig config = shipped ? ShippedModels.fashionDitConfig()
                : Files.isRegularFile(Path.of(model)) ? DitConfig.fromJson(Path.of(model))
                : DitConfig.preset(model, inputSize, 4, numClasses);
        List<CachePolicy> grid = BenchGrid.parse(policies != null ? policies : quick ? BenchGrid.QUICK : BenchGrid.FULL);
        int m = samples != null ? samples : quick ? 50 : 1000;
        if (!speedOnly && !shipped && probe == null) {
            throw OptionChecks.invalid("--model", model, "the shipped model, or a model with --probe; or give --speed-only "
                    + "(this model has no probe for the quality columns)");
        }
        if (!speedOnly && !shipped && weights == null) {
            throw OptionChecks.invalid("--weights", "none", "a weights file for the quality columns (random weights make "
                    + "noise); or give --speed-only");
        }
        if (!speedOnly && (config.inChannels() != 1 || config.inputSize() != FashionProbe.SIZE
                || config.numClasses() > FashionProbe.CLASSES)) {
            throw OptionChecks.invalid("--model", model, "a model of 1 x 28 x 28 images and at most 10 classes for the "
                    + "probe (this one makes " + config.inChannels() + " x " + config.inputSize() + " x " + config.inputSize()
                    + " with " + config.numClasses() + " classes); or give --speed-only");
        }
        double scale = cfg != null ? cfg : shipped ? ShippedModels.DIT_CFG : 1.5;
        int timedBatch = batch != null ? batch : shipped ? 10 : 1;
        int k = repeats != null ? repeats : quick ? 3 : 5; // odd: a median that is a run, not a mean of two
        SamplerKind kind = OptionChecks.sampler("--sampler", sampler);
        Variant v = SampleCommand.parseVariant(variant);
        ForecastSums sums = SampleCommand.parseForecastSums(forecastSums);
        List<BenchRow> rows = withFactorDtypes(BenchGrid.rows(grid, steps, true,
                PolicyBench.flopsConfig(config, timedBatch, scale)), factorDtypes);
        BenchRow error = errorRow(rows);
        Path json = outJson != null ? outJson : outDir.resolve("bench.json");
        Files.createDirectories(outDir);
        OptionChecks.writableFile("--out-json", json);
        PolicyBench.Settings settings = new PolicyBench.Settings(steps, kind, eta, scale, shipped || !speedOnly, timedBatch, k,
                speedOnly ? 0 : m, chunk, seed, rows, error, v, limitSeconds, sums);

        threads.apply();
        String name = shipped ? "fashion-dit (shipped)" : model;
        PrintStream err = System.err;
        try (FashionProbe pr = speedOnly ? null : probe != null ? FashionProbe.load(probe) : FashionProbe.loadShipped();
             DitModel dit = load(shipped, config)) {
            Metrics.Gaussian reference = null;
            if (!speedOnly) {
                FashionMnist.Dataset test = FashionMnist.load(data, FashionMnist.Split.TEST);
                reference = FashionEval.features(pr, FashionEval.images(test), test.size());
            }
            MatrixProgress progress = new MatrixProgress(err, json, name);
            PolicyBench.Report report = PolicyBench.run(dit, pr, reference, settings, progress);
            String md = BenchReport.markdown(report);
            TextFiles.writeAtomically(outDir.resolve("bench.md"), header(name, report) + "\n" + md);
            BenchPlots.speedup(outDir.resolve("speedup.png"), report);
            if (!speedOnly) {
                BenchPlots.quality(outDir.resolve("fd-vs-speedup.png"), report, "fd");
                BenchPlots.quality(outDir.resolve("class-vs-speedup.png"), report, "class");
            }
            if (report.errorMap() != null) {
                BenchPlots.forecastError(outDir.resolve("forecast-error.png"), report.errorMap());
            }
            System.out.println(header(name, report));
            System.out.print(md);
            System.out.println("\nwritten: " + json.toAbsolutePath() + ", " + outDir.resolve("bench.md").toAbsolutePath()
                    + " and the plots in " + outDir.toAbsolutePath());
        }
        return 0;
    }

    private DitModel load(boolean shipped, DitConfig config) throws IOException {
        if (shipped) {
            return ShippedModels.fashionDit();
        }
        if (weights != null) {
            return DitModel.load(config, weights);
        }
        System.err.println("note: no --weights given; using random weights (seed " + weightsSeed + "): speed rows only");
        try (Arena arena = Arena.ofConfined()) {
            return DitModel.fromStateDict(config, DitWeights.random(config, weightsSeed, arena));
        }
    }

    /** Each cached row once per factor dtype (in the order given), the uncached rows as they are. */
    static List<BenchRow> withFactorDtypes(List<BenchRow> rows, List<String> names) {
        List<FactorDtype> dtypes = new ArrayList<>();
        for (String n : names == null ? List.of("f32") : names) {
            FactorDtype d = FactorDtypeOption.parse(n);
            if (!dtypes.contains(d)) {
                dtypes.add(d);
            }
        }
        List<BenchRow> out = new ArrayList<>();
        for (BenchRow r : rows) {
            if (r.isCached()) {
                dtypes.forEach(d -> out.add(r.withFactorDtype(d)));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    private BenchRow errorRow(List<BenchRow> rows) {
        if ("none".equalsIgnoreCase(errorRow)) {
            return null;
        }
        if (errorRow != null) {
            List<CachePolicy> p = BenchGrid.parse(List.of(errorRow));
            if (p.size() != 1) {
                throw new IllegalArgumentException("--error-row must name one policy, found '" + errorRow + "'");
            }
            for (BenchRow r : rows) {
                if (r.isCached() && r.policy().equals(p.getFirst())) {
                    return r;
                }
            }
            throw new IllegalArgumentException("--error-row '" + errorRow + "' is not in the grid (--policies)");
        }
        BenchRow pick = null;
        for (BenchRow r : rows) {
            if (r.policy() instanceof CachePolicy.TaylorSeer t) {
                if (t.interval() == 5 && t.maxOrder() == 2) {
                    return r;
                }
                pick = r;
            }
        }
        return pick;
    }

    private String header(String name, PolicyBench.Report r) {
        PolicyBench.Settings s = r.settings();
        return String.format(Locale.ROOT, "%s: %d steps %s (eta %s), guidance %s, batch %d per timed run, %d runs per row, "
                        + "%s, seed %d, %d threads", name, s.steps(), s.sampler().name().toLowerCase(Locale.ROOT), s.eta(),
                s.cfg(), s.batch(), s.repeats(), s.measuresQuality() ? s.samples() + " samples per row for quality" : "speed only",
                s.seed(), org.bytedeco.pytorch.global.torch.get_num_threads());
    }

    /** One progress bar for the whole matrix; keeps the JSON file up to date. */
    private static final class MatrixProgress implements PolicyBench.Listener {
        private static final int WIDTH = 30;
        private final PrintStream out;
        private final Path json;
        private final String name;
        private final long start = System.nanoTime();

        MatrixProgress(PrintStream out, Path json, String name) {
            this.out = out;
            this.json = json;
            this.name = name;
        }

        @Override
        public void progress(int done, int total, String what) {
            int filled = (int) ((long) WIDTH * Math.min(done, total) / Math.max(total, 1));
            long s = (System.nanoTime() - start) / 1_000_000_000L;
            String line = String.format(Locale.ROOT, "\rbench [%s] %d/%d  %dm%02ds  %s", "#".repeat(filled) + ".".repeat(WIDTH - filled),
                    done, total, s / 60, s % 60, what);
            out.print(line.length() > 118 ? line.substring(0, 118) : String.format("%-118s", line));
            if (done >= total) {
                out.println();
            }
            out.flush();
        }

        @Override
        public void updated(PolicyBench.Report report) throws IOException {
            TextFiles.writeAtomically(json, BenchReport.json(report, name));
        }
    }
}
