package dev.seer.model.flux;

import java.lang.foreign.Arena;
import java.util.Random;

/** Tiny FLUX configurations and inputs for tests. */
final class FluxTestModels {
    private FluxTestModels() {
    }

    /** depth 1 + 2 single blocks, hidden 64, 2 heads of 32 (axes 8 + 12 + 12), 4 latent channels. */
    static FluxParams tiny(boolean guidance) {
        return new FluxParams(16, 16, 8, 12, 64, 4.0, 2, 1, 2, new int[] {8, 12, 12}, 10_000, true, guidance);
    }

    static FluxModel randomModel(FluxParams p, long seed) {
        return new FluxModel(FluxWeights.fromStateDict(p, FluxWeights.randomStateDict(p, seed, Arena.ofAuto())));
    }

    /** Batch 2, 3 text tokens, 4x4 latents (4 image tokens), N(0, 1) values from {@code seed}. */
    static FluxInputs inputs(FluxParams p, long seed) {
        Random r = new Random(seed);
        int b = 2;
        int l = 3;
        float[] txt = gaussian(r, b * l * p.contextInDim());
        float[] vec = gaussian(r, b * p.vecInDim());
        float[] noise = gaussian(r, b * p.latentChannels() * 4 * 4);
        return new FluxInputs(txt, new long[] {b, l, p.contextInDim()}, vec, noise, new long[] {b, p.latentChannels(), 4, 4},
                null, null, null);
    }

    static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
