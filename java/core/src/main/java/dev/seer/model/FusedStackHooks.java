package dev.seer.model;

import dev.seer.kernel.BranchStack;
import dev.seer.kernel.Variant;
import dev.seer.tensor.GateView;
import java.util.List;

/**
 * The optional capability of hooks that can hand their whole-stack forecast to a model's own fused pass (DiT: patch
 * embedding, the stack's forecast and the final layer in one native call). A model that offers such a pass asks
 * {@link #applyStackIn} first and falls back to {@link BranchHooks#applyStack} when it returns false.
 */
public interface FusedStackHooks extends BranchHooks {
    /**
     * At a step whose stack the hooks replace: how many network calls, this one first, the hooks would like the
     * gates of in {@link #applyStackIn} (a forecast for several steps at once needs theirs). The model hands as many
     * as its conditioning covers, at least this call's. Default 1.
     */
    default int stackGateCalls(StepContext ctx) {
        return 1;
    }

    /** A model's pass that applies a prepared stack's forecast with the layers around the stack. */
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
}
