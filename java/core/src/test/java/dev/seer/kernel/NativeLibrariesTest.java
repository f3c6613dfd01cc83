package dev.seer.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Extracting Seer's own libraries: an identical file is reused untouched, a different one replaced, failures explained. */
class NativeLibrariesTest {

    @Test
    void extractsReusesAndReplaces(@TempDir Path tmp) throws Exception {
        Path target = tmp.resolve("seer-native/libx.so");
        byte[] one = {1, 2, 3, 4};
        assertEquals(target, NativeLibraries.extract(one, target));
        assertArrayEquals(one, Files.readAllBytes(target));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)),
                "readable by every user of a shared directory");
        FileTime old = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(target, old);
        NativeLibraries.extract(one, target);
        assertEquals(old, Files.getLastModifiedTime(target), "the same bytes: the file is not rewritten");
        byte[] two = {1, 2, 3, 5};
        NativeLibraries.extract(two, target);
        assertArrayEquals(two, Files.readAllBytes(target));
        try (var files = Files.list(target.getParent())) {
            assertEquals(1, files.count(), "no .part file left behind");
        }
    }

    @Test
    void failureNamesTheDirectoryAndTheFix(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NativeLibraries.extract(new byte[] {1}, file.resolve("seer-native/libx.so")));
        assertTrue(e.getMessage().contains("could not extract libx.so to " + file.resolve("seer-native"))
                && e.getMessage().contains("seer.extract.dir") && e.getMessage().contains("seer extract-natives"), e.getMessage());
    }
}
