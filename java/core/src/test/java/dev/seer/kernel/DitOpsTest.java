package dev.seer.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.DType;
import dev.seer.tensor.GateView;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The DiT glue ops against float64 loops written from their definitions (seer.h), on shapes that take every
 * path (full register blocks and tails of rows, tokens and columns); every variant this CPU runs, and 1 or 2
 * threads, must give the reference's exact bits. Bad arguments are refused before C sees them.
 */
class DitOpsTest {
    private static final Variant[] VARIANTS = {Variant.REF, Variant.AVX2, Variant.AVX512, Variant.AUTO};

    private static Tensor randn(Arena arena, Random r, long... dims) {
        Tensor t = Tensor.allocate(arena, DType.F32, dims);
        float[] v = new float[Math.toIntExact(t.numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        t.copyFrom(v);
        return t;
    }

    /** |got - want| within float rounding of a sum whose terms add up to {@code magnitude}. */
    private static void assertClose(double want, float got, double magnitude, String where) {
        assertEquals(want, got, 2e-6 * magnitude + 1e-30, where);
    }

    /** Runs op with every available variant and thread count 1 and 2; all results must equal the ref's bits. */
    private static void assertSameBitsEverywhere(Tensor out, Runnable refRun, java.util.function.Consumer<Variant> op) {
        refRun.run();
        float[] ref = out.toFloatArray();
        int threads = SeerRuntime.threads();
        try {
            for (int t : new int[] {1, 2}) {
                SeerRuntime.setThreads(t);
                for (Variant v : VARIANTS) {
                    if (v != Variant.AUTO && !NativeKernels.cpu().isAvailable(v)) {
                        continue;
                    }
                    out.copyFrom(new float[ref.length]);
                    op.accept(v);
                    assertArrayEquals(ref, out.toFloatArray(), v + " with " + t + " threads differs from ref");
                }
            }
        } finally {
            SeerRuntime.setThreads(threads);
        }
    }

    private static Tensor packed(Arena arena, Tensor w) {
        Tensor p = Tensor.allocate(arena, DType.F32, DitOps.packedShape(w.shape().dim(0), w.shape().dim(1)));
        DitOps.packLinear(p, w);
        return p;
    }

    @ParameterizedTest(name = "rows {0}, k {1}, n {2}, bias {3}")
    @CsvSource({"1, 37, 1, true", "2, 384, 200, true", "3, 5, 63, false", "4, 64, 64, true", "5, 37, 65, true",
            "9, 16, 130, false"})
    void linearRowsMatchesAFloat64Loop(int rows, int k, int n, boolean withBias) {
        try (Arena arena = Arena.ofConfined()) {
            Random r = new Random(rows * 1000L + n);
            Tensor x = randn(arena, r, rows, k);
            Tensor w = randn(arena, r, n, k);
            Tensor bias = withBias ? randn(arena, r, n) : null;
            Tensor panels = packed(arena, w);
            Tensor y = Tensor.allocate(arena, DType.F32, rows, n);
            DitOps.linearRows(Variant.REF, y, x, panels, bias);
            float[] xs = x.toFloatArray();
            float[] ws = w.toFloatArray();
            float[] bs = withBias ? bias.toFloatArray() : new float[n];
            float[] ys = y.toFloatArray();
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    double mag = Math.abs(bs[j]);
                    for (int q = 0; q < k; q++) {
                        double term = (double) xs[i * k + q] * ws[j * k + q];
                        s += term;
                        mag += Math.abs(term);
                    }
                    assertClose(s + bs[j], ys[i * n + j], mag, "y[" + i + ", " + j + "]");
                }
            }
            assertSameBitsEverywhere(y, () -> DitOps.linearRows(Variant.REF, y, x, panels, bias),
                    v -> DitOps.linearRows(v, y, x, panels, bias));
        }
    }

