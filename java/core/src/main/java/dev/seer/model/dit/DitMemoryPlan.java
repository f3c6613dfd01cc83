package dev.seer.model.dit;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.ForecastSums;
import dev.seer.kernel.NativeKernels;
import dev.seer.model.MemoryPlan;
import java.util.Locale;

/**
 * The memory plan of a DiT sampling run ({@link MemoryPlan}), from its config alone: float32 weights
 * ({@link DitConfig#weightBytes}), the copies loading makes, one call's activations (one block's intermediates) with
 * the run's conditioning memo, and the policy's factors over the rows of a call (the doubled batch under
 * guidance).
 */
public final class DitMemoryPlan {
    /** Where the weights come from, which decides what loading holds besides them. */
    public enum Source {
        /**
         * Random weights: the generated state dict stays with its caller while the model packs its own copy (1.0x the
         * weights; measured on DiT-S/2, B/2 and L/2: 0.95x, 1.00x, 1.01x).
         */
        RANDOM(1.0, "the generated state dict"),
        /**
         * A checkpoint: each weight is copied out of the mapped file and its pages dropped, one weight at a time; what
         * stays is the freed memory the allocator keeps for reuse (DiT-XL/2 from .pt and .safetensors: 0.13x).
         */
        FILE(0.15, "a weight at a time and the freed memory kept for reuse");

        final double perWeightByte;
        final String what;

        Source(double perWeightByte, String what) {
            this.perWeightByte = perWeightByte;
            this.what = what;
        }
    }

    private DitMemoryPlan() {
    }

    /**
     * Refuses a run whose plan exceeds {@code availableBytes}, in one line: the plan's total and parts, the memory
     * available, and the options that would fit (fewer samples, TaylorSeer-Lite or no cache), or that not even one row
     * fits. The weights alone are checked first ({@link DitConfig#requireWeightsFit}: which config field to change).
     *
     * @param samples samples of the run; a call's rows are {@code samples * rowsPerSample} (2 under guidance)
     */
    public static void requireFits(DitConfig config, String name, long samples, int rowsPerSample, int steps,
                                   CachePolicy policy, int factorElementBytes, ForecastSums sums, long availableBytes) {
        requireFits(config, name, samples, rowsPerSample, steps, policy, factorElementBytes, sums, Source.RANDOM,
                availableBytes);
    }

