package dev.seer.model.dit;

import dev.seer.sampling.SamplerKind;

/**
 * The sampling settings a model is meant to be sampled with (e.g. a shipped model's model card): give them to a
 * request with {@link SampleRequest.Builder#settings} (clipping included), and the samples are the ones
 * {@code seer sample} draws for that model.
 *
 * @param steps            sampling steps, 1..1000
 * @param sampler          DDIM or DDPM
 * @param eta              DDIM eta, a finite number >= 0
 * @param cfgScale         classifier-free guidance scale, a finite number >= 0 (0: no guidance)
 * @param guideAllChannels guide every channel instead of the official channels 0..2
 * @param clipDenoised     clamp pred_x0 to [-1, 1] at every step (pixel-space models)
 */
public record SamplingSettings(int steps, SamplerKind sampler, double eta, double cfgScale, boolean guideAllChannels,
                               boolean clipDenoised) {
    public SamplingSettings {
        if (steps < 1 || steps > 1000) {
            throw new IllegalArgumentException("steps: " + steps + " is not allowed; allowed: 1..1000");
        }
        if (sampler == null) {
            throw new IllegalArgumentException("sampler is null; allowed: " + java.util.Arrays.toString(SamplerKind.values()));
        }
        if (!(eta >= 0) || Double.isInfinite(eta)) {
            throw new IllegalArgumentException("eta: " + eta + " is not allowed; allowed: a finite number >= 0");
        }
        if (!(cfgScale >= 0) || Double.isInfinite(cfgScale)) {
            throw new IllegalArgumentException("cfgScale: " + cfgScale + " is not allowed; allowed: a finite number >= 0");
        }
    }

    /** Sets steps, sampler, eta, guidance scale and guided channels on {@code builder}; returns it. */
    public SampleRequest.Builder applyTo(SampleRequest.Builder builder) {
        if (builder == null) {
            throw new IllegalArgumentException("builder is null");
        }
        return builder.steps(steps).sampler(sampler).eta(eta).cfgScale(cfgScale).guideAllChannels(guideAllChannels);
    }
}