    @ParameterizedTest(name = "batch {0}, in {1}, size {2}, patch {3}, channels {4}")
    @CsvSource({"2, 4, 8, 2, 128", "1, 3, 6, 2, 70", "2, 1, 8, 4, 64", "3, 2, 4, 1, 5"})
    void patchEmbedMatchesAFloat64Loop(int batch, int in, int size, int patch, int channels) {
        try (Arena arena = Arena.ofConfined()) {
            Random r = new Random(batch * 100L + size * 10L + patch);
            int g = size / patch;
            int tokens = g * g;
            int k = in * patch * patch;
            Tensor x = randn(arena, r, batch, in, size, size);
            Tensor wT = randn(arena, r, k, channels);
            Tensor bias = randn(arena, r, channels);
            Tensor pos = randn(arena, r, tokens, channels);
            Tensor out = Tensor.allocate(arena, DType.F32, batch, tokens, channels);
            DitOps.patchEmbed(Variant.REF, out, x, wT, bias, pos, patch);
            float[] xs = x.toFloatArray();
            float[] ws = wT.toFloatArray();
            float[] bs = bias.toFloatArray();
            float[] ps = pos.toFloatArray();
            float[] os = out.toFloatArray();
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < tokens; t++) {
                    int gi = t / g;
                    int gj = t % g;
                    for (int c = 0; c < channels; c++) {
                        double s = bs[c];
                        double mag = Math.abs(bs[c]) + Math.abs(ps[t * channels + c]);
                        for (int ic = 0; ic < in; ic++) {
                            for (int pi = 0; pi < patch; pi++) {
                                for (int pj = 0; pj < patch; pj++) {
                                    int kk = (ic * patch + pi) * patch + pj;
                                    double term = (double) xs[((b * in + ic) * size + gi * patch + pi) * size + gj * patch + pj]
                                            * ws[kk * channels + c];
                                    s += term;
                                    mag += Math.abs(term);
                                }
                            }
                        }
                        assertClose(s + ps[t * channels + c], os[(b * tokens + t) * channels + c], mag,
                                "out[" + b + ", " + t + ", " + c + "]");
                    }
                }
            }
            assertSameBitsEverywhere(out, () -> DitOps.patchEmbed(Variant.REF, out, x, wT, bias, pos, patch),
                    v -> DitOps.patchEmbed(v, out, x, wT, bias, pos, patch));
        }
    }

    @ParameterizedTest(name = "batch {0}, channels {1}, size {2}, patch {3}, out {4}")
    @CsvSource({"2, 64, 8, 2, 8", "1, 37, 6, 2, 3", "2, 16, 8, 4, 2", "3, 9, 3, 1, 4"})
    void finalLayerMatchesAFloat64Loop(int batch, int channels, int size, int patch, int outChannels) {
        try (Arena arena = Arena.ofConfined()) {
            Random r = new Random(batch * 100L + channels);
            int g = size / patch;
            int tokens = g * g;
            int cols = patch * patch * outChannels;
            float eps = 1e-6f;
            Tensor h = randn(arena, r, batch, tokens, channels);
            Tensor mods = randn(arena, r, batch, 2L * channels);
            Tensor wT = randn(arena, r, channels, cols);
            Tensor bias = randn(arena, r, cols);
            Tensor out = Tensor.allocate(arena, DType.F32, batch, outChannels, size, size);
            DitOps.finalLayer(Variant.REF, out, h, mods, wT, bias, patch, eps);
            float[] hs = h.toFloatArray();
            float[] ms = mods.toFloatArray();
            float[] ws = wT.toFloatArray();
            float[] bs = bias.toFloatArray();
            float[] os = out.toFloatArray();
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < tokens; t++) {
                    double mean = 0;
                    for (int c = 0; c < channels; c++) {
                        mean += hs[(b * tokens + t) * channels + c];
                    }
                    mean /= channels;
                    double var = 0;
                    for (int c = 0; c < channels; c++) {
                        double d = hs[(b * tokens + t) * channels + c] - mean;
                        var += d * d;
                    }
                    double rstd = 1 / Math.sqrt(var / channels + eps);
                    double[] v = new double[channels];
                    for (int c = 0; c < channels; c++) {
                        double n = (hs[(b * tokens + t) * channels + c] - mean) * rstd;
                        v[c] = n * (1 + ms[b * 2 * channels + channels + c]) + ms[b * 2 * channels + c];
                    }
                    int gi = t / g;
                    int gj = t % g;
                    for (int j = 0; j < cols; j++) {
                        double s = bs[j];
                        double mag = Math.abs(bs[j]);
                        for (int c = 0; c < channels; c++) {
                            s += v[c] * ws[c * cols + j];
                            mag += Math.abs(v[c] * ws[c * cols + j]);
                        }
                        int pi = j / (patch * outChannels);
                        int pj = j / outChannels % patch;
                        int o = j % outChannels;
                        assertClose(s, os[((b * outChannels + o) * size + gi * patch + pi) * size + gj * patch + pj], 4 * mag,
                                "token " + t + ", column " + j);
                    }
                }
            }
            assertSameBitsEverywhere(out, () -> DitOps.finalLayer(Variant.REF, out, h, mods, wT, bias, patch, eps),
                    v -> DitOps.finalLayer(v, out, h, mods, wT, bias, patch, eps));
        }
    }

    /** Everything a forecast step reads: latents, embedding and final-layer weights, a filled branch stack. */
    private record StepInputs(Tensor x, Tensor embedWT, Tensor embedBias, Tensor pos, Tensor gates, List<TaylorFactors> factors,
                              Tensor mods, Tensor finalWT, Tensor finalBias, int patch) {
        BranchStack stack(Arena arena) {
            long channels = embedBias.shape().dim(0);
            List<GateView> views = new ArrayList<>();
            for (int b = 0; b < factors.size(); b++) {
                views.add(new GateView(gates, b * channels, channels));
            }
            return new BranchStack(arena, factors, views);
        }
    }

    private static StepInputs stepInputs(Arena arena, Random r, int batch, int in, int size, int patch, int channels,
                                         int outChannels, int branches, int order) {
        return stepInputs(arena, r, batch, in, size, patch, channels, outChannels, branches, order, DType.F32);
    }

    private static StepInputs stepInputs(Arena arena, Random r, int batch, int in, int size, int patch, int channels,
                                         int outChannels, int branches, int order, DType factorDtype) {
        int tokens = (size / patch) * (size / patch);
        List<TaylorFactors> factors = new ArrayList<>();
        for (int b = 0; b < branches; b++) {
            TaylorFactors f = TaylorFactors.allocate(arena, factorDtype, Shape.of(batch, tokens, channels), order);
            for (int o = 0; o <= order; o++) {
                Kernels.taylorUpdate(Variant.REF, f, randn(arena, r, batch, tokens, channels), o, 3f);
            }
            factors.add(f);
        }
        return new StepInputs(randn(arena, r, batch, in, size, size), randn(arena, r, in * patch * patch, channels),
                randn(arena, r, channels), randn(arena, r, tokens, channels), randn(arena, r, batch, (long) branches * channels),
                factors, randn(arena, r, batch, 2L * channels), randn(arena, r, channels, (long) patch * patch * outChannels),
                randn(arena, r, (long) patch * patch * outChannels), patch);
    }

    @ParameterizedTest(name = "batch {0}, in {1}, size {2}, patch {3}, channels {4}, out {5}, branches {6}, order {7}, factors {8}")
    @CsvSource({"2, 4, 16, 2, 96, 8, 4, 2, F32", "1, 3, 6, 2, 37, 3, 2, 1, F32", "3, 2, 3, 1, 9, 4, 1, 0, F32",
            "2, 4, 8, 2, 64, 8, 3, 4, F32", "2, 4, 16, 2, 96, 8, 4, 2, BF16", "1, 3, 6, 2, 37, 3, 2, 1, F16"})
    void forecastStepIsTheThreeOpsInOnePass(int batch, int in, int size, int patch, int channels, int outChannels,
                                            int branches, int order, DType factorDtype) {
        try (Arena arena = Arena.ofConfined()) {
            StepInputs s = stepInputs(arena, new Random(batch * 31L + channels), batch, in, size, patch, channels, outChannels,
                    branches, order, factorDtype);
            BranchStack stack = s.stack(arena);
            int tokens = (size / patch) * (size / patch);
            float delta = -2.5f;
            float eps = 1e-6f;
            Tensor h = Tensor.allocate(arena, DType.F32, batch, tokens, channels);
            Tensor out = Tensor.allocate(arena, DType.F32, batch, outChannels, size, size);
            DitOps.patchEmbed(Variant.REF, h, s.x(), s.embedWT(), s.embedBias(), s.pos(), patch);
            assertTrue(Kernels.taylorForecastResidualMulti(Variant.REF, h, stack, delta));
            DitOps.finalLayer(Variant.REF, out, h, s.mods(), s.finalWT(), s.finalBias(), patch, eps);
            float[] wantH = h.toFloatArray();
            Tensor h2 = Tensor.allocate(arena, DType.F32, batch, tokens, channels);
            Runnable ref = () -> assertTrue(DitOps.forecastStep(Variant.REF, out, h2, s.x(), s.embedWT(), s.embedBias(),
                    s.pos(), stack, delta, s.mods(), s.finalWT(), s.finalBias(), patch, eps));
            float[] wantOut = out.toFloatArray();
            assertSameBitsEverywhere(out, ref, v -> {
                h2.copyFrom(new float[wantH.length]);
                assertTrue(DitOps.forecastStep(v, out, h2, s.x(), s.embedWT(), s.embedBias(), s.pos(), stack, delta, s.mods(),
                        s.finalWT(), s.finalBias(), patch, eps));
                assertArrayEquals(wantH, h2.toFloatArray(), v + ": the residual stream");
            });
            assertArrayEquals(wantOut, out.toFloatArray(), "the three ops in turn");
        }
    }

    @Test
    void forecastStepReportsNonFiniteForecastsAndRefusesBadArguments() {
        try (Arena arena = Arena.ofConfined()) {
            int batch = 2;
            int size = 8;
            int patch = 2;
            int channels = 16;
            StepInputs s = stepInputs(arena, new Random(9), batch, 4, size, patch, channels, 8, 2, 1);
            BranchStack stack = s.stack(arena);
            Tensor h = Tensor.allocate(arena, DType.F32, batch, 16, channels);
            Tensor out = Tensor.allocate(arena, DType.F32, batch, 8, size, size);
            s.factors().get(1).factor(1).segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 5, Float.NaN);
            assertTrue(!DitOps.forecastStep(Variant.AUTO, out, h, s.x(), s.embedWT(), s.embedBias(), s.pos(), stack, 0.5f,
                    s.mods(), s.finalWT(), s.finalBias(), patch, 1e-6f), "a NaN factor makes a NaN forecast");
            refused("dit_forecast_step: stack is null", () -> DitOps.forecastStep(Variant.AUTO, out, h, s.x(), s.embedWT(),
                    s.embedBias(), s.pos(), null, 0.5f, s.mods(), s.finalWT(), s.finalBias(), patch, 1e-6f));
            refused("delta must be finite, found NaN", () -> DitOps.forecastStep(Variant.AUTO, out, h, s.x(), s.embedWT(),
                    s.embedBias(), s.pos(), stack, Float.NaN, s.mods(), s.finalWT(), s.finalBias(), patch, 1e-6f));
            refused("h must have shape (2, 16, 16), found (2, 16, 15)", () -> DitOps.forecastStep(Variant.AUTO, out,
                    Tensor.allocate(arena, DType.F32, batch, 16, 15), s.x(), s.embedWT(), s.embedBias(), s.pos(), stack, 0.5f,
                    s.mods(), s.finalWT(), s.finalBias(), patch, 1e-6f));
            Tensor xAlias = Tensor.ofSegment(DType.F32, s.x().shape(), out.segment().asSlice(0, s.x().byteSize()), null);
            refused("out overlaps an input", () -> DitOps.forecastStep(Variant.AUTO, out, h, xAlias, s.embedWT(), s.embedBias(),
                    s.pos(), stack, 0.5f, s.mods(), s.finalWT(), s.finalBias(), patch, 1e-6f));
        }
    }

    @Test
    void packingKeepsEveryWeightAndZeroPadsTheLastPanel() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = randn(arena, new Random(3), 70, 3);
            Tensor p = packed(arena, w);
            assertEquals(Shape.of(2, 3, 64), p.shape());
            float[] ws = w.toFloatArray();
            float[] ps = p.toFloatArray();
            for (int col = 0; col < 128; col++) {
                for (int i = 0; i < 3; i++) {
                    float want = col < 70 ? ws[col * 3 + i] : 0f;
                    assertEquals(want, ps[(col / 64 * 3 + i) * 64 + col % 64], "column " + col + ", input " + i);
                }
            }
        }
    }

    /** The call throws IllegalArgumentException with a message containing {@code message} (also used by KernelsTest). */
    static void refused(String message, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(message), "'" + e.getMessage() + "' should contain '" + message + "'");
    }

    @Test
    void badArgumentsAreRefusedBeforeTheDowncall() {
        try (Arena arena = Arena.ofConfined()) {
            Random r = new Random(5);
            Tensor x = randn(arena, r, 2, 8);
            Tensor panels = packed(arena, randn(arena, r, 10, 8));
            Tensor bias = randn(arena, r, 10);
            Tensor y = Tensor.allocate(arena, DType.F32, 2, 10);
            refused("linear_rows: x is null", () -> DitOps.linearRows(Variant.AUTO, y, null, panels, bias));
            refused("w_panels must have shape (1, 8, 64), found (1, 8, 63)",
                    () -> DitOps.linearRows(Variant.AUTO, y, x, Tensor.allocate(arena, DType.F32, 1, 8, 63), bias));
            refused("y must have shape (2, 10), found (3, 10)",
                    () -> DitOps.linearRows(Variant.AUTO, Tensor.allocate(arena, DType.F32, 3, 10), x, panels, bias));
            refused("bias must have shape (10,), found (9,)",
                    () -> DitOps.linearRows(Variant.AUTO, y, x, panels, Tensor.allocate(arena, DType.F32, 9)));
            refused("x must be F32, found BF16",
                    () -> DitOps.linearRows(Variant.AUTO, y, Tensor.allocate(arena, DType.BF16, 2, 8), panels, bias));
            Tensor onHeap = Tensor.ofSegment(DType.F32, Shape.of(2, 8), MemorySegment.ofArray(new float[16]), null);
            refused("x is on-heap memory", () -> DitOps.linearRows(Variant.AUTO, y, onHeap, panels, bias));
            Tensor alias = Tensor.ofSegment(DType.F32, Shape.of(2, 8), y.segment().asSlice(0, 64), null);
            refused("y overlaps an input", () -> DitOps.linearRows(Variant.AUTO, y, alias, panels, bias));
            Tensor closed;
            try (Arena gone = Arena.ofConfined()) {
                closed = Tensor.allocate(gone, DType.F32, 2, 8);
            }
            refused("no longer alive", () -> DitOps.linearRows(Variant.AUTO, y, closed, panels, bias));
            refused("w_panels is read-only memory", () -> DitOps.packLinear(
                    Tensor.ofSegment(DType.F32, panels.shape(), panels.segment().asReadOnly(), null), randn(arena, r, 10, 8)));

            Tensor lat = randn(arena, r, 1, 2, 6, 6);
            Tensor wT = randn(arena, r, 8, 5);
            Tensor eb = randn(arena, r, 5);
            Tensor pos = randn(arena, r, 9, 5);
            Tensor h = Tensor.allocate(arena, DType.F32, 1, 9, 5);
            refused("with S a multiple of the patch 4, found shape (1, 2, 6, 6)",
                    () -> DitOps.patchEmbed(Variant.AUTO, h, lat, wT, eb, pos, 4));
            refused("pos must have shape (9, 5), found (8, 5)",
                    () -> DitOps.patchEmbed(Variant.AUTO, h, lat, wT, eb, Tensor.allocate(arena, DType.F32, 8, 5), 2));
            refused("out must have shape (1, 9, 5), found (1, 9, 4)",
                    () -> DitOps.patchEmbed(Variant.AUTO, Tensor.allocate(arena, DType.F32, 1, 9, 4), lat, wT, eb, pos, 2));

            Tensor mods = randn(arena, r, 1, 10);
            Tensor fw = randn(arena, r, 5, 8);
            Tensor fb = randn(arena, r, 8);
            Tensor out = Tensor.allocate(arena, DType.F32, 1, 2, 6, 6);
            refused("eps must be finite and > 0, found 0.0",
                    () -> DitOps.finalLayer(Variant.AUTO, out, h, mods, fw, fb, 2, 0f));
            refused("mods must have shape (1, 10), found (1, 9)",
                    () -> DitOps.finalLayer(Variant.AUTO, out, h, Tensor.allocate(arena, DType.F32, 1, 9), fw, fb, 2, 1e-6f));
            refused("w_t must have shape (5, 8), found (5, 7)",
                    () -> DitOps.finalLayer(Variant.AUTO, out, h, mods, Tensor.allocate(arena, DType.F32, 5, 7), fb, 2, 1e-6f));
            refused("h must have 3 dimensions, found shape (1, 9, 5, 1)", () -> DitOps.finalLayer(Variant.AUTO, out,
                    Tensor.allocate(arena, DType.F32, 1, 9, 5, 1), mods, fw, fb, 2, 1e-6f));
        }
    }
}
