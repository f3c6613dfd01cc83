package dev.seer.model;

import dev.seer.kernel.BranchStack;
import dev.seer.kernel.GateView;
import dev.seer.kernel.Variant;
import dev.seer.tensor.Tensor;
import java.util.List;

/**
 * Around-advice on a model's residual branches. The model never mentions a cache: at every hook point it hands
 * over the residual stream x, the branch's gate and a way to compute the branch, and the hooks must leave
 * {@code x = x + gate * branch} (computed, or predicted). Gates, shifts and scales are always computed by the
 * model from the current conditioning. Implementations keep per-run state; one instance serves one sampling run.
 */
public interface BranchHooks {
    /** Computes the real branch output, (batch, tokens, channels), contiguous. */
    @FunctionalInterface
    interface Branch {
        Tensor compute();
    }

    /** No hooks: every branch is computed and added with libtorch ops, exactly as the reference model does. */
    BranchHooks NONE = new BranchHooks() {
        @Override
        public void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch) {
            throw new IllegalStateException("BranchHooks.NONE is handled by the model itself");
        }
    };

    /**
     * Once per network call, before any block runs. It runs outside the model's libtorch scopes (as
     * {@link #endStep} does): libtorch tensors made here belong to the caller's scope.
     */
    default void beginStep(StepContext ctx) {
    }

    /**
     * If true, the model runs none of the hooked branches this step: it computes every gate and calls
     * {@link #applyStackIn} once (or, when that returns false, {@link #applyStack} between its own patch embedding
     * and final layer).
     */
    default boolean replacesStack(StepContext ctx) {
        return false;
    }

    /**
     * At a step whose stack the hooks replace: how many network calls, this one first, the hooks would like the
     * gates of in {@link #applyStackIn} (a forecast for several steps at once needs theirs). The model hands as many
     * as its conditioning covers, at least this call's. Default 1.
     */
    default int stackGateCalls(StepContext ctx) {
        return 1;
    }

    /** x += sum over all hook points, in execution order, of gate * predicted branch. */
    default void applyStack(StepContext ctx, Tensor x, List<HookPoint> points, List<GateView> gates) {
        throw new UnsupportedOperationException("these hooks do not replace the whole stack");
    }

    /**
     * A pass that applies a prepared stack's forecast, supplied by the model so that the layers around the stack
     * run in the same pass (patch embedding before, final layer after).
     */
    @FunctionalInterface
    interface StackPass {
        /** Runs the pass with the hooks' kernel variant; returns false if a forecast value was NaN or infinite. */
        boolean run(Variant variant, BranchStack stack, float delta);
    }

    /**
     * As {@link #applyStack}, through the model's own pass; returns false, having done nothing, when these hooks
     * cannot hand their stack to a pass (the model then calls {@link #applyStack}). {@code gatesByCall.get(0)} holds
     * this call's gates (one per point), {@code gatesByCall.get(k)} those of the k-th network call after it, for
     * at most {@link #stackGateCalls} calls; valid during this call only.
     */
    default boolean applyStackIn(StepContext ctx, List<HookPoint> points, List<List<GateView>> gatesByCall, StackPass pass) {
        return false;
    }

    /** One hooked residual branch: must leave x = x + gate * branch. */
    void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch);

    /** Once per network call, after the final layer. */
    default void endStep(StepContext ctx) {
    }
}
