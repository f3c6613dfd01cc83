package dev.seer.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import dev.seer.kernel.Kernels;
import dev.seer.kernel.TaylorFactors;
import dev.seer.kernel.Variant;
import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Feature trajectories that are polynomials in the step index, run through the official DiT schedule and the
 * fused kernels: constants are forecast exactly by every order, straight lines exactly by orders >= 1, and a
 * quadratic by order 2 exactly as the backward-difference recursion says (TAYLORSEER.md §2: D^1 is the secant
 * slope, so the forecast is f(s_k) + (f'(s_k) - f''d/2) delta + f'' delta^2 / 2 once two spacings agree).
 */
class PolynomialForecastTest {
    static final int N = 64;

    /** Runs a 50-step schedule; returns the largest forecast error relative to the expected trajectory. */
    static double maxError(int interval, int order, DoubleUnaryOperator feature, ExpectedForecast expected) {
        try (Arena arena = Arena.ofConfined()) {
            TaylorFactors f = TaylorFactors.allocate(arena, DType.F32, Shape.of(N), order);
            Tensor in = Tensor.allocate(arena, DType.F32, N);
            Tensor out = Tensor.allocate(arena, DType.F32, N);
            double worst = 0;
            StepPlan last = null;
            StepPlan previousFull = null;
            for (StepPlan p : TaylorSeerSchedule.plan(50, interval, order)) {
                if (p.isFull()) {
                    float[] v = new float[N];
                    for (int j = 0; j < N; j++) {
                        v[j] = (float) (feature.applyAsDouble(p.step()) * (1 + j * 0.01));
                    }
                    in.copyFrom(v);
                    Kernels.taylorUpdate(Variant.AUTO, f, in, p.order(), p.distance());
                    previousFull = last;
                    last = p;
                } else {
                    assertTrue(Kernels.taylorForecast(Variant.AUTO, out, f, p.delta()));
                    float[] got = out.toFloatArray();
                    double want = expected.at(p, last, previousFull);
                    if (Double.isNaN(want)) {
                        continue;
                    }
                    for (int j = 0; j < N; j++) {
                        double w = (float) (want * (1 + j * 0.01));
                        worst = Math.max(worst, Math.abs(got[j] - w) / Math.max(1, Math.abs(w)));
                    }
                }
            }
            return worst;
        }
    }

    interface ExpectedForecast {
        /** The expected value at a forecast step (NaN: not checked here). */
        double at(StepPlan step, StepPlan lastFull, StepPlan fullBefore);
    }

    @Test
    void constantsAreForecastExactlyByEveryOrder() {
        for (int order = 0; order <= 4; order++) {
            for (int interval = 2; interval <= 6; interval++) {
                assertEquals(0.0, maxError(interval, order, s -> 1.75, (p, l, b) -> 1.75), "N=" + interval + " O=" + order);
            }
        }
    }

    @Test
    void straightLinesAreForecastExactlyFromOrderOne() {
        DoubleUnaryOperator line = s -> 0.5 + 0.03 * s;
        for (int order = 1; order <= 4; order++) {
            for (int interval = 2; interval <= 6; interval++) {
                double err = maxError(interval, order, line, (p, l, b) -> line.applyAsDouble(p.step()));
                assertTrue(err < 1e-5, "N=" + interval + " O=" + order + " error " + err);
            }
        }
        // FORA (order 0) repeats the last full value instead.
        double err = maxError(4, 0, line, (p, l, b) -> line.applyAsDouble(l.step()));
        assertTrue(err < 1e-6, "FORA error " + err);
    }

    @Test
    void quadraticsFollowTheBackwardDifferenceTaylorSum() {
        double a = 0.2;
        double b = 0.01;
        double c = 0.0004;
        DoubleUnaryOperator quad = s -> a + b * s + c * s * s;
        double err = maxError(5, 2, quad, (p, last, before) -> {
            // only once the last two spacings are equal (both = -N), i.e. from the second full step after the warm-up
            if (before == null || last.distance() != before.distance()) {
                return Double.NaN;
            }
            double sk = last.step();
            double d = last.distance();
            double slope = b + 2 * c * sk;
            double delta = p.delta();
            return quad.applyAsDouble(sk) + (slope - c * d) * delta + c * delta * delta;
        });
        assertTrue(err < 1e-5, "error " + err);
    }
}
