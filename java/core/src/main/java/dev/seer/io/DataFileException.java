package dev.seer.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A data set file (IDX images or labels) that cannot be used as it is, or that is not there. Names the file,
 * what was expected and what was found:
 * {@code t10k-images-idx3-ubyte.gz: expected 7840000 bytes of pixels (10000 x 28 x 28), found 4096}.
 * Separate from {@link CheckpointException} because a data file has no tensor keys.
 */
public class DataFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String expected;
    private final String found;

    /**
     * @param file     the file that was read (or looked for)
     * @param expected what the reader needed, in words
     * @param found    what it found instead
     */
    public DataFileException(Path file, String expected, String found) {
        this(file, expected, found, null);
    }

    /** As {@link #DataFileException(Path, String, String)}, with the underlying cause. */
    public DataFileException(Path file, String expected, String found, Throwable cause) {
        super(file + ": expected " + expected + ", found " + found, cause);
        this.file = Objects.requireNonNull(file, "file");
        this.expected = Objects.requireNonNull(expected, "expected");
        this.found = Objects.requireNonNull(found, "found");
    }

    /** The file that was read (or looked for). */
    public Path file() {
        return file;
    }

    /** What the reader needed. */
    public String expected() {
        return expected;
    }

    /** What it found instead. */
    public String found() {
        return found;
    }
}
