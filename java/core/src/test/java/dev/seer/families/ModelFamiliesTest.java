package dev.seer.families;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitFamily;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFamiliesTest {
    @TempDir
    Path dir;

    @Test
    void resolvesPresetsAndConfigFilesOfTheirFamily() throws Exception {
        ModelFamilies.Resolved r = ModelFamilies.resolve("DiT-XL/2");
        assertSame(DitFamily.INSTANCE, r.family());
        assertEquals(DitConfig.preset("DiT-XL/2"), r.config());
        Path json = dir.resolve("dit.json");
        Files.writeString(json, DitConfig.preset("DiT-S/4").toJson());
        assertEquals(DitConfig.preset("DiT-S/4"), ModelFamilies.resolve(json.toString()).config());
        assertTrue(ModelFamilies.presetNames().containsAll(DitConfig.presetNames()));
    }

    @Test
    void refusesWhatIsNeitherAPresetNorAFile() {
        var e = assertThrows(IllegalArgumentException.class, () -> ModelFamilies.resolve("DiT-Q/3"));
        assertTrue(e.getMessage().contains("'DiT-Q/3' is neither a preset nor an existing file"), e.getMessage());
        assertTrue(e.getMessage().contains("DiT-XL/2"), e.getMessage());
    }

    @Test
    void aMisspeltKeyIsRefusedByTheClosestFamily() throws Exception {
        Path json = dir.resolve("typo.json");
        Files.writeString(json, "{\"input_size\": 32, \"patch_sise\": 2}");
        var e = assertThrows(IllegalArgumentException.class, () -> ModelFamilies.resolve(json.toString()));
        assertTrue(e.getMessage().contains("unknown key 'patch_sise'"), e.getMessage());
    }
}
