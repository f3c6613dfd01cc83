package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Output files are complete or absent, never replace a non-regular file, and leave no stale temporary files. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private static void write(Path target, String text) throws IOException {
        AtomicFiles.write(target, ch -> ch.write(ByteBuffer.wrap(text.getBytes())));
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void staleTemporaryFilesOfKilledWritersAreRemovedByTheNextWrite() throws Exception {
        Path target = dir.resolve("out.safetensors");
        // A writer that was killed: a pid that no live process has (above Linux's pid_max of 2^22).
        Path gone = dir.resolve(".out.safetensors.99999999.123." + "seer-tmp");
        Files.writeString(gone, "partial");
        // The pattern of earlier versions, written before this JVM started.
        Path old = dir.resolve(".out.safetensors.4567.tmp");
        Files.writeString(old, "partial");
        Files.setLastModifiedTime(old, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
        // Another target's temporary file and a live process's are left alone.
        Path otherTarget = dir.resolve(".other.png.99999999.1." + "seer-tmp");
        Files.writeString(otherTarget, "x");
        // out.safetensors.5's, although its name starts like out.safetensors's.
        Path longerName = dir.resolve(".out.safetensors.5.99999999.1." + "seer-tmp");
        Files.writeString(longerName, "x");
        Path live = dir.resolve(".out.safetensors." + ProcessHandle.current().parent().orElseThrow().pid() + ".9.seer-tmp");
        Files.writeString(live, "x");
        write(target, "complete");
        assertEquals("complete", Files.readString(target));
        assertEquals(java.util.Set.of(live.getFileName().toString(), otherTarget.getFileName().toString(),
                        longerName.getFileName().toString(), "out.safetensors"),
                java.util.Set.copyOf(names()));
    }

    @Test
    void aFailedWriteLeavesNothingAndNamesTheTargetNotTheTemporaryFile() throws Exception {
        Path target = dir.resolve("out.png");
        Files.writeString(target, "before");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, ch -> {
            ch.write(ByteBuffer.wrap(new byte[100]));
            throw new FileSystemException("/somewhere/.out.png.1.2.seer-tmp", null, "No space left on device");
        }));
        assertEquals(target + ": could not be written (No space left on device)", e.getMessage());
        assertEquals("before", Files.readString(target));
        assertEquals(List.of("out.png"), names());
    }

    @Test
    void directoriesAndDevicesAreNeverReplaced() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        IOException e = assertThrows(IOException.class, () -> write(sub, "x"));
        assertTrue(e.getMessage().contains("exists and is not a regular file (a directory)"), e.getMessage());
        assertTrue(Files.isDirectory(sub));
        Path device = Path.of("/dev/null");
        assumeTrue(Files.exists(device) && !Files.isRegularFile(device), "no /dev/null character device here");
        e = assertThrows(IOException.class, () -> write(device, "x"));
        assertTrue(e.getMessage().contains("a device, FIFO or socket"), e.getMessage());
        assertFalse(Files.isRegularFile(device));
    }
}
