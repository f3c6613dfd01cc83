package dev.seer.eval;

import dev.seer.cache.CachePolicy;
import dev.seer.io.FashionMnist;
import dev.seer.io.Images;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitPipeline;
import dev.seer.sampling.ProgressListener;
import dev.seer.sampling.RunStats;
import dev.seer.model.dit.SampleRequest;
import dev.seer.sampling.SampleResult;
import dev.seer.sampling.SamplerKind;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Seer's main job: the shipped Fashion-MNIST DiT sampled once uncached and once with a cache policy from the same
 * noise, drawn as one labelled grid (a row per class, uncached samples on the left, cached on the right), with a
 * table of time, FLOPs, speedup and fidelity (PSNR / SSIM against the uncached samples, class consistency by the
 * probe).
 */
public final class FashionDemo {
    private FashionDemo() {
    }

    /** What the demo measured. */
    public record Result(RunStats uncached, RunStats cached, FashionEval.Scores uncachedScores, FashionEval.Scores cachedScores) {
    }

    /**
     * Runs the demo with {@code perClass} samples per class and side.
     *
     * @param request a request whose steps, sampler, eta, cfg, seed and policy are used (its labels are replaced)
     */
    public static Result run(DitModel model, FashionProbe probe, SampleRequest request, int perClass, Path outGrid,
                             ProgressListener uncachedProgress, ProgressListener cachedProgress) throws IOException {
        int classes = model.config().numClasses();
        int n = classes * perClass;
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i / perClass;
        }
        try (DitPipeline pipeline = new DitPipeline(model, ShippedModels.CLIP_DENOISED)) {
            // A first round of both warms the JIT and the pipeline's memory, so that neither is timed cold (timed first,
            // the uncached run paid for the JVM's start and made the speedup look larger than it is); the second round,
            // the same samples bit for bit, is the one timed.
            pipeline.sample(with(request, labels, new CachePolicy.None(), uncachedProgress));
            pipeline.sample(with(request, labels, request.policy(), cachedProgress));
            SampleResult base = pipeline.sample(with(request, labels, new CachePolicy.None(), uncachedProgress));
            SampleResult cached = pipeline.sample(with(request, labels, request.policy(), cachedProgress));
            FashionEval.Generated g0 = generated(base, labels);
            FashionEval.Generated g1 = generated(cached, labels);
            FashionEval.Scores s0 = scores(probe, g0, null);
            FashionEval.Scores s1 = scores(probe, g1, g0);
            writeGrid(outGrid, g0, g1, classes, perClass, model.config().inputSize(), request.policy().label());
            return new Result(base.stats(), cached.stats(), s0, s1);
        }
    }

    private static SampleRequest with(SampleRequest r, long[] labels, CachePolicy policy, ProgressListener listener) {
        return new SampleRequest(labels, null, r.steps(), r.sampler(), r.eta(), r.cfgScale(), r.guideAllChannels(), policy,
                r.seed(), r.variant(), listener, null, r.forecastSums(), r.threads(), r.clipDenoised(),
                r.cancellation(), r.factorDtype());
    }

    private static FashionEval.Generated generated(SampleResult r, long[] labels) {
        float[] x = r.latents().clone();
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.max(-1f, Math.min(1f, x[i]));
        }
        return new FashionEval.Generated(x, labels, r.stats().seconds(), r.stats().flopsActual(), r.stats().flopsOfficial());
    }

    /** Class consistency and PSNR/SSIM only (a Fréchet distance of a few dozen samples means little). */
    private static FashionEval.Scores scores(FashionProbe probe, FashionEval.Generated g, FashionEval.Generated ref) {
        FashionProbe.Outputs o = probe.run(g.images(), g.count());
        double cc = Metrics.classConsistency(o.predictions(), g.labels());
        if (ref == null) {
            return new FashionEval.Scores(cc, Double.NaN, Double.NaN, Double.NaN);
        }
        int hw = FashionMnist.SIZE * FashionMnist.SIZE;
        double ps = 0;
        int finite = 0;
        double ss = 0;
        for (int i = 0; i < g.count(); i++) {
            float[] a = Arrays.copyOfRange(g.images(), i * hw, (i + 1) * hw);
            float[] b = Arrays.copyOfRange(ref.images(), i * hw, (i + 1) * hw);
            double p = Metrics.psnr(a, b);
            if (Double.isFinite(p)) {
                ps += p;
                finite++;
            }
            ss += Metrics.ssim(a, b, FashionMnist.SIZE, FashionMnist.SIZE);
        }
        return new FashionEval.Scores(cc, Double.NaN, finite == 0 ? Double.POSITIVE_INFINITY : ps / finite, ss / g.count());
    }

    static void writeGrid(Path file, FashionEval.Generated left, FashionEval.Generated right, int classes, int perClass,
                          int size, String rightTitle) throws IOException {
        int hw = size * size;
        int cols = 2 * perClass + 1;
        Images.Grid grid = Images.grid(classes, cols).scale(3).rowLabels(FashionMnist.CLASS_NAMES.subList(0, classes));
        for (int r = 0; r < classes; r++) {
            for (int k = 0; k < perClass; k++) {
                int i = r * perClass + k;
                grid.set(r, k, Images.gray(Arrays.copyOfRange(left.images(), i * hw, (i + 1) * hw), size, size));
                grid.set(r, perClass + 1 + k, Images.gray(Arrays.copyOfRange(right.images(), i * hw, (i + 1) * hw), size, size));
            }
        }
        BufferedImage body = grid.render();
        int top = 24;
        BufferedImage out = new BufferedImage(body.getWidth(), body.getHeight() + top, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            g.drawImage(body, 0, top, null);
            try {
                g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
                FontMetrics fm = g.getFontMetrics();
                var l0 = grid.tileBounds(0, 0);
                var l1 = grid.tileBounds(0, perClass - 1);
                var r0 = grid.tileBounds(0, perClass + 1);
                var r1 = grid.tileBounds(0, cols - 1);
                String a = "uncached";
                g.drawString(a, (l0.x + l1.x + l1.width) / 2 - fm.stringWidth(a) / 2, top - 7);
                g.drawString(rightTitle, (r0.x + r1.x + r1.width) / 2 - fm.stringWidth(rightTitle) / 2, top - 7);
            } catch (RuntimeException | Error e) {
                // no usable font on this JVM: the picture stays without titles
            }
        } finally {
            g.dispose();
        }
        Images.writePng(file, out);
    }

    /**
     * A grid of uncached samples, one row per class and {@code perClass} columns (the model card's picture).
     *
     * @return the samples' class consistency by the probe, or NaN without a probe
     */
    public static double sampleGrid(DitModel model, FashionProbe probe, int perClass, int steps, double cfg, long seed,
                                    Path file) throws IOException {
        int classes = model.config().numClasses();
        int size = model.config().inputSize();
        int n = classes * perClass;
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i / perClass;
        }
        SampleResult r;
        try (DitPipeline pipeline = new DitPipeline(model, ShippedModels.CLIP_DENOISED)) {
            r = pipeline.sample(SampleRequest.builder(labels).steps(steps).sampler(SamplerKind.DDIM).cfgScale(cfg).seed(seed).build());
        }
        FashionEval.Generated g = generated(r, labels);
        int hw = size * size;
        Images.Grid grid = Images.grid(classes, perClass).scale(2).rowLabels(FashionMnist.CLASS_NAMES.subList(0, classes));
        for (int i = 0; i < n; i++) {
            grid.set(i / perClass, i % perClass, Images.gray(Arrays.copyOfRange(g.images(), i * hw, (i + 1) * hw), size, size));
        }
        grid.write(file);
        return probe == null ? Double.NaN : scores(probe, g, null).classConsistency();
    }

    /** Prints the comparison table. */
    public static void printTable(PrintStream out, Result r, String cachedLabel, int samples, int steps, double cfg) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"policy", "time s", "FLOPs", "speedup (time)", "speedup (FLOPs)", "PSNR dB", "SSIM", "class consistency"});
        rows.add(row("uncached", r.uncached(), r.uncached(), r.uncachedScores()));
        rows.add(row(cachedLabel, r.cached(), r.uncached(), r.cachedScores()));
        out.printf(Locale.ROOT, "%d samples (one row per class), %d DDIM steps, guidance scale %.1f; times of a second round (both warm);"
                + " fidelity against the uncached samples from the same noise%n", samples, steps, cfg);
        int[] w = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                w[i] = Math.max(w[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                sb.append(i == 0 ? String.format("%-" + w[i] + "s", row[i]) : String.format("  %" + w[i] + "s", row[i]));
            }
            out.println(sb);
        }
    }

    private static String[] row(String name, RunStats s, RunStats base, FashionEval.Scores sc) {
        return new String[] {name, String.format(Locale.ROOT, "%.2f", s.seconds()), String.format(Locale.ROOT, "%.3g", s.flopsActual()),
                String.format(Locale.ROOT, "%.2fx", base.seconds() / s.seconds()),
                String.format(Locale.ROOT, "%.2fx", base.flopsActual() / s.flopsActual()),
                Double.isNaN(sc.psnr()) ? "-" : String.format(Locale.ROOT, "%.1f", sc.psnr()),
                Double.isNaN(sc.ssim()) ? "-" : String.format(Locale.ROOT, "%.3f", sc.ssim()),
                String.format(Locale.ROOT, "%.0f%%", 100 * sc.classConsistency())};
    }
}
