package dev.seer.model.dit;

import dev.seer.model.WeightsMismatchException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.TaylorCache;
import dev.seer.tensor.GateView;
import dev.seer.kernel.Variant;
import dev.seer.model.BranchHooks;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DitModelTest {
    static final DitConfig TINY = new DitConfig(8, 2, 4, 32, 2, 2, 4.0, 0.1, 5, true);
    static final StepContext CTX = new StepContext(0, 1, 0, StepContext.Guidance.JOINT);

    static float[] noise(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void forwardMatchesAFloat64Reference() {
        // the third config makes linear maps of 192 x 96 rows, where libtorch's mkldnn_linear (plain weights) is wrong
        for (DitConfig cfg : new DitConfig[] {TINY, new DitConfig(8, 4, 3, 48, 3, 3, 2.0, 0.1, 4, false),
                new DitConfig(16, 2, 4, 96, 2, 4, 4.0, 0.1, 10, true)}) {
            try (Arena arena = Arena.ofShared()) {
                Map<String, Tensor> sd = DitWeights.random(cfg, 7, arena);
                try (DitModel model = DitModel.fromStateDict(cfg, sd)) {
                    int batch = 3; // rows 0 and 1 share a timestep, as a sampler's rows do
                    float[] x = noise(batch * cfg.inChannels() * cfg.inputSize() * cfg.inputSize(), 1);
                    long[] t = {999, 999, 41};
                    long[] y = {3, 1, cfg.numClasses()};
                    float[] got = model.forward(x, batch, t, y, CTX, BranchHooks.NONE);
                    double[] want = new DitReference(cfg, sd).forward(x, batch, t, y);
                    assertEquals(want.length, got.length);
                    double num = 0;
                    double den = 0;
                    for (int i = 0; i < want.length; i++) {
                        num += (got[i] - want[i]) * (got[i] - want[i]);
                        den += want[i] * want[i];
                    }
                    double rel = Math.sqrt(num / den);
                    assertTrue(rel < 1e-5, "relative L2 error " + rel + " for " + cfg);
                }
            }
        }
    }

    /** TaylorCache's hooks without its one-pass forecast step: the model falls back to three native calls. */
    private static class ThreePassHooks implements BranchHooks {
        final TaylorCache cache;

        ThreePassHooks(TaylorCache cache) {
            this.cache = cache;
        }

        @Override
        public void beginStep(StepContext ctx) {
            cache.beginStep(ctx);
        }

        @Override
        public boolean replacesStack(StepContext ctx) {
            return cache.replacesStack(ctx);
        }

        @Override
        public void applyStack(StepContext ctx, Tensor x, List<HookPoint> points, List<GateView> gates) {
            cache.applyStack(ctx, x, points, gates);
        }

        @Override
        public void residual(HookPoint point, StepContext ctx, Tensor x, GateView gate, Branch branch) {
            cache.residual(point, ctx, x, gate, branch);
        }

        @Override
        public void endStep(StepContext ctx) {
            cache.endStep(ctx);
        }
    }

    /**
     * TaylorCache's hooks handing the stack over in two halves, one after the other, through one list that is
     * refilled in place: the cache must not take the second half for the first (it finds a group by its list's
     * identity and checks the points).
     */
    private static final class HalvesInOneListHooks extends ThreePassHooks {
        private final List<HookPoint> shared = new java.util.ArrayList<>();

        HalvesInOneListHooks(TaylorCache cache) {
            super(cache);
        }

        @Override
        public void applyStack(StepContext ctx, Tensor x, List<HookPoint> points, List<GateView> gates) {
            int half = points.size() / 2;
            for (int[] part : new int[][] {{0, half}, {half, points.size()}}) {
                shared.clear();
                shared.addAll(points.subList(part[0], part[1]));
                cache.applyStack(ctx, x, shared, gates.subList(part[0], part[1]));
            }
        }
    }

    @Test
    void aStackHandedOverInPartsThroughOneReusedListGivesTheSameBitsAsWhole() {
        int steps = 10;
        try (Arena arena = Arena.ofShared();
             DitModel model = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 4, arena));
             TaylorCache whole = new TaylorCache(new CachePolicy.TaylorSeer(3, 2), steps, Variant.AUTO);
             TaylorCache halves = new TaylorCache(new CachePolicy.TaylorSeer(3, 2), steps, Variant.AUTO)) {
            int forecasts = assertSameBitsAtEveryStep(model, steps, new long[] {2, TINY.numClasses()}, 50, whole,
                    new ThreePassHooks(whole), new HalvesInOneListHooks(halves));
            assertTrue(forecasts >= 4, forecasts + " forecast steps");
        }
    }

    /**
     * Runs the model's steps S-1 down to 0 of a guided batch twice per step, with hooks {@code a} (whose cache is
     * {@code cacheOfA}) and {@code b}, asserting the same bits; noise of step i from seed {@code seed + i}.
     *
     * @return the forecast steps a's cache took
     */
    private static int assertSameBitsAtEveryStep(DitModel model, int steps, long[] labels, int seed, TaylorCache cacheOfA,
                                                 BranchHooks a, BranchHooks b) {
        int batch = labels.length;
        int forecasts = 0;
        for (int i = steps - 1; i >= 0; i--) {
            long[] t = new long[batch];
            java.util.Arrays.fill(t, i * 100L);
            StepContext ctx = new StepContext(i, steps, i * 100, StepContext.Guidance.JOINT);
            float[] x = noise(batch * TINY.inChannels() * TINY.inputSize() * TINY.inputSize(), seed + i);
            float[] fromA = model.forward(x, batch, t, labels, ctx, a);
            forecasts += cacheOfA.currentStepIsFull() ? 0 : 1;
            float[] fromB = model.forward(x, batch, t, labels, ctx, b);
            org.junit.jupiter.api.Assertions.assertArrayEquals(fromA, fromB, "step " + i);
        }
        return forecasts;
    }

    @Test
    void forecastStepsGiveTheSameBitsInOnePassAndInThree() {
        int steps = 10;
        try (Arena arena = Arena.ofShared();
             DitModel model = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 3, arena));
             TaylorCache onePass = new TaylorCache(new CachePolicy.TaylorSeer(3, 2), steps, Variant.AUTO);
             TaylorCache threePass = new TaylorCache(new CachePolicy.TaylorSeer(3, 2), steps, Variant.AUTO)) {
            int forecasts = assertSameBitsAtEveryStep(model, steps, new long[] {1, TINY.numClasses()}, 0, onePass, onePass,
                    new ThreePassHooks(threePass));
            assertTrue(forecasts >= 4, forecasts + " forecast steps");
        }
    }

    @Test
    void stateDictRoundTripsTheOfficialLayout() {
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> sd = DitWeights.random(TINY, 8, arena);
            try (DitModel model = DitModel.fromStateDict(TINY, sd)) {
                Map<String, Tensor> back = model.stateDict();
                assertEquals(sd.keySet(), back.keySet());
                for (String key : sd.keySet()) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(sd.get(key).toFloatArray(), back.get(key).toFloatArray(), key);
                }
            }
        }
    }

    @Test
    void wrongWeightsAreNamedByKeyAndShape() {
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> sd = new LinkedHashMap<>(DitWeights.random(TINY, 1, arena));
            sd.put("blocks.1.mlp.fc1.weight", Tensor.allocate(arena, DType.F32, 128, 33));
            var e = assertThrows(WeightsMismatchException.class, () -> DitModel.fromStateDict(TINY, sd));
            assertEquals("tensor 'blocks.1.mlp.fc1.weight': expected shape (128, 32), found shape (128, 33)", e.getMessage());
            sd.remove("blocks.1.mlp.fc1.weight");
            e = assertThrows(WeightsMismatchException.class, () -> DitModel.fromStateDict(TINY, sd));
            assertTrue(e.getMessage().contains("blocks.1.mlp.fc1.weight") && e.getMessage().contains("missing"), e.getMessage());
            sd.put("blocks.9.attn.qkv.weight", Tensor.allocate(arena, DType.F32, 1));
            e = assertThrows(WeightsMismatchException.class, () -> DitModel.fromStateDict(TINY, sd));
            assertTrue(e.getMessage().contains("blocks.9.attn.qkv.weight") && e.getMessage().contains("unexpected"), e.getMessage());
        }
    }

    @Test
    void inconsistentConfigsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new DitConfig(8, 2, 4, 30, 2, 4, 4, 0.1, 5, true));
        assertEquals("hidden_size 30 is not divisible by num_heads 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DitConfig(9, 2, 4, 32, 2, 4, 4, 0.1, 5, true));
        assertEquals("input_size 9 is not divisible by patch_size 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DitConfig.preset("DiT-M/2"));
        assertTrue(e.getMessage().startsWith("unknown model preset 'DiT-M/2'"), e.getMessage());
        DitConfig xl = DitConfig.preset("DiT-XL/2");
        assertEquals(28, xl.depth());
        assertEquals(256, xl.tokens());
    }

    @Test
    void labelsOutOfRangeAreRefused() {
        try (Arena arena = Arena.ofShared(); DitModel m = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 1, arena))) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(new float[256], 1, new long[] {1}, new long[] {6}, CTX, BranchHooks.NONE));
            assertEquals("labels must be in 0..5, found 6", e.getMessage());
        }
    }

    @Test
    void forwardWritesIntoTheCallersArrayAndTakesTheRunsConditioning() {
        try (Arena arena = Arena.ofShared(); DitModel m = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 1, arena))) {
            float[] x = noise(2 * 4 * 8 * 8, 3);
            long[] t = {500, 500};
            long[] y = {2, TINY.numClasses()};
            float[] want = m.forward(x, 2, t, y, CTX, BranchHooks.NONE);
            float[] out = new float[want.length];
            try (StepConditioning c = m.stepConditioning(new long[] {999, 500, 0}, y)) {
                assertTrue(out == m.forward(x, 2, t, y, CTX, BranchHooks.NONE, c, out));
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(want, out, "the run's conditioning gives the same bits");
            var e = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(x, 2, t, y, CTX, BranchHooks.NONE, null, new float[7]));
            assertEquals("out must hold batch * 8 * 8 * 8 = 1024 floats for batch 2, found 7", e.getMessage());
            var f = assertThrows(IllegalArgumentException.class, () -> m.stepConditioning(new long[] {1}, new long[] {9}));
            assertEquals("labels must be in 0..5, found 9", f.getMessage());
        }
    }

    @Test
    void repeatedTimestepLabelPairsAreConditionedOnceWithTheSameBitsAsAlone() {
        try (Arena arena = Arena.ofShared(); DitModel m = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 5, arena))) {
            long nul = TINY.numClasses();
            long[] t = {999, 41, 999, 41, 999, 7};
            long[] y = {3, nul, 3, 1, nul, 3};
            StepConditioning.Rows all = m.conditionRows(arena, t, y);
            for (int r = 0; r < t.length; r++) {
                // each pair alone, in a model whose memo has never seen it
                try (DitModel fresh = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 5, arena))) {
                    assertRowEquals(fresh.conditionRows(arena, new long[] {t[r]}, new long[] {y[r]}), all, r);
                }
            }
        }
    }

    @Test
    void conditioningMemoServesPairsMetBeforeWithTheSameBitsAndIsBounded() {
        try (Arena arena = Arena.ofShared()) {
            DitModel m = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 5, arena));
            long[] t = {999, 999, 500, 500};
            long[] y = {2, TINY.numClasses(), 2, TINY.numClasses()};
            assertEquals(0, m.conditioningMemoBytes());
            StepConditioning.Rows first = m.conditionRows(arena, t, y);
            long rowBytes = (long) Float.BYTES * TINY.hiddenSize() * (1 + 2 * TINY.depth() + 2);
            assertEquals(4 * rowBytes, m.conditioningMemoBytes(), "one row per distinct pair");
            // the same pairs in another order, with one new pair: only that one is added
            long[] t2 = {500, 999, 3, 999};
            long[] y2 = {TINY.numClasses(), 2, 1, 2};
            StepConditioning.Rows second = m.conditionRows(arena, t2, y2);
            assertEquals(5 * rowBytes, m.conditioningMemoBytes());
            assertRowEquals(second, first, 0, 3);
            assertRowEquals(second, first, 1, 0);
            assertRowEquals(second, first, 3, 0);
            try (DitModel fresh = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 5, arena))) {
                assertRowEquals(fresh.conditionRows(arena, new long[] {3}, new long[] {1}), second, 2);
            }
            assertTrue(m.conditioningMemoBytes() <= DitModel.CONDITIONING_MEMO_BYTES);
            m.close();
            assertEquals(0, m.conditioningMemoBytes(), "closing frees the memo");
        }
    }

    /** Row 0 of alone (one row) equals row r of all, in every part. */
    private static void assertRowEquals(StepConditioning.Rows alone, StepConditioning.Rows all, int r) {
        assertRowEquals(all, alone, r, 0);
    }

    /** Row ra of a equals row rb of b, in every part. */
    private static void assertRowEquals(StepConditioning.Rows a, StepConditioning.Rows b, int ra, int rb) {
        for (var pair : List.of(List.of(a.siluC(), b.siluC()), List.of(a.gates(), b.gates()),
                List.of(a.finalMods(), b.finalMods()))) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(pair.get(1).narrow0(rb, rb + 1).toFloatArray(),
                    pair.get(0).narrow0(ra, ra + 1).toFloatArray(), "row " + ra + " against row " + rb);
        }
    }
}
