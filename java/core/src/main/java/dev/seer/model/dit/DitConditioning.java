package dev.seer.model.dit;

import dev.seer.kernel.DitOps;
import dev.seer.kernel.Variant;
import dev.seer.model.dit.DitModel.NativeWeights;
import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A DiT's conditioning path and its memo: silu(c) with c = t_embedder(t) + y_embedder(y), every block's two gates
 * (read by forecast steps too) and the final layer's shift/scale, for rows of (timestep, label) pairs. Part of a
 * {@link DitModel}, whose weights it reads; thread-safe.
 */
final class DitConditioning implements AutoCloseable {
    private final DitConfig config;
    private final NativeWeights nw;
    /** The timestep embedding's frequencies, as the float32 values of the reference. */
    private final float[] frequencyValues;
    /**
     * The conditioning of every (timestep, label) pair met so far ({@link #rows}): it depends on nothing
     * else, and a run's steps and a service's repeated runs meet the same pairs again (a guided run of 50 steps
     * with 10 labels: 550 pairs, whose recomputation took ~3% of a TaylorSeer run of the shipped model). One
     * segment a pair: silu(c) (C floats), the blocks' gates (2 depth C), the final shift/scale (2C), back to back,
     * in native memory that lives as long as the model (on the Java heap the memo failed the soak: the process
     * kept ~15 MiB more at the end, docs/BENCHMARKS.md). Filled up to {@link DitModel#CONDITIONING_MEMO_BYTES}, then only
     * read.
     */
    private final Map<Long, MemorySegment> memo = new ConcurrentHashMap<>();
    private volatile Arena memoArena = Arena.ofShared();
    private final AtomicLong memoBytes = new AtomicLong();


    DitConditioning(DitConfig config, NativeWeights nw, float[] frequencyValues) {
        this.config = config;
        this.nw = nw;
        this.frequencyValues = frequencyValues;
    }

    /**
     * silu(c), the blocks' gates and the final layer's shift/scale for rows of (timestep, label) pairs. Rows with
     * the same pair are the same: each distinct pair is computed once (a guided run's null-label rows, a run's
     * repeated labels) and copied to its rows, which is bit-identical since no product mixes rows. Pairs met
     * before come from the memo.
     */
    StepConditioning.Rows rows(Arena arena, long[] timesteps, long[] labels) {
        int rows = timesteps.length;
        long C = config.hiddenSize();
        long gateWidth = 2L * config.depth() * C;
        Map<Long, MemorySegment> byPair = new LinkedHashMap<>();
        List<Integer> missing = new ArrayList<>(); // the first row of each pair the memo does not hold
        long[] keys = new long[rows];
        for (int r = 0; r < rows; r++) {
            keys[r] = key(timesteps[r], labels[r]);
            if (!byPair.containsKey(keys[r])) {
                MemorySegment known = memo.get(keys[r]);
                byPair.put(keys[r], known);
                if (known == null) {
                    missing.add(r);
                }
            }
        }
        if (!missing.isEmpty()) {
            compute(arena, missing, timesteps, labels, keys, byPair);
        }
        Tensor siluC = Tensor.allocate(arena, DType.F32, rows, C);
        Tensor gates = Tensor.allocate(arena, DType.F32, rows, gateWidth);
        Tensor finalMods = Tensor.allocate(arena, DType.F32, rows, 2L * C);
        long f = Float.BYTES;
        for (int r = 0; r < rows; r++) {
            MemorySegment row = byPair.get(keys[r]); // silu(c) | gates | final shift/scale
            MemorySegment.copy(row, 0, siluC.segment(), r * C * f, C * f);
            MemorySegment.copy(row, C * f, gates.segment(), r * gateWidth * f, gateWidth * f);
            MemorySegment.copy(row, (C + gateWidth) * f, finalMods.segment(), r * 2 * C * f, 2 * C * f);
        }
        return new StepConditioning.Rows(siluC, gates, finalMods);
    }

    /** Bytes the memo holds: one row of silu(c), gates and final shift/scale per pair met. */
    long memoBytes() {
        return memoBytes.get();
    }

    /** Empties the conditioning memo and frees its memory (for measuring what the memo saves). */
    synchronized void clearMemo() {
        memo.clear();
        Arena old = memoArena;
        memoArena = Arena.ofShared();
        memoBytes.set(0);
        old.close();
    }

    /** One key per (timestep, label): labels are checked to lie in 0..numClasses. */
    private long key(long timestep, long label) {
        return timestep * (config.numClasses() + 1L) + label;
    }

