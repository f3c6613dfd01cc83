package dev.seer.cache;

import dev.seer.kernel.NativeKernels;

/**
 * TaylorSeer-Lite: one forecast tensor per step instead of one per branch. At a full step the whole block stack runs
 * and its output (the hidden state after the last block, before the final layer) is recorded as Taylor factors, with
 * the family's TaylorSeer schedule and the same finite differences ({@link TaylorSeerSchedule}); at a forecast step the
 * stack is skipped and that output is forecast. The cache holds (order + 1) tensors of the stack's output shape,
 * where TaylorSeer holds (order + 1) per branch (DiT: 2 per block), and a forecast step costs only what runs outside
 * the stack (embedders, final layer) plus one forecast. The model must hand its stack to the cache
 * ({@link dev.seer.model.BranchHooks#wholeStack}); DiT and FLUX do.
 *
 * @param interval full steps every {@code interval} steps after the warm-up (N >= 1)
 * @param maxOrder highest Taylor order kept (0..{@link NativeKernels#MAX_ORDER})
 */
public record TaylorSeerLite(int interval, int maxOrder) implements CachePolicy {
    /** The policy's name in {@link CachePolicy#parse}'s syntax. */
    public static final String NAME = "taylorseer-lite";

    public TaylorSeerLite {
        if (interval < 1) {
            throw new IllegalArgumentException("interval must be >= 1, found " + interval);
        }
        if (maxOrder < 0 || maxOrder > NativeKernels.MAX_ORDER) {
            throw new IllegalArgumentException("order must be in 0.." + NativeKernels.MAX_ORDER + ", found " + maxOrder);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String spec() {
        return NAME + ":" + interval + ":" + maxOrder;
    }

    @Override
    public String label() {
        return "TaylorSeer-Lite N=" + interval + " O=" + maxOrder;
    }

    @Override
    public boolean forecastsStackOutput() {
        return true;
    }

    /** (order + 1) factors of the stack's output. */
    @Override
    public long factorBytes(long branchElements, long stackElements, int elementBytes) {
        return CachePolicy.saturatingProduct(CachePolicy.saturatingProduct(maxOrder + 1L, stackElements), elementBytes);
    }

    @Override
    public RunCache open(CacheRun run) {
        return new StackCache(this, run.schedule().config(run.steps(), interval, maxOrder), run);
    }
}
