package dev.seer.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A model family as the registry and the CLI see it: its presets and its config files. A family is its own package
 * (config, weights and key mapping, forward pass, FLOPs, a {@link Denoiser} per run) plus one line in the registry.
 *
 * @param <C> the family's config type
 */
public interface Family<C> {
    /** Short name: dit, flux. */
    String name();

    /** The preset names {@link #preset} knows. */
    List<String> presetNames();

    /** A preset by name; IllegalArgumentException naming the presets when unknown. */
    C preset(String name);

    /** The keys of the family's config JSON: a file all of whose keys are here (ignoring "_" keys) is the family's. */
    Set<String> configKeys();

    /** Reads a config JSON file of this family. */
    C readConfig(Path file) throws IOException;
}
