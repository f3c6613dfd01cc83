package dev.seer.model.flux;

import dev.seer.cache.CachePolicy;
import dev.seer.model.MemoryPlan;
import dev.seer.tensor.DType;
import java.util.Locale;

/**
 * The memory plan of a FLUX sampling run ({@link MemoryPlan}), from its params alone. Weights: float32 (random
 * weights) or the checkpoint's bytes (mapped; bf16 weights are converted per use past
 * {@link FluxWeights#KEEP_F32_BYTES}, so at most that much is added). Activations: an estimate of one single block's
 * peak on the joint stream, not measured, plus a chunk of the steps' modulations (at most 64 MiB). Cache: (order + 1)
 * factors of every branch (docs/BENCHMARKS.md, "FLUX: FLOPs and cache memory"), or of the joint stream for
 * TaylorSeer-Lite; FLUX's forecast passes prepare no sums.
 */
public final class FluxMemoryPlan {
    private FluxMemoryPlan() {
    }

    /** Parameters of the BFL state dict. */
    public static long parameterCount(FluxParams p) {
        long n = 0;
        for (long[] shape : FluxWeights.expectedShapes(p).values()) {
            long e = 1;
            for (long d : shape) {
                e = MemoryPlan.mul(e, d);
            }
            n = MemoryPlan.add(n, e);
        }
        return n;
    }

    /**
     * @param params             the model
     * @param name               the model's name for the plan
     * @param batch              B
     * @param txtTokens          Lt
     * @param imgTokens          Li (the packed 2x2 latent tokens: width / 16 x height / 16)
     * @param weightBytes        the weights' bytes as stored (checkpoint bytes, or 4 per parameter for random weights)
     * @param convertedBytes     float32 bytes of the weights converted once and kept (0 for float32 weights), counted
     *                           with the weights
     * @param policy             the cache policy
     * @param factorElementBytes bytes per factor element (4 float32, 2 bf16 or f16)
     */
    public static MemoryPlan of(FluxParams params, String name, long batch, long txtTokens, long imgTokens, long weightBytes,
                                long convertedBytes, CachePolicy policy, int factorElementBytes) {
        if (batch < 1 || txtTokens < 1 || imgTokens < 1 || (factorElementBytes != 2 && factorElementBytes != 4)) {
            throw new IllegalArgumentException("a FLUX memory plan needs batch, text and image tokens >= 1 and 2 or 4 bytes"
                    + " per factor element, found batch " + batch + ", " + txtTokens + " text and " + imgTokens
                    + " image tokens, " + factorElementBytes + " bytes");
        }
        long c = params.hiddenSize();
        long tokens = txtTokens + imgTokens;
        long stack = MemoryPlan.mul(MemoryPlan.mul(batch, tokens), c);
        long perCall = MemoryPlan.add(MemoryPlan.mul(params.depth(), 2 * (imgTokens + txtTokens)),
                MemoryPlan.mul(params.depthSingleBlocks(), tokens));
        long branches = MemoryPlan.mul(MemoryPlan.mul(batch, c), perCall);
        long cache = policy.factorBytes(branches, stack, factorElementBytes);
        String cacheNote = cache == 0 ? policy.spec() + ": no factors"
                : policy.forecastsStackOutput()
                ? String.format(Locale.ROOT, "%s: %d factors of the joint stream (%d x %d x %d), %d bytes each", policy.spec(),
                        policy.maxOrder() + 1, batch, tokens, c, factorElementBytes)
                : String.format(Locale.ROOT, "%s: %d factors of %d double-block and %d single-block branches, %d bytes each",
                        policy.spec(), policy.maxOrder() + 1, 4 * params.depth(), params.depthSingleBlocks(), factorElementBytes);
        // a single block on the joint stream: x, its modulated copy, linear1's (3C + M), q/k/v heads (3C), the attention
        // output (C), gelu (M), the concatenation (C + M) and linear2's output (C), float32
        long m = params.mlpHiddenDim();
        long perToken = 10 * c + 4 * m;
        long activations = MemoryPlan.mul(MemoryPlan.mul(MemoryPlan.mul(batch, tokens), perToken), Float.BYTES);
        // and a chunk of the steps' modulations, computed ahead (FluxModel.Modulations)
        activations = MemoryPlan.add(activations, MemoryPlan.mul(MemoryPlan.mul(FluxModel.chunkSteps(params, batch), batch),
                FluxModel.modulationBytesPerRow(params)));
        return new MemoryPlan(name + ", batch " + batch + ", " + txtTokens + " text + " + imgTokens + " image tokens",
                MemoryPlan.PROCESS_BYTES, MemoryPlan.add(weightBytes, convertedBytes), 0,
                "none counted: files are mapped, float32 tensors wrapped (not measured)", activations, cache, cacheNote);
    }

    /**
     * The plan of a run computing in {@code compute} from weights of {@code storedBytes} (a checkpoint's bytes, its
     * headers included; null for random weights, stored in the compute dtype): weights stored in another dtype (bytes
     * more than a quarter away from the compute dtype's) are converted once and kept when they take at most
     * {@link FluxWeights#KEEP_F32_BYTES} converted ({@link FluxWeights}), else converted per use.
     */
    public static MemoryPlan forRun(FluxParams params, String name, long batch, long txtTokens, long imgTokens,
                                    Long storedBytes, DType compute, CachePolicy policy, int factorElementBytes) {
        long inCompute = MemoryPlan.mul(parameterCount(params), compute.byteSize());
        long stored = storedBytes == null ? inCompute : storedBytes;
        // a checkpoint's bytes (headers included) within a quarter of the compute dtype's are in that dtype
        boolean otherDtype = Math.abs(stored - inCompute) > inCompute / 4;
        long converted = otherDtype && inCompute <= FluxWeights.KEEP_F32_BYTES ? inCompute : 0;
        return of(params, name, batch, txtTokens, imgTokens, stored, converted, policy, factorElementBytes);
    }
}
