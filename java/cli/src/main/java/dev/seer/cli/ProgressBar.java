package dev.seer.cli;

import dev.seer.sampling.ProgressListener;
import java.io.PrintStream;

/**
 * A one-line progress bar on stderr: [#####.....] 23/50 full 9 forecast 14  1.2 s. Redrawn at most every
 * {@value #REDRAW_MILLIS} ms (and at the end): a redraw costs about half a millisecond, as much as a forecast step.
 */
final class ProgressBar implements ProgressListener {
    private static final int WIDTH = 30;
    private static final long REDRAW_MILLIS = 100;
    private final PrintStream out;
    private final String label;
    private final long start = System.nanoTime();
    private int full;
    private int forecast;
    private long lastDraw;
    private boolean drawn;

    ProgressBar(PrintStream out, String label) {
        this.out = out;
        this.label = label;
    }

    /** "#####....." for done of total (shared with the commands that draw their own line). */
    static String bar(long done, long total) {
        int filled = (int) Math.min(WIDTH, WIDTH * done / Math.max(1, total));
        return "#".repeat(filled) + ".".repeat(WIDTH - filled);
    }

    @Override
    public void onStep(int done, int total, boolean wasFull) {
        if (wasFull) {
            full++;
        } else {
            forecast++;
        }
        long now = System.nanoTime();
        if (drawn && done != total && now - lastDraw < REDRAW_MILLIS * 1_000_000) {
            return;
        }
        drawn = true;
        lastDraw = now;
        out.printf("\r%s [%s] %d/%d  full %d  forecast %d  %.1f s", label, bar(done, total), done, total, full, forecast,
                (now - start) / 1e9);
        if (done == total) {
            out.println();
        }
        out.flush();
    }
}
