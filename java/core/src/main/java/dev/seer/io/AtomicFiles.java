package dev.seer.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes a file so that it is either complete or absent: the bytes go to a temporary file in the target's
 * directory (same file system, so the rename is atomic), which is fsync'd and then renamed over the target.
 * If the body fails, the temporary file is deleted and an existing target is left as it was.
 *
 * <p>The target must be a regular file or absent: a directory, device, FIFO or socket there is refused before
 * anything is written (a rename would replace a device node with a regular file). Temporary files are named
 * {@code .<target>.<pid>.<random>.seer-tmp}; one left behind by a killed process (a process that is gone, or whose
 * pid now belongs to a process started after the file was last written) is deleted by the next write of the same
 * target, and a JVM that shuts down normally (SIGINT, SIGTERM) deletes its own. Failures name the target, never the
 * temporary file.
 */
final class AtomicFiles {
    /** The suffix of temporary files. */
    static final String TEMP_SUFFIX = ".seer-tmp";

    /** Temporary files being written now, deleted by a shutdown hook if the JVM exits meanwhile. */
    private static final Set<Path> IN_FLIGHT = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Path p : IN_FLIGHT) {
                deleteQuietly(p);
            }
        }, "seer-temp-cleanup"));
    }

    /** Writes the whole content into an open channel. */
    @FunctionalInterface
    interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    static void write(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || abs.getFileName() == null) {
            throw new IOException(target + ": not a file path");
        }
        if (Files.exists(abs) && !Files.isRegularFile(abs)) {
            throw new IOException(target + ": exists and is not a regular file (" + kind(abs) + "); refusing to replace it");
        }
        String name = abs.getFileName().toString();
        removeStale(dir, name);
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + name + "." + ProcessHandle.current().pid() + ".", TEMP_SUFFIX);
        } catch (IOException e) {
            throw failure(target, null, e);
        }
        IN_FLIGHT.add(tmp);
        boolean moved = false;
        try {
            try {
                // createTempFile makes the file owner-only; give the result ordinary permissions.
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException e) {
                // Not a POSIX file system: keep what it gives.
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            syncDirectory(dir);
        } catch (CheckpointException e) {
            throw e; // already names the target and what was wrong with the content
        } catch (IOException e) {
            throw failure(target, tmp, e);
        } finally {
            if (!moved) {
                deleteQuietly(tmp);
            }
            IN_FLIGHT.remove(tmp);
        }
    }

    /** An I/O failure in the target's name: the reason ("No space left on device"), without the temporary path. */
    private static IOException failure(Path target, Path tmp, IOException e) {
        String reason = e instanceof FileSystemException fse && fse.getReason() != null ? fse.getReason()
                : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (tmp != null) {
            reason = reason.replace(tmp.toString(), target.toString());
        }
        return new IOException(target + ": could not be written (" + reason + ")", e);
    }

    private static String kind(Path p) {
        return Files.isDirectory(p) ? "a directory" : "a device, FIFO or socket";
    }

    /**
     * Deletes temporary files of earlier writes of {@code name} whose writer is gone. Older versions named them
     * {@code .<name>.<digits>.tmp}; those are deleted when older than this JVM.
     */
    private static void removeStale(Path dir, String name) {
        String prefix = "." + name + ".";
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, p -> {
            String f = p.getFileName().toString();
            return f.startsWith(prefix) && (f.endsWith(TEMP_SUFFIX) || f.endsWith(".tmp"));
        })) {
            for (Path p : files) {
                if (isStale(p, p.getFileName().toString().substring(prefix.length()))) {
                    deleteQuietly(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Cleaning up is a courtesy: the write itself does not depend on it.
        }
    }

    private static boolean isStale(Path file, String rest) throws IOException {
        if (IN_FLIGHT.contains(file) || !Files.isRegularFile(file)) {
            return false;
        }
        Instant written = Files.getLastModifiedTime(file).toInstant();
        if (!rest.endsWith(TEMP_SUFFIX)) {
            // The old pattern, .<name>.<digits>.tmp, carries no pid: stale if written before this JVM started.
            return rest.matches("[0-9]+\\.tmp") && written.isBefore(startOf(ProcessHandle.current()).orElse(Instant.MAX));
        }
        // Exactly <pid>.<random>.seer-tmp: a temporary file of another target (".a.5.<pid>..." for "a.5" when
        // cleaning for "a") has more parts and is left alone.
        if (!rest.matches("[0-9]{1,18}\\.[0-9]+\\" + TEMP_SUFFIX)) {
            return false;
        }
        long pid = Long.parseLong(rest.substring(0, rest.indexOf('.')));
        if (pid == ProcessHandle.current().pid()) {
            return true; // ours and not in flight: left by a failed delete, or by an earlier process with this pid
        }
        Optional<ProcessHandle> writer = ProcessHandle.of(pid);
        // Gone, or the pid was reused by a process that started after the file was last written.
        return writer.isEmpty() || startOf(writer.get()).map(written::isBefore).orElse(false);
    }

    private static Optional<Instant> startOf(ProcessHandle p) {
        return p.info().startInstant();
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // The original failure matters more than a leftover temporary file.
        }
    }

    /** Makes the rename durable; not every file system lets a directory be opened, which is harmless. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Nothing to do: the file itself is complete.
        }
    }
}
