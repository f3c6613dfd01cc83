package dev.seer.model.flux;

import dev.seer.tensor.GateView;
import dev.seer.model.BranchHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The official TaylorSeer-FLUX cache, transcribed line by line into plain Java float arithmetic as an independent
 * oracle for {@link dev.seer.cache.TaylorCache} on FLUX: {@code cache_init} (Taylor mode: first_enhance 3,
 * fresh_threshold N, max_order O, activated_steps seeded with [0]), {@code cal_type} with {@code force_scheduler}
 * (threshold round(N / 1.0) = N), {@code taylor_cache_init}, {@code derivative_approximation} and
 * {@code taylor_formula} (taylor_utils/__init__.py), and the blocks' {@code x = x + gate * out}. Each float operation is
 * the one PyTorch performs on float32 tensors with a Python scalar (the scalar rounded to float first).
 */
final class OfficialFluxCache implements BranchHooks {
    private static final int FIRST_ENHANCE = 3;

    private final int freshThreshold;
    private final int maxOrder;
    private int cacheCounter;
    private final List<Integer> activatedSteps = new ArrayList<>(List.of(0));
    private boolean full;
    private int step;
    /** cache[-1][stream][layer][module]: one map of order -> factor per hook point. */
    private final Map<Integer, Map<Integer, float[]>> cache = new HashMap<>();
    final List<Integer> fullSteps = new ArrayList<>();

    OfficialFluxCache(int interval, int maxOrder) {
        this.freshThreshold = interval;
        this.maxOrder = maxOrder;
    }

    @Override
    public void beginStep(StepContext ctx) {
        step = ctx.step();
        // cal_type: the Taylor mode has taylor_cache on, so the first steps are those below first_enhance
        boolean firstStep = step < FIRST_ENHANCE;
        int freshInterval = freshThreshold; // cal_threshold = round(fresh_threshold / 1.0) after the warm-up
        if (firstStep || cacheCounter == freshInterval - 1) {
            full = true;
            cacheCounter = 0;
            activatedSteps.add(step);
            fullSteps.add(step);
        } else {
            full = false;
            cacheCounter++;
        }
    }

    @Override
    public void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch) {
        float[] out;
        if (full) {
            if (step == 0) {
                cache.put(point.index(), new HashMap<>()); // taylor_cache_init
            }
            out = branch.compute().toFloatArray();
            derivativeApproximation(point.index(), out);
        } else {
            out = taylorFormula(point.index());
        }
        // x = x + gate * out, gate (B, 1, C) broadcast over tokens
        float[] xs = x.toFloatArray();
        float[] g = gate.storage().toFloatArray();
        int batch = (int) x.shape().dim(0);
        int tokens = (int) x.shape().dim(1);
        int c = (int) x.shape().dim(2);
        int width = (int) gate.rowStride();
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < tokens; t++) {
                for (int k = 0; k < c; k++) {
                    int i = (b * tokens + t) * c + k;
                    float gated = g[b * width + (int) gate.columnOffset() + k] * out[i];
                    xs[i] = xs[i] + gated;
                }
            }
        }
        x.copyFrom(xs);
    }

    private void derivativeApproximation(int point, float[] feature) {
        int distance = activatedSteps.getLast() - activatedSteps.get(activatedSteps.size() - 2);
        Map<Integer, float[]> previous = cache.get(point);
        Map<Integer, float[]> updated = new HashMap<>();
        updated.put(0, feature);
        for (int i = 0; i < maxOrder; i++) {
            if (previous.get(i) != null && step > FIRST_ENHANCE - 2) {
                float[] a = updated.get(i);
                float[] b = previous.get(i);
                float[] d = new float[a.length];
                for (int k = 0; k < a.length; k++) {
                    d[k] = (a[k] - b[k]) / (float) distance;
                }
                updated.put(i + 1, d);
            } else {
                break;
            }
        }
        cache.put(point, updated);
    }

    private float[] taylorFormula(int point) {
        int x = step - activatedSteps.getLast();
        Map<Integer, float[]> factors = cache.get(point);
        float[] output = null;
        long factorial = 1;
        for (int i = 0; i < factors.size(); i++) {
            if (i > 0) {
                factorial *= i;
            }
            float coefficient = (float) (1.0 / factorial);
            float power = (float) Math.pow(x, i);
            float[] d = factors.get(i);
            if (output == null) {
                output = new float[d.length];
            }
            for (int k = 0; k < d.length; k++) {
                float term = (coefficient * d[k]) * power;
                output[k] = i == 0 ? term : output[k] + term; // output = 0 + term, then output += term
            }
        }
        return output;
    }
}
