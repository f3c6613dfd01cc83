package dev.seer.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A checkpoint file (safetensors, .pt) that cannot be used as it is. Names the file, the tensor key where one
 * applies, what was expected and what was found:
 * {@code model.safetensors: tensor 'blocks.0.attn.qkv.weight': expected shape (1152, 384), found (1152, 385)}.
 * Every rejection by the readers in this package is one of these; a corrupt or hostile file never surfaces as an
 * unchecked exception.
 */
public class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String key;
    private final String expected;
    private final String found;

    /**
     * @param file     the file that was read or written
     * @param key      the tensor key the problem concerns, or null when it concerns the file as a whole
     * @param expected what the reader needed, in words ("shape (1152, 384)")
     * @param found    what the file holds instead ("(1152, 385)")
     */
    public CheckpointException(Path file, String key, String expected, String found) {
        this(file, key, expected, found, null);
    }

    /** As {@link #CheckpointException(Path, String, String, String)}, with the underlying cause. */
    public CheckpointException(Path file, String key, String expected, String found, Throwable cause) {
        super(format(file, key, expected, found), cause);
        this.file = Objects.requireNonNull(file, "file");
        this.key = key;
        this.expected = Objects.requireNonNull(expected, "expected");
        this.found = Objects.requireNonNull(found, "found");
    }

    /** The file that was read or written. */
    public Path file() {
        return file;
    }

    /** The tensor key the problem concerns, or null when it concerns the file as a whole. */
    public String key() {
        return key;
    }

    /** What the reader needed. */
    public String expected() {
        return expected;
    }

    /** What the file holds instead. */
    public String found() {
        return found;
    }

    private static String format(Path file, String key, String expected, String found) {
        StringBuilder sb = new StringBuilder().append(file).append(": ");
        if (key != null) {
            sb.append("tensor '").append(key).append("': ");
        }
        return sb.append("expected ").append(expected).append(", found ").append(found).toString();
    }
}
