package dev.seer.io;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed (detected by the gzip magic
 * 1f 8b, not by the file name). Only unsigned-byte data is read: labels (magic 0x00000801, one dimension) and
 * images (magic 0x00000803: count x rows x cols). Dimensions are big-endian u32.
 *
 * <p>Hostile or damaged files fail with a {@link DataFileException} naming the file: a wrong magic, data shorter
 * or longer than the header declares, corrupt gzip. Memory grows only with data actually read (never with the
 * declared count), so a header claiming billions of images costs nothing.
 */
public final class Idx {
    /** Magic of an unsigned-byte, one-dimensional IDX file (labels). */
    public static final int MAGIC_LABELS = 0x00000801;
    /** Magic of an unsigned-byte, three-dimensional IDX file (images). */
    public static final int MAGIC_IMAGES = 0x00000803;
    /** The largest data section read (1 GiB); Fashion-MNIST's training images are 47 MB. */
    public static final long MAX_DATA_BYTES = 1L << 30;

    private static final int FIRST_CHUNK = 1 << 16;

    private Idx() {
    }

    /**
     * A set of equally sized 8-bit grayscale images, row-major: image i, row r, column c is at
     * {@code pixels[(i * rows + r) * cols + c]} (0 = background for (Fashion-)MNIST). The array is not copied.
     */
    public record ImageSet(int count, int rows, int cols, byte[] pixels) {
        /** @throws IllegalArgumentException if the array length is not count * rows * cols */
        public ImageSet {
            if (count < 0 || rows < 0 || cols < 0 || (long) count * rows * cols != pixels.length) {
                throw new IllegalArgumentException(count + " images of " + rows + " x " + cols + " need "
                        + ((long) count * rows * cols) + " bytes, found " + pixels.length);
            }
        }

        /** The pixel value 0..255. */
        public int pixel(int image, int row, int col) {
            return pixels[(image * rows + row) * cols + col] & 0xff;
        }

        /** Image {@code index} as floats in [-1, 1] (p / 127.5 - 1), row-major (rows, cols): a model's input range. */
        public float[] imageFloats(int index) {
            if (index < 0 || index >= count) {
                throw new IndexOutOfBoundsException("image " + index + " of " + count);
            }
            int n = rows * cols;
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                out[i] = (pixels[index * n + i] & 0xff) / 127.5f - 1f;
            }
            return out;
        }

        @Override
        public String toString() {
            return "ImageSet[" + count + " x " + rows + " x " + cols + "]";
        }
    }

    /** Reads an images file (magic 0x00000803). */
    public static ImageSet readImages(Path file) throws IOException {
        Parsed p = read(file, MAGIC_IMAGES, "images");
        return new ImageSet(p.dims[0], p.dims[1], p.dims[2], p.data);
    }

    /** Reads a labels file (magic 0x00000801) without checking the values. */
    public static byte[] readLabels(Path file) throws IOException {
        return read(file, MAGIC_LABELS, "labels").data;
    }

    /**
     * Reads a labels file and checks that every label is in 0..numClasses-1.
     *
     * @throws DataFileException naming the first label out of range and its index
     */
    public static byte[] readLabels(Path file, int numClasses) throws IOException {
        if (numClasses < 1 || numClasses > 256) {
            throw new IllegalArgumentException("numClasses must be in 1..256, found " + numClasses);
        }
        byte[] labels = readLabels(file);
        for (int i = 0; i < labels.length; i++) {
            int v = labels[i] & 0xff;
            if (v >= numClasses) {
                throw new DataFileException(file, "labels in 0.." + (numClasses - 1), "label " + v + " at index " + i);
            }
        }
        return labels;
    }

    private record Parsed(int[] dims, byte[] data) {
    }

    private static Parsed read(Path file, int expectedMagic, String what) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            boolean gzip = b0 == 0x1f && b1 == 0x8b;
            try (InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw) {
                return parse(file, in, expectedMagic, what, gzip);
            } catch (ZipException | EOFException e) {
                // Corrupt or cut-off compressed data: a property of the file, not an I/O failure.
                throw new DataFileException(file, "a valid gzip stream", "corrupt gzip data (" + e.getMessage() + ")", e);
            }
        }
    }

    private static Parsed parse(Path file, InputStream in, int expectedMagic, String what, boolean gzip) throws IOException {
        int ndims = expectedMagic & 0xff;
        byte[] header = new byte[4 + 4 * ndims];
        int got = in.readNBytes(header, 0, 4);
        if (got < 4) {
            throw new DataFileException(file, "an IDX header (4-byte magic)", got + " bytes" + (gzip ? " after decompression" : ""));
        }
        int magic = beInt(header, 0);
        if (magic != expectedMagic) {
            throw new DataFileException(file, String.format("IDX %s magic 0x%08x", what, expectedMagic),
                    String.format("magic 0x%08x%s", magic, describeMagic(magic)));
        }
        got = in.readNBytes(header, 4, 4 * ndims);
        if (got < 4 * ndims) {
            throw new DataFileException(file, ndims + " dimension sizes in the header", "a header cut off after " + (4 + got) + " bytes");
        }
        int[] dims = new int[ndims];
        long bytes = 1;
        for (int i = 0; i < ndims; i++) {
            long d = beInt(header, 4 + 4 * i) & 0xffffffffL;
            if (d > Integer.MAX_VALUE) {
                throw new DataFileException(file, "dimension sizes below 2^31", "dimension " + i + " = " + d);
            }
            dims[i] = (int) d;
            bytes *= d;
            if (bytes > MAX_DATA_BYTES) {
                throw new DataFileException(file, "at most " + MAX_DATA_BYTES + " bytes of data", "dimensions "
                        + Arrays.toString(Arrays.copyOf(dims, i + 1)) + " declaring more");
            }
        }
        byte[] data = readExactly(in, (int) bytes);
        if (data.length < bytes) {
            throw new DataFileException(file, bytes + " bytes of data for dimensions " + Arrays.toString(dims),
                    data.length + " (truncated)");
        }
        if (in.read() >= 0) {
            throw new DataFileException(file, bytes + " bytes of data for dimensions " + Arrays.toString(dims),
                    "more (trailing data after the declared end)");
        }
        return new Parsed(dims, data);
    }

    /** Reads up to {@code n} bytes, growing the buffer with what actually arrives rather than allocating n upfront. */
    private static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] buf = new byte[Math.min(n, FIRST_CHUNK)];
        int filled = 0;
        while (filled < n) {
            if (filled == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
            }
            int r = in.read(buf, filled, buf.length - filled);
            if (r < 0) {
                break;
            }
            filled += r;
        }
        return filled == buf.length ? buf : Arrays.copyOf(buf, filled);
    }

    private static String describeMagic(int magic) {
        if (magic == MAGIC_LABELS) {
            return " (a labels file)";
        }
        if (magic == MAGIC_IMAGES) {
            return " (an images file)";
        }
        if ((magic >>> 16) == 0 && (magic >>> 8 & 0xff) != 0x08) {
            return " (IDX data of type 0x" + Integer.toHexString(magic >>> 8 & 0xff) + ", not unsigned bytes)";
        }
        return "";
    }

    private static int beInt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }
}
