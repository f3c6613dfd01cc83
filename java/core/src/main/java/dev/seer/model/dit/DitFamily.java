package dev.seer.model.dit;

import dev.seer.model.Family;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** The facebookresearch DiT family in the model registry: the DiT-S/B/L/XL presets and DiT config JSON files. */
public final class DitFamily implements Family<DitConfig> {
    public static final DitFamily INSTANCE = new DitFamily();

    private DitFamily() {
    }

    @Override
    public String name() {
        return "dit";
    }

    @Override
    public List<String> presetNames() {
        return DitConfig.presetNames();
    }

    @Override
    public DitConfig preset(String name) {
        return DitConfig.preset(name);
    }

    @Override
    public Set<String> configKeys() {
        return DitConfig.CONFIG_KEYS;
    }

    @Override
    public DitConfig readConfig(Path file) throws IOException {
        return DitConfig.fromJson(file);
    }
}
