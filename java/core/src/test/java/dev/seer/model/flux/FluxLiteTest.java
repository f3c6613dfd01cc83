package dev.seer.model.flux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.TaylorSeerLite;
import dev.seer.kernel.Variant;
import dev.seer.sampling.ProgressListener;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TaylorSeer-Lite on a tiny FLUX: the joint stream after the single blocks is the stack output it forecasts. */
class FluxLiteTest {
    private static final int STEPS = 14;
    private static FluxParams params;
    private static FluxModel model;
    private static FluxInputs inputs;

    @BeforeAll
    static void setUp() {
        params = FluxTestModels.tiny(true);
        model = FluxTestModels.randomModel(params, 7);
        inputs = FluxTestModels.inputs(params, 8);
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    private static FluxSampler.Result sample(CachePolicy policy) {
        return FluxSampler.sample(model, inputs, new FluxSampler.Request(STEPS, 4, 4, 3.5, true, 0, policy, Variant.AUTO,
                ProgressListener.NONE));
    }

    @Test
    void intervalOneEqualsTheUncachedModelBitForBit() {
        assertArrayEquals(sample(new CachePolicy.None()).latents(), sample(new TaylorSeerLite(1, 2)).latents());
    }

    @Test
    void forecastsTheJointStreamOnTheFluxSchedule() {
        FluxSampler.Result none = sample(new CachePolicy.None());
        FluxSampler.Result lite = sample(new TaylorSeerLite(4, 1));
        FluxSampler.Result full = sample(new CachePolicy.TaylorSeer(4, 1));
        assertEquals(full.stats().fullSteps(), lite.stats().fullSteps());
        assertTrue(!Arrays.equals(none.latents(), lite.latents()), "a forecast run must differ from the uncached one");
        // 2 factors of the joint stream: batch 2 x (3 text + 4 image tokens) x hidden, float32
        assertEquals(2L * 2 * 7 * params.hiddenSize() * 4, lite.stats().cacheBytes());
        // a forecast call runs no block and no modulation
        FluxFlops f = new FluxFlops(params, 2, 3, 4);
        int forecasts = lite.stats().forecastSteps().size();
        double expected = lite.stats().fullSteps().size() * (f.always() + f.branches()) + forecasts * f.outsideStack()
                + f.conditioning();
        assertEquals(expected, lite.stats().flopsActual(), 1e-9 * expected);
    }
}
