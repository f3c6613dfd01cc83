package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    /** An IDX file built by hand: magic, big-endian u32 dimensions, then the bytes. */
    static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(data).array();
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    static byte[] sequence(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7);
        }
        return b;
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private static void assertMentions(Exception e, String... fragments) {
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    @Test
    void readsGzipAndPlainImages() throws Exception {
        byte[] pixels = sequence(3 * 2 * 4);
        byte[] raw = idx(Idx.MAGIC_IMAGES, new int[] {3, 2, 4}, pixels);
        for (Path p : new Path[] {write("images.gz", gzip(raw)), write("images", raw)}) {
            Idx.ImageSet set = Idx.readImages(p);
            assertEquals(3, set.count());
            assertEquals(2, set.rows());
            assertEquals(4, set.cols());
            assertArrayEquals(pixels, set.pixels());
            assertEquals(pixels[(2 * 2 + 1) * 4 + 3] & 0xff, set.pixel(2, 1, 3));
            float[] first = set.imageFloats(0);
            assertEquals(8, first.length);
            assertEquals(-1f, first[0]);
            assertEquals((7 & 0xff) / 127.5f - 1f, first[1]);
        }
    }

    @Test
    void readsLabelsAndChecksTheirRange() throws Exception {
        Path ok = write("labels.gz", gzip(idx(Idx.MAGIC_LABELS, new int[] {4}, new byte[] {0, 9, 3, 5})));
        assertArrayEquals(new byte[] {0, 9, 3, 5}, Idx.readLabels(ok, 10));
        Path bad = write("bad-labels", idx(Idx.MAGIC_LABELS, new int[] {4}, new byte[] {0, 9, 10, (byte) 255}));
        assertArrayEquals(new byte[] {0, 9, 10, (byte) 255}, Idx.readLabels(bad), "unchecked read");
        DataFileException e = assertThrows(DataFileException.class, () -> Idx.readLabels(bad, 10));
        assertMentions(e, "bad-labels", "labels in 0..9", "label 10 at index 2");
        assertEquals(bad, e.file());
    }

    @Test
    void wrongMagicSaysWhatItWasAndWhatWasExpected() throws Exception {
        Path labels = write("labels", idx(Idx.MAGIC_LABELS, new int[] {1}, new byte[1]));
        assertMentions(assertThrows(DataFileException.class, () -> Idx.readImages(labels)),
                "expected IDX images magic 0x00000803", "found magic 0x00000801 (a labels file)");
        Path floats = write("floats", idx(0x00000d03, new int[] {1, 1, 1}, new byte[4]));
        assertMentions(assertThrows(DataFileException.class, () -> Idx.readImages(floats)), "0x00000d03", "type 0xd");
        Path png = write("picture.png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        assertMentions(assertThrows(DataFileException.class, () -> Idx.readLabels(png)), "found magic 0x89504e47");
    }

    @Test
    void truncatedData() throws Exception {
        byte[] raw = idx(Idx.MAGIC_IMAGES, new int[] {3, 2, 2}, new byte[11]);
        for (Path p : new Path[] {write("cut", raw), write("cut.gz", gzip(raw))}) {
            assertMentions(assertThrows(DataFileException.class, () -> Idx.readImages(p)),
                    "expected 12 bytes of data for dimensions [3, 2, 2]", "found 11 (truncated)");
        }
        Path header = write("header", Arrays.copyOf(raw, 9));
        assertMentions(assertThrows(DataFileException.class, () -> Idx.readImages(header)), "cut off after 9 bytes");
        Path tiny = write("tiny", new byte[] {0, 0});
        assertMentions(assertThrows(DataFileException.class, () -> Idx.readImages(tiny)), "4-byte magic", "found 2 bytes");
        byte[] gz = gzip(raw);
        Path cutGzip = write("cutgz.gz", Arrays.copyOf(gz, gz.length - 12));
        assertMentions(assertThrows(DataFileException.class, () -> Idx.readImages(cutGzip)), "gzip");
    }

    @Test
    void trailingData() throws Exception {
        byte[] raw = idx(Idx.MAGIC_LABELS, new int[] {3}, new byte[4]);
        for (Path p : new Path[] {write("long", raw), write("long.gz", gzip(raw))}) {
            assertMentions(assertThrows(DataFileException.class, () -> Idx.readLabels(p)), "expected 3 bytes", "trailing data");
        }
    }

    @Test
    void hugeDeclaredCountsAllocateNothing() throws Exception {
        // 2^31-1 images of 28 x 28: refused from the header alone.
        Path absurd = write("absurd.gz", gzip(idx(Idx.MAGIC_IMAGES, new int[] {Integer.MAX_VALUE, 28, 28}, new byte[10])));
        assertMentions(assertThrows(DataFileException.class, () -> Idx.readImages(absurd)), "at most 1073741824 bytes");
        // 1.3 million images (just under the cap, ~1 GB): only the 10 bytes present are ever buffered.
        long before = usedHeap();
        Path big = write("big.gz", gzip(idx(Idx.MAGIC_IMAGES, new int[] {1_300_000, 28, 28}, new byte[10])));
        assertMentions(assertThrows(DataFileException.class, () -> Idx.readImages(big)), "found 10 (truncated)");
        assertTrue(usedHeap() - before < 200L << 20, "no gigabyte allocation");
        Path u32 = write("u32", idx(Idx.MAGIC_LABELS, new int[] {-1}, new byte[0]));
        assertMentions(assertThrows(DataFileException.class, () -> Idx.readLabels(u32)), "dimension 0 = 4294967295");
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    void fashionMnistMissingSaysHowToInstall() throws Exception {
        Path nowhere = dir.resolve("nowhere");
        DataFileException e = assertThrows(DataFileException.class, () -> FashionMnist.load(nowhere, FashionMnist.Split.TEST));
        assertMentions(e, nowhere.toString(), "apt-get install dataset-fashion-mnist");
        DataFileException f = assertThrows(DataFileException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertMentions(f, dir.resolve("train-images-idx3-ubyte.gz").toString(), "no such file", "apt-get install dataset-fashion-mnist");
    }

    @Test
    void fashionMnistFromASmallCopy() throws Exception {
        write("t10k-images-idx3-ubyte.gz", gzip(idx(Idx.MAGIC_IMAGES, new int[] {2, 28, 28}, sequence(2 * 28 * 28))));
        write("t10k-labels-idx1-ubyte", idx(Idx.MAGIC_LABELS, new int[] {2}, new byte[] {9, 0}));
        FashionMnist.Dataset d = FashionMnist.load(dir, FashionMnist.Split.TEST);
        assertEquals(2, d.size());
        assertEquals("Ankle boot", FashionMnist.CLASS_NAMES.get(d.label(0)));
        write("t10k-labels-idx1-ubyte.gz", gzip(idx(Idx.MAGIC_LABELS, new int[] {3}, new byte[] {9, 0, 1})));
        assertMentions(assertThrows(DataFileException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST)),
                "expected 2 labels", "found 3");
    }

    @Test
    void realFashionMnistTestSet() throws Exception {
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR),
                FashionMnist.DEFAULT_DIR + " is missing; install the data set with: apt-get install dataset-fashion-mnist");
        FashionMnist.Dataset test = FashionMnist.load(FashionMnist.Split.TEST);
        assertEquals(10000, test.size());
        assertEquals(10000, test.images().count());
        assertEquals(28, test.images().rows());
        assertEquals(28, test.images().cols());
        int[] perClass = new int[10];
        for (byte label : test.labels()) {
            perClass[label]++;
        }
        assertArrayEquals(new int[] {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, perClass);
        assertEquals(10, FashionMnist.CLASS_NAMES.size());
    }
}
