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
 * A prepared whole-stack forecast: the cached branches of a transformer (layer by layer, branch by branch, in
 * the order their residual adds happen) with their gates, laid out once as the pointer tables that
 * {@link Kernels#taylorForecastResidualMulti} hands to C. The gates must all be views of one (batch, width)
 * storage tensor (e.g. the adaLN outputs of every layer computed into one buffer), so they share a row stride.
 * The gates (and the x the stack is added to) are the activations: of the factors' dtype, or F32 over BF16 or F16
 * factors ({@link Kernels#callCode}).
 */
public final class BranchStack {
    private final List<TaylorFactors> branches;
    private final DType dtype;
    private final DType activationDtype;
    private final Shape shape;
    private Tensor gateStorage;
    private final MemorySegment gatePointers;
    private final MemorySegment factorPointers;
    private final MemorySegment orders;

    public BranchStack(Arena arena, List<TaylorFactors> branches, List<GateView> gates) {
        if (arena == null || branches == null || gates == null) {
            throw new IllegalArgumentException("a branch stack needs an arena, branches and gates, found "
                    + (arena == null ? "arena null" : branches == null ? "branches null" : "gates null"));
        }
        if (branches.isEmpty()) {
            throw new IllegalArgumentException("a branch stack needs at least one branch");
        }
        for (int b = 0; b < branches.size(); b++) {
            if (branches.get(b) == null) {
                throw new IllegalArgumentException("branch " + b + " is null");
            }
        }
        this.branches = List.copyOf(branches);
        this.dtype = branches.getFirst().dtype();
        this.shape = branches.getFirst().shape();
        this.activationDtype = !gates.isEmpty() && gates.getFirst() != null ? gates.getFirst().storage().dtype() : dtype;
        Kernels.callCode(activationDtype, dtype); // a pair the kernels take
        int k = branches.size();
        gatePointers = arena.allocate(ValueLayout.ADDRESS, k);
        factorPointers = arena.allocate(ValueLayout.ADDRESS, (long) k * (NativeKernels.MAX_ORDER + 1));
        orders = arena.allocate(ValueLayout.JAVA_INT, k);
        for (int b = 0; b < k; b++) {
            TaylorFactors f = branches.get(b);
            if (f.dtype() != dtype || !f.shape().equals(shape)) {
                throw new IllegalArgumentException("branch " + b + " is " + f.dtype() + " " + f.shape()
                        + ", branch 0 is " + dtype + " " + shape);
            }
            for (int i = 0; i <= NativeKernels.MAX_ORDER; i++) {
                MemorySegment p = i <= f.maxOrder() ? f.factor(i).segment() : MemorySegment.NULL;
                factorPointers.setAtIndex(ValueLayout.ADDRESS, (long) b * (NativeKernels.MAX_ORDER + 1) + i, p);
            }
        }
        setGates(gates);
    }

    /**
     * Points the stack at other gates, one per branch, all views of one (batch, width) storage tensor: a stack
     * built once per run takes each step's gates without rebuilding its tables.
     */
    public void setGates(List<GateView> gates) {
        Tensor storage = checkGates("", gates);
        for (int b = 0; b < gates.size(); b++) {
            gatePointers.setAtIndex(ValueLayout.ADDRESS, b, MemorySegment.ofAddress(gates.get(b).address()));
        }
        gateStorage = storage;
    }

    /**
     * One gate per branch, all views of one (batch, width) storage on the cpu, of the factors' dtype, batch and
     * channels; returns that storage. {@code what} prefixes the messages ("" or "step s: ").
     */
    private Tensor checkGates(String what, List<GateView> gates) {
        if (gates == null) {
            throw new IllegalArgumentException(what + "gates is null");
        }
        if (branches.size() != gates.size()) {
            throw new IllegalArgumentException(what + "one gate per branch: " + branches.size() + " branches, " + gates.size() + " gates");
        }
        for (int b = 0; b < gates.size(); b++) {
            if (gates.get(b) == null) {
                throw new IllegalArgumentException(what + "gate " + b + " is null");
            }
        }
        Tensor storage = gates.getFirst().storage();
        for (int b = 0; b < gates.size(); b++) {
            GateView g = gates.get(b);
            if (g.storage() != storage) {
                throw new IllegalArgumentException(what + "gate " + b + " is not a view of the same storage as gate 0");
            }
            if (!g.storage().device().isCpu()) {
                throw new IllegalArgumentException(what + "gate " + b + " must be on cpu, found " + g.storage().device());
            }
            if (g.storage().dtype() != activationDtype) {
                throw new IllegalArgumentException(what + "gate " + b + " has dtype " + g.storage().dtype()
                        + ", the stack's activations have " + activationDtype + " (factors " + dtype + ")");
            }
            if (shape.rank() != 3 || g.batch() != shape.dim(0) || g.channels() != shape.dim(2)) {
                throw new IllegalArgumentException(what + "gate " + b + " must be (" + (shape.rank() == 3 ? shape.dim(0) + ", " + shape.dim(2) : "?")
                        + ") for branches of shape " + shape + ", found (" + g.batch() + ", " + g.channels() + ")");
            }
        }
        return storage;
    }

    /**
     * The gate pointer table of several steps (step s's gates at [s * size(), (s + 1) * size())), in {@code arena}:
     * each step's gates checked as {@link #setGates} checks them, their storages alive and readable, all with one
     * row stride ({@link #gateRowStride(List)}).
     */
    MemorySegment gateTable(Arena arena, List<List<GateView>> gatesByStep) {
        long stride = gateRowStride(gatesByStep);
        int k = branches.size();
        MemorySegment table = arena.allocate(ValueLayout.ADDRESS, (long) k * gatesByStep.size());
        for (int s = 0; s < gatesByStep.size(); s++) {
            List<GateView> gates = gatesByStep.get(s);
            Tensor storage = checkGates("step " + s + ": ", gates);
            if (storage.shape().dim(1) != stride) {
                throw new IllegalArgumentException("step " + s + ": gate rows are " + storage.shape().dim(1)
                        + " elements apart, step 0's are " + stride);
            }
            Kernels.checkMemory("taylor_forecast_sums", "gate storage of step " + s, storage, false);
            for (int b = 0; b < k; b++) {
                table.setAtIndex(ValueLayout.ADDRESS, (long) s * k + b, MemorySegment.ofAddress(gates.get(b).address()));
            }
        }
        return table;
    }

    /** The row stride of step 0's gates (every step must share it: {@link #gateTable}). */
    long gateRowStride(List<List<GateView>> gatesByStep) {
        if (gatesByStep.isEmpty() || gatesByStep.getFirst() == null || gatesByStep.getFirst().isEmpty()
                || gatesByStep.getFirst().getFirst() == null) {
            throw new IllegalArgumentException("step 0 has no gates");
        }
        return gatesByStep.getFirst().getFirst().rowStride();
    }

    /** The branches' factor dtype. */
    public DType dtype() {
        return dtype;
    }

    /** The dtype of the gates, of the x the stack is added to and of forecast sums over it. */
    public DType activationDtype() {
        return activationDtype;
    }

    /** The seer_dtype code of calls over this stack. */
    int kernelCode() {
        return Kernels.callCode(activationDtype, dtype);
    }

    /** The branches' shape, (batch, tokens, channels). */
    public Shape shape() {
        return shape;
    }

    public int size() {
        return branches.size();
    }

    void checkTarget(Tensor x) {
        checkTarget("taylor_forecast_residual_multi", "x", x);
        Kernels.checkMemory("taylor_forecast_residual_multi", "gate storage", gateStorage, false);
        if (Kernels.overlap(x, gateStorage)) {
            throw new IllegalArgumentException("taylor_forecast_residual_multi: x overlaps the gates");
        }
    }

    /**
     * A tensor the stack's forecast is written into: the branches' dtype and shape, on the cpu, writable, apart from
     * every branch's factors; the stack's tables and the factors still usable from this thread.
     */
    void checkTarget(String op, String name, Tensor x) {
        if (x == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (x.dtype() != activationDtype || !x.shape().equals(shape) || !x.device().isCpu()) {
            throw new IllegalArgumentException(op + ": " + name + " must be " + activationDtype + " " + shape
                    + " on cpu, found " + x.dtype() + " " + x.shape() + " on " + x.device());
        }
        // The tables live in the stack's arena, the gates in their storage, the factors in theirs: all must still be there.
        if (!gatePointers.scope().isAlive()) {
            throw new IllegalArgumentException(op + ": the stack's arena was closed");
        }
        if (!gatePointers.isAccessibleBy(Thread.currentThread())) {
            throw new IllegalArgumentException(op + ": the stack's arena is confined to another thread");
        }
        Kernels.checkMemory(op, name, x, true);
        for (TaylorFactors f : branches) {
            f.checkUsable(op);
        }
        for (int b = 0; b < branches.size(); b++) {
            if (branches.get(b).overlaps(x)) {
                throw new IllegalArgumentException(op + ": " + name + " overlaps the factors of branch " + b);
            }
        }
    }

    void refreshOrders() {
        for (int b = 0; b < branches.size(); b++) {
            int order = branches.get(b).order();
            if (order < 0) {
                throw new IllegalArgumentException("taylor_forecast_residual_multi: branch " + b + " is empty (no full step has filled it)");
            }
            orders.setAtIndex(ValueLayout.JAVA_INT, b, order);
        }
    }

    MemorySegment gatePointers() {
        return gatePointers;
    }

    long gateRowStride() {
        return gateStorage.shape().dim(1);
    }

    MemorySegment factorPointers() {
        return factorPointers;
    }

    MemorySegment orders() {
        return orders;
    }
}
