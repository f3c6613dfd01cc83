package dev.seer.examples.service;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;

/**
 * An 8-bit grayscale PNG written in pieces: the header first, text chunks while the image is computed (each one a
 * chance to notice that the client has gone), the pixels and the end chunk last. A response cut short lacks its
 * IEND chunk, so no PNG decoder takes it for a complete image.
 */
final class ProgressivePng {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private final OutputStream out;
    private final int width;
    private final int height;

    /** Writes the signature and IHDR for a {@code width} x {@code height} grayscale image. */
    ProgressivePng(OutputStream out, int width, int height) throws IOException {
        this.out = out;
        this.width = width;
        this.height = height;
        out.write(SIGNATURE);
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, width);
        putInt(ihdr, 4, height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 0; // colour type: grayscale
        chunk("IHDR", ihdr);
        out.flush();
    }

    /** A tEXt chunk (Latin-1 keyword and text), flushed to the client at once. */
    void text(String keyword, String value) throws IOException {
        byte[] k = keyword.getBytes(StandardCharsets.ISO_8859_1);
        byte[] v = value.getBytes(StandardCharsets.ISO_8859_1);
        byte[] data = new byte[k.length + 1 + v.length];
        System.arraycopy(k, 0, data, 0, k.length);
        System.arraycopy(v, 0, data, k.length + 1, v.length);
        chunk("tEXt", data);
        out.flush();
    }

    /** The pixels (row-major, {@code width * height} bytes) and the end of the image. */
    void finish(byte[] gray) throws IOException {
        if (gray.length != width * height) {
            throw new IllegalArgumentException("expected " + width * height + " pixels, found " + gray.length);
        }
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (DeflaterOutputStream deflate = new DeflaterOutputStream(z)) {
            for (int y = 0; y < height; y++) {
                deflate.write(0); // filter: none
                deflate.write(gray, y * width, width);
            }
        }
        chunk("IDAT", z.toByteArray());
        chunk("IEND", new byte[0]);
        out.flush();
    }

    private void chunk(String type, byte[] data) throws IOException {
        byte[] head = new byte[8];
        putInt(head, 0, data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, head, 4, 4);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        byte[] tail = new byte[4];
        putInt(tail, 0, (int) crc.getValue());
        out.write(head);
        out.write(data);
        out.write(tail);
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
