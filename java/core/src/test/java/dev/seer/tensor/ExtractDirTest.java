package dev.seer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The extraction directory: used when writable or pre-extracted, else the temporary directory with a clear warning. */
class ExtractDirTest {

    @Test
    void aWritableDirectoryIsUsedAndCreated(@TempDir Path tmp) {
        Path wanted = tmp.resolve("a/b/natives");
        ExtractDir.Choice c = ExtractDir.choose(wanted, tmp.resolve("temp"));
        assertEquals(wanted, c.dir());
        assertTrue(c.warning().isEmpty());
        assertTrue(Files.isDirectory(wanted));
        try (var files = Files.list(wanted)) {
            assertEquals(0, files.count(), "the write check leaves nothing behind");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void anUnwritableDirectoryFallsBackToTheTemporaryDirectory(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        Path wanted = file.resolve("natives"); // below a regular file: no one can create it, root included
        ExtractDir.Choice c = ExtractDir.choose(wanted, tmp.resolve("temp"));
        assertTrue(c.dir().startsWith(tmp.resolve("temp")), c.dir().toString());
        assertTrue(Files.isDirectory(c.dir()));
        String w = c.warning().orElseThrow();
        assertTrue(w.contains(wanted.toString()) && w.contains("not writable") && w.contains(c.dir().toString())
                && w.contains("seer.extract.dir") && w.contains("SEER_EXTRACT_DIR") && w.contains("seer extract-natives"), w);
    }

    @Test
    void noUsableDirectoryAtAllIsOneClearError(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ExtractDir.choose(file.resolve("natives"), file.resolve("temp")));
        assertTrue(e.getMessage().contains(file.resolve("natives").toString()) && e.getMessage().contains("temporary directory")
                && e.getMessage().contains("seer extract-natives"), e.getMessage());
    }

    @Test
    void aReadOnlyPreExtractedDirectoryIsUsed(@TempDir Path tmp) throws Exception {
        assumeTrue(!"root".equals(System.getProperty("user.name")), "root can write to a read-only directory");
        Path dir = Files.createDirectories(tmp.resolve("natives"));
        Path plain = Files.createDirectories(tmp.resolve("plain"));
        Files.writeString(dir.resolve(ExtractDir.MARKER), "pre-extracted");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
        Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assertNull(ExtractDir.problem(dir));
            assertTrue(ExtractDir.problem(plain).contains("not writable"));
        } finally {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void theMarkerMakesADirectoryUsableWithoutAWrite(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("natives"));
        Files.writeString(dir.resolve(ExtractDir.MARKER), "pre-extracted");
        assertNull(ExtractDir.problem(dir));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the marker: no write check was needed");
        }
    }
}
