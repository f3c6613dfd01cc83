package dev.seer.cli;

import dev.seer.cache.FactorDtype;
import picocli.CommandLine.Option;

/** {@code --factor-dtype}, shared by the sampling commands: how a caching policy stores its Taylor factors. */
final class FactorDtypeOption {
    @Option(names = "--factor-dtype", paramLabel = "DTYPE", defaultValue = "f32", description = "Storage of the Taylor "
            + "factors: f32 (exact, the official numerics), bf16 or f16 (half the cache memory; the arithmetic stays float32 "
            + "and each factor is rounded once when stored). Default: ${DEFAULT-VALUE}.")
    String name = "f32";

    /** The dtype given; an unknown name is the CLI's one-line error (exit 2). */
    FactorDtype value() {
        return parse(name);
    }

    /** f32, bf16 or f16 for {@code --factor-dtype}; anything else is the CLI's one-line error. */
    static FactorDtype parse(String name) {
        try {
            return FactorDtype.parse(name);
        } catch (IllegalArgumentException e) {
            throw OptionChecks.invalid("--factor-dtype", name, FactorDtype.allowed());
        }
    }
}
