package dev.seer.model.flux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.TaylorSeerSchedule;
import dev.seer.kernel.Variant;
import dev.seer.model.BranchHooks;
import dev.seer.sampling.ProgressListener;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TaylorCache on FLUX against a line-by-line transcription of the official TaylorSeer-FLUX cache. */
class FluxCacheExactnessTest {
    private static final int STEPS = 14;
    private static FluxModel model;
    private static FluxInputs inputs;

    @BeforeAll
    static void setUp() {
        FluxParams p = FluxTestModels.tiny(true);
        model = FluxTestModels.randomModel(p, 7);
        inputs = FluxTestModels.inputs(p, 8);
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    private static FluxSampler.Request request(CachePolicy policy) {
        return new FluxSampler.Request(STEPS, 4, 4, 3.5, true, 0, policy, Variant.AUTO, ProgressListener.NONE);
    }

    /** The sampler's loop with the given hooks (the transcription is not a CachePolicy). */
    private static float[] sampleWith(BranchHooks hooks) {
        return FluxSampler.sampleWithHooks(model, inputs, request(new CachePolicy.None()), hooks);
    }

    @Test
    void taylorCacheEqualsTheOfficialCacheLogicBitForBit() {
        for (int n = 1; n <= 6; n++) {
            for (int o = 0; o <= 2; o++) {
                OfficialFluxCache official = new OfficialFluxCache(n, o);
                float[] expected = sampleWith(official);
                FluxSampler.Result got = FluxSampler.sample(model, inputs, request(new CachePolicy.TaylorSeer(n, o)));
                assertEquals(official.fullSteps, got.stats().fullSteps(), "full steps, N=" + n + " O=" + o);
                assertArrayEquals(expected, got.latents(), "latents, N=" + n + " O=" + o);
            }
        }
    }

    @Test
    void intervalOneEqualsTheUncachedModelBitForBit() {
        float[] none = FluxSampler.sample(model, inputs, request(new CachePolicy.None())).latents();
        float[] n1 = FluxSampler.sample(model, inputs, request(new CachePolicy.TaylorSeer(1, 2))).latents();
        assertArrayEquals(none, n1);
    }

    @Test
    void forecastsChangeTheResult() {
        float[] none = FluxSampler.sample(model, inputs, request(new CachePolicy.None())).latents();
        float[] cached = FluxSampler.sample(model, inputs, request(new CachePolicy.TaylorSeer(4, 1))).latents();
        assertTrue(!Arrays.equals(none, cached), "a forecast run must differ from the uncached one");
    }

    @Test
    void fluxScheduleIsTheOfficialOne() {
        // TAYLORSEER.md: N = 6, 50 steps: full at 0, 1, 2, 8, 14, ..., 44
        List<TaylorSeerSchedule.StepPlan> plan = TaylorSeerSchedule.plan(TaylorSeerSchedule.Config.flux(50, 6, 1));
        assertArrayEquals(new int[] {0, 1, 2, 8, 14, 20, 26, 32, 38, 44}, TaylorSeerSchedule.fullSteps(plan));
        // derivatives: none at steps 0 and 1, order 1 from step 2 on
        assertEquals(List.of(0, 0, 1, 1), IntStream.of(0, 1, 2, 8).mapToObj(s -> plan.get(s).order()).toList());
        assertEquals(3, plan.get(11).delta());
    }

    @Test
    void textAttentionAfterAForecastImageAttentionIsRefused() {
        // the joint attention needs both streams as they entered the block: once img_attn has been forecast into the
        // image stream, the text attention branch cannot be computed any more
        BranchHooks forecastImageAttentionOnly = (point, ctx, x, gate, branch) -> {
            if (!point.name().endsWith("img_attn")) {
                branch.compute();
            }
        };
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> sampleWith(forecastImageAttentionOnly));
        assertTrue(e.getMessage().contains("double_blocks.0.txt_attn"), e.getMessage());
    }

    @Test
    void hookPointsAreInTheOfficialOrderWithTheirStreams() {
        List<dev.seer.model.HookPoint> points = FluxModel.hookPoints(model.params(), 5, 16);
        assertEquals(List.of("double_blocks.0.img_attn", "double_blocks.0.img_mlp", "double_blocks.0.txt_attn",
                        "double_blocks.0.txt_mlp", "single_blocks.0.linear2", "single_blocks.1.linear2"),
                points.stream().map(Object::toString).toList());
        assertEquals(List.of("img", "img", "txt", "txt", "joint", "joint"),
                points.stream().map(dev.seer.model.HookPoint::stream).toList());
        assertEquals(List.of(16L, 16L, 5L, 5L, 21L, 21L), points.stream().map(dev.seer.model.HookPoint::tokens).toList());
        for (int i = 0; i < points.size(); i++) {
            assertEquals(i, points.get(i).index());
        }
    }
}
