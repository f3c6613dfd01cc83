package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code seer extract-natives DIR} in a process of its own (it must run before Seer starts), then a sampling in a
 * second process pointed at DIR with {@code -Dseer.extract.dir}: it loads everything from DIR and writes nothing
 * there. Slow: it copies libtorch (~445 MB).
 */
@Tag("slow")
class ExtractNativesProcessTest {

    private static String run(Path workDir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().remove("SEER_NATIVE_DIR");
        pb.environment().remove("SEER_EXTRACT_DIR");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "timed out: " + out);
        assertEquals(0, p.exitValue(), String.join(" ", args) + ":\n" + out);
        return out;
    }

    private static Map<Path, Long> listing(Path dir) throws IOException {
        Map<Path, Long> files = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList()) {
                files.put(dir.relativize(p), Files.getLastModifiedTime(p).toMillis());
            }
        }
        return files;
    }

    @Test
    void preExtractedDirectoryServesASampling(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("natives");
        String out = run(tmp, "dev.seer.cli.SeerCli", "extract-natives", dir.toString());
        assertTrue(out.contains("into " + dir), out);
        assertTrue(Files.isRegularFile(dir.resolve("seer-natives.txt")));
        assertTrue(Files.isRegularFile(dir.resolve("seer-native/libseer_cpu.so")));
        try (Stream<Path> all = Files.walk(dir)) {
            assertTrue(all.anyMatch(p -> p.getFileName().toString().equals("libtorch_cpu.so")), "libtorch_cpu.so extracted");
        }
        Map<Path, Long> before = listing(dir);
        String sample = run(tmp, "-Dseer.extract.dir=" + dir, "-Dorg.slf4j.simpleLogger.log.dev.seer.tensor.SeerRuntime=debug",
                "dev.seer.cli.SeerCli", "sample", "--steps", "2", "--per-class", "1", "--out-grid", tmp.resolve("g.png").toString());
        assertTrue(sample.contains("native libraries: JavaCPP's cache " + dir + ", Seer's " + dir.resolve("seer-native")), sample);
        assertEquals(before, listing(dir), "a run from a pre-extracted directory writes nothing there");
    }
}
