package dev.seer.jmh;

import dev.seer.kernel.BranchStack;
import dev.seer.kernel.DitOps;
import dev.seer.tensor.GateView;
import dev.seer.kernel.Kernels;
import dev.seer.kernel.TaylorFactors;
import dev.seer.kernel.Variant;
import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A DiT step's native parts, order 2, on two shapes ({@code shape}): DiT-S/2 at 256 tokens with guidance (batch 2,
 * hidden 384, 24 branches) and the shipped Fashion-MNIST DiT's guided batch of 10 labels (batch 20, 49 tokens,
 * hidden 128, 12 branches): the one-pass forecast step against the same three ops called in turn, the forecast
 * sums of a window of 4 forecast steps (N = 5) in one pass over the factors, and the packed product of an MLP
 * input map (tokens x C times C x 4C) against libtorch's matmul. {@code cold} writes 256 MiB before every call,
 * so the forecast's factors (56 MiB; 19 MB) come from memory.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class DitStepBench {
    /** The two shapes: batch, input size, patch, input channels, output channels, hidden size, branches. */
    private static final Map<String, int[]> SHAPES = Map.of(
            "dit-s2", new int[] {2, 32, 2, 4, 8, 384, 24},
            "fashion", new int[] {20, 28, 4, 1, 2, 128, 12});
    private static final int ORDER = 2;
    private static final int WINDOW = 4;
    private static final float[] WINDOW_DELTAS = {-1, -2, -3, -4};

    @Param({"dit-s2", "fashion"})
    public String shape;

    @Param({"false", "true"})
    public boolean cold;

    private Arena arena;
    private MemorySegment junk;
    private Tensor x;
    private Tensor h;
    private Tensor out;
    private Tensor embedWT;
    private Tensor embedBias;
    private Tensor pos;
    private Tensor mods;
    private Tensor finalWT;
    private Tensor finalBias;
    private BranchStack stack;
    private List<TaylorFactors> sums;
    private List<List<GateView>> windowGates;
    private BranchStack sumStack;
    private Tensor rows;
    private Tensor panels;
    private Tensor bias;
    private Tensor product;
    private org.bytedeco.pytorch.Tensor a;
    private org.bytedeco.pytorch.Tensor w;
    private org.bytedeco.pytorch.Tensor mm;

    private Tensor randn(Random r, long... dims) {
        Tensor t = Tensor.allocate(arena, DType.F32, dims);
        float[] v = new float[Math.toIntExact(t.numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        t.copyFrom(v);
        return t;
    }

    private int patch;

    @Setup(Level.Trial)
    public void setup() {
        int[] d = SHAPES.get(shape);
        int batch = d[0], size = d[1], in = d[3], outChannels = d[4], c = d[5], branches = d[6];
        patch = d[2];
        int tokens = (size / patch) * (size / patch);
        SeerRuntime.init();
        arena = Arena.ofShared();
        junk = arena.allocate(256L << 20);
        Random r = new Random(1);
        x = randn(r, batch, in, size, size);
        h = Tensor.allocate(arena, DType.F32, batch, tokens, c);
        out = Tensor.allocate(arena, DType.F32, batch, outChannels, size, size);
        embedWT = randn(r, in * patch * patch, c);
        embedBias = randn(r, c);
        pos = randn(r, tokens, c);
        mods = randn(r, batch, 2 * c);
        finalWT = randn(r, c, patch * patch * outChannels);
        finalBias = randn(r, patch * patch * outChannels);
        Tensor gates = randn(r, batch, (long) branches * c);
        List<TaylorFactors> factors = new ArrayList<>();
        List<GateView> views = new ArrayList<>();
        for (int b = 0; b < branches; b++) {
            TaylorFactors f = TaylorFactors.allocate(arena, DType.F32, Shape.of(batch, tokens, c), ORDER);
            for (int o = 0; o <= ORDER; o++) {
                Kernels.taylorUpdate(Variant.AUTO, f, randn(r, batch, tokens, c), o, -5f);
            }
            factors.add(f);
            views.add(new GateView(gates, (long) b * c, c));
        }
        stack = new BranchStack(arena, factors, views);
        sums = new ArrayList<>();
        windowGates = new ArrayList<>();
        for (int s = 0; s < WINDOW; s++) {
            sums.add(TaylorFactors.allocate(arena, DType.F32, Shape.of(batch, tokens, c), 0));
            Tensor stepGates = randn(r, batch, (long) branches * c);
            List<GateView> stepViews = new ArrayList<>();
            for (int b = 0; b < branches; b++) {
                stepViews.add(new GateView(stepGates, (long) b * c, c));
            }
            windowGates.add(stepViews);
        }
        Kernels.taylorForecastSums(Variant.AUTO, sums, stack, windowGates, WINDOW_DELTAS);
        float[] one = new float[batch * c];
        java.util.Arrays.fill(one, 1f);
        sumStack = new BranchStack(arena, List.of(sums.getFirst()), List.of(GateView.of(Tensor.ofFloats(arena, one, batch, c))));
        rows = randn(r, batch * tokens, c);
        Tensor weight = randn(r, 4 * c, c);
        panels = Tensor.allocate(arena, DType.F32, DitOps.packedShape(4 * c, c));
        DitOps.packLinear(panels, weight);
        bias = randn(r, 4 * c);
        product = Tensor.allocate(arena, DType.F32, batch * tokens, 4 * c);
        a = Torch.wrap(rows).clone();
        w = Torch.wrap(weight).t().contiguous();
        mm = org.bytedeco.pytorch.global.torch.zeros(new long[] {batch * tokens, 4 * c});
    }

    /** With {@code cold}: 256 MiB written before each call, so that nothing the call reads is still cached. */
    @Setup(Level.Invocation)
    public void evict() {
        if (cold) {
            junk.fill((byte) 1);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        w.close();
        mm.close();
        arena.close();
    }

    @Benchmark
    public boolean forecastStep() {
        return DitOps.forecastStep(Variant.AUTO, out, h, x, embedWT, embedBias, pos, stack, 2.5f, mods, finalWT, finalBias,
                patch, 1e-6f);
    }

    @Benchmark
    public boolean forecastStepInThreeCalls() {
        DitOps.patchEmbed(Variant.AUTO, h, x, embedWT, embedBias, pos, patch);
        boolean finite = Kernels.taylorForecastResidualMulti(Variant.AUTO, h, stack, 2.5f);
        DitOps.finalLayer(Variant.AUTO, out, h, mods, finalWT, finalBias, patch, 1e-6f);
        return finite;
    }

    /** The stack's forecast sums of 4 forecast steps, each with its own gates and delta, in one pass over the factors. */
    @Benchmark
    public void forecastSums() {
        Kernels.taylorForecastSums(Variant.AUTO, sums, stack, windowGates, WINDOW_DELTAS);
    }

    /** A forecast step that adds a prepared sum: patch embedding, x + sum, final layer, in one pass. */
    @Benchmark
    public boolean forecastStepWithSum() {
        return DitOps.forecastStep(Variant.AUTO, out, h, x, embedWT, embedBias, pos, sumStack, 0f, mods, finalWT, finalBias,
                patch, 1e-6f);
    }

    /** The forecast step's first part alone: x (B, in, H, W) to tokens (B, T, C). */
    @Benchmark
    public void patchEmbed() {
        DitOps.patchEmbed(Variant.AUTO, h, x, embedWT, embedBias, pos, patch);
    }

    /** The forecast step's last part alone: layer norm, modulation and the (C x p*p*out) map of every token. */
    @Benchmark
    public void finalLayer() {
        DitOps.finalLayer(Variant.AUTO, out, h, mods, finalWT, finalBias, patch, 1e-6f);
    }

    /** tokens x C times C x 4C plus bias (DiT-S/2: 512 x 384 times 384 x 1536, 0.60 GFLOP). */
    @Benchmark
    public void packedProduct() {
        DitOps.linearRows(Variant.AUTO, product, rows, panels, bias);
    }

    /** The same product in libtorch (OpenBLAS; threads as -Dseer.blas.threads, default 1). */
    @Benchmark
    public void libtorchMatmul() {
        org.bytedeco.pytorch.global.torch.mm_out(mm, a, w);
    }
}
