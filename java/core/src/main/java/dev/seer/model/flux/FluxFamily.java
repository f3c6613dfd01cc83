package dev.seer.model.flux;

import dev.seer.model.Family;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** The FLUX.1 family in the model registry: the flux-dev and flux-schnell presets and FluxParams JSON files. */
public final class FluxFamily implements Family<FluxParams> {
    public static final FluxFamily INSTANCE = new FluxFamily();

    private FluxFamily() {
    }

    @Override
    public String name() {
        return "flux";
    }

    @Override
    public List<String> presetNames() {
        return FluxParams.presetNames();
    }

    @Override
    public FluxParams preset(String name) {
        if (!presetNames().contains(name)) {
            throw new IllegalArgumentException("'" + name + "' is not a FLUX preset; allowed: " + String.join(", ", presetNames()));
        }
        return name.equals("flux-dev") ? FluxParams.dev() : FluxParams.schnell();
    }

    @Override
    public Set<String> configKeys() {
        return FluxParams.FIELDS;
    }

    @Override
    public FluxParams readConfig(Path file) throws IOException {
        return FluxParams.fromJson(file);
    }
}
