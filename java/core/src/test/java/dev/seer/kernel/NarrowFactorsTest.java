package dev.seer.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.DType;
import dev.seer.tensor.GateView;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * bf16 and f16 factors under float32 activations (the mixed dtype codes of seer.h): every kernel of every built variant
 * against an oracle of float32 Java loops whose stored factors are rounded by libtorch's own conversion, bit for bit,
 * and the pairs the kernels do not take refused before any downcall.
 */
class NarrowFactorsTest {
    private static final Shape SHAPE = Shape.of(2, 5, 37); // odd rows: every variant runs its tail
    private static final int N = 2 * 5 * 37;
    private static final int C = 37;

    /** The built variants this CPU runs, the reference first. */
    private static List<Variant> variants() {
        List<Variant> v = new ArrayList<>();
        for (Variant x : new Variant[] {Variant.REF, Variant.AVX2, Variant.AVX512, Variant.AUTO}) {
            if (x == Variant.AUTO || NativeKernels.cpu().isAvailable(x)) {
                v.add(x);
            }
        }
        return v;
    }

    private static float[] randn(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * 3);
        }
        return v;
    }

    /** v rounded to the dtype and back by libtorch's tensor conversion (round to nearest even). */
    private static float[] rounded(float[] v, DType dtype) {
        try (Arena a = Arena.ofConfined(); PointerScope scope = new PointerScope()) {
            var t = Torch.wrap(Tensor.ofFloats(a, v, v.length));
            var narrow = dtype == DType.BF16 ? ScalarType.BFloat16 : ScalarType.Half;
            return Torch.view(t.to(narrow).to(ScalarType.Float).contiguous()).toFloatArray();
        }
    }

    /** r((a - b) / d), the float32 difference of a factor chain, stored rounded. */
    private static float[] diff(float[] a, float[] b, float d, DType dtype) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (a[i] - b[i]) / d;
        }
        return rounded(out, dtype);
    }

    /** sum_i ((D^i * (1/i!)) * delta^i) from +0, the coefficients as seer_coeffs_init makes them. */
    private static float[] forecast(List<float[]> d, float delta) {
        float[] out = new float[d.getFirst().length];
        double fact = 1;
        double pw = 1;
        for (int i = 0; i < d.size(); i++) {
            if (i > 0) {
                fact *= i;
                pw *= delta;
            }
            float c = (float) (1 / fact);
            float p = (float) pw;
            for (int j = 0; j < out.length; j++) {
                out[j] = out[j] + (d.get(i)[j] * c) * p;
            }
        }
        return out;
    }

    /** x + gate (B, C, rows rowStride apart, from column offset) * f, in place. */
    private static void addGated(float[] x, float[] gate, int offset, int rowStride, float[] f) {
        for (int j = 0; j < x.length; j++) {
            int b = j / (5 * C);
            x[j] = x[j] + gate[b * rowStride + offset + j % C] * f[j];
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16"})
    void everyKernelMatchesFloat32LoopsWithLibtorchRoundedFactors(DType dtype) {
        Random r = new Random(dtype.ordinal());
        float[] f1 = randn(r, N);
        float[] f2 = randn(r, N);
        float[] f3 = randn(r, N);
        float[] g = randn(r, 2 * 2 * C); // two branches' gates side by side: (B, 2C)
        float[] g2 = randn(r, 2 * 2 * C); // a second step's
        float[] x0 = randn(r, N);
        float[] fb = randn(r, N);
        float delta = -2.5f;
        float delta2 = 3f;

        // the oracle: branch A updated at orders 0, 1, 2 with distances 1 (unused), 2, 3; branch B at orders 0, 1
        List<float[]> a = List.of(rounded(f1, dtype));
        float[] n0 = rounded(f2, dtype);
        a = List.of(n0, diff(n0, a.get(0), 2f, dtype));
        float[] m0 = rounded(f3, dtype);
        float[] m1 = diff(m0, a.get(0), 3f, dtype);
        a = List.of(m0, m1, diff(m1, a.get(1), 3f, dtype));
        float[] b0 = rounded(fb, dtype);
        List<float[]> bList = List.of(b0, diff(b0, rounded(f1, dtype), -4f, dtype));
        float[] xAfterUpdates = x0.clone();
        addGated(xAfterUpdates, g, 0, 2 * C, f1);
        addGated(xAfterUpdates, g, 0, 2 * C, f2);
        addGated(xAfterUpdates, g, 0, 2 * C, f3);
        float[] fa = forecast(a, delta);
        float[] xResidual = xAfterUpdates.clone();
        addGated(xResidual, g, 0, 2 * C, fa);
        float[] xMulti = xAfterUpdates.clone();
        addGated(xMulti, g, 0, 2 * C, fa);
        addGated(xMulti, g, C, 2 * C, forecast(bList, delta));
        float[][] sums = new float[2][];
        float[][] gates = {g, g2};
        float[] deltas = {delta, delta2};
        for (int s = 0; s < 2; s++) {
            sums[s] = new float[N];
            addGated(sums[s], gates[s], 0, 2 * C, forecast(a, deltas[s]));
            addGated(sums[s], gates[s], C, 2 * C, forecast(bList, deltas[s]));
        }
        for (Variant v : variants()) {
            try (Arena arena = Arena.ofConfined()) {
                Tensor gate = Tensor.ofFloats(arena, g, 2, 2 * C);
                Tensor gateNext = Tensor.ofFloats(arena, g2, 2, 2 * C);
                GateView gateA = new GateView(gate, 0, C);
                GateView gateB = new GateView(gate, C, C);
                Tensor x = Tensor.ofFloats(arena, x0, 2, 5, C);
                TaylorFactors fa2 = TaylorFactors.allocate(arena, dtype, SHAPE, 2);
                Kernels.taylorUpdateResidual(v, x, gateA, Tensor.ofFloats(arena, f1, 2, 5, C), fa2, 0, 1f);
                Kernels.taylorUpdateResidual(v, x, gateA, Tensor.ofFloats(arena, f2, 2, 5, C), fa2, 1, 2f);
                Kernels.taylorUpdateResidual(v, x, gateA, Tensor.ofFloats(arena, f3, 2, 5, C), fa2, 2, 3f);
                for (int i = 0; i <= 2; i++) {
                    assertArrayEquals(a.get(i), fa2.factor(i).toFloatArray(), v + " " + dtype + ": factor " + i);
                }
                assertArrayEquals(xAfterUpdates, x.toFloatArray(), v + " " + dtype + ": x after the full steps");
                TaylorFactors fbF = TaylorFactors.allocate(arena, dtype, SHAPE, 1);
                Kernels.taylorUpdate(v, fbF, Tensor.ofFloats(arena, f1, 2, 5, C), 0, 1f);
                Kernels.taylorUpdate(v, fbF, Tensor.ofFloats(arena, fb, 2, 5, C), 1, -4f);
                for (int i = 0; i <= 1; i++) {
                    assertArrayEquals(bList.get(i), fbF.factor(i).toFloatArray(), v + " " + dtype + ": taylor_update, factor " + i);
                }

                Tensor out = Tensor.allocate(arena, DType.F32, SHAPE);
                assertTrue(Kernels.taylorForecast(v, out, fa2, delta));
                assertArrayEquals(fa, out.toFloatArray(), v + " " + dtype + ": taylor_forecast");
                Tensor xr = Tensor.ofFloats(arena, xAfterUpdates, 2, 5, C);
                assertTrue(Kernels.taylorForecastResidual(v, xr, gateA, fa2, delta));
                assertArrayEquals(xResidual, xr.toFloatArray(), v + " " + dtype + ": taylor_forecast_residual");

                BranchStack stack = new BranchStack(arena, List.of(fa2, fbF), List.of(gateA, gateB));
                assertEquals(dtype, stack.dtype());
                assertEquals(DType.F32, stack.activationDtype());
                Tensor xm = Tensor.ofFloats(arena, xAfterUpdates, 2, 5, C);
                assertTrue(Kernels.taylorForecastResidualMulti(v, xm, stack, delta));
                assertArrayEquals(xMulti, xm.toFloatArray(), v + " " + dtype + ": taylor_forecast_residual_multi");

                List<TaylorFactors> out2 = List.of(TaylorFactors.allocate(arena, DType.F32, SHAPE, 0),
                        TaylorFactors.allocate(arena, DType.F32, SHAPE, 0));
                List<List<GateView>> byStep = List.of(List.of(gateA, gateB),
                        List.of(new GateView(gateNext, 0, C), new GateView(gateNext, C, C)));
                Kernels.taylorForecastSums(v, out2, stack, byStep, deltas);
                for (int s = 0; s < 2; s++) {
                    assertArrayEquals(sums[s], out2.get(s).factor(0).toFloatArray(), v + " " + dtype + ": sum " + s);
                }
            }
        }
    }

    /**
     * A float32 feature beyond f16's range stores as infinity: the full step's x still gets the exact value, and the
     * forecast from those factors reports itself non-finite (the cache then recomputes the step in full).
     */
    @org.junit.jupiter.api.Test
    void f16FactorsBeyondTheirRangeMakeTheForecastReportNonFinite() {
        for (Variant v : variants()) {
            try (Arena arena = Arena.ofConfined()) {
                float[] big = new float[N];
                java.util.Arrays.fill(big, 1e5f);
                float[] ones = new float[2 * C];
                java.util.Arrays.fill(ones, 1f);
                GateView gate = GateView.of(Tensor.ofFloats(arena, ones, 2, C));
                Tensor x = Tensor.allocate(arena, DType.F32, SHAPE);
                TaylorFactors f = TaylorFactors.allocate(arena, DType.F16, SHAPE, 1);
                Kernels.taylorUpdateResidual(v, x, gate, Tensor.ofFloats(arena, big, 2, 5, C), f, 0, 1f);
                assertEquals(1e5f, x.toFloatArray()[N - 1], v + ": x gets the float32 feature");
                assertEquals(Float.POSITIVE_INFINITY, f.factor(0).toFloatArray()[N - 1], v + ": the f16 factor");
                assertTrue(!Kernels.taylorForecastResidual(v, x, gate, f, 1f), v + ": the forecast reports non-finite");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16"})
    void narrowFactorsHalveTheBytesAndTheKernelsTakeOnlyTheirPairs(DType dtype) {
        try (Arena arena = Arena.ofConfined()) {
            TaylorFactors f32 = TaylorFactors.allocate(arena, DType.F32, SHAPE, 2);
            TaylorFactors narrow = TaylorFactors.allocate(arena, dtype, SHAPE, 2);
            assertEquals(f32.byteSize(), 2 * narrow.byteSize());
            assertEquals(dtype == DType.BF16 ? 3 : 4, Kernels.callCode(DType.F32, dtype));
            assertEquals(dtype.kernelCode(), Kernels.callCode(dtype, dtype));

            DType other = dtype == DType.BF16 ? DType.F16 : DType.BF16;
            Tensor x = Tensor.allocate(arena, other, SHAPE);
            Tensor gate = Tensor.allocate(arena, other, 2, C);
            Tensor feature = Tensor.allocate(arena, other, SHAPE);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Kernels.taylorUpdateResidual(Variant.AUTO, x, GateView.of(gate), feature, narrow, 0, 1f));
            assertTrue(e.getMessage().contains("x has dtype " + other + ", the factors have " + dtype), e.getMessage());
            // half-width activations over float32 factors: no kernel takes them
            e = assertThrows(IllegalArgumentException.class,
                    () -> Kernels.taylorUpdate(Variant.AUTO, f32, Tensor.allocate(arena, dtype, SHAPE), 0, 1f));
            assertTrue(e.getMessage().contains("feature has dtype " + dtype + ", the factors have F32"), e.getMessage());
            // x and feature of different dtypes, each a valid pair with the factors
            Tensor x32 = Tensor.allocate(arena, DType.F32, SHAPE);
            Tensor gate32 = Tensor.allocate(arena, DType.F32, 2, C);
            e = assertThrows(IllegalArgumentException.class, () -> Kernels.taylorUpdateResidual(Variant.AUTO, x32,
                    GateView.of(gate32), Tensor.allocate(arena, dtype, SHAPE), narrow, 0, 1f));
            assertTrue(e.getMessage().contains("feature has dtype " + dtype + ", x has F32"), e.getMessage());
            // a stack's gates are its activations: of the factors' dtype or float32
            e = assertThrows(IllegalArgumentException.class, () -> new BranchStack(arena, List.of(narrow), List.of(GateView.of(gate))));
            assertTrue(e.getMessage().contains("activations of dtype " + other + " with factors of dtype " + dtype), e.getMessage());
        }
    }
}
