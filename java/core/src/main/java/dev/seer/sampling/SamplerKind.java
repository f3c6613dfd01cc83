package dev.seer.sampling;

import java.util.Locale;

/** The reverse-process samplers of the official DiT code. */
public enum SamplerKind {
    /** DDIM (Song et al.), eta 0 by default: deterministic. Every TaylorSeer DiT number uses it. */
    DDIM,
    /** DDPM ancestral sampling with the learned-range variance. */
    DDPM;

    public static SamplerKind parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown sampler '" + name + "'; expected ddim or ddpm");
        }
    }
}
