package dev.seer.model.flux;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.kernel.Variant;
import dev.seer.sampling.ProgressListener;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Seer's FLUX against the official TaylorSeer-FLUX code without Python: weights, inputs and the official final
 * latents of a tiny random model, written by tools/flux-check/make_fixture.py (uncached, and TaylorSeer N=3 O=2).
 */
class FluxOfficialFixtureTest {
    private static Path resource(String name) throws Exception {
        return Path.of(FluxOfficialFixtureTest.class.getResource("/flux/" + name).toURI());
    }

    @Test
    void matchesTheOfficialCodeWithinFloatRounding() throws Exception {
        FluxParams p = FluxParams.fromJson(resource("flux-tiny-params.json"));
        try (SafetensorsFile f = Safetensors.open(resource("flux-tiny-case.safetensors"));
             FluxModel model = new FluxModel(FluxWeights.load(p, resource("flux-tiny-weights.safetensors")))) {
            FluxInputs in = new FluxInputs(f.get("txt").toFloatArray(), f.shape("txt").toArray(), f.get("vec").toFloatArray(),
                    f.get("noise").toFloatArray(), f.shape("noise").toArray(), null, null, null);
            float[] noise = in.noise();
            // the cached run really differs from the uncached one (7e-3 of the update), far above the tolerance below
            assertTrue(relativeToUpdate(f.get("official_n3_o2").toFloatArray(), f.get("official_n1_o0").toFloatArray(), noise) > 1e-3);
            for (var c : new Object[][] {{"official_n1_o0", new CachePolicy.None()}, {"official_n3_o2", new CachePolicy.TaylorSeer(3, 2)}}) {
                float[] want = f.get((String) c[0]).toFloatArray();
                float[] got = FluxSampler.sample(model, in, new FluxSampler.Request(8, 4, 6, 3.5, true, 0, (CachePolicy) c[1],
                        Variant.AUTO, ProgressListener.NONE)).latents();
                double rel = relativeToUpdate(got, want, noise);
                // relative to the denoising update (latents minus noise); the float32 kernels differ from PyTorch 1.13's
                assertTrue(rel < 1e-5, c[0] + ": relative L2 of the update " + rel);
            }
        }
    }

    /** ||got - want|| / ||want - noise||. */
    private static double relativeToUpdate(float[] got, float[] want, float[] noise) {
        double diff = 0;
        double update = 0;
        for (int i = 0; i < want.length; i++) {
            diff += Math.pow((double) got[i] - want[i], 2);
            update += Math.pow((double) want[i] - noise[i], 2);
        }
        return Math.sqrt(diff / update);
    }
}
