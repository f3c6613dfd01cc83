package dev.seer.eval;

import dev.seer.cache.CachePolicy;
import dev.seer.io.Images;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The policy bench's pictures: a quality metric against the wall-clock speed-up (one line per policy family,
 * TaylorSeer split by order), the wall-clock against the FLOPs speed-up, and the forecast error per branch and step.
 */
public final class BenchPlots {
    private static final Color[] PALETTE = {new Color(30, 90, 200), new Color(220, 80, 40), new Color(40, 160, 70),
        new Color(150, 60, 180), new Color(200, 150, 20), new Color(20, 170, 170), new Color(120, 120, 120)};
    private static final int W = 720;
    private static final int H = 460;
    private static final int LEFT = 70;
    private static final int RIGHT = 190;
    private static final int TOP = 36;
    private static final int BOTTOM = 50;

    private BenchPlots() {
    }

    /** One polyline with its legend name. */
    record Series(String name, List<double[]> points) {
    }

    /**
     * The rows grouped into lines: uncached with fewer steps, FORA, TaylorSeer per order, other families. Every line
     * starts at the uncached point, as in the paper's plots.
     */
    static List<Series> series(PolicyBench.Report report, ToDoubleFunction<PolicyBench.RowResult> x,
                               ToDoubleFunction<PolicyBench.RowResult> y) {
        Map<String, List<double[]>> lines = new LinkedHashMap<>();
        PolicyBench.RowResult base = report.baseline();
        double[] basePoint = {x.applyAsDouble(base), y.applyAsDouble(base)};
        boolean baseOk = Double.isFinite(basePoint[0]) && Double.isFinite(basePoint[1]);
        for (PolicyBench.RowResult r : report.rows()) {
            String name = switch (r.row().family()) {
                case BenchRow.UNCACHED, BenchRow.FEWER_STEPS -> "fewer steps";
                default -> r.row().policy() instanceof CachePolicy.TaylorSeer t ? "TaylorSeer O=" + t.maxOrder()
                        : r.row().policy() instanceof CachePolicy.Fora ? "FORA" : r.row().family();
            };
            List<double[]> line = lines.computeIfAbsent(name, k -> new ArrayList<>());
            if (line.isEmpty() && baseOk && r != base) {
                line.add(basePoint);
            }
            double xv = x.applyAsDouble(r);
            double yv = y.applyAsDouble(r);
            if (Double.isFinite(xv) && Double.isFinite(yv)) {
                line.add(new double[] {xv, yv});
            }
        }
        List<Series> out = new ArrayList<>();
        lines.forEach((k, v) -> {
            v.sort((a, b) -> Double.compare(a[0], b[0]));
            if (!v.isEmpty()) {
                out.add(new Series(k, v));
            }
        });
        return out;
    }

    /** Quality against wall-clock speed-up. */
    public static void quality(Path file, PolicyBench.Report report, String metric) throws IOException {
        ToDoubleFunction<PolicyBench.RowResult> y = switch (metric) {
            case "fd" -> r -> r.scores() == null ? Double.NaN : r.scores().frechet();
            case "class" -> r -> r.scores() == null ? Double.NaN : 100 * r.scores().classConsistency();
            default -> throw new IllegalArgumentException("unknown metric " + metric);
        };
        String yLabel = metric.equals("fd") ? "Fréchet distance (probe features; lower is better)" : "class consistency %";
        lines(file, series(report, r -> BenchReport.speedups(report, r).wall(), y), "wall-clock speedup", yLabel,
                (metric.equals("fd") ? "Fréchet distance" : "Class consistency") + " against wall-clock speedup, "
                        + report.settings().samples() + " samples per row", false);
    }

    /** Wall-clock against FLOPs speed-up, with the line where they are equal. */
    public static void speedup(Path file, PolicyBench.Report report) throws IOException {
        lines(file, series(report, r -> BenchReport.speedups(report, r).flops(), r -> BenchReport.speedups(report, r).wall()),
                "FLOPs speedup (official count)", "wall-clock speedup (median)", "Wall-clock against FLOPs speedup", true);
    }

