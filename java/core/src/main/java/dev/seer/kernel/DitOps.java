package dev.seer.kernel;

import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * DiT ops as native float32 kernels (native/include/seer_dit.h): the linear maps over packed weights
 * (the conditioning path's few rows and the blocks' qkv, output and MLP maps), the patch embedding, the final
 * layer, and a whole forecast step in one pass ({@link #forecastStep}), so a forecast step runs no libtorch op.
 * Weights are passed transposed (inputs x outputs) or packed ({@link #packLinear}). Every variant gives the same
 * bits, whatever the thread count.
 *
 * <p>Arguments are validated as in {@link Kernels}: nulls, shapes, dtypes, devices, memory that C cannot use and
 * overlapping outputs are an {@link IllegalArgumentException} naming what was expected and what was found.
 */
public final class DitOps {
    private DitOps() {
    }

    /** Output columns per panel of packed weights (SEER_LINEAR_PANEL). */
    public static final int PANEL = 64;

    /** The shape of W (n, k) packed for {@link #linearRows}: (ceil(n / 64), k, 64). */
    public static Shape packedShape(long n, long k) {
        return Shape.of((n + PANEL - 1) / PANEL, k, PANEL);
    }

    /** Packs W (n, k), a torch.nn.Linear weight, into panels ({@link #packedShape}) for {@link #linearRows}. */
    public static void packLinear(Tensor panels, Tensor w) {
        String op = "linear_rows_pack";
        checkF32(op, "w_panels", panels, true);
        checkF32(op, "w", w, false);
        checkRank(op, "w", w, 2);
        long n = w.shape().dim(0);
        long k = w.shape().dim(1);
        expect(op, "w_panels", panels, packedShape(n, k));
        noOverlap(op, "w_panels", panels, w);
        NativeKernels.cpu().linearRowsPack(Kernels.seg(panels), Kernels.seg(w), k, n);
    }

    /**
     * y (rows, n) = x (rows, k) W^T + bias (n), W packed by {@link #packLinear}; bias may be null. Each output is
     * summed over k in order, then the bias added.
     */
    public static void linearRows(Variant variant, Tensor y, Tensor x, Tensor wPanels, Tensor bias) {
        String op = "linear_rows";
        Kernels.checkVariant(variant, op);
        checkF32(op, "y", y, true);
        checkF32(op, "x", x, false);
        checkF32(op, "w_panels", wPanels, false);
        checkRank(op, "y", y, 2);
        checkRank(op, "x", x, 2);
        long rows = x.shape().dim(0);
        long k = x.shape().dim(1);
        long n = y.shape().dim(1);
        expect(op, "y", y, Shape.of(rows, n));
        expect(op, "w_panels", wPanels, packedShape(n, k));
        if (bias != null) {
            checkF32(op, "bias", bias, false);
            expect(op, "bias", bias, Shape.of(n));
        }
        noOverlap(op, "y", y, x, wPanels, bias);
        NativeKernels.cpu().linearRows(variant.code(), Kernels.seg(y), Kernels.seg(x), Kernels.seg(wPanels),
                bias == null ? MemorySegment.NULL : Kernels.seg(bias), rows, k, n);
    }

    /**
     * out (B, T, C) = patch embedding of x (B, Cin, S, S) with wT (Cin*p*p, C) and bias (C), plus pos (T, C),
     * T = (S/p)^2.
     */
    public static void patchEmbed(Variant variant, Tensor out, Tensor x, Tensor wT, Tensor bias, Tensor pos, int patch) {
        String op = "dit_patch_embed";
        Kernels.checkVariant(variant, op);
        patchEmbedChecks(op, "out", out, x, wT, bias, pos, patch);
        Shape xs = x.shape();
        long size = xs.dim(2);
        long channels = wT.shape().dim(1);
        NativeKernels.cpu().ditPatchEmbed(variant.code(), Kernels.seg(out), Kernels.seg(x), Kernels.seg(wT),
                Kernels.seg(bias), Kernels.seg(pos), xs.dim(0), xs.dim(1), size, patch, channels);
    }

    /**
     * out (B, Cout, S, S) = unpatchify(modulate(LayerNorm(h), shift, scale) wT + bias) for h (B, T, C), mods (B, 2C)
     * holding shift then scale, wT (C, p*p*Cout), bias (p*p*Cout).
     */
    public static void finalLayer(Variant variant, Tensor out, Tensor h, Tensor mods, Tensor wT, Tensor bias, int patch,
                                  float eps) {
        String op = "dit_final_layer";
        Kernels.checkVariant(variant, op);
        finalLayerChecks(op, out, h, mods, wT, bias, patch, eps);
        Shape os = out.shape();
        long size = os.dim(2);
        long batch = os.dim(0);
        long channels = h.shape().dim(2);
        NativeKernels.cpu().ditFinalLayer(variant.code(), Kernels.seg(out), Kernels.seg(h), Kernels.seg(mods),
                Kernels.seg(wT), Kernels.seg(bias), batch, channels, size, patch, os.dim(1), eps);
    }

    /**
     * A whole forecast step in one native pass (seer_dit_forecast_step): h = {@link #patchEmbed}(x, embedWT,
     * embedBias, pos); h += the stack's forecasts ({@link Kernels#taylorForecastResidualMulti}); out =
     * {@link #finalLayer}(h, finalMods, finalWT, finalBias). Bit-identical to the three calls in turn.
     *
     * @param h scratch (B, T, C) for the residual stream; holds the stack's output afterwards
     * @return false if a forecast value was NaN or infinite
     */
    public static boolean forecastStep(Variant variant, Tensor out, Tensor h, Tensor x, Tensor embedWT, Tensor embedBias,
                                       Tensor pos, BranchStack stack, float delta, Tensor finalMods, Tensor finalWT,
                                       Tensor finalBias, int patch, float eps) {
        String op = "dit_forecast_step";
        Kernels.checkVariant(variant, op);
        if (stack == null) {
            throw new IllegalArgumentException(op + ": stack is null");
        }
        if (!Float.isFinite(delta)) {
            throw new IllegalArgumentException(op + ": delta must be finite, found " + delta);
        }
        patchEmbedChecks(op, "h", h, x, embedWT, embedBias, pos, patch);
        finalLayerChecks(op, out, h, finalMods, finalWT, finalBias, patch, eps);
        stack.checkTarget(h);
        noOverlap(op, "out", out, x);
        Shape xs = x.shape();
        long size = xs.dim(2);
        stack.refreshOrders();
        MemorySegment flag = Kernels.clearedFlag();
        NativeKernels.cpu().ditForecastStep(variant.code(), stack.kernelCode(), Kernels.seg(out), Kernels.seg(h), Kernels.seg(x),
                Kernels.seg(embedWT), Kernels.seg(embedBias), Kernels.seg(pos), stack.size(), stack.gatePointers(),
                stack.gateRowStride(), stack.factorPointers(), stack.orders(), delta, Kernels.seg(finalMods),
                Kernels.seg(finalWT), Kernels.seg(finalBias), eps, xs.dim(0), xs.dim(1), size, patch, h.shape().dim(2),
                out.shape().dim(1), flag);
        return flag.get(ValueLayout.JAVA_INT, 0) == 0;
    }

    /** patchEmbed's argument checks, errors naming op and the output as outName. */
    private static void patchEmbedChecks(String op, String outName, Tensor out, Tensor x, Tensor wT, Tensor bias, Tensor pos,
                                         int patch) {
        checkF32(op, outName, out, true);
        checkF32(op, "x", x, false);
        checkF32(op, "w_t", wT, false);
        checkF32(op, "bias", bias, false);
        checkF32(op, "pos", pos, false);
        checkRank(op, "x", x, 4);
        Shape xs = x.shape();
        long size = xs.dim(2);
        if (xs.dim(3) != size || patch < 1 || size % patch != 0) {
            throw new IllegalArgumentException(op + ": x must be (batch, channels, S, S) with S a multiple of the patch "
                    + patch + ", found shape " + xs);
        }
        checkRank(op, "w_t", wT, 2);
        long channels = wT.shape().dim(1);
        long tokens = (size / patch) * (size / patch);
        expect(op, "w_t", wT, Shape.of(xs.dim(1) * patch * patch, channels));
        expect(op, "bias", bias, Shape.of(channels));
        expect(op, "pos", pos, Shape.of(tokens, channels));
        expect(op, outName, out, Shape.of(xs.dim(0), tokens, channels));
        noOverlap(op, outName, out, x, wT, bias, pos);
    }

    /** finalLayer's argument checks, errors naming op. */
    private static void finalLayerChecks(String op, Tensor out, Tensor h, Tensor mods, Tensor wT, Tensor bias, int patch,
                                         float eps) {
        checkF32(op, "out", out, true);
        checkF32(op, "h", h, false);
        checkF32(op, "mods", mods, false);
        checkF32(op, "w_t", wT, false);
        checkF32(op, "bias", bias, false);
        checkRank(op, "out", out, 4);
        checkRank(op, "h", h, 3);
        Shape os = out.shape();
        long size = os.dim(2);
        if (os.dim(3) != size || patch < 1 || size % patch != 0) {
            throw new IllegalArgumentException(op + ": out must be (batch, channels, S, S) with S a multiple of the patch "
                    + patch + ", found shape " + os);
        }
        if (!(eps > 0f) || !Float.isFinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be finite and > 0, found " + eps);
        }
        long batch = os.dim(0);
        long channels = h.shape().dim(2);
        long cols = (long) patch * patch * os.dim(1);
        long tokens = (size / patch) * (size / patch);
        expect(op, "h", h, Shape.of(batch, tokens, channels));
        expect(op, "mods", mods, Shape.of(batch, 2 * channels));
        expect(op, "w_t", wT, Shape.of(channels, cols));
        expect(op, "bias", bias, Shape.of(cols));
        noOverlap(op, "out", out, h, mods, wT, bias);
    }

    private static void checkF32(String op, String name, Tensor t, boolean written) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (!t.device().isCpu()) {
            throw new IllegalArgumentException(op + ": " + name + " must be on cpu, found " + t.device());
        }
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": " + name + " must be F32, found " + t.dtype());
        }
        Kernels.checkMemory(op, name, t, written);
    }

    private static void checkRank(String op, String name, Tensor t, int rank) {
        if (t.shape().rank() != rank) {
            throw new IllegalArgumentException(op + ": " + name + " must have " + rank + " dimensions, found shape " + t.shape());
        }
    }

    private static void expect(String op, String name, Tensor t, Shape expected) {
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": " + name + " must have shape " + expected + ", found " + t.shape());
        }
    }

    private static void noOverlap(String op, String name, Tensor written, Tensor... inputs) {
        for (Tensor in : inputs) {
            if (in != null && Kernels.overlap(written, in)) {
                throw new IllegalArgumentException(op + ": " + name + " overlaps an input");
            }
        }
    }
}
