package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.io.TorchCheckpoints;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitWeights;
import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `seer sample` end to end on a tiny DiT: config JSON, .pt and .safetensors weights, noise file, outputs. */
class SampleCommandTest {
    static final DitConfig TINY = new DitConfig(8, 2, 4, 32, 2, 2, 4.0, 0.1, 5, true);

    /** --factor-dtype: bf16 and f16 factors take half the cache of f32 ones, and the JSON says which ran. */
    @Test
    void narrowFactorDtypesHalveTheCache(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, TINY.toJson());
        Map<String, Long> bytes = new LinkedHashMap<>();
        for (String dtype : new String[] {"f32", "bf16", "f16"}) {
            CliRun r = CliRun.of("sample", "--model", config.toString(), "--labels", "1,2", "--steps", "20", "--policy",
                    "taylorseer:5:2", "--forecast-sums", "off", "--factor-dtype", dtype, "--json");
            assertEquals(0, r.exit(), r.err());
            JsonNode j = new ObjectMapper().readTree(r.out());
            assertEquals(dtype, j.get("factor_dtype").asText());
            bytes.put(dtype, j.get("cache_bytes").asLong());
        }
        assertTrue(bytes.get("f32") > 0, bytes.toString());
        assertEquals(bytes.get("f32"), 2 * bytes.get("bf16"), bytes.toString());
        assertEquals(bytes.get("f32"), 2 * bytes.get("f16"), bytes.toString());
    }

    @Test
    void samplesFromPtAndSafetensorsWeightsAndWritesOutputs(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, TINY.toJson());
        Path pt = dir.resolve("tiny.pt");
        Path st = dir.resolve("tiny.safetensors");
        Path noise = dir.resolve("noise.safetensors");
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> sd = DitWeights.random(TINY, 5, arena);
            TorchCheckpoints.saveStateDict(pt, sd);
            Safetensors.write(st, sd);
            Tensor z = Tensor.allocate(arena, DType.F32, 3, 4, 8, 8);
            float[] v = new float[3 * 256];
            Random r = new Random(9);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
            z.copyFrom(v);
            Tensor labels = Tensor.allocate(arena, DType.I64, 3);
            for (int i = 0; i < 3; i++) {
                labels.segment().setAtIndex(ValueLayout.JAVA_LONG, i, i + 1);
            }
            Map<String, Tensor> nf = new LinkedHashMap<>();
            nf.put("noise", z);
            nf.put("labels", labels);
            Safetensors.write(noise, nf);
        }
        float[] first = null;
        for (Path weights : new Path[] {pt, st}) {
            Path latents = dir.resolve("out-" + weights.getFileName() + ".safetensors");
            Path png = dir.resolve("out-" + weights.getFileName() + ".png");
            CliRun r = CliRun.of("sample", "--model", config.toString(), "--weights", weights.toString(), "--noise", noise.toString(),
                    "--steps", "20", "--cache", "taylorseer", "--interval", "3", "--order", "2",
                    "--out-latents", latents.toString(), "--out-image", png.toString(), "--json");
            assertEquals(0, r.exit(), r.err());
            JsonNode j = new ObjectMapper().readTree(r.out());
            for (String field : new String[] {"full_steps", "flops_official", "flops_actual", "seconds", "cache_bytes",
                    "seconds_full", "seconds_forecast", "seconds_other"}) {
                assertTrue(j.has(field), "JSON lacks " + field + ": " + r.out());
            }
            assertEquals(19, j.get("full_steps").get(0).asInt());
            assertTrue(r.err().contains("20/20"), "progress bar on stderr: " + r.err());
            try (SafetensorsFile f = Safetensors.open(latents)) {
                Tensor s = f.get("sample");
                assertEquals("(3, 4, 8, 8)", s.shape().toString());
                float[] got = s.toFloatArray();
                if (first == null) {
                    first = got;
                } else {
                    assertArrayEquals(first, got, ".pt and .safetensors weights give the same samples");
                }
            }
            var image = ImageIO.read(png.toFile());
            assertTrue(image.getWidth() >= 3 * 128 && image.getHeight() >= 128, "three 8x8 previews scaled 16x");
        }
    }

    @Test
    void aFluxModelIsSampledByItsFamilysCommand() {
        CliRun r = CliRun.of("sample", "--model", "flux-schnell", "--width", "4");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("seer flux: --width: 4 is not allowed"), r.err());
        r = CliRun.of("sample", "--model=flux-dev", "--labels", "3");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("seer flux: Unknown options: '--labels'"), r.err());
        r = CliRun.of("sample", "--model", "DiT-S/2", "--inputs", "x.safetensors");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("seer sample: Unknown options: '--inputs'"), r.err());
    }

    @Test
    void badInputIsRefusedBeforeAnyWorkWithAClearMessage(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.of("sample", "--model", "DiT-Q/2");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--model: 'DiT-Q/2' is not allowed; allowed: a preset (DiT-S/2"), r.err());
        r = CliRun.of("sample", "--interval", "0");
        assertTrue(r.err().contains("--interval: 0 is not allowed; allowed: 1..1000"), r.err());
        r = CliRun.of("sample", "--order", "7");
        assertTrue(r.err().contains("--order: 7 is not allowed; allowed: 0..4"), r.err());
        r = CliRun.of("sample", "--steps", "0");
        assertTrue(r.err().contains("--steps: 0 is not allowed; allowed: 1..1000"), r.err());
        r = CliRun.of("sample", "--labels", "1000");
        assertTrue(r.err().contains("--labels: 1000 is not allowed; allowed: 0..999"), r.err());
        r = CliRun.of("sample", "--cache", "magic");
        assertTrue(r.err().contains("--cache: 'magic' is not allowed; allowed: none, fora, taylorseer"), r.err());
        Path config = dir.resolve("bad.json");
        Files.writeString(config, "{\"hidden_size\": 30, \"num_heads\": 4}");
        r = CliRun.of("sample", "--model", config.toString());
        assertTrue(r.err().contains("--model: ") && r.err().contains("hidden_size 30 is not divisible by num_heads 4"), r.err());
        Path good = dir.resolve("tiny.json");
        Files.writeString(good, TINY.toJson());
        Path wrong = dir.resolve("wrong.safetensors");
        try (Arena arena = Arena.ofShared()) {
            DitConfig other = new DitConfig(8, 2, 4, 48, 2, 2, 4.0, 0.1, 5, true);
            Safetensors.write(wrong, DitWeights.random(other, 1, arena));
        }
        Path out = dir.resolve("never.safetensors");
        r = CliRun.of("sample", "--model", good.toString(), "--weights", wrong.toString(), "--out-latents", out.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("wrong.safetensors") && r.err().contains("pos_embed")
                && r.err().contains("(1, 16, 32)") && r.err().contains("(1, 16, 48)"), r.err());
        assertFalse(Files.exists(out), "no output file after a failure");
    }
}
