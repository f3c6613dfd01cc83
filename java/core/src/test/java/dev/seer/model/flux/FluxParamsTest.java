package dev.seer.model.flux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FluxParamsTest {
    @TempDir
    Path dir;

    @Test
    void presetsAreTheOfficialConfigs() throws IOException {
        FluxParams dev = FluxParams.resolve("flux-dev");
        assertEquals(3072, dev.hiddenSize());
        assertEquals(128, dev.headDim());
        assertEquals(12288, dev.mlpHiddenDim());
        assertEquals(19, dev.depth());
        assertEquals(38, dev.depthSingleBlocks());
        assertEquals(16, dev.latentChannels());
        assertTrue(dev.guidanceEmbed());
        assertFalse(FluxParams.resolve("FLUX-schnell").guidanceEmbed());
        // 11.9 G parameters: 23.8 GB in bf16, as the released checkpoints
        long params = FluxWeights.expectedShapes(dev).values().stream()
                .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, (a, b) -> a * b)).sum();
        assertEquals(11.90, params / 1e9, 0.01);
    }

    @Test
    void jsonRoundTrips() throws IOException {
        Path f = dir.resolve("p.json");
        FluxParams p = FluxTestModels.tiny(true);
        Files.writeString(f, p.toJson());
        assertEquals(p, FluxParams.resolve(f.toString()));
    }

    @Test
    void jsonWithAnUnknownOrMissingFieldIsRefusedByName() throws IOException {
        Path f = dir.resolve("p.json");
        Files.writeString(f, FluxTestModels.tiny(true).toJson().replace("\"theta\"", "\"thetta\""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FluxParams.fromJson(f));
        assertTrue(e.getMessage().contains("thetta"), e.getMessage());
        Files.writeString(f, FluxTestModels.tiny(true).toJson().replace(", \"theta\": 10000", ""));
        e = assertThrows(IllegalArgumentException.class, () -> FluxParams.fromJson(f));
        assertTrue(e.getMessage().contains("missing key 'theta'"), e.getMessage());
    }

    @Test
    void inconsistentArchitecturesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FluxParams(16, 16, 8, 12, 64, 2.0, 2, 1, 2, new int[] {8, 12, 10}, 10_000, true, true));
        assertTrue(e.getMessage().contains("head width"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new FluxParams(16, 16, 8, 12, 64, 2.0, 3, 1, 2, new int[] {8, 12, 12}, 10_000, true, true));
        assertThrows(IllegalArgumentException.class,
                () -> new FluxParams(18, 18, 8, 12, 64, 2.0, 2, 1, 2, new int[] {8, 12, 12}, 10_000, true, true));
    }

    @Test
    void diffusersConfigDescribesTheSameModel() throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"_class_name\": \"FluxTransformer2DModel\", \"_diffusers_version\": \"0.30.0\", \"patch_size\": 1,"
                + " \"in_channels\": 64, \"out_channels\": null, \"num_layers\": 19, \"num_single_layers\": 38,"
                + " \"attention_head_dim\": 128, \"num_attention_heads\": 24, \"joint_attention_dim\": 4096,"
                + " \"pooled_projection_dim\": 768, \"guidance_embeds\": true, \"axes_dims_rope\": [16, 56, 56]}");
        assertEquals(FluxParams.dev(), FluxParams.fromDiffusersConfig(f));
    }
}
