package dev.seer.cli;

import dev.seer.cache.CachePolicy;
import picocli.CommandLine.Option;

/**
 * The cache policy of a sampling command: {@code --policy SPEC} in the one syntax, or its shorthand
 * {@code --cache --interval --order} (not both), the shorthand defaulting to the model family's official settings.
 */
final class PolicyOptions {
    @Option(names = "--policy", paramLabel = "SPEC", description = "Cache policy: none, fora:N, taylorseer:N:O or taylorseer-lite:N:O "
            + "(N >= 1: a full step every N steps after the warm-up; O in 0..4: the Taylor order; Lite forecasts the block "
            + "stack's output instead of each branch). Default: the model family's official "
            + "TaylorSeer (DiT taylorseer:4:4, FLUX taylorseer:6:1), or what --cache/--interval/--order say.")
    String spec;

    @Option(names = "--cache", description = "Shorthand for --policy: none, fora or taylorseer, with --interval and --order. "
            + "Default: taylorseer.")
    String cache;

    @Option(names = "--interval", description = "With --cache: full step every N steps after the warm-up, 1..1000. "
            + "Default: the family's official N (DiT 4, FLUX 6).")
    Integer interval;

    @Option(names = "--order", description = "With --cache taylorseer: max Taylor order, 0..4. Default: the family's official "
            + "order (DiT 4, FLUX 1; the FLUX paper's best row uses 2).")
    Integer order;

    /** The policy given, with the family's official interval and order where the shorthand leaves them out. */
    CachePolicy policy(int officialInterval, int officialOrder) {
        return OptionChecks.policy(spec, cache, interval, order, officialInterval, officialOrder);
    }
}
