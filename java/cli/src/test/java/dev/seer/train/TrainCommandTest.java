package dev.seer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cli.SeerCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to the training and evaluation commands: a clear message, exit code 2, nothing written. */
class TrainCommandTest {

    static String[] run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = SeerCli.run(args);
            return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void missingDataSetSaysHowToInstallIt(@TempDir Path dir) {
        Path ckpt = dir.resolve("c.safetensors");
        for (String cmd : new String[] {"train", "train-probe", "eval"}) {
            String[] r = cmd.equals("train")
                    ? run(cmd, "--data", dir.resolve("nowhere").toString(), "--checkpoint", ckpt.toString())
                    : run(cmd, "--data", dir.resolve("nowhere").toString());
            assertEquals("2", r[0], cmd + ": " + r[2]);
            assertTrue(r[2].contains("apt-get install dataset-fashion-mnist") && r[2].contains("nowhere"), cmd + ": " + r[2]);
        }
        assertTrue(!Files.exists(ckpt));
    }

    @Test
    void corruptDataFileIsNamed(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("train-images-idx3-ubyte"), new byte[] {0, 0, 8, 1, 0, 0, 0, 1});
        Files.write(dir.resolve("train-labels-idx1-ubyte"), new byte[] {0, 0, 8, 1, 0, 0, 0, 1, 0});
        String[] r = run("train", "--data", dir.toString(), "--checkpoint", dir.resolve("c.safetensors").toString());
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("train-images-idx3-ubyte"), r[2]);
    }

    @Test
    void badPolicyIsRefused() {
        String[] r = run("eval", "--policies", "taylorseer:4");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("--policies: 'taylorseer:4' is not allowed; allowed: none, fora:N, taylorseer:N:O"), r[2]);
    }
}