    /** As {@link #requireFits(DitConfig, String, long, int, int, CachePolicy, int, ForecastSums, long)}, weights from {@code source}. */
    public static void requireFits(DitConfig config, String name, long samples, int rowsPerSample, int steps,
                                   CachePolicy policy, int factorElementBytes, ForecastSums sums, Source source,
                                   long availableBytes) {
        config.requireWeightsFit(availableBytes);
        MemoryPlan plan = of(config, name, samples * rowsPerSample, steps, policy, factorElementBytes, sums, source);
        if (plan.fits(availableBytes)) {
            return;
        }
        java.util.List<String> fixes = new java.util.ArrayList<>();
        long lo = 0;
        long hi = samples - 1;
        while (lo < hi) { // the most samples that fit, by bisection (the plan grows with the rows)
            long mid = (lo + hi + 1) >>> 1;
            if (of(config, name, mid * rowsPerSample, steps, policy, factorElementBytes, sums, source).fits(availableBytes)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if (lo >= 1) {
            fixes.add("at most " + lo + (lo == 1 ? " sample" : " samples"));
        }
        if (plan.cache() > 0) {
            for (CachePolicy smaller : new CachePolicy[] {new dev.seer.cache.TaylorSeerLite(policy.interval(), policy.maxOrder()),
                    new CachePolicy.None()}) {
                if (!smaller.equals(policy) && of(config, name, samples * rowsPerSample, steps, smaller, factorElementBytes, sums,
                        source).fits(availableBytes)) {
                    fixes.add("--policy " + smaller.spec());
                    break;
                }
            }
        }
        throw new IllegalArgumentException("the memory plan of " + plan.model() + " at " + config.tokens() + " tokens needs "
                + plan.summary() + ", more than the " + MemoryPlan.bytes(availableBytes) + " of memory available; "
                + (fixes.isEmpty() ? "not even one sample fits uncached: lower input_size or raise patch_size"
                        : "would fit: " + String.join(" or ", fixes))
                + " (see seer plan; --ignore-memory-plan runs it anyway)");
    }

    /** The plan of a run on random weights ({@link Source#RANDOM}). */
    public static MemoryPlan of(DitConfig config, String name, long rows, int steps, CachePolicy policy,
                                int factorElementBytes, ForecastSums sums) {
        return of(config, name, rows, steps, policy, factorElementBytes, sums, Source.RANDOM);
    }

    /**
     * @param config            the model
     * @param name              the model's name for the plan
     * @param rows              batch rows of one network call (samples, doubled under guidance)
     * @param steps             sampling steps (for the conditioning memo)
     * @param policy            the cache policy
     * @param factorElementBytes bytes per factor element (4 float32, 2 bf16 or f16)
     * @param sums              the forecast-sums mode (float32 sums over factors of either width)
     * @param source            where the weights come from (what loading holds besides them)
     */
    public static MemoryPlan of(DitConfig config, String name, long rows, int steps, CachePolicy policy,
                                int factorElementBytes, ForecastSums sums, Source source) {
        if (rows < 1 || steps < 1 || (factorElementBytes != 2 && factorElementBytes != 4)) {
            throw new IllegalArgumentException("a DiT memory plan needs rows >= 1, steps >= 1 and 2 or 4 bytes per factor"
                    + " element, found rows " + rows + ", steps " + steps + ", " + factorElementBytes + " bytes");
        }
        long stack = MemoryPlan.mul(rows, (long) config.tokens() * config.hiddenSize());
        long branches = MemoryPlan.mul(2L * config.depth(), stack);
        long factors = policy.factorBytes(branches, stack, factorElementBytes);
        String cacheNote;
        if (factors == 0) {
            cacheNote = policy.spec() + ": no factors";
        } else if (policy.forecastsStackOutput()) {
            cacheNote = String.format(Locale.ROOT, "%s: %d factors of the stack output (%d x %d x %d), %d bytes each",
                    policy.spec(), policy.maxOrder() + 1, rows, config.tokens(), config.hiddenSize(), factorElementBytes);
        } else {
            cacheNote = String.format(Locale.ROOT, "%s: %d factors x %d branches of (%d x %d x %d), %d bytes each",
                    policy.spec(), policy.maxOrder() + 1, 2 * config.depth(), rows, config.tokens(), config.hiddenSize(),
                    factorElementBytes);
        }
        // TaylorCache's forecast sums: one stack-shaped float32 tensor per forecast step of a window
        long sumTensors = 0;
        if (factors > 0 && !policy.forecastsStackOutput() && policy.interval() > 1 && sums.appliesTo(factors)) {
            sumTensors = Math.min(policy.interval() - 1, NativeKernels.MAX_SUM_STEPS);
            cacheNote += " + " + sumTensors + " forecast sums";
        }
        long cache = MemoryPlan.add(factors, MemoryPlan.mul(MemoryPlan.mul(sumTensors, stack), Float.BYTES));
        // the conditioning memo: silu(c), the gates and the final shift/scale of every (timestep, label) pair met,
        // at most every step with every row's label
        long pair = (3L + 2L * config.depth()) * config.hiddenSize() * Float.BYTES;
        long memo = Math.min(DitModel.CONDITIONING_MEMO_BYTES, MemoryPlan.mul(MemoryPlan.mul(steps, rows), pair));
        long weights = config.weightBytes();
        long loading = (long) Math.min(Long.MAX_VALUE, weights * source.perWeightByte);
        return new MemoryPlan(name + ", " + rows + " rows a call", MemoryPlan.PROCESS_BYTES, weights, loading,
                String.format(Locale.ROOT, "%.2fx the weights (%s; measured)", source.perWeightByte, source.what),
                MemoryPlan.add(activationBytes(config, rows), memo), cache, cacheNote);
    }

    /**
     * One block's intermediates, all held until the block ends, over {@code rows} rows: per token the attention branch's
     * LayerNorm, modulate (2), qkv (3), attention output, its contiguous copy, projection and gated product (10 hidden),
     * the MLP branch's LayerNorm, modulate (2), fc2 output and gated product (5 hidden) and its hidden layer (GELU in
     * place); and the latents in and out. libtorch's CPU attention works in blocks: no tokens x tokens scores. Counted
     * from {@code DitModel}'s block, not {@link DitConfig#activationBytes} (7 hidden + 2 MLP, tighter than the libtorch
     * ops keep).
     */
    static long activationBytes(DitConfig c, long rows) {
        long tokens = c.tokens();
        long perToken = 15L * c.hiddenSize() + c.mlpHidden();
        long latents = (long) (c.inChannels() + c.outChannels()) * c.inputSize() * c.inputSize();
        return MemoryPlan.mul(MemoryPlan.mul(rows, MemoryPlan.add(MemoryPlan.mul(tokens, perToken), latents)), Float.BYTES);
    }
}
