package dev.seer.model.dit;

import dev.seer.tensor.GateView;
import dev.seer.model.BranchHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A line-by-line Java transcription of the official TaylorSeer-DiT cache (cache_init, cal_type,
 * derivative_approximation, taylor_formula, and the block's gated residual adds), with float32 arithmetic in the
 * order PyTorch performs it and no Seer kernel: the oracle that {@code TaylorCache} must match. With a storage
 * rounding (e.g. to bf16 through libtorch's own conversion) every factor the cache stores is rounded by it, as a
 * cache holding its factors in that dtype stores them; the arithmetic stays float32.
 */
final class OfficialTaylorHooks implements BranchHooks {
    private final int interval;
    private final int maxOrder;
    private final int firstEnhance = 2;
    private int cacheCounter;
    private final List<Integer> activatedSteps = new ArrayList<>(List.of(49));
    private final Map<String, List<float[]>> cache = new HashMap<>();
    private String type;
    private final UnaryOperator<float[]> store;

    OfficialTaylorHooks(int interval, int maxOrder) {
        this(interval, maxOrder, UnaryOperator.identity());
    }

    /** @param store what a stored factor becomes (its rounding to the storage dtype) */
    OfficialTaylorHooks(int interval, int maxOrder, UnaryOperator<float[]> store) {
        this.interval = interval;
        this.maxOrder = maxOrder;
        this.store = store;
    }

    @Override
    public void beginStep(StepContext ctx) {
        int step = ctx.step();
        boolean firstSteps = step > ctx.numSteps() - firstEnhance - 1;
        if (firstSteps || cacheCounter == interval - 1) {
            type = "full";
            cacheCounter = 0;
            activatedSteps.add(step);
        } else {
            cacheCounter++;
            type = "Taylor";
        }
    }

    @Override
    public void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch) {
        float[] f;
        if (type.equals("full")) {
            if (ctx.step() == ctx.numSteps() - 1) {
                cache.put(point.name(), new ArrayList<>()); // taylor_cache_init
            }
            f = branch.compute().toFloatArray();
            derivativeApproximation(point.name(), ctx, f);
        } else {
            f = taylorFormula(point.name(), ctx);
        }
        // x = x + gate.unsqueeze(1) * f
        long B = x.shape().dim(0);
        long N = x.shape().dim(1);
        long C = x.shape().dim(2);
        for (long b = 0; b < B; b++) {
            for (long t = 0; t < N; t++) {
                for (long c = 0; c < C; c++) {
                    long j = (b * N + t) * C + c;
                    float g = gate.storage().segment().getAtIndex(ValueLayout.JAVA_FLOAT, b * gate.rowStride() + gate.columnOffset() + c);
                    float xv = x.segment().getAtIndex(ValueLayout.JAVA_FLOAT, j);
                    x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, j, xv + g * f[(int) j]);
                }
            }
        }
    }

    private void derivativeApproximation(String key, StepContext ctx, float[] feature) {
        int distance = activatedSteps.getLast() - activatedSteps.get(activatedSteps.size() - 2);
        List<float[]> old = cache.get(key);
        List<float[]> updated = new ArrayList<>();
        updated.add(store.apply(feature));
        for (int i = 0; i < maxOrder; i++) {
            if (i < old.size() && ctx.step() < ctx.numSteps() - firstEnhance + 1) {
                float[] prev = updated.get(i);
                float[] o = old.get(i);
                float[] d = new float[prev.length];
                for (int j = 0; j < d.length; j++) {
                    d[j] = (prev[j] - o[j]) / (float) distance;
                }
                updated.add(store.apply(d));
            } else {
                break;
            }
        }
        cache.put(key, updated);
    }

    private float[] taylorFormula(String key, StepContext ctx) {
        int x = ctx.step() - activatedSteps.getLast();
        List<float[]> factors = cache.get(key);
        float[] out = new float[factors.getFirst().length]; // output = 0
        double factorial = 1;
        for (int i = 0; i < factors.size(); i++) {
            if (i > 0) {
                factorial *= i;
            }
            float coef = (float) (1 / factorial);
            float power = (float) Math.pow(x, i);
            float[] d = factors.get(i);
            for (int j = 0; j < out.length; j++) {
                out[j] = out[j] + (d[j] * coef) * power;
            }
        }
        return out;
    }
}