    /**
     * The conditioning of the pairs of the given rows, computed together (one product per map for all of them),
     * into byPair by key: each row in the memo's memory while the memo has room (a row is never evicted: the memo
     * is filled once and then only read), else in the caller's arena.
     */
    private void compute(Arena arena, List<Integer> rowsToCompute, long[] timesteps, long[] labels,
                                     long[] keys, Map<Long, MemorySegment> byPair) {
        int n = rowsToCompute.size();
        long C = config.hiddenSize();
        long gateWidth = 2L * config.depth() * C;
        long f = Float.BYTES;
        long rowBytes = (C + gateWidth + 2 * C) * f;
        long[] ts = new long[n];
        long[] ys = new long[n];
        for (int i = 0; i < n; i++) {
            ts[i] = timesteps[rowsToCompute.get(i)];
            ys[i] = labels[rowsToCompute.get(i)];
        }
        try (Arena scratch = Arena.ofConfined()) {
            Tensor siluC = siluConditioning(scratch, ts, ys);
            Tensor gates = Tensor.allocate(scratch, DType.F32, n, gateWidth);
            DitOps.linearRows(Variant.AUTO, gates, siluC, nw.gatePanels(), nw.gateBias());
            Tensor finalMods = Tensor.allocate(scratch, DType.F32, n, 2L * C);
            DitOps.linearRows(Variant.AUTO, finalMods, siluC, nw.finalModPanels(), nw.finalModBias());
            for (int i = 0; i < n; i++) {
                boolean kept = memoBytes.addAndGet(rowBytes) <= DitModel.CONDITIONING_MEMO_BYTES;
                if (!kept) {
                    memoBytes.addAndGet(-rowBytes);
                }
                MemorySegment row = (kept ? memoArena : arena).allocate(rowBytes, Float.BYTES);
                MemorySegment.copy(siluC.segment(), i * C * f, row, 0, C * f);
                MemorySegment.copy(gates.segment(), i * gateWidth * f, row, C * f, gateWidth * f);
                MemorySegment.copy(finalMods.segment(), i * 2 * C * f, row, (C + gateWidth) * f, 2 * C * f);
                long key = keys[rowsToCompute.get(i)];
                byPair.put(key, row);
                if (kept) {
                    memo.putIfAbsent(key, row); // another thread's row for the pair: the same bits
                }
            }
        }
    }

    /**
     * silu(c), c = t_embedder(t) + y_embedder(y): (B, C). The frequency embedding is computed as the official
     * code does in float32 (t * freqs, then cos and sin), the two MLP layers natively, once per distinct timestep.
     */
    private Tensor siluConditioning(Arena arena, long[] timesteps, long[] labels) {
        int batch = timesteps.length;
        int C = config.hiddenSize();
        int half = frequencyValues.length;
        Map<Long, Integer> distinct = new LinkedHashMap<>();
        int[] tRow = new int[batch];
        for (int b = 0; b < batch; b++) {
            tRow[b] = distinct.computeIfAbsent(timesteps[b], k -> distinct.size());
        }
        int nt = distinct.size();
        // The scalar work runs on Java arrays, copied in and out in bulk: loops over arrays compile quickly, where
        // element-wise MemorySegment loops kept the JIT busy for a few hundred ms on one of the cores a sampling
        // run's first steps were using.
        float[] freq = new float[nt * 2 * half];
        for (var e : distinct.entrySet()) {
            int row = e.getValue() * 2 * half;
            float t = (float) (long) e.getKey();
            for (int k = 0; k < half; k++) {
                float arg = t * frequencyValues[k];
                freq[row + k] = (float) Math.cos(arg);
                freq[row + half + k] = (float) Math.sin(arg);
            }
        }
        Tensor tFreq = Tensor.ofFloats(arena, freq, nt, 2L * half);
        Tensor hidden = Tensor.allocate(arena, DType.F32, nt, C);
        DitOps.linearRows(Variant.AUTO, hidden, tFreq, nw.tMlp0Panels(), nw.tMlp0Bias());
        float[] h = hidden.toFloatArray();
        siluInPlace(h);
        hidden.copyFrom(h);
        Tensor tEmb = Tensor.allocate(arena, DType.F32, nt, C);
        DitOps.linearRows(Variant.AUTO, tEmb, hidden, nw.tMlp2Panels(), nw.tMlp2Bias());
        float[] te = tEmb.toFloatArray();
        float[] c = new float[batch * C];
        float[] embedding = new float[C];
        MemorySegment table = nw.labelTable().segment();
        for (int b = 0; b < batch; b++) {
            MemorySegment.copy(table, ValueLayout.JAVA_FLOAT, labels[b] * C * Float.BYTES, embedding, 0, C);
            for (int k = 0; k < C; k++) {
                c[b * C + k] = te[tRow[b] * C + k] + embedding[k];
            }
        }
        siluInPlace(c);
        return Tensor.ofFloats(arena, c, batch, C);
    }

    /** x / (1 + exp(-x)), rounded once to float. */
    private static void siluInPlace(float[] a) {
        for (int i = 0; i < a.length; i++) {
            double v = a[i];
            a[i] = (float) (v / (1.0 + Math.exp(-v)));
        }
    }

    /** Frees the memo. */
    @Override
    public synchronized void close() {
        memo.clear();
        memoBytes.set(0);
        memoArena.close();
    }
}