    private static void lines(Path file, List<Series> series, String xLabel, String yLabel, String title, boolean diagonal)
            throws IOException {
        double xMin = Double.MAX_VALUE;
        double xMax = -Double.MAX_VALUE;
        double yMin = Double.MAX_VALUE;
        double yMax = -Double.MAX_VALUE;
        for (Series s : series) {
            for (double[] p : s.points()) {
                xMin = Math.min(xMin, p[0]);
                xMax = Math.max(xMax, p[0]);
                yMin = Math.min(yMin, p[1]);
                yMax = Math.max(yMax, p[1]);
            }
        }
        if (xMin > xMax) {
            throw new IllegalArgumentException("nothing to plot: no row has both values");
        }
        if (diagonal) {
            xMin = yMin = Math.min(Math.min(xMin, yMin), 1);
            xMax = yMax = Math.max(xMax, yMax);
        }
        double[] xr = pad(xMin, xMax);
        double[] yr = pad(yMin, yMax);
        double[] xTicks = PlotTicks.ticks(xr[0], xr[1], 6);
        double[] yTicks = PlotTicks.ticks(yr[0], yr[1], 6);
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        try {
            int pw = W - LEFT - RIGHT;
            int ph = H - TOP - BOTTOM;
            grid(g, xr, yr, xTicks, yTicks, pw, ph);
            if (diagonal) {
                g.setColor(new Color(200, 200, 200));
                g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 5f}, 0f));
                g.drawLine(px(xr, xr[0], pw), py(yr, xr[0], ph), px(xr, xr[1], pw), py(yr, xr[1], ph));
            }
            for (int i = 0; i < series.size(); i++) {
                Series s = series.get(i);
                g.setColor(PALETTE[i % PALETTE.length]);
                g.setStroke(new BasicStroke(2f));
                Path2D.Double line = new Path2D.Double();
                for (int k = 0; k < s.points().size(); k++) {
                    double[] p = s.points().get(k);
                    int x = px(xr, p[0], pw);
                    int y = py(yr, p[1], ph);
                    if (k == 0) {
                        line.moveTo(x, y);
                    } else {
                        line.lineTo(x, y);
                    }
                    g.fillOval(x - 4, y - 4, 8, 8);
                }
                g.draw(line);
            }
            axes(g, xr, yr, xTicks, yTicks, pw, ph, xLabel, yLabel, title);
            legend(g, series, LEFT + pw + 14, TOP + 10);
        } finally {
            g.dispose();
        }
        Images.writePng(file, img);
    }

    /** Heat map of log10 relative L2 error: branches down, forecast steps across in sampling order. */
    public static void forecastError(Path file, PolicyBench.ErrorMap map) throws IOException {
        int rows = map.branches().size();
        int cols = map.steps().size();
        if (rows == 0 || cols == 0) {
            throw new IllegalArgumentException("the forecast-error map is empty: " + map.row().label() + " had no forecast step");
        }
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (double[] r : map.relativeL2()) {
            for (double v : r) {
                if (v > 0 && Double.isFinite(v)) {
                    lo = Math.min(lo, Math.log10(v));
                    hi = Math.max(hi, Math.log10(v));
                }
            }
        }
        if (lo > hi) {
            lo = -8;
            hi = 0;
        }
        lo = Math.floor(lo);
        hi = Math.max(Math.ceil(hi), lo + 1);
        int cell = Math.max(6, Math.min(24, 520 / Math.max(cols, rows)));
        int left = 110;
        int top = 40;
        int w = left + cols * cell + 110;
        int h = top + rows * cell + 60;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        try {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double v = map.relativeL2()[i][j];
                    g.setColor(!(v > 0) || !Double.isFinite(v) ? Color.LIGHT_GRAY : heat((Math.log10(v) - lo) / (hi - lo)));
                    g.fillRect(left + j * cell, top + i * cell, cell, cell);
                }
            }
            for (int k = 0; k <= 50; k++) {
                g.setColor(heat(1 - k / 50.0));
                g.fillRect(left + cols * cell + 20, top + (int) Math.round(k * (rows * cell) / 51.0), 16, rows * cell / 51 + 1);
            }
            try {
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
                FontMetrics fm = g.getFontMetrics();
                int every = Math.max(1, (fm.getHeight() + cell - 1) / cell);
                for (int i = 0; i < rows; i += every) {
                    String s = map.branches().get(i);
                    g.drawString(s, left - 6 - fm.stringWidth(s), top + i * cell + cell / 2 + 4);
                }
                int everyX = Math.max(1, (fm.stringWidth("000") + 4 + cell - 1) / cell);
                for (int j = 0; j < cols; j += everyX) {
                    String s = String.valueOf(map.steps().get(j));
                    g.drawString(s, left + j * cell + cell / 2 - fm.stringWidth(s) / 2, top + rows * cell + 14);
                }
                g.drawString("forecast step (loop index, in sampling order)", left, top + rows * cell + 32);
                int bx = left + cols * cell + 40;
                g.drawString("1e" + (long) hi, bx, top + 10);
                g.drawString("1e" + (long) lo, bx, top + rows * cell);
                g.drawString("relative L2", bx - 20, top + rows * cell + 32);
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
                g.drawString("Forecast error per branch and step: " + map.row().label(), 10, 22);
            } catch (RuntimeException | Error e) {
                // no usable font: the map stays without labels
            }
        } finally {
            g.dispose();
        }
        Images.writePng(file, img);
    }

    /** Dark blue (0) through yellow (1). */
    private static Color heat(double t) {
        t = Math.max(0, Math.min(1, t));
        float hue = (float) (0.66 - 0.5 * t);
        return Color.getHSBColor(hue, 0.85f, (float) (0.35 + 0.65 * t));
    }

    private static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        return g;
    }

    /** Light lines at the ticks, under the data. */
    private static void grid(Graphics2D g, double[] xr, double[] yr, double[] xTicks, double[] yTicks, int pw, int ph) {
        g.setStroke(new BasicStroke(1f));
        g.setColor(new Color(232, 232, 232));
        for (double v : xTicks) {
            int x = px(xr, v, pw);
            g.drawLine(x, TOP, x, TOP + ph);
        }
        for (double v : yTicks) {
            int y = py(yr, v, ph);
            g.drawLine(LEFT, y, LEFT + pw, y);
        }
    }

    private static void axes(Graphics2D g, double[] xr, double[] yr, double[] xTicks, double[] yTicks, int pw, int ph,
                             String xLabel, String yLabel, String title) {
        g.setStroke(new BasicStroke(1f));
        g.setColor(Color.BLACK);
        g.drawLine(LEFT, TOP + ph, LEFT + pw, TOP + ph);
        g.drawLine(LEFT, TOP, LEFT, TOP + ph);
        try {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics fm = g.getFontMetrics();
            for (double xv : xTicks) {
                int x = px(xr, xv, pw);
                g.drawLine(x, TOP + ph, x, TOP + ph + 4);
                String xs = PlotTicks.label(xv, xTicks);
                g.drawString(xs, x - fm.stringWidth(xs) / 2, TOP + ph + 18);
            }
            for (double yv : yTicks) {
                int y = py(yr, yv, ph);
                g.drawLine(LEFT - 4, y, LEFT, y);
                String ys = PlotTicks.label(yv, yTicks);
                g.drawString(ys, LEFT - 6 - fm.stringWidth(ys), y + 4);
            }
            g.drawString(xLabel, LEFT + pw / 2 - fm.stringWidth(xLabel) / 2, H - 12);
            Graphics2D r = (Graphics2D) g.create();
            r.rotate(-Math.PI / 2);
            r.drawString(yLabel, -(TOP + ph / 2) - fm.stringWidth(yLabel) / 2, 16);
            r.dispose();
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.drawString(title, LEFT, 22);
        } catch (RuntimeException | Error e) {
            // no usable font: the plot stays without labels
        }
    }

    private static void legend(Graphics2D g, List<Series> series, int x, int y) {
        try {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int i = 0; i < series.size(); i++) {
                g.setColor(PALETTE[i % PALETTE.length]);
                g.fillRect(x, y + i * 20, 14, 10);
                g.setColor(Color.BLACK);
                g.drawString(series.get(i).name(), x + 20, y + i * 20 + 10);
            }
        } catch (RuntimeException | Error e) {
            // no usable font: no legend
        }
    }

    private static double[] pad(double lo, double hi) {
        double span = hi - lo;
        if (span <= 0) {
            span = Math.max(Math.abs(hi), 1) * 0.1;
        }
        return new double[] {lo - 0.05 * span, hi + 0.05 * span};
    }

    private static int px(double[] xr, double v, int pw) {
        return LEFT + (int) Math.round(pw * (v - xr[0]) / (xr[1] - xr[0]));
    }

    private static int py(double[] yr, double v, int ph) {
        return TOP + ph - (int) Math.round(ph * (v - yr[0]) / (yr[1] - yr[0]));
    }
}
