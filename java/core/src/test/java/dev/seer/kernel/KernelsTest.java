package dev.seer.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.seer.tensor.DType;
import dev.seer.tensor.GateView;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every CPU variant against two oracles: the chain of libtorch ops the official TaylorSeer code runs (f32, bit for
 * bit) and float64 loops (bf16/f16, within a rounding tolerance). Variants this CPU cannot run are skipped by
 * assumption, visibly.
 */
class KernelsTest {
    static Stream<Arguments> cpuVariants() {
        return Stream.of(Variant.REF, Variant.AVX2, Variant.AVX512, Variant.AUTO).map(Arguments::of);
    }

    static void assumeAvailable(Variant v) {
        assumeTrue(v == Variant.AUTO || NativeKernels.cpu().isAvailable(v), v + " is not available on this CPU");
    }

    static float[] randn(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    /** Fills factors D^0..D^order with random data and marks them valid. */
    static TaylorFactors randomFactors(Arena arena, DType dtype, Shape shape, int maxOrder, int order, Random r) {
        TaylorFactors f = TaylorFactors.allocate(arena, dtype, shape, maxOrder);
        for (int i = 0; i <= maxOrder; i++) {
            f.factor(i).copyFrom(randn(r, (int) shape.numel(), 1.0 / (i + 1)));
        }
        f.setOrder(order);
        return f;
    }

    /** The official taylor_formula as libtorch ops: output = 0; output += (1/i!) * D^i * (x ** i). */
    static org.bytedeco.pytorch.Tensor torchForecast(TaylorFactors f, int delta) {
        org.bytedeco.pytorch.Tensor out = null;
        for (int i = 0; i <= f.order(); i++) {
            org.bytedeco.pytorch.Tensor term = Torch.wrap(f.factor(i)).mul(new Scalar(1.0 / factorial(i)))
                    .mul(new Scalar((long) Math.pow(delta, i)));
            out = out == null ? term.add(new Scalar(0)) : out.add(term);
        }
        return out;
    }

    static double factorial(int i) {
        double f = 1;
        for (int k = 2; k <= i; k++) {
            f *= k;
        }
        return f;
    }

    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    @ParameterizedTest
    @MethodSource("cpuVariants")
    void updateMatchesTheOfficialOpChainBitForBit(Variant v) {
        assumeAvailable(v);
        Random r = new Random(1);
        for (int n : new int[] {1, 7, 33, 1000, 70001}) {
            for (int order = 0; order <= 4; order++) {
                for (int distance : new int[] {-1, -4, 5}) {
                    try (Arena arena = Arena.ofConfined(); PointerScope scope = new PointerScope()) {
                        Shape s = Shape.of(n);
                        TaylorFactors f = randomFactors(arena, DType.F32, s, 4, Math.max(order - 1, 0), r);
                        Tensor feature = Tensor.ofFloats(arena, randn(r, n, 1), n);
                        // expected: updated[0] = F; updated[i+1] = (updated[i] - old[i]) / distance
                        List<float[]> expected = new ArrayList<>();
                        org.bytedeco.pytorch.Tensor cur = Torch.wrap(feature).clone();
                        expected.add(Torch.view(cur).toFloatArray());
                        for (int i = 0; i < order; i++) {
                            cur = cur.sub(Torch.wrap(f.factor(i))).div(new Scalar(distance));
                            expected.add(Torch.view(cur.contiguous()).toFloatArray());
                        }
                        Kernels.taylorUpdate(v, f, feature, order, distance);
                        assertEquals(order, f.order());
                        for (int i = 0; i <= order; i++) {
                            assertArrayEquals(bits(expected.get(i)), bits(f.factor(i).toFloatArray()),
                                    "factor " + i + " n=" + n + " order=" + order + " d=" + distance);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cpuVariants")
    void forecastMatchesTheOfficialOpChainBitForBit(Variant v) {
        assumeAvailable(v);
        Random r = new Random(2);
        for (int n : new int[] {1, 15, 17, 1000, 70001}) {
            for (int order = 0; order <= 4; order++) {
                for (int delta : new int[] {-1, -3, 2}) {
                    try (Arena arena = Arena.ofConfined(); PointerScope scope = new PointerScope()) {
                        TaylorFactors f = randomFactors(arena, DType.F32, Shape.of(n), 4, order, r);
                        Tensor out = Tensor.allocate(arena, DType.F32, n);
                        assertTrue(Kernels.taylorForecast(v, out, f, delta));
                        float[] expected = Torch.view(torchForecast(f, delta).contiguous()).toFloatArray();
                        assertArrayEquals(bits(expected), bits(out.toFloatArray()), "n=" + n + " order=" + order + " delta=" + delta);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cpuVariants")
    void residualKernelsMatchTheOfficialOpChainBitForBit(Variant v) {
        assumeAvailable(v);
        Random r = new Random(3);
        int[][] shapes = {{1, 1, 1}, {2, 5, 17}, {2, 16, 384}, {3, 7, 100}};
        for (int[] sh : shapes) {
            int n = sh[0] * sh[1] * sh[2];
            for (int order = 0; order <= 4; order++) {
                try (Arena arena = Arena.ofConfined(); PointerScope scope = new PointerScope()) {
                    Shape s = Shape.of(sh[0], sh[1], sh[2]);
                    TaylorFactors f = randomFactors(arena, DType.F32, s, 4, order, r);
                    // gate read in place from a (B, 6C) modulation, chunk 2, like DiT's gate_msa
                    Tensor mods = Tensor.ofFloats(arena, randn(r, sh[0] * 6 * sh[2], 1), sh[0], 6L * sh[2]);
                    GateView gate = new GateView(mods, 2L * sh[2], sh[2]);
                    float[] x0 = randn(r, n, 1);
                    Tensor x = Tensor.ofFloats(arena, x0, sh[0], sh[1], sh[2]);
                    org.bytedeco.pytorch.Tensor g = Torch.wrap(mods).narrow(1, 2L * sh[2], sh[2]).unsqueeze(1);
                    org.bytedeco.pytorch.Tensor expected = Torch.wrap(Tensor.ofFloats(arena, x0, sh[0], sh[1], sh[2]))
                            .add(g.mul(torchForecast(f, -2).reshape(sh[0], sh[1], sh[2])));
                    float[] want = Torch.view(expected.contiguous()).toFloatArray();
                    assertTrue(Kernels.taylorForecastResidual(v, x, gate, f, -2));
                    assertArrayEquals(bits(want), bits(x.toFloatArray()), "forecast_residual " + s + " order " + order);

                    // the full-step twin: x += gate * F and the update
                    if (order >= 1) {
                        f.setOrder(order - 1);
                    }
                    Tensor x2 = Tensor.ofFloats(arena, x0, sh[0], sh[1], sh[2]);
                    Tensor feat = Tensor.ofFloats(arena, randn(r, n, 1), sh[0], sh[1], sh[2]);
                    float[] oldD0 = f.factor(0).toFloatArray();
                    org.bytedeco.pytorch.Tensor wantX = Torch.wrap(Tensor.ofFloats(arena, x0, sh[0], sh[1], sh[2]))
                            .add(g.mul(Torch.wrap(feat)));
                    float[] wantX2 = Torch.view(wantX.contiguous()).toFloatArray();
                    Kernels.taylorUpdateResidual(v, x2, gate, feat, f, order, -5);
                    assertArrayEquals(bits(wantX2), bits(x2.toFloatArray()), "update_residual x " + s);
                    assertArrayEquals(bits(feat.toFloatArray()), bits(f.factor(0).toFloatArray()));
                    if (order >= 1) {
                        float[] d1 = f.factor(1).toFloatArray();
                        float[] fe = feat.toFloatArray();
                        for (int i = 0; i < n; i++) {
                            assertEquals(Float.floatToRawIntBits((fe[i] - oldD0[i]) / -5f), Float.floatToRawIntBits(d1[i]));
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cpuVariants")
    void multiBranchEqualsSequentialSingleBranchCalls(Variant v) {
        assumeAvailable(v);
        Random r = new Random(4);
        int layers = 3;
        Shape s = Shape.of(2, 9, 40);
        int n = (int) s.numel();
        try (Arena arena = Arena.ofConfined()) {
            Tensor mods = Tensor.ofFloats(arena, randn(r, 2 * layers * 6 * 40, 1), 2, layers * 6L * 40);
            List<TaylorFactors> branches = new ArrayList<>();
            List<GateView> gates = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                for (int m = 0; m < 2; m++) {
                    branches.add(randomFactors(arena, DType.F32, s, 4, (l + m) % 5, r));
                    gates.add(new GateView(mods, l * 6L * 40 + (m == 0 ? 2 : 5) * 40L, 40));
                }
            }
            float[] x0 = randn(r, n, 1);
            Tensor seq = Tensor.ofFloats(arena, x0, 2, 9, 40);
            for (int b = 0; b < branches.size(); b++) {
                Kernels.taylorForecastResidual(Variant.REF, seq, gates.get(b), branches.get(b), -3);
            }
            Tensor multi = Tensor.ofFloats(arena, x0, 2, 9, 40);
            assertTrue(Kernels.taylorForecastResidualMulti(v, multi, new BranchStack(arena, branches, gates), -3));
            assertArrayEquals(bits(seq.toFloatArray()), bits(multi.toFloatArray()));
        }
    }

    /**
     * The forecast sums of three steps (each with its own gates and delta) equal three multi-branch calls on zeroed
     * targets, bit for bit; the sums become order-0 factors that a one-branch stack with gates of ones adds to x
     * unchanged.
     */
    @ParameterizedTest
    @MethodSource("cpuVariants")
    void forecastSumsEqualOneMultiBranchCallPerStepOnZeros(Variant v) {
        assumeAvailable(v);
        Random r = new Random(6);
        int layers = 3;
        int steps = 3;
        Shape s = Shape.of(2, 9, 40);
        try (Arena arena = Arena.ofConfined()) {
            List<TaylorFactors> branches = new ArrayList<>();
            for (int b = 0; b < 2 * layers; b++) {
                branches.add(randomFactors(arena, DType.F32, s, 4, b % 2 == 0 ? 2 : (b / 2) % 5, r));
            }
            // each step's gates are views of its own rows of one conditioning tensor, as a model computes them ahead
            Tensor mods = Tensor.ofFloats(arena, randn(r, steps * 2 * layers * 6 * 40, 1), steps * 2L, layers * 6L * 40);
            List<List<GateView>> gatesByStep = new ArrayList<>();
            for (int st = 0; st < steps; st++) {
                Tensor rows = mods.narrow0(2L * st, 2L * st + 2);
                List<GateView> gates = new ArrayList<>();
                for (int b = 0; b < 2 * layers; b++) {
                    gates.add(new GateView(rows, (b / 2) * 6L * 40 + (b % 2 == 0 ? 2 : 5) * 40L, 40));
                }
                gatesByStep.add(gates);
            }
            float[] deltas = {-1, -2, -3.5f};
            BranchStack stack = new BranchStack(arena, branches, gatesByStep.getFirst());
            List<TaylorFactors> sums = new ArrayList<>();
            for (int st = 0; st < steps; st++) {
                sums.add(TaylorFactors.allocate(arena, DType.F32, s, 0));
            }
            Kernels.taylorForecastSums(v, sums, stack, gatesByStep, deltas);
            float[] x0 = randn(r, (int) s.numel(), 1);
            Tensor ones = Tensor.ofFloats(arena, filled((int) (2 * 40), 1f), 2, 40);
            for (int st = 0; st < steps; st++) {
                Tensor want = Tensor.allocate(arena, DType.F32, s);
                stack.setGates(gatesByStep.get(st));
                assertTrue(Kernels.taylorForecastResidualMulti(Variant.REF, want, stack, deltas[st]));
                assertEquals(0, sums.get(st).order());
                assertArrayEquals(bits(want.toFloatArray()), bits(sums.get(st).factor(0).toFloatArray()), "step " + st);
                // x + 1 * sum is x + sum exactly
                Tensor x = Tensor.ofFloats(arena, x0, 2, 9, 40);
                assertTrue(Kernels.taylorForecastResidualMulti(v, x, new BranchStack(arena, List.of(sums.get(st)),
                        List.of(GateView.of(ones))), 0f));
                float[] sum = want.toFloatArray();
                float[] got = x.toFloatArray();
                for (int j = 0; j < got.length; j++) {
                    assertEquals(Float.floatToRawIntBits(x0[j] + sum[j]), Float.floatToRawIntBits(got[j]), "element " + j);
                }
            }
        }
    }

    private static float[] filled(int n, float value) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, value);
        return a;
    }

    @Test
    void forecastSumsRefuseInconsistentArguments() {
        Random r = new Random(7);
        Shape s = Shape.of(2, 3, 8);
        try (Arena arena = Arena.ofConfined()) {
            TaylorFactors branch = randomFactors(arena, DType.F32, s, 2, 2, r);
            Tensor g = Tensor.ofFloats(arena, randn(r, 2 * 8, 1), 2, 8);
            Tensor wide = Tensor.ofFloats(arena, randn(r, 2 * 16, 1), 2, 16);
            List<GateView> gates = List.of(GateView.of(g));
            BranchStack stack = new BranchStack(arena, List.of(branch), gates);
            TaylorFactors a = TaylorFactors.allocate(arena, DType.F32, s, 0);
            TaylorFactors b = TaylorFactors.allocate(arena, DType.F32, s, 0);
            TaylorFactors wrong = TaylorFactors.allocate(arena, DType.F32, Shape.of(2, 3, 9), 0);
            DitOpsTest.refused("one gate list and one delta per sum: 2 sums, 1 gate lists, 2 deltas",
                    () -> Kernels.taylorForecastSums(Variant.AUTO, List.of(a, b), stack, List.of(gates), new float[2]));
            DitOpsTest.refused("1..32 steps, found 0", () -> Kernels.taylorForecastSums(Variant.AUTO, List.of(), stack, List.of(), new float[0]));
            DitOpsTest.refused("delta 1 must be finite, found NaN", () -> Kernels.taylorForecastSums(Variant.AUTO, List.of(a, b), stack,
                    List.of(gates, gates), new float[] {1, Float.NaN}));
            DitOpsTest.refused("sum 1 must be F32 (2, 3, 8)", () -> Kernels.taylorForecastSums(Variant.AUTO, List.of(a, wrong), stack,
                    List.of(gates, gates), new float[] {1, 2}));
            DitOpsTest.refused("sum 0 overlaps sum 1", () -> Kernels.taylorForecastSums(Variant.AUTO, List.of(a, a), stack,
                    List.of(gates, gates), new float[] {1, 2}));
            DitOpsTest.refused("step 1: gate rows are 16 elements apart, step 0's are 8", () -> Kernels.taylorForecastSums(Variant.AUTO,
                    List.of(a, b), stack, List.of(gates, List.of(new GateView(wide, 0, 8))), new float[] {1, 2}));
            DitOpsTest.refused("step 1: one gate per branch: 1 branches, 2 gates", () -> Kernels.taylorForecastSums(Variant.AUTO,
                    List.of(a, b), stack, List.of(gates, List.of(GateView.of(g), GateView.of(g))), new float[] {1, 2}));
            assertTrue(a.isEmpty() && b.isEmpty(), "a refused call writes nothing");
        }
    }

    @ParameterizedTest
    @MethodSource("cpuVariants")
    void halfPrecisionStorageStaysWithinRoundingOfAFloat64Oracle(Variant v) {
        assumeAvailable(v);
        Random r = new Random(5);
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            double tol = dt == DType.BF16 ? 1.0 / 128 : 1.0 / 1024;
            int n = 1037;
            try (Arena arena = Arena.ofConfined()) {
                TaylorFactors f = randomFactors(arena, dt, Shape.of(n), 4, 3, r);
                Tensor out = Tensor.allocate(arena, dt, n);
                assertTrue(Kernels.taylorForecast(v, out, f, -2));
                float[][] d = new float[4][];
                for (int i = 0; i < 4; i++) {
                    d[i] = f.factor(i).toFloatArray();
                }
                float[] got = out.toFloatArray();
                for (int j = 0; j < n; j++) {
                    double want = d[0][j] + d[1][j] * -2.0 + d[2][j] * 4.0 / 2 + d[3][j] * -8.0 / 6;
                    assertEquals(want, got[j], tol * Math.max(1, Math.abs(want)) * 4, dt + " element " + j);
                }
            }
        }
    }

    @Test
    void nonFiniteForecastsAreFlagged() {
        try (Arena arena = Arena.ofConfined()) {
            TaylorFactors f = randomFactors(arena, DType.F32, Shape.of(1, 3, 50), 2, 2, new Random(6));
            float[] d1 = f.factor(1).toFloatArray();
            d1[77] = Float.NaN;
            f.factor(1).copyFrom(d1);
            Tensor out = Tensor.allocate(arena, DType.F32, 1, 3, 50);
            assertFalse(Kernels.taylorForecast(Variant.AUTO, out, f, -1));
            Tensor x = Tensor.allocate(arena, DType.F32, 1, 3, 50);
            Tensor gate = Tensor.allocate(arena, DType.F32, 1, 50);
            assertFalse(Kernels.taylorForecastResidual(Variant.AUTO, x, GateView.of(gate), f, -1));
            f.setOrder(0);
            assertTrue(Kernels.taylorForecast(Variant.AUTO, out, f, -1));
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeTheNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            TaylorFactors f = TaylorFactors.allocate(arena, DType.F32, Shape.of(2, 4, 8), 2);
            Tensor feature = Tensor.allocate(arena, DType.F32, 2, 4, 8);
            var e = assertThrows(IllegalArgumentException.class, () -> Kernels.taylorUpdate(Variant.AUTO, f, feature, 3, -1));
            assertTrue(e.getMessage().contains("new order must be in 0..2, found 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Kernels.taylorUpdate(Variant.AUTO, f, feature, 1, -1));
            assertTrue(e.getMessage().contains("the cache holds order -1"), e.getMessage());
            Kernels.taylorUpdate(Variant.AUTO, f, feature, 0, 0);
            e = assertThrows(IllegalArgumentException.class, () -> Kernels.taylorUpdate(Variant.AUTO, f, feature, 1, 0));
            assertTrue(e.getMessage().contains("distance must be finite and non-zero, found 0.0"), e.getMessage());
            Tensor wrong = Tensor.allocate(arena, DType.F32, 2, 4, 9);
            e = assertThrows(IllegalArgumentException.class, () -> Kernels.taylorUpdate(Variant.AUTO, f, wrong, 0, 1));
            assertTrue(e.getMessage().contains("(2, 4, 9)") && e.getMessage().contains("(2, 4, 8)"), e.getMessage());
            Tensor half = Tensor.allocate(arena, DType.BF16, 2, 4, 8);
            e = assertThrows(IllegalArgumentException.class, () -> Kernels.taylorForecast(Variant.AUTO, half, f, 1));
            assertTrue(e.getMessage().contains("BF16") && e.getMessage().contains("F32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Kernels.taylorForecast(Variant.AUTO, f.factor(1), f, 1));
            assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
            Tensor badGate = Tensor.allocate(arena, DType.F32, 2, 7);
            e = assertThrows(IllegalArgumentException.class,
                    () -> Kernels.taylorForecastResidual(Variant.AUTO, feature, GateView.of(badGate), f, 1));
            assertTrue(e.getMessage().contains("gate must be (2, 8)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> TaylorFactors.allocate(arena, DType.F32, Shape.of(4), 5));
        }
    }

    @Test
    void nativeRefusalsArriveAsKernelExceptionsWithTheCMessage() {
        // Bypass the Java checks to reach the C library's own: order 7 and a null pointer table.
        var lib = NativeKernels.cpu();
        var e = assertThrows(KernelException.class, () -> lib.forecast(0, 0, java.lang.foreign.MemorySegment.NULL,
                java.lang.foreign.MemorySegment.NULL, 7, 10, 1f, java.lang.foreign.MemorySegment.NULL));
        assertTrue(e.getMessage().contains("taylor_forecast"), e.getMessage());
        assertEquals(1, e.status());
    }

    @Test
    void theCudaLibraryLoadsEvenWithoutAGpuAndCountsDevices() {
        var cuda = CudaKernels.load();
        assumeTrue(cuda.isPresent(), "libseer_cuda was not built (no nvcc at build time)");
        int devices = cuda.get().deviceCount();
        assertTrue(devices >= 0);
        assumeTrue(devices > 0, "no CUDA device here: the CUDA kernels are validated by kernels/gpu_check.sh on a GPU machine");
        assumeTrue(false, "a CUDA device is present, but this build's libtorch is CPU-only: run kernels/gpu_check.sh");
    }
}
