package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** `seer bench` end to end on small settings: every output, every row field, and the refusals before any work. */
class BenchCommandTest {
    private static final List<String> ROW_FIELDS = List.of("policy", "interval", "order", "steps", "flops_official",
            "flops_actual", "seconds_median", "speedup_flops", "speedup_wall", "cache_bytes", "peak_rss_bytes", "fd",
            "class_consistency", "psnr", "ssim", "complete");

    @Test
    void shippedModelQualityBenchWritesEveryOutput(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(dev.seer.io.FashionMnist.DEFAULT_DIR),
                "Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist");
        CliRun r = CliRun.of("bench", "--steps", "8", "--samples", "4", "--chunk", "4", "--repeats", "1", "--batch", "2",
                "--policies", "fora:2,taylorseer:3:1", "--limit-seconds", "0.05", "--out-dir", dir.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode root = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        JsonNode rows = root.get("rows");
        // uncached, two cached rows, and the equal-FLOPs rows of distinct step counts below 8
        assertTrue(rows.size() >= 3, rows.toString());
        assertEquals("uncached", rows.get(0).get("family").asText());
        for (JsonNode row : rows) {
            for (String f : ROW_FIELDS) {
                assertTrue(row.has(f), "row lacks " + f + ": " + row);
            }
            assertTrue(row.get("complete").asBoolean(), row.toString());
            assertTrue(row.get("seconds_median").asDouble() > 0, row.toString());
            assertTrue(row.get("fd").isNumber(), row.toString());
            double cc = row.get("class_consistency").asDouble();
            assertTrue(cc >= 0 && cc <= 1, row.toString());
        }
        assertEquals(1.0, rows.get(0).get("speedup_flops").asDouble(), 1e-12);
        assertTrue(rows.get(1).get("speedup_flops").asDouble() > 1, rows.get(1).toString());
        assertTrue(rows.get(1).get("psnr").isNumber(), "cached rows are compared with the uncached one");
        assertTrue(root.get("limits").get("stream_triad_gbps").asDouble() > 0);
        assertTrue(root.get("limits").get("matmul_gflops").asDouble() > 0);
        assertTrue(root.get("limits").get("packed_matmul_gflops").asDouble() > 0);
        // the forecast kernel alone on the model's stack: 12 branches of (4, 49, 128) at order 1, plus x and gates
        assertEquals(12L * 2 * 4 * 49 * 128 * 4 + 2L * 4 * 49 * 128 * 4 + 12L * 4 * 128 * 4,
                root.get("limits").get("stack_kernel_bytes").asLong());
        assertTrue(root.get("limits").get("stack_kernel_seconds").asDouble() > 0);
        assertTrue(root.get("limits").get("stack_kernel_over_floor").asDouble() > 0);
        JsonNode err = root.get("forecast_error");
        assertEquals("TaylorSeer N=3 O=1", err.get("row").asText());
        assertEquals(12, err.get("branches").size(), "6 blocks x (attn, mlp)");
        assertEquals(err.get("steps").size(), err.get("relative_l2").get(0).size());
        for (String png : List.of("speedup.png", "fd-vs-speedup.png", "class-vs-speedup.png", "forecast-error.png")) {
            assertTrue(Files.size(dir.resolve(png)) > 1000, png);
        }
        String md = Files.readString(dir.resolve("bench.md"));
        assertTrue(md.contains("| TaylorSeer N=3 O=1 |"), md);
        // each row's median lies inside the range of its runs
        String row = md.lines().filter(l -> l.startsWith("| TaylorSeer N=3 O=1 |")).findFirst().orElseThrow();
        String[] cells = row.split("\\|");
        double median = Double.parseDouble(cells[5].trim());
        String[] range = cells[6].trim().split("-");
        assertTrue(Double.parseDouble(range[0]) <= median && median <= Double.parseDouble(range[1]), row);
        assertTrue(r.out().contains("Forecast step (TaylorSeer N=3 O=1)"), r.out());
        assertTrue(r.out().contains("Forecast kernel alone"), r.out());
    }

    @Test
    void speedOnlyBenchOfARandomPreset(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.of("bench", "--model", "DiT-S/8", "--input-size", "16", "--num-classes", "10", "--speed-only",
                "--steps", "6", "--repeats", "1", "--policies", "taylorseer:2:1", "--limit-seconds", "0.05",
                "--factor-dtype", "f32,bf16", "--out-dir", dir.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode rows = new ObjectMapper().readTree(dir.resolve("bench.json").toFile()).get("rows");
        java.util.Map<String, Long> cacheBytes = new java.util.HashMap<>();
        for (JsonNode row : rows) {
            assertTrue(row.get("complete").asBoolean(), row.toString());
            assertTrue(row.get("fd").isNull(), "no quality in a speed-only bench");
            if (row.get("policy").asText().equals("taylorseer")) {
                cacheBytes.put(row.get("factor_dtype").asText(), row.get("cache_bytes").asLong());
            } else {
                assertTrue(row.get("factor_dtype").isNull(), row.toString());
            }
        }
        // the cached row once per factor dtype, side by side; bf16 factors take half the bytes
        assertEquals(java.util.Set.of("f32", "bf16"), cacheBytes.keySet());
        assertEquals(cacheBytes.get("f32"), 2 * cacheBytes.get("bf16"));
        String md = Files.readString(dir.resolve("bench.md"));
        assertTrue(md.contains("| factors | forecast step ms |"), md);
        assertTrue(md.lines().anyMatch(l -> l.startsWith("| TaylorSeer N=2 O=1 |") && l.contains("| bf16 |")), md);
        assertTrue(Files.exists(dir.resolve("speedup.png")));
        assertFalse(Files.exists(dir.resolve("fd-vs-speedup.png")));
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "--policies=teacache:3; 'teacache:3' is not a cache policy",
        "--policies=fora:5..2; is empty",
        "--samples=1; --samples: 1 is not allowed",
        "--model=DiT-S/2; --speed-only",
        "--error-row=fora:9; is not in the grid",
        "--repeats=0; --repeats: 0 is not allowed",
        "--steps=0; --steps: 0 is not allowed",
        "--sampler=euler; ddim or ddpm",
        "--factor-dtype=f32,int8; allowed: f32, bf16, f16",
    })
    void badArgumentsAreRefusedBeforeAnyWork(String arg, String message, @TempDir Path dir) {
        long t0 = System.nanoTime();
        CliRun r = CliRun.of("bench", arg, "--out-dir", dir.toString());
        assertEquals(2, r.exit(), r.out() + r.err());
        if (message != null) {
            assertTrue(r.err().contains(message.trim()), r.err());
        }
        assertFalse(Files.exists(dir.resolve("bench.json")), "nothing was measured");
        assertTrue((System.nanoTime() - t0) / 1e9 < 20, "refused before any sampling");
    }
}
