package dev.seer.kernel;

import dev.seer.tensor.DType;
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
 */
public final class BranchStack {
    private final List<TaylorFactors> branches;
    private final DType dtype;
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
        if (gates == null) {
            throw new IllegalArgumentException("gates is null");
        }
        if (branches.size() != gates.size()) {
            throw new IllegalArgumentException("one gate per branch: " + branches.size() + " branches, " + gates.size() + " gates");
        }
        for (int b = 0; b < gates.size(); b++) {
            if (gates.get(b) == null) {
                throw new IllegalArgumentException("gate " + b + " is null");
            }
        }
        Tensor storage = gates.getFirst().storage();
        for (int b = 0; b < gates.size(); b++) {
            GateView g = gates.get(b);
            if (g.storage() != storage) {
                throw new IllegalArgumentException("gate " + b + " is not a view of the same storage as gate 0");
            }
            if (!g.storage().device().isCpu()) {
                throw new IllegalArgumentException("gate " + b + " must be on cpu, found " + g.storage().device());
            }
            if (g.storage().dtype() != dtype) {
                throw new IllegalArgumentException("gate " + b + " has dtype " + g.storage().dtype() + ", the factors have " + dtype);
            }
            if (shape.rank() != 3 || g.batch() != shape.dim(0) || g.channels() != shape.dim(2)) {
                throw new IllegalArgumentException("gate " + b + " must be (" + (shape.rank() == 3 ? shape.dim(0) + ", " + shape.dim(2) : "?")
                        + ") for branches of shape " + shape + ", found (" + g.batch() + ", " + g.channels() + ")");
            }
        }
        for (int b = 0; b < gates.size(); b++) {
            gatePointers.setAtIndex(ValueLayout.ADDRESS, b, MemorySegment.ofAddress(gates.get(b).address()));
        }
        gateStorage = storage;
    }

    public int size() {
        return branches.size();
    }

    void checkTarget(Tensor x) {
        String op = "taylor_forecast_residual_multi";
        if (x == null) {
            throw new IllegalArgumentException(op + ": x is null");
        }
        if (x.dtype() != dtype || !x.shape().equals(shape) || !x.device().isCpu()) {
            throw new IllegalArgumentException(op + ": x must be " + dtype + " " + shape
                    + " on cpu, found " + x.dtype() + " " + x.shape() + " on " + x.device());
        }
        // The tables live in the stack's arena, the gates in their storage, the factors in theirs: all must still be there.
        if (!gatePointers.scope().isAlive()) {
            throw new IllegalArgumentException(op + ": the stack's arena was closed");
        }
        if (!gatePointers.isAccessibleBy(Thread.currentThread())) {
            throw new IllegalArgumentException(op + ": the stack's arena is confined to another thread");
        }
        Kernels.checkMemory(op, "x", x, true);
        Kernels.checkMemory(op, "gate storage", gateStorage, false);
        for (TaylorFactors f : branches) {
            f.checkUsable(op);
        }
        if (Kernels.overlap(x, gateStorage)) {
            throw new IllegalArgumentException("taylor_forecast_residual_multi: x overlaps the gates");
        }
        for (int b = 0; b < branches.size(); b++) {
            if (branches.get(b).overlaps(x)) {
                throw new IllegalArgumentException("taylor_forecast_residual_multi: x overlaps the factors of branch " + b);
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
