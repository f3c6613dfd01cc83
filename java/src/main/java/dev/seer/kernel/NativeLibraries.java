package dev.seer.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Finds Seer's shared libraries: the directory in system property {@code seer.native.dir} or environment
 * SEER_NATIVE_DIR (the build tree's build/native/lib), else the copy packaged in the jar under
 * /dev/seer/native/linux-x86_64/, extracted next to JavaCPP's cache.
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
        try (InputStream in = NativeLibraries.class.getResourceAsStream(resource)) {
            if (in == null) {
                return Optional.empty();
            }
            String cache = System.getProperty("org.bytedeco.javacpp.cachedir", System.getProperty("java.io.tmpdir"));
            Path target = Path.of(cache, "seer-native", fileName);
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), fileName, ".part");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return Optional.of(target);
        } catch (IOException e) {
            throw new IllegalStateException("could not extract " + resource + ": " + e.getMessage(), e);
        }
    }

    static String searchedWhere(String fileName) {
        String dir = System.getProperty("seer.native.dir", System.getenv("SEER_NATIVE_DIR"));
        return dir != null ? Path.of(dir, fileName).toString()
                : "the classpath resource /dev/seer/native/linux-x86_64/" + fileName
                + " (set -Dseer.native.dir or SEER_NATIVE_DIR to the build's build/native/lib)";
    }
}
