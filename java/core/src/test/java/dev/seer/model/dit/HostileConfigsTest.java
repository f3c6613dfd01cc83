package dev.seer.model.dit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The hostile configs of the hardening review: each once ended in an OutOfMemoryError, a hang, an int overflow or
 * was accepted; now each is refused in one line naming the file, the field, the value and what is allowed, before
 * anything is allocated.
 */
class HostileConfigsTest {
    @TempDir
    Path dir;

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("{\"hidden_size\": 1000000000}", "'hidden_size' must be an integer in 1..65536, found 1000000000"),
                Arguments.of("{\"hidden_size\": 1e9}", "'hidden_size' must be an integer in 1..65536"),
                Arguments.of("{\"in_channels\": 1000000000}", "'in_channels' must be an integer in 1..256"),
                Arguments.of("{\"num_classes\": 1000000000}", "'num_classes' must be an integer in 1..1000000"),
                Arguments.of("{\"num_classes\": 2147483647}", "'num_classes' must be an integer in 1..1000000, found 2147483647"),
                Arguments.of("{\"mlp_ratio\": 1e12}", "'mlp_ratio' must be a number in 0.0..64.0"),
                Arguments.of("{\"input_size\": 4096, \"patch_size\": 1}", "'input_size' must be an integer in 1..1024"),
                Arguments.of("{\"input_size\": 65536, \"patch_size\": 1}", "'input_size' must be an integer in 1..1024"),
                Arguments.of("{\"input_size\": 46342}", "'input_size' must be an integer in 1..1024"),
                Arguments.of("{\"depth\": 1000000}", "'depth' must be an integer in 1..1024"),
                Arguments.of("{\"depth\": 2147483647}", "'depth' must be an integer in 1..1024"),
                Arguments.of("{\"depth\": 28} garbage", "one JSON object expected, found more content after it at line 1"),
                Arguments.of("{\"depth\": 28} {\"depth\": 28}", "one JSON object expected, found more content after it at line 1"),
                Arguments.of("{\"depht\": 28}", "unknown key 'depht'"),
                Arguments.of("{\"mlp_ratio\": 0}", "mlp_ratio must be in (0, 64]"),
                Arguments.of("{\"class_dropout_prob\": 1}", "class_dropout_prob must be in [0, 1)"),
                Arguments.of("{\"hidden_size\": 65536, \"num_heads\": 16}", "mlp_ratio 4.0 makes mlp.fc1"),
                Arguments.of("{\"hidden_size\": 32768, \"num_heads\": 16, \"mlp_ratio\": 1}", "hidden_size 32768 makes adaLN"),
                Arguments.of("{\"num_classes\": 1000000, \"hidden_size\": 4096, \"num_heads\": 16}",
                        "num_classes 1000000 makes the label table"),
                // ~20 TB of weights: refused against the machine's memory, naming the field that overshoots most.
                Arguments.of("{\"depth\": 1024, \"hidden_size\": 16384, \"num_heads\": 16}", "more than this machine's"));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void refusedInOneLineNamingTheField(String json, String fragment) throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, json);
        long start = System.nanoTime();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DitConfig.fromJson(file));
        assertTrue(System.nanoTime() - start < 10_000_000_000L, "took over 10 s: no hang, no allocation");
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "no '" + fragment + "' in: " + e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        String text = e.getMessage().substring(file.toString().length());
        assertTrue(!text.matches(".*-[0-9]{3,}.*"), "no negative dimensions from an overflow: " + text);
        assertTrue(!text.contains("com.fasterxml") && !text.contains("Exception"), "no Java internals: " + text);
    }

    @Test
    void invalidUtf8IsNamedAsSuch() throws Exception {
        Path file = dir.resolve("config.json");
        Files.write(file, new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DitConfig.fromJson(file));
        assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
    }

    @Test
    void memoryRefusalNamesFieldValueAndTheMostThatFits() {
        DitConfig big = new DitConfig(32, 2, 4, 16384, 1024, 16, 4.0, 0.1, 1000, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> big.requireWeightsFit(64L << 30));
        // 64 GiB: depth (1024 where about a dozen fit) overshoots most; hidden_size alone could shrink to ~1000.
        assertTrue(e.getMessage().startsWith("depth 1024 makes "), e.getMessage());
        assertTrue(e.getMessage().contains("more than this machine's 64.0 GiB of memory; with the other fields as they are, depth at most"),
                e.getMessage());
        long fits = Long.parseLong(e.getMessage().replaceAll(".*depth at most ([0-9]+) fits", "$1"));
        DitConfig smaller = new DitConfig(32, 2, 4, 16384, (int) fits, 16, 4.0, 0.1, 1000, true);
        smaller.requireWeightsFit(64L << 30);
        assertThrows(IllegalArgumentException.class,
                () -> new DitConfig(32, 2, 4, 16384, (int) fits + 1, 16, 4.0, 0.1, 1000, true).requireWeightsFit(64L << 30));
    }

    @Test
    void parameterCountIsTheSumOfTheStateDictShapes() {
        for (DitConfig c : new DitConfig[] {DitModelTest.TINY, DitConfig.preset("DiT-XL/2"), DitConfig.preset("DiT-S/8", 64, 4, 10),
                new DitConfig(8, 4, 3, 48, 3, 3, 2.0, 0.1, 4, false)}) {
            long sum = 0;
            for (long[] shape : DitWeights.expectedShapes(c).values()) {
                long n = 1;
                for (long d : shape) {
                    n *= d;
                }
                sum += n;
            }
            // The memory plan counts learn_sigma's doubled output and the null class always: an upper bound, tight
            // for the official configs.
            assertTrue(c.parameterCount() >= sum && c.parameterCount() - sum <= 2L * c.patchSize() * c.patchSize()
                    * c.inChannels() * (c.hiddenSize() + 1) + c.hiddenSize(), c + ": " + c.parameterCount() + " vs " + sum);
            if (c.learnSigma() && c.hasNullClass()) {
                assertEquals(sum, c.parameterCount(), c.toString());
            }
        }
        assertEquals(675_129_632L, DitConfig.preset("DiT-XL/2").parameterCount(), "DiT-XL/2 at 256 px (official: 675M)");
    }
}
