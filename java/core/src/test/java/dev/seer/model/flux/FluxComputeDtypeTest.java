package dev.seer.model.flux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.kernel.Variant;
import dev.seer.sampling.ProgressListener;
import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

/**
 * bf16 compute against float32 compute on the same small random FLUX config, and how the weights are handed out in
 * each mode.
 *
 * <p>The tolerance: bf16 keeps 8 significant bits, so rounding a tensor to bf16 changes it by at most u = 2^-9 (about
 * 2e-3) relative, and by about u / sqrt(3) in relative L2 for values spread over a binade. In bf16 mode each linear map
 * rounds its input and its weights, and a prediction passes through about ten linear maps in sequence (img_in, qkv,
 * proj, two MLP maps, linear1, linear2 twice, the final layer): about 20 independent roundings, sqrt(20) u / sqrt(3)
 * = 5e-3 relative L2 per prediction when the errors neither cancel nor grow through the blocks. The final latents are
 * the float32 noise plus the Euler sum of predictions, whose error is at most the predictions' relative error, so 2e-2
 * leaves a factor of 4 over that estimate and still fails when anything runs at lower precision than bf16 (float16
 * exponents, int8) or a part is wrong (a swapped or missing bf16 weight makes the error O(1)). It also must be well
 * above float32's own rounding (1e-5), or bf16 did not run.
 */
class FluxComputeDtypeTest {
    private static final double BF16_TOLERANCE = 2e-2;
    private static final int STEPS = 8;

    /** depth 2 + 2 single blocks, hidden 128, 4 heads of 32 (axes 8 + 12 + 12), wider than {@link FluxTestModels#tiny}. */
    private static FluxParams small() {
        return new FluxParams(16, 16, 32, 48, 128, 4.0, 4, 2, 2, new int[] {8, 12, 12}, 10_000, true, true);
    }

    private static FluxSampler.Result sample(FluxModel m, FluxInputs in, CachePolicy policy) {
        return FluxSampler.sample(m, in, new FluxSampler.Request(STEPS, 4, 4, 3.5, true, 0, policy, Variant.AUTO,
                ProgressListener.NONE));
    }

    private static double relativeL2(float[] got, float[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = got[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    private static void bf16AgreesWithF32(CachePolicy policy) {
        FluxParams p = small();
        FluxInputs in = FluxTestModels.inputs(p, 3);
        Map<String, Tensor> dict = FluxWeights.randomStateDict(p, 5, Arena.ofAuto());
        float[] f32;
        float[] bf16;
        try (FluxModel m = new FluxModel(FluxWeights.fromStateDict(p, dict))) {
            f32 = sample(m, in, policy).latents();
        }
        try (FluxModel m = new FluxModel(FluxWeights.fromStateDict(p, dict), DType.BF16)) {
            assertEquals(DType.BF16, m.computeType());
            bf16 = sample(m, in, policy).latents();
        }
        double err = relativeL2(bf16, f32);
        assertTrue(err < BF16_TOLERANCE, policy.spec() + ": bf16 vs float32 compute, relative L2 " + err);
        assertTrue(err > 1e-5, policy.spec() + ": bf16 compute must differ from float32 by more than float32 rounding, found " + err);
    }

    @Test
    void bf16ComputeAgreesWithFloat32Uncached() {
        bf16AgreesWithF32(new CachePolicy.None());
    }

    @Test
    void bf16ComputeAgreesWithFloat32UnderTaylorSeer() {
        bf16AgreesWithF32(new CachePolicy.TaylorSeer(3, 1));
    }

    @Test
    void float32ComputeOnBf16StoredWeightsEqualsFloat32WeightsOfTheSameValues() {
        // the bf16-stored weights widened to float32 are exact, so float32 compute gives the same bits either way
        FluxParams p = FluxTestModels.tiny(true);
        FluxInputs in = FluxTestModels.inputs(p, 4);
        Map<String, Tensor> bf16 = FluxWeights.randomStateDict(p, 6, Arena.ofAuto(), DType.BF16);
        Map<String, Tensor> widened = new java.util.LinkedHashMap<>();
        Arena arena = Arena.ofAuto();
        try (PointerScope scope = new PointerScope()) {
            for (var e : bf16.entrySet()) {
                Tensor t = Tensor.allocate(arena, DType.F32, e.getValue().shape());
                dev.seer.tensor.Torch.wrap(t).copy_(dev.seer.tensor.Torch.wrap(e.getValue()));
                widened.put(e.getKey(), t);
            }
        }
        float[] a;
        float[] b;
        try (FluxModel m = new FluxModel(FluxWeights.fromStateDict(p, bf16))) {
            a = sample(m, in, new CachePolicy.None()).latents();
        }
        try (FluxModel m = new FluxModel(FluxWeights.fromStateDict(p, widened))) {
            b = sample(m, in, new CachePolicy.None()).latents();
        }
        assertTrue(java.util.Arrays.equals(a, b), "float32 compute must not depend on the storage of exact values");
    }

    @Test
    void bf16StoredWeightsAreReadInPlaceInBf16Mode() {
        FluxParams p = FluxTestModels.tiny(false);
        Map<String, Tensor> dict = FluxWeights.randomStateDict(p, 1, Arena.ofAuto(), DType.BF16);
        try (FluxWeights w = FluxWeights.fromStateDict(p, dict)) {
            w.prepare(DType.BF16);
            assertEquals(DType.BF16, w.computeType());
            assertFalse(w.convertsPerUse());
            try (PointerScope scope = new PointerScope()) {
                String key = "double_blocks.0.img_attn.qkv.weight";
                org.bytedeco.pytorch.Tensor t = w.get(key);
                assertEquals(DType.BF16, DType.fromTorch(t.scalar_type()));
                assertEquals(dict.get(key).address(), t.data_ptr().address(), "a bf16 weight in bf16 mode is the stored memory");
                // QKNorm runs in float32 in either mode
                assertEquals(DType.F32, DType.fromTorch(w.get("double_blocks.0.img_attn.norm.query_norm.scale").scalar_type()));
            }
            w.prepare(DType.F32);
            try (PointerScope scope = new PointerScope()) {
                assertEquals(DType.F32, DType.fromTorch(w.get("double_blocks.0.img_attn.qkv.weight").scalar_type()));
            }
        }
    }

    @Test
    void float32IsTheDefaultAndOtherComputeTypesAreRefused() {
        FluxParams p = FluxTestModels.tiny(false);
        Map<String, Tensor> dict = FluxWeights.randomStateDict(p, 1, Arena.ofAuto());
        try (FluxModel m = new FluxModel(FluxWeights.fromStateDict(p, dict))) {
            assertSame(DType.F32, m.computeType());
            assertSame(DType.F32, m.weights().computeType());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FluxModel(FluxWeights.fromStateDict(p, dict), DType.F16));
        assertTrue(e.getMessage().contains("F32 or BF16") && e.getMessage().contains("F16"), e.getMessage());
    }
}
