package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.model.flux.FluxParams;
import dev.seer.model.flux.FluxWeights;
import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code seer flux}: a tiny run end to end, and every bad input ends with exit 2 and one line. */
class FluxCommandTest {
    @TempDir
    Path dir;
    private Path params;
    private Path weights;
    private Path inputs;
    private static final FluxParams P = new FluxParams(16, 16, 8, 12, 64, 4.0, 2, 1, 2, new int[] {8, 12, 12}, 10_000, true, true);

    @BeforeEach
    void files() throws IOException {
        params = dir.resolve("params.json");
        Files.writeString(params, P.toJson());
        weights = dir.resolve("w.safetensors");
        inputs = dir.resolve("in.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Safetensors.write(weights, FluxWeights.randomStateDict(P, 1, arena));
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("txt", ones(arena, 1, 3, 12));
            in.put("vec", ones(arena, 1, 8));
            in.put("noise", ones(arena, 1, 4, 4, 4));
            Safetensors.write(inputs, in);
        }
    }

    private static Tensor ones(Arena arena, long... dims) {
        float[] v = new float[(int) Shape.of(dims).numel()];
        Arrays.fill(v, 0.5f);
        return Tensor.ofFloats(arena, v, dims);
    }

    @Test
    void samplesAndWritesLatents() throws IOException {
        Path out = dir.resolve("out.safetensors");
        CliRun r = CliRun.of("flux", "--model", params.toString(), "--weights", weights.toString(), "--inputs", inputs.toString(),
                "--steps", "8", "--interval", "3", "--order", "2", "--json", "--out-latents", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\"full_steps\":[0,1,2,5]"), r.out());
        assertTrue(r.out().contains("\"compute_dtype\":\"float32\""), r.out());
        try (SafetensorsFile f = Safetensors.open(out)) {
            assertEquals(Shape.of(1, 4, 4, 4), f.shape("sample"));
            assertEquals(DType.F32, f.dtype("sample"));
        }
    }

    @Test
    void bf16ComputeIsNamedInTheStatistics() {
        CliRun r = CliRun.of("flux", "--model", params.toString(), "--weights", weights.toString(), "--inputs", inputs.toString(),
                "--steps", "3", "--dtype", "bf16", "--json");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\"compute_dtype\":\"bf16\""), r.out());
        assertTrue(r.out().contains("\"weights_dtype\":\"[F32]\""), r.out()); // float32 weights, converted once and kept
    }

    @Test
    void benchRunsFluxRowsPerComputeDtype() throws IOException {
        Path out = dir.resolve("bench");
        CliRun r = CliRun.of("bench", "--model", params.toString(), "--steps", "6", "--quick", "--txt-tokens", "3",
                "--image-size", "32", "--dtype", "f32,bf16", "--policies", "taylorseer:3:1", "--out-dir", out.toString());
        assertEquals(0, r.exit(), r.err());
        String json = Files.readString(out.resolve("bench.json"));
        for (String id : new String[] {"uncached-6-float32", "taylorseer-3-1-float32", "uncached-6-bf16", "taylorseer-3-1-bf16"}) {
            assertTrue(json.contains("\"id\" : \"" + id + "\""), id + " in " + json);
        }
        assertTrue(json.contains("\"compute_dtype\" : \"bf16\""), json);
        assertTrue(json.contains("\"relative_l2\" : 0.0,"), "the reference row is at distance 0: " + json);
        assertTrue(r.out().contains("| TaylorSeer N=3 O=1 | bf16 | 6 | 4 |"), r.out()); // full at 0, 1, 2, 5
        assertTrue(json.contains("\"seconds_forecast_call\""), json);
        assertTrue(Files.readString(out.resolve("bench.md")).contains("wall/FLOPs"));
    }

    @Test
    void benchRunsEachCachedFluxRowPerFactorDtype() throws IOException {
        Path out = dir.resolve("bench-factors");
        CliRun r = CliRun.of("bench", "--model", params.toString(), "--steps", "6", "--quick", "--txt-tokens", "3",
                "--image-size", "32", "--factor-dtype", "f32,bf16", "--policies", "taylorseer:3:1", "--out-dir", out.toString());
        assertEquals(0, r.exit(), r.err());
        String json = Files.readString(out.resolve("bench.json"));
        assertTrue(json.contains("\"id\" : \"taylorseer-3-1-float32\""), json);
        assertTrue(json.contains("\"id\" : \"taylorseer-3-1-bf16-float32\""), json);
        assertEquals(2, CliRun.of("bench", "--model", params.toString(), "--factor-dtype", "f8").exit());
    }

    @Test
    void theCommandLineKnowsWhenItRunsFlux() {
        assertTrue(SeerCli.runsFlux(new String[] {"flux", "--model", "flux-dev"}));
        assertTrue(SeerCli.runsFlux(SeerCli.byFamily(new String[] {"sample", "--model", "flux-schnell"})));
        assertTrue(SeerCli.runsFlux(new String[] {"bench", "--model=" + params}));
        assertFalse(SeerCli.runsFlux(new String[] {"sample", "--model", "DiT-S/2"}));
        assertFalse(SeerCli.runsFlux(new String[] {"bench"}));
        assertFalse(SeerCli.runsFlux(new String[0]));
    }

    /** bf16 factors: the same run with half the cache, its latents near the f32 run's. */
    @Test
    void bf16FactorsHalveTheCache() {
        String[] run = {"flux", "--model", params.toString(), "--weights", weights.toString(), "--inputs", inputs.toString(),
                "--steps", "8", "--interval", "3", "--order", "2", "--json"};
        CliRun f32 = CliRun.of(run);
        String[] bf16Run = Arrays.copyOf(run, run.length + 2);
        bf16Run[run.length] = "--factor-dtype";
        bf16Run[run.length + 1] = "bf16";
        CliRun bf16 = CliRun.of(bf16Run);
        assertEquals(0, f32.exit(), f32.err());
        assertEquals(0, bf16.exit(), bf16.err());
        assertTrue(bf16.out().contains("\"factor_dtype\":\"bf16\""), bf16.out());
        assertEquals(2 * jsonLong(bf16.out(), "cache_bytes"), jsonLong(f32.out(), "cache_bytes"));
    }

    private static long jsonLong(String json, String key) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + key + "\":(\\d+)").matcher(json);
        assertTrue(m.find(), key + " in " + json);
        return Long.parseLong(m.group(1));
    }

    private void usage(String expected, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void badInputsExitWithUsage() throws IOException {
        String m = params.toString();
        String w = weights.toString();
        String in = inputs.toString();
        usage("--guidance", "flux", "--model", "flux-schnell", "--guidance", "3.5");
        usage("--width: 100", "flux", "--model", m, "--weights", w, "--inputs", in, "--width", "100");
        usage("--width: 64", "flux", "--model", m, "--weights", w, "--inputs", in, "--width", "64"); // noise is 32 px
        usage("--policy", "flux", "--model", m, "--policy", "taylorseer:6");
        usage("--factor-dtype: 'half' is not allowed; allowed: f32, bf16, f16", "flux", "--model", m, "--factor-dtype", "half");
        usage("neither a preset", "flux", "--model", "flux-pro");
        usage("--dtype: 'fp8' is not allowed; allowed: f32, bf16", "flux", "--model", m, "--dtype", "fp8");
        usage("--dtype: 'fp8' is not allowed; allowed: f32, bf16", "bench", "--model", m, "--dtype", "f32,fp8");
        usage("--flux-depth", "bench", "--model", m, "--flux-depth", "-1");
        usage("--image-size: 100", "bench", "--model", m, "--image-size", "100");
        usage("--weights: 'none'", "flux", "--model", "flux-dev");
        Path badParams = dir.resolve("bad.json");
        Files.writeString(badParams, P.toJson().replace("\"depth\"", "\"dept\""));
        usage("dept", "flux", "--model", badParams.toString());
        byte[] bytes = Files.readAllBytes(weights);
        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 100));
        usage("truncated.safetensors", "flux", "--model", m, "--weights", truncated.toString(), "--inputs", in, "--steps", "1");
        Path nan = dir.resolve("nan.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor vec = ones(arena, 1, 8);
            vec.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 3, Float.POSITIVE_INFINITY);
            Safetensors.write(nan, Map.of("txt", ones(arena, 1, 3, 12), "vec", vec));
        }
        usage("'vec'", "flux", "--model", m, "--weights", w, "--inputs", nan.toString(), "--steps", "1");
    }
}
