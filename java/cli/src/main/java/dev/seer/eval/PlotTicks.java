package dev.seer.eval;

import java.util.Locale;

/** Axis ticks for the project's plots: round steps, labels with the decimals the step needs. */
final class PlotTicks {
    private PlotTicks() {
    }

    /**
     * Ticks inside [lo, hi] at a round step (1, 2 or 5 times a power of ten) giving close to {@code target} of
     * them, as plotting libraries place them: 1, 2, 3, 4 rather than 0.821, 1.61, 2.40.
     */
    static double[] ticks(double lo, double hi, int target) {
        double step = niceStep((hi - lo) / Math.max(1, target));
        long first = (long) Math.ceil(lo / step - 1e-9);
        long last = (long) Math.floor(hi / step + 1e-9);
        double[] ticks = new double[(int) Math.max(0, last - first + 1)];
        for (int i = 0; i < ticks.length; i++) {
            ticks[i] = (first + i) * step; // multiples of the step: no accumulated rounding
        }
        return ticks;
    }

    /** The round step (1, 2 or 5 times a power of ten) closest to {@code raw} from the ones around it. */
    static double niceStep(double raw) {
        if (!(raw > 0) || !Double.isFinite(raw)) {
            return 1;
        }
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / magnitude;
        double nice = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
        return nice * magnitude;
    }

    /** A tick's value with as many decimals as its step needs. */
    static String label(double v, double[] ticks) {
        double step = ticks.length > 1 ? ticks[1] - ticks[0] : Math.abs(v);
        int decimals = step > 0 ? (int) Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)) : 0;
        return String.format(Locale.ROOT, "%." + Math.min(decimals, 10) + "f", v);
    }
}
