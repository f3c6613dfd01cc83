package dev.seer.kernel;

import dev.seer.SeerOptions;
import dev.seer.tensor.SeerRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Finds Seer's shared libraries: the directory in system property {@code seer.native.dir} or environment
 * SEER_NATIVE_DIR (the build tree's build/native/lib), else the copy packaged in the seer-core jar under
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

    /** The libraries a build may package (libseer_cuda only where nvcc was found). */
    static final List<String> PACKAGED = List.of("libseer_cpu.so", "libseer_cuda.so");

    /** Extracts every packaged library into {@code dir}; returns the files (written, or found identical). */
    static List<Path> extractPackaged(Path dir) {
        List<Path> out = new ArrayList<>();
        for (String name : PACKAGED) {
            String resource = "/dev/seer/native/linux-x86_64/" + name;
            try (InputStream in = NativeLibraries.class.getResourceAsStream(resource)) {
                if (in != null) {
                    out.add(extract(in.readAllBytes(), dir.resolve(name)));
                }
            } catch (IOException e) {
                throw new IllegalStateException("could not read the class-path resource " + resource + ": " + e.getMessage(), e);
            }
        }
        return out;
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
                if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
                    // readable by every user, like the libraries JavaCPP extracts (a shared, pre-extracted directory)
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
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
