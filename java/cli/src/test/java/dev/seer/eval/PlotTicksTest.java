package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PlotTicksTest {
    @Test
    void ticksFallOnRoundSteps() {
        // the shipped table's speed-up axis (0.82 .. 4.76) and Fréchet axis (40.9 .. 50.5)
        assertArrayEquals(new double[] {1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5}, PlotTicks.ticks(0.821, 4.76, 6), 1e-12);
        assertArrayEquals(new double[] {42, 44, 46, 48, 50}, PlotTicks.ticks(40.9, 50.5, 6), 1e-12);
        // a narrow range around 84-85% class consistency, and one crossing zero
        assertArrayEquals(new double[] {84.1, 84.2, 84.3, 84.4, 84.5, 84.6, 84.7, 84.8}, PlotTicks.ticks(84.05, 84.85, 6), 1e-9);
        assertArrayEquals(new double[] {-2, 0, 2, 4, 6, 8, 10}, PlotTicks.ticks(-2.5, 11, 6), 1e-12);
    }

    @Test
    void stepsAreOneTwoOrFiveTimesAPowerOfTen() {
        assertEquals(1, PlotTicks.niceStep(1.2), 1e-12);
        assertEquals(2, PlotTicks.niceStep(1.6), 1e-12);
        assertEquals(5, PlotTicks.niceStep(4), 1e-12);
        assertEquals(10, PlotTicks.niceStep(8), 1e-12);
        assertEquals(0.05, PlotTicks.niceStep(0.04), 1e-15);
        assertEquals(1, PlotTicks.niceStep(0), 0); // a degenerate range still gets a step
    }

    @Test
    void labelsCarryTheDecimalsOfTheStep() {
        double[] halves = {1, 1.5, 2};
        assertEquals("1.0", PlotTicks.label(1, halves));
        assertEquals("1.5", PlotTicks.label(1.5, halves));
        double[] twos = {42, 44};
        assertEquals("44", PlotTicks.label(44, twos));
        double[] fine = {84.2, 84.4};
        assertEquals("84.4", PlotTicks.label(84.4, fine));
        assertEquals("0.05", PlotTicks.label(0.05, new double[] {0, 0.05}));
    }
}
