package dev.seer.eval;

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
import java.util.List;

/** A small loss-curve PNG: per-step losses in light grey, their moving average in blue, labelled axes. */
public final class LossPlot {
    private LossPlot() {
    }

    /**
     * @param rows   {step, loss, ...} rows in step order
     * @param window moving-average window, in steps
     */
    public static void write(Path file, List<double[]> rows, int window, String title) throws IOException {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no loss rows to plot");
        }
        int w = 640;
        int h = 400;
        int left = 64;
        int right = 20;
        int top = 34;
        int bottom = 48;
        int n = rows.size();
        double[] avg = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += rows.get(i)[1];
            if (i >= window) {
                sum -= rows.get(i - window)[1];
            }
            avg[i] = sum / Math.min(i + 1, window);
        }
        double xMax = rows.get(n - 1)[0];
        double yMax = 0;
        for (int i = Math.min(n - 1, window); i < n; i++) {
            yMax = Math.max(yMax, avg[i]);
        }
        yMax = niceCeil(Math.max(yMax * 1.6, 1e-3));
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            int pw = w - left - right;
            int ph = h - top - bottom;
            g.setColor(new Color(190, 190, 190));
            for (double[] r : rows) {
                int x = left + (int) Math.round(pw * r[0] / xMax);
                int y = top + ph - (int) Math.round(ph * Math.min(r[1], yMax) / yMax);
                g.fillRect(x, y, 1, 1);
            }
            Path2D.Double line = new Path2D.Double();
            for (int i = 0; i < n; i++) {
                double x = left + pw * rows.get(i)[0] / xMax;
                double y = top + ph - ph * Math.min(avg[i], yMax) / yMax;
                if (i == 0) {
                    line.moveTo(x, y);
                } else {
                    line.lineTo(x, y);
                }
            }
            g.setColor(new Color(30, 90, 200));
            g.setStroke(new BasicStroke(2f));
            g.draw(line);
            g.setStroke(new BasicStroke(1f));
            g.setColor(Color.BLACK);
            g.drawLine(left, top + ph, left + pw, top + ph);
            g.drawLine(left, top, left, top + ph);
            try {
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                FontMetrics fm = g.getFontMetrics();
                double[] yTicks = PlotTicks.ticks(0, yMax, 5);
                for (double yv : yTicks) {
                    int y = top + ph - (int) Math.round(ph * yv / yMax);
                    g.drawLine(left - 4, y, left, y);
                    String s = PlotTicks.label(yv, yTicks);
                    g.drawString(s, left - 6 - fm.stringWidth(s), y + 4);
                }
                double[] xTicks = PlotTicks.ticks(0, xMax, 5);
                for (double xv : xTicks) {
                    int x = left + (int) Math.round(pw * xv / xMax);
                    g.drawLine(x, top + ph, x, top + ph + 4);
                    String xs = PlotTicks.label(xv, xTicks);
                    g.drawString(xs, x - fm.stringWidth(xs) / 2, top + ph + 18);
                }
                g.drawString("step", left + pw / 2 - fm.stringWidth("step") / 2, h - 10);
                Graphics2D r = (Graphics2D) g.create();
                r.rotate(-Math.PI / 2);
                String yl = "loss (MSE + VB)";
                r.drawString(yl, -(top + ph / 2) - fm.stringWidth(yl) / 2, 16);
                r.dispose();
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
                g.drawString(title, left, 20);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                g.setColor(new Color(30, 90, 200));
                String legend = "moving average over " + window + " steps";
                g.drawString(legend, left + pw - g.getFontMetrics().stringWidth(legend) - 6, top + 16);
            } catch (RuntimeException | Error e) {
                // no usable font: the curve stays without labels
            }
        } finally {
            g.dispose();
        }
        Images.writePng(file, img);
    }

    private static double niceCeil(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }
}
