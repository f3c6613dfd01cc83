package dev.seer.tensor;

import dev.seer.SeerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Chooses the directory native libraries are extracted to: the one asked for when Seer can write there, or when it
 * was pre-extracted ({@link #MARKER}, written by {@code seer extract-natives}; then it may be read-only), else a
 * directory under the temporary directory, with a warning saying why and how to fix it.
 */
final class ExtractDir {
    /** Written by {@code seer extract-natives} into a complete, pre-extracted directory. */
    static final String MARKER = SeerRuntime.PRE_EXTRACTED_MARKER;

    /** The directory to use and, when it is the fallback, the warning to log. */
    record Choice(Path dir, Optional<String> warning) {
    }

    private ExtractDir() {
    }

    static Choice choose(Path wanted, Path tempDir) {
        String problem = problem(wanted);
        if (problem == null) {
            return new Choice(wanted, Optional.empty());
        }
        Path fallback = tempDir.resolve("seer-" + System.getProperty("user.name", "user")).resolve("natives");
        String fix = "set -D" + SeerOptions.EXTRACT_DIR_PROPERTY + "=DIR or " + SeerOptions.EXTRACT_DIR_ENV
                + "=DIR to a writable directory, or pre-extract the libraries with `seer extract-natives DIR`";
        String fallbackProblem = problem(fallback);
        if (fallbackProblem != null) {
            throw new IllegalStateException("Seer cannot extract its native libraries: " + wanted + ": " + problem
                    + "; the temporary directory's " + fallback + ": " + fallbackProblem + "; " + fix);
        }
        return new Choice(fallback, Optional.of("Seer cannot extract native libraries to " + wanted + " (" + problem
                + "); extracting them to " + fallback + " instead; " + fix));
    }

    /** Why {@code dir} cannot take the libraries, or null when it can (writable, or pre-extracted). */
    static String problem(Path dir) {
        if (Files.isRegularFile(dir.resolve(MARKER))) {
            return null;
        }
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".seer-write-check", ".tmp");
            Files.delete(probe);
            return null;
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            String reason = e.getMessage() == null || e.getMessage().isBlank() ? "" : ": " + e.getMessage();
            return "not writable, " + e.getClass().getSimpleName() + reason;
        }
    }
}
