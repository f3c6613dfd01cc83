package dev.seer.model.dit;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeded mutations of a valid config JSON: each is accepted, or refused with IOException / IllegalArgumentException. */
class ConfigFuzzTest {
    static final int VARIANTS = Integer.getInteger("seer.fuzz.variants", 300);

    @Test
    void mutatedConfigsAreAcceptedOrRefusedCleanly(@TempDir Path dir) throws Exception {
        byte[] valid = DitConfig.preset("DiT-S/2").toJson().getBytes(StandardCharsets.UTF_8);
        Random rnd = new Random(42);
        Path file = dir.resolve("config.json");
        String alphabet = "{}[],:\"0123456789-.eE truefalsn\\";
        for (int i = 0; i < VARIANTS; i++) {
            byte[] b = valid.clone();
            int edits = 1 + rnd.nextInt(4);
            for (int e = 0; e < edits; e++) {
                switch (rnd.nextInt(3)) {
                    case 0 -> b[rnd.nextInt(b.length)] = (byte) alphabet.charAt(rnd.nextInt(alphabet.length()));
                    case 1 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length + 1));
                    default -> b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                }
                if (b.length == 0) {
                    break;
                }
            }
            Files.write(file, b);
            long start = System.nanoTime();
            try {
                DitConfig.fromJson(file);
            } catch (IOException | IllegalArgumentException expected) {
                // refused with a message: fine
            } catch (RuntimeException e) {
                fail("variant " + i + " (" + new String(b, StandardCharsets.UTF_8) + ") threw " + e, e);
            }
            if (System.nanoTime() - start > 10_000_000_000L) {
                fail("variant " + i + " took over 10 s");
            }
        }
    }
}
