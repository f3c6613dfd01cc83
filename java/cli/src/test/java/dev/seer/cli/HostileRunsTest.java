package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `seer sample` on the hostile inputs of the hardening review, generated here: bad output paths, non-finite
 * results, non-finite weights, a safetensors file named .pt, a run too large for the machine. Each asserts the exit
 * code and the one line that says what happened.
 */
class HostileRunsTest {
    static final DitConfig TINY = SampleCommandTest.TINY;

    @TempDir
    Path dir;
    Path config;

    @BeforeEach
    void writeConfig() throws Exception {
        config = dir.resolve("tiny.json");
        Files.writeString(config, TINY.toJson());
    }

    private CliRun sample(String... more) {
        String[] base = List.of(more).contains("--cache") ? new String[] {"sample", "--model", config.toString(), "--steps", "5"}
                : new String[] {"sample", "--model", config.toString(), "--steps", "5", "--cache", "none"};
        String[] args = Stream.concat(Stream.of(base), Stream.of(more)).toArray(String[]::new);
        return CliRun.of(args);
    }

    /** Exit 2 with one line on stderr holding every fragment, and nothing on stdout. */
    private static void usage(CliRun r, String... fragments) {
        assertEquals(2, r.exit(), r.err());
        List<String> lines = r.err().lines().filter(l -> l.startsWith("seer sample: ")).toList();
        assertEquals(1, lines.size(), r.err());
        for (String f : fragments) {
            assertTrue(lines.getFirst().contains(f), "no '" + f + "' in: " + r.err());
        }
    }

    private List<String> files() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private Path weights(String name, float scale, String poisonKey, float poison) throws Exception {
        Path file = dir.resolve(name);
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> sd = new LinkedHashMap<>(DitWeights.random(TINY, 3, arena));
            for (Map.Entry<String, Tensor> e : sd.entrySet()) {
                float[] v = e.getValue().toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] *= scale;
                }
                if (e.getKey().equals(poisonKey)) {
                    v[v.length - 1] = poison;
                }
                Tensor t = Tensor.allocate(arena, DType.F32, e.getValue().shape());
                t.copyFrom(v);
                e.setValue(t);
            }
            if (name.endsWith(".st.pt")) {
                Safetensors.write(file, sd);
            } else {
                TorchCheckpoints.saveStateDict(file, sd);
            }
        }
        return file;
    }

    @Test
    void outputPathsAreCheckedBeforeSampling() throws Exception {
        usage(sample("--out-latents", dir.resolve("newdir") + "/"), "--out-latents", "trailing '/' names a directory");
        assertFalse(Files.exists(dir.resolve("newdir")));
        Files.createDirectory(dir.resolve("sub"));
        usage(sample("--out-image", dir.resolve("sub").toString()), "--out-image", "not a directory");
        usage(sample("--out-latents", dir.resolve("missing/out.safetensors").toString()), "--out-latents", "writable directory");
        Path device = Path.of("/dev/null");
        assumeTrue(Files.exists(device) && !Files.isRegularFile(device), "no /dev/null character device here");
        usage(sample("--out-latents", "/dev/null"), "--out-latents", "'/dev/null' is not allowed", "device, FIFO or socket");
        assertFalse(Files.isRegularFile(device));
    }

    @Test
    void nonFiniteLatentsExit3NamingTheCauseAndWriteNothing() throws Exception {
        Path out = dir.resolve("out.safetensors");
        CliRun r = sample("--cfg", "1e30", "--out-latents", out.toString(), "--out-image", dir.resolve("out.png").toString());
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.err().contains("seer sample: the final latents are not finite ("), r.err());
        assertTrue(r.err().contains("likely cause: --cfg 1.0E30"), r.err());
        assertTrue(r.err().contains("no output written"), r.err());
        assertEquals(List.of("tiny.json"), files(), "no output and no temporary files");

        // Weights scaled by 1e30: finite, so loaded, but the network's outputs overflow.
        Path huge = weights("huge.pt", 1e30f, null, 0);
        r = sample("--weights", huge.toString(), "--out-latents", out.toString());
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.err().contains("likely cause: --weights " + huge), r.err());
        assertFalse(Files.exists(out));

        // Noise scaled by 1e38.
        Path noise = dir.resolve("noise.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor z = Tensor.allocate(arena, DType.F32, 1, 4, 8, 8);
            float[] v = new float[256];
            java.util.Arrays.fill(v, 1e38f);
            z.copyFrom(v);
            Safetensors.write(noise, Map.of("noise", z));
        }
        r = sample("--noise", noise.toString(), "--out-latents", out.toString());
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.err().contains("likely cause: --noise " + noise + " (values up to 1.0E38"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void weightsWithNaNOrInfinityAreRefusedAtLoadNamingTheKey() throws Exception {
        Path nan = weights("nan.pt", 1, "blocks.1.mlp.fc2.bias", Float.NaN);
        usage(sample("--weights", nan.toString()), nan.toString(), "tensor 'blocks.1.mlp.fc2.bias'", "expected finite values, found NaN at element 31");
        Path inf = weights("inf.pt", 1, "pos_embed", Float.NEGATIVE_INFINITY);
        usage(sample("--weights", inf.toString()), "tensor 'pos_embed'", "found -Infinity at element");
    }

    @Test
    void aSafetensorsFileNamedPtLoadsByItsContentAndLatentsNameThePolicyInCliSyntax() throws Exception {
        Path st = weights("weights.st.pt", 1, null, 0);
        Path out = dir.resolve("latents.safetensors");
        CliRun r = sample("--weights", st.toString(), "--cache", "taylorseer", "--interval", "2", "--order", "1",
                "--out-latents", out.toString());
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile f = Safetensors.open(out)) {
            assertEquals("taylorseer:2:1", f.metadata().get("policy"));
            assertEquals(DType.F32, f.dtype("sample"));
        }
        r = sample("--cache", "none", "--out-latents", out.toString());
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile f = Safetensors.open(out)) {
            assertEquals("none", f.metadata().get("policy"), "once 'None[]'");
        }
    }

    @Test
    void aRunLargerThanTheMachineIsRefusedBeforeAnyAllocation() throws Exception {
        // 1024 x 1024 tokens, 100 samples guided: terabytes of activations.
        Files.writeString(config, "{\"input_size\": 1024, \"patch_size\": 1, \"hidden_size\": 64, \"num_heads\": 4, \"depth\": 1, "
                + "\"num_classes\": 10}");
        String labels = String.join(",", java.util.Collections.nCopies(100, "1"));
        long start = System.nanoTime();
        CliRun r = sample("--labels", labels);
        usage(r, "--model " + config, "the memory plan of", "200 rows a call at 1048576 tokens", "activations",
                "of memory available", "would fit: at most", "--ignore-memory-plan");
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "refused before any work");
    }

    @Test
    void etaPastOneIsRefused() {
        usage(sample("--eta", "1.5"), "--eta: 1.5 is not allowed; allowed: a number in [0, 1]");
        assertTrue(sample("--eta", "1").exit() == 0);
    }
}
