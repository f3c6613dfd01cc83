package dev.seer.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Text output that is either complete or absent, never half-written (see {@link AtomicFiles}). */
public final class TextFiles {
    private TextFiles() {
    }

    /** Writes {@code text} as UTF-8, replacing {@code file} atomically. */
    public static void writeAtomically(Path file, String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(file, ch -> {
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
        });
    }
}
