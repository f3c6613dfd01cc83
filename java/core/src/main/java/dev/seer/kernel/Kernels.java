package dev.seer.kernel;

import dev.seer.tensor.DType;
import dev.seer.tensor.GateView;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The fused Taylor kernels (TaylorSeer, Liu et al., ICCV 2025, eqs. for the finite-difference update and the
 * Taylor forecast). Every argument is validated here, before the downcall: a null, a wrong shape, dtype or
 * device, memory that is not native, no longer alive, owned by another thread, read-only where the kernel writes,
 * or not aligned to its elements, an order or distance out of range, or buffers that overlap, is an
 * {@link IllegalArgumentException} naming what was expected and what was found. The C library checks again and
 * its refusals arrive as {@link KernelException}. The checks are a few field reads per tensor: nothing next to
 * the kernels' passes over memory.
 *
 * <p>The forecast kernels return {@code false} when a forecast value was NaN or infinite (detected inside the
 * same pass), {@code true} otherwise.
 *
 * <p>The activations (x, gate, feature, out, sums) have one dtype and the factors either the same or, for float32
 * activations, BF16 or F16 ({@link #callCode}): narrow factors with the arithmetic in float32, each factor rounded
 * once when it is stored.
 */
public final class Kernels {
    private static final ThreadLocal<MemorySegment> NONFINITE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(ValueLayout.JAVA_INT));

    private Kernels() {
    }

    private static NativeKernels lib() {
        return NativeKernels.cpu();
    }

    /**
     * D'^0 = F; D'^(i+1) = (D'^i - D^i) / distance for i &lt; newOrder, in place. newOrder may be at most one more
     * than the current order (and at most the factors' max order).
     */
    public static void taylorUpdate(Variant variant, TaylorFactors factors, Tensor feature, int newOrder, float distance) {
        checkVariant(variant, "taylor_update");
        checkSameLayout("taylor_update", "feature", feature, factors);
        checkNewOrder("taylor_update", factors, newOrder, distance);
        factors.checkUsable("taylor_update");
        checkMemory("taylor_update", "feature", feature, false);
        if (factors.overlaps(feature)) {
            throw new IllegalArgumentException("taylor_update: feature overlaps the factor buffers");
        }
        lib().update(variant.code(), callCode(feature.dtype(), factors.dtype()), seg(feature), factors.pointerArray(), newOrder,
                feature.numel(), distance);
        factors.setOrder(newOrder);
    }

    /** out = sum_i ((1/i!) D^i) delta^i over the valid factors. */
    public static boolean taylorForecast(Variant variant, Tensor out, TaylorFactors factors, float delta) {
        checkVariant(variant, "taylor_forecast");
        checkSameLayout("taylor_forecast", "out", out, factors);
        checkForecastable("taylor_forecast", factors, delta);
        factors.checkUsable("taylor_forecast");
        checkMemory("taylor_forecast", "out", out, true);
        if (factors.overlaps(out)) {
            throw new IllegalArgumentException("taylor_forecast: out overlaps the factor buffers");
        }
        MemorySegment flag = clearedFlag();
        lib().forecast(variant.code(), callCode(out.dtype(), factors.dtype()), seg(out), factors.pointerArray(), factors.order(),
                out.numel(), delta, flag);
        return flag.get(ValueLayout.JAVA_INT, 0) == 0;
    }

    /** x (B, N, C) += gate (B, C) * forecast, in one pass. */
    public static boolean taylorForecastResidual(Variant variant, Tensor x, GateView gate, TaylorFactors factors, float delta) {
        checkVariant(variant, "taylor_forecast_residual");
        checkSameLayout("taylor_forecast_residual", "x", x, factors);
        checkResidual("taylor_forecast_residual", x, gate);
        checkForecastable("taylor_forecast_residual", factors, delta);
        factors.checkUsable("taylor_forecast_residual");
        checkMemory("taylor_forecast_residual", "x", x, true);
        checkMemory("taylor_forecast_residual", "gate", gate.storage(), false);
        if (factors.overlaps(x) || overlap(x, gate.storage())) {
            throw new IllegalArgumentException("taylor_forecast_residual: x overlaps the factors or the gate");
        }
        MemorySegment flag = clearedFlag();
        Shape s = x.shape();
        lib().forecastResidual(variant.code(), callCode(x.dtype(), factors.dtype()), seg(x), MemorySegment.ofAddress(gate.address()),
                gate.rowStride(), factors.pointerArray(), factors.order(), s.dim(0), s.dim(1), s.dim(2), delta, flag);
        return flag.get(ValueLayout.JAVA_INT, 0) == 0;
    }

    /** The full-step twin: x += gate * F, and the factors updated with F, in one pass. */
    public static void taylorUpdateResidual(Variant variant, Tensor x, GateView gate, Tensor feature, TaylorFactors factors,
                                            int newOrder, float distance) {
        checkVariant(variant, "taylor_update_residual");
        checkSameLayout("taylor_update_residual", "x", x, factors);
        checkSameLayout("taylor_update_residual", "feature", feature, factors);
        if (feature.dtype() != x.dtype()) {
            throw new IllegalArgumentException("taylor_update_residual: feature has dtype " + feature.dtype() + ", x has " + x.dtype());
        }
        checkResidual("taylor_update_residual", x, gate);
        checkNewOrder("taylor_update_residual", factors, newOrder, distance);
        factors.checkUsable("taylor_update_residual");
        checkMemory("taylor_update_residual", "x", x, true);
        checkMemory("taylor_update_residual", "feature", feature, false);
        checkMemory("taylor_update_residual", "gate", gate.storage(), false);
        if (factors.overlaps(x) || factors.overlaps(feature) || factors.overlaps(gate.storage()) || overlap(x, feature)
                || overlap(x, gate.storage())) {
            throw new IllegalArgumentException("taylor_update_residual: x, feature, gate and factors must not overlap");
        }
        Shape s = x.shape();
        lib().updateResidual(variant.code(), callCode(x.dtype(), factors.dtype()), seg(x), MemorySegment.ofAddress(gate.address()),
                gate.rowStride(), seg(feature), factors.pointerArray(), newOrder, s.dim(0), s.dim(1), s.dim(2), distance);
        factors.setOrder(newOrder);
    }

    /** Whole-stack forecast: x += sum over the stack's branches, in order, of gate * forecast; x read/written once. */
    public static boolean taylorForecastResidualMulti(Variant variant, Tensor x, BranchStack stack, float delta) {
        checkVariant(variant, "taylor_forecast_residual_multi");
        if (stack == null) {
            throw new IllegalArgumentException("taylor_forecast_residual_multi: stack is null");
        }
        stack.checkTarget(x);
        if (!Float.isFinite(delta)) {
            throw new IllegalArgumentException("taylor_forecast_residual_multi: delta must be finite, found " + delta);
        }
        stack.refreshOrders();
        MemorySegment flag = clearedFlag();
        Shape s = x.shape();
        lib().forecastResidualMulti(variant.code(), stack.kernelCode(), seg(x), s.dim(0), s.dim(1), s.dim(2),
                stack.size(), stack.gatePointers(), stack.gateRowStride(), stack.factorPointers(), stack.orders(),
                delta, flag);
        return flag.get(ValueLayout.JAVA_INT, 0) == 0;
    }

    /**
     * The stack's forecast sums for several steps in one pass over the factors: for each step s,
     * sums[s] = sum over the stack's branches, in order, of gatesByStep[s][k] * forecast_k(deltas[s]), accumulated
     * from zero (bit-identical to {@link #taylorForecastResidualMulti} on a zeroed x with step s's gates and delta).
     * Each sum is written as the only factor (order 0) of its buffer, so a one-branch stack over it with a gate of
     * ones adds it to x unchanged. Every step's gates are checked as {@link BranchStack#setGates} checks them, and
     * all must have one row stride. No nonfinite flag: a NaN or infinite forecast makes its sum non-finite, which
     * the forecast that adds the sum reports.
     */
    public static void taylorForecastSums(Variant variant, List<TaylorFactors> sums, BranchStack stack,
                                          List<List<GateView>> gatesByStep, float[] deltas) {
        String op = "taylor_forecast_sums";
        checkVariant(variant, op);
        if (sums == null || stack == null || gatesByStep == null || deltas == null) {
            throw new IllegalArgumentException(op + ": " + (sums == null ? "sums" : stack == null ? "stack"
                    : gatesByStep == null ? "gatesByStep" : "deltas") + " is null");
        }
        int steps = sums.size();
        if (steps < 1 || steps > NativeKernels.MAX_SUM_STEPS) {
            throw new IllegalArgumentException(op + ": 1.." + NativeKernels.MAX_SUM_STEPS + " steps, found " + steps);
        }
        if (gatesByStep.size() != steps || deltas.length != steps) {
            throw new IllegalArgumentException(op + ": one gate list and one delta per sum: " + steps + " sums, "
                    + gatesByStep.size() + " gate lists, " + deltas.length + " deltas");
        }
        for (int s = 0; s < steps; s++) {
            TaylorFactors sum = sums.get(s);
            if (sum == null) {
                throw new IllegalArgumentException(op + ": sum " + s + " is null");
            }
            if (!Float.isFinite(deltas[s])) {
                throw new IllegalArgumentException(op + ": delta " + s + " must be finite, found " + deltas[s]);
            }
            stack.checkTarget(op, "sum " + s, sum.factor(0));
            sum.checkUsable(op);
            for (int o = 0; o < s; o++) {
                if (overlap(sums.get(o).factor(0), sum.factor(0))) {
                    throw new IllegalArgumentException(op + ": sum " + o + " overlaps sum " + s);
                }
            }
        }
        stack.refreshOrders();
        try (Arena tables = Arena.ofConfined()) {
            MemorySegment gates = stack.gateTable(tables, gatesByStep);
            for (int s = 0; s < steps; s++) {
                for (int o = 0; o < steps; o++) {
                    if (overlap(sums.get(o).factor(0), gatesByStep.get(s).getFirst().storage())) {
                        throw new IllegalArgumentException(op + ": sum " + o + " overlaps the gates of step " + s);
                    }
                }
            }
            MemorySegment out = tables.allocate(ValueLayout.ADDRESS, steps);
            MemorySegment d = tables.allocate(ValueLayout.JAVA_FLOAT, steps);
            for (int s = 0; s < steps; s++) {
                out.setAtIndex(ValueLayout.ADDRESS, s, sums.get(s).factor(0).segment());
                d.setAtIndex(ValueLayout.JAVA_FLOAT, s, deltas[s]);
            }
            Shape sh = sums.getFirst().shape();
            lib().forecastSums(variant.code(), stack.kernelCode(), out, steps, d, sh.dim(0), sh.dim(1),
                    sh.dim(2), stack.size(), gates, stack.gateRowStride(gatesByStep), stack.factorPointers(), stack.orders());
        }
        for (TaylorFactors sum : sums) {
            sum.setOrder(0);
        }
    }

    // ---- validation ----

    /**
     * The seer_dtype code of a call whose activations have dtype {@code activations} and whose factors have dtype
     * {@code factors}: the same kernel type, or float32 activations with BF16 or F16 factors (the mixed codes of
     * seer.h).
     */
    public static int callCode(DType activations, DType factors) {
        if (activations == factors && activations != null && activations.isKernelType()) {
            return activations.kernelCode();
        }
        if (activations == DType.F32 && factors == DType.BF16) {
            return SEER_DTYPE_F32_BF16;
        }
        if (activations == DType.F32 && factors == DType.F16) {
            return SEER_DTYPE_F32_F16;
        }
        throw new IllegalArgumentException("activations of dtype " + activations + " with factors of dtype " + factors
                + ": expected one kernel dtype (F32, BF16, F16) for both, or F32 activations with BF16 or F16 factors");
    }

    /** seer.h's mixed codes: float32 activations, bf16 / f16 factors. */
    static final int SEER_DTYPE_F32_BF16 = 3;
    static final int SEER_DTYPE_F32_F16 = 4;

    static MemorySegment seg(Tensor t) {
        return MemorySegment.ofAddress(t.address());
    }

    static MemorySegment clearedFlag() {
        MemorySegment flag = NONFINITE.get();
        flag.set(ValueLayout.JAVA_INT, 0, 0);
        return flag;
    }

    static boolean overlap(Tensor a, Tensor b) {
        long a0 = a.address();
        long a1 = a0 + a.byteSize();
        long b0 = b.address();
        long b1 = b0 + b.byteSize();
        return a.byteSize() > 0 && b.byteSize() > 0 && a0 < b1 && b0 < a1;
    }

    static void checkVariant(Variant variant, String op) {
        if (variant == null) {
            throw new IllegalArgumentException(op + ": variant is null");
        }
    }

    static void checkSameLayout(String op, String name, Tensor t, TaylorFactors factors) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (factors == null) {
            throw new IllegalArgumentException(op + ": factors is null");
        }
        if (!t.device().isCpu()) {
            throw new IllegalArgumentException(op + ": " + name + " must be on cpu, found " + t.device());
        }
        if (t.dtype() != factors.dtype() && !(t.dtype() == DType.F32 && (factors.dtype() == DType.BF16 || factors.dtype() == DType.F16))) {
            throw new IllegalArgumentException(op + ": " + name + " has dtype " + t.dtype() + ", the factors have " + factors.dtype()
                    + " (expected the same, or F32 with BF16 or F16 factors)");
        }
        if (!t.shape().equals(factors.shape())) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + t.shape() + ", the factors have " + factors.shape());
        }
    }

    /**
     * The memory behind a host tensor can be handed to C: native (a heap array's "address" is an offset), alive
     * (a closed arena's memory is freed), usable from this thread, aligned to its elements, and writable where
     * the kernel writes (a read-only mapping would fault).
     */
    static void checkMemory(String op, String name, Tensor t, boolean written) {
        MemorySegment s = t.segment();
        if (!s.isNative()) {
            throw new IllegalArgumentException(op + ": " + name + " is on-heap memory; kernels need native memory (an arena, a mapped file or a libtorch tensor)");
        }
        if (!s.scope().isAlive()) {
            throw new IllegalArgumentException(op + ": " + name + "'s memory is no longer alive (its arena was closed)");
        }
        if (!s.isAccessibleBy(Thread.currentThread())) {
            throw new IllegalArgumentException(op + ": " + name + "'s memory is confined to another thread");
        }
        if (written && s.isReadOnly()) {
            throw new IllegalArgumentException(op + ": " + name + " is read-only memory, and this kernel writes it");
        }
        int itemSize = t.dtype().byteSize();
        if (t.address() % itemSize != 0) {
            throw new IllegalArgumentException(op + ": " + name + " at address 0x" + Long.toHexString(t.address())
                    + " is not aligned to its " + itemSize + "-byte " + t.dtype() + " elements");
        }
    }

    static void checkResidual(String op, Tensor x, GateView gate) {
        if (gate == null) {
            throw new IllegalArgumentException(op + ": gate is null");
        }
        if (x.shape().rank() != 3) {
            throw new IllegalArgumentException(op + ": x must be (batch, tokens, channels), found shape " + x.shape());
        }
        if (gate.storage().dtype() != x.dtype()) {
            throw new IllegalArgumentException(op + ": gate has dtype " + gate.storage().dtype() + ", x has " + x.dtype());
        }
        if (!gate.storage().device().isCpu()) {
            throw new IllegalArgumentException(op + ": gate must be on cpu, found " + gate.storage().device());
        }
        if (gate.batch() != x.shape().dim(0) || gate.channels() != x.shape().dim(2)) {
            throw new IllegalArgumentException(op + ": gate must be (" + x.shape().dim(0) + ", " + x.shape().dim(2)
                    + ") for x of shape " + x.shape() + ", found (" + gate.batch() + ", " + gate.channels() + ")");
        }
    }

    static void checkNewOrder(String op, TaylorFactors factors, int newOrder, float distance) {
        if (newOrder < 0 || newOrder > factors.maxOrder()) {
            throw new IllegalArgumentException(op + ": new order must be in 0.." + factors.maxOrder() + ", found " + newOrder);
        }
        if (newOrder > factors.order() + 1) {
            throw new IllegalArgumentException(op + ": new order " + newOrder + " needs factors up to order "
                    + (newOrder - 1) + ", the cache holds order " + factors.order());
        }
        if (newOrder > 0 && (distance == 0f || !Float.isFinite(distance))) {
            throw new IllegalArgumentException(op + ": distance must be finite and non-zero, found " + distance);
        }
    }

    static void checkForecastable(String op, TaylorFactors factors, float delta) {
        if (factors.isEmpty()) {
            throw new IllegalArgumentException(op + ": the factors are empty (no full step has filled them)");
        }
        if (!Float.isFinite(delta)) {
            throw new IllegalArgumentException(op + ": delta must be finite, found " + delta);
        }
    }
}
