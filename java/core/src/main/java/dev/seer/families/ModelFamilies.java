package dev.seer.families;

import dev.seer.io.ConfigJson;
import dev.seer.io.Json;
import dev.seer.model.Family;
import dev.seer.model.dit.DitFamily;
import dev.seer.model.flux.FluxFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The registry of model families: what {@code --model} resolves, a preset name or a config JSON file of any family.
 * The one place that names every family; adding a family adds one line to {@link #ALL}.
 */
public final class ModelFamilies {
    /** Every family, in the order presets are listed. */
    public static final List<Family<?>> ALL = List.of(DitFamily.INSTANCE, FluxFamily.INSTANCE);

    private ModelFamilies() {
    }

    /** A model resolved from {@code --model}: its family and config (the family's config type). */
    public record Resolved(Family<?> family, Object config) {
    }

    /** Every preset name of every family. */
    public static List<String> presetNames() {
        List<String> names = new ArrayList<>();
        for (Family<?> f : ALL) {
            names.addAll(f.presetNames());
        }
        return names;
    }

    /**
     * A preset name of any family, or an existing config JSON file whose keys belong to exactly one family.
     *
     * @throws IllegalArgumentException naming the value and what is allowed
     */
    public static Resolved resolve(String model) throws IOException {
        if (model == null) {
            throw new IllegalArgumentException("the model is null; allowed: a preset (" + String.join(", ", presetNames())
                    + ") or a config JSON file");
        }
        Path file = Path.of(model);
        if (Files.isRegularFile(file)) {
            Family<?> family = familyOfConfig(file);
            return new Resolved(family, family.readConfig(file));
        }
        for (Family<?> f : ALL) {
            if (f.presetNames().contains(model)) {
                return new Resolved(f, f.preset(model));
            }
        }
        throw new IllegalArgumentException("'" + model + "' is neither a preset nor an existing file; allowed: a preset ("
                + String.join(", ", presetNames()) + ") or a config JSON file");
    }

    /**
     * The family whose config keys cover most of the file's keys (keys starting with "_" are metadata): a file of a
     * family's keys is that family's, and a misspelt key is refused by the closest family's reader, in its words.
     */
    static Family<?> familyOfConfig(Path file) throws IOException {
        List<String> keys = new ArrayList<>();
        if (Files.size(file) <= ConfigJson.MAX_BYTES) {
            try {
                if (Json.parse(Files.readString(file)) instanceof Json.Obj root) {
                    keys.addAll(root.fields().keySet());
                }
            } catch (IOException | Json.SyntaxException e) {
                // not JSON (or not UTF-8): the first family's reader says what is wrong
            }
        }
        Family<?> best = ALL.getFirst();
        long bestCovered = -1;
        for (Family<?> f : ALL) {
            long covered = keys.stream().filter(k -> !k.startsWith("_") && f.configKeys().contains(k)).count();
            if (covered > bestCovered) {
                best = f;
                bestCovered = covered;
            }
        }
        return best;
    }
}
