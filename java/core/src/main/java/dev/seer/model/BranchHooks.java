package dev.seer.model;

import dev.seer.tensor.GateView;
import dev.seer.tensor.Tensor;
import java.util.List;

/**
 * Around-advice on a model's residual branches. The model never mentions a cache: at every hook point it hands
 * over the residual stream x, the branch's gate and a way to compute the branch, and the hooks must leave
 * {@code x = x + gate * branch} (computed, or predicted). Gates, shifts and scales are always computed by the
 * model from the current conditioning. Implementations keep per-run state; one instance serves one sampling run.
 *
 * <p>A model may also skip a whole step's branches when the hooks forecast them all ({@link #replacesStack}):
 * it then hands each group of hook points that share a stream and shape to {@link #applyStack}, in execution
 * order. A model with a fused pass around the stack (layers before and after it in one native call) offers it
 * through {@link FusedStackHooks}; every other model still gets correct caching, branch by branch or group by group.
 *
 * <p>Hooks may instead take the whole block stack as one unit ({@link #wholeStack}): the model hands over the
 * stack's output buffer and a way to run the blocks, and the hooks either run them or write a prediction of their
 * output (TaylorSeer-Lite). A model that offers this calls {@link #wholeStack} once per network call around its
 * blocks; the default runs the blocks with these hooks around every branch, as before.
 */
public interface BranchHooks {
    /** Computes the real branch output, (batch, tokens, channels), contiguous. */
    @FunctionalInterface
    interface Branch {
        Tensor compute();
    }

    /**
     * A network call's whole block stack, run on demand: every block with {@code branchHooks} around its branches
     * ({@link #NONE}: computed and added by the model itself, exactly as uncached), leaving the stack's output in the
     * buffer handed to {@link #wholeStack}.
     */
    @FunctionalInterface
    interface Blocks {
        void run(BranchHooks branchHooks);
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
     * {@link #applyStack} once per group of hook points (one stream and shape), in execution order.
     */
    default boolean replacesStack(StepContext ctx) {
        return false;
    }

    /** x += sum over the group's hook points, in execution order, of gate * predicted branch. */
    default void applyStack(StepContext ctx, Tensor x, List<HookPoint> points, List<GateView> gates) {
        throw new UnsupportedOperationException("these hooks do not replace the whole stack");
    }

    /** One hooked residual branch: must leave x = x + gate * branch. */
    void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch);

    /**
     * Around the whole block stack, once per network call of a model that offers it: must leave in {@code out}
     * (batch, tokens, channels), contiguous, the stack's output (the hidden state after the last block, before the
     * final layer), by running {@code blocks} or by predicting it. {@code out} holds the stack's input when this is
     * called and the stack runs in place on it. The default runs the blocks with these hooks.
     */
    default void wholeStack(StepContext ctx, Tensor out, Blocks blocks) {
        blocks.run(this);
    }

    /** Once per network call, after the final layer. */
    default void endStep(StepContext ctx) {
    }
}
