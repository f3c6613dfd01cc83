package dev.seer.cli;

import dev.seer.sampling.ProgressListener;
import java.io.PrintStream;

/** A one-line progress bar on stderr: [#####.....] 23/50 full 9 forecast 14  1.2 s. */
final class ProgressBar implements ProgressListener {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final long start = System.nanoTime();
    private int full;
    private int forecast;

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
        out.printf("\r%s [%s] %d/%d  full %d  forecast %d  %.1f s", label, bar(done, total), done, total, full, forecast,
                (System.nanoTime() - start) / 1e9);
        if (done == total) {
            out.println();
        }
        out.flush();
    }
}
