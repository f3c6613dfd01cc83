package dev.seer.kernel;

import dev.seer.SeerOptions;
import dev.seer.tensor.SeerRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Optional;

/**
 * Finds Seer's shared libraries: the directory in system property {@code seer.native.dir} or environment
 * SEER_NATIVE_DIR (the build tree's build/native/lib), else the copy packaged in the jar under
 * /dev/seer/native/linux-x86_64/, extracted to {@link SeerRuntime#nativeExtractDir()} (the extraction directory's
 * seer-native/, see {@link dev.seer.SeerOptions#extractDir()}). A file already there with the same bytes is used as
 * it is, so a pre-extracted, read-only directory works.
 */
final class NativeLibraries {
    private NativeLibraries() {
    }

    static Optional<Path> find(String fileName) {
        String dir = System.getProperty("seer.native.dir", System.getenv("SEER_NATIVE_DIR"));
        if (dir != null) {
            Path p = Path.of(dir, fileName);
            return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
        }
        String resource = "/dev/seer/native/linux-x86_64/" + fileName;
        byte[] bytes;
        try (InputStream in = NativeLibraries.class.getResourceAsStream(resource)) {
            if (in == null) {
                return Optional.empty();
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("could not read the class-path resource " + resource + ": " + e.getMessage(), e);
        }
        return Optional.of(extract(bytes, SeerRuntime.nativeExtractDir().resolve(fileName)));
    }

    /** Writes {@code bytes} to {@code target} (atomically) unless it holds them already. */
    static Path extract(byte[] bytes, Path target) {
        try {
            if (Files.isRegularFile(target) && Files.size(target) == bytes.length
                    && Arrays.equals(Files.readAllBytes(target), bytes)) {
                return target;
            }
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
            try {
                Files.write(tmp, bytes);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new IllegalStateException("could not extract " + target.getFileName() + " to " + target.getParent() + ": "
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + "; set -D" + SeerOptions.EXTRACT_DIR_PROPERTY
                    + " or " + SeerOptions.EXTRACT_DIR_ENV + " to a writable directory, or pre-extract with "
                    + "`seer extract-natives DIR`", e);
        }
    }

    static String searchedWhere(String fileName) {
        String dir = System.getProperty("seer.native.dir", System.getenv("SEER_NATIVE_DIR"));
        return dir != null ? Path.of(dir, fileName).toString()
                : "the classpath resource /dev/seer/native/linux-x86_64/" + fileName
                + " (set -Dseer.native.dir or SEER_NATIVE_DIR to the build's build/native/lib)";
    }
}
