package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile .pt files of the hardening review, generated here: each is refused quickly with a
 * {@link CheckpointException} naming the file and the problem in the user's terms (no Java class names, no echo of a
 * megabyte of input), or loads as torch.load would.
 */
class HostileCheckpointsTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void init() {
        SeerRuntime.init();
    }

    // ---- a small pickle writer (protocol 2), enough for state dicts ---------------------------------------------

    /** Pickle bytes, appended opcode by opcode. */
    static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle() {
            out.write(0x80);
            out.write(2);
        }

        Pickle op(int... bytes) {
            for (int b : bytes) {
                out.write(b);
            }
            return this;
        }

        Pickle text(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
            return this;
        }

        /** BINUNICODE. */
        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X', b.length & 0xFF, b.length >> 8 & 0xFF, b.length >> 16 & 0xFF, b.length >>> 24);
            out.writeBytes(b);
            return this;
        }

        /** LONG1 with 8 bytes: any long. */
        Pickle integer(long v) {
            op(0x8a, 8);
            for (int i = 0; i < 8; i++) {
                out.write((int) (v >>> (8 * i)) & 0xFF);
            }
            return this;
        }

        Pickle global(String module, String name) {
            return op('c').text(module + "\n" + name + "\n");
        }

        Pickle tuple(long... values) {
            op('(');
            for (long v : values) {
                integer(v);
            }
            return op('t');
        }

        /** _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel), offset, sizes, strides, False, OrderedDict()). */
        Pickle tensor(long numel, long offset, long[] sizes, long[] strides) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(numel).op('t', 'Q');
            integer(offset).tuple(sizes).tuple(strides).op(0x89);
            return global("collections", "OrderedDict").op(')', 'R', 't', 'R');
        }

        byte[] stop() {
            out.write('.');
            return out.toByteArray();
        }
    }

    /** A stored zip of the given entries, as java.util.zip writes it (names may repeat). */
    static byte[] zip(Object... namesAndBytes) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.setMethod(ZipOutputStream.STORED);
            for (int i = 0; i < namesAndBytes.length; i += 2) {
                byte[] b = (byte[]) namesAndBytes[i + 1];
                ZipEntry z = new ZipEntry((String) namesAndBytes[i]);
                CRC32 crc = new CRC32();
                crc.update(b);
                z.setCrc(crc.getValue());
                z.setSize(b.length);
                zip.putNextEntry(z);
                zip.write(b);
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    private static byte[] floats(int n) {
        byte[] b = new byte[4 * n];
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToIntBits(i + 1);
            for (int k = 0; k < 4; k++) {
                b[4 * i + k] = (byte) (bits >>> (8 * k));
            }
        }
        return b;
    }

    private Path archive(String name, byte[] pickle, byte[] storage) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, zip("archive/data.pkl", pickle, "archive/data/0", storage, "archive/version", "3\n".getBytes()));
        return p;
    }

    /**
     * Refused within ten seconds (parsing 2 MB of digits took a minute before; a refusal takes milliseconds), the
     * message starting with the file and holding every fragment.
     */
    private static CheckpointException refused(Path file, String... fragments) {
        long start = System.nanoTime();
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoints.loadStateDict(file));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 10_000, "took " + millis + " ms: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "no '" + f + "' in: " + e.getMessage());
        }
        return e;
    }

    // ---- the corpus ---------------------------------------------------------------------------------------------

    @Test
    void theWriterUsedHereMakesLoadableFiles() throws Exception {
        byte[] pkl = new Pickle().op('}').str("w").tensor(4, 0, new long[] {2, 2}, new long[] {2, 1}).op('s').stop();
        Map<String, Tensor> sd = TorchCheckpoints.loadStateDict(archive("ok.pt", pkl, floats(4)));
        assertArrayEquals(new float[] {1, 2, 3, 4}, sd.get("w").toFloatArray());
    }

    @Test
    void megabytesOfDecimalDigitsAreRefusedWithoutParsingOrEchoingThem() throws Exception {
        String digits = "7".repeat(2_000_000);
        for (String op : new String[] {"L", "I", "g", "p"}) {
            Pickle p = new Pickle().op('}');
            if (op.equals("p")) {
                p.op('N');
            }
            byte[] pkl = p.text(op + digits + (op.equals("L") ? "L" : "") + "\n").stop();
            CheckpointException e = refused(archive("digits-" + op + ".pt", pkl, new byte[0]),
                    "an integer of 200000", "characters; at most 20 expected");
            assertFalse(e.getMessage().contains("7777777777"), "the digits are not echoed");
            assertTrue(e.getMessage().length() < 400, e.getMessage());
        }
        refused(archive("float.pt", new Pickle().text("F" + "1".repeat(100_000) + "\n").stop(), new byte[0]),
                "a float of 100000 characters; at most 40 expected");
        byte[] long4 = new Pickle().op(0x8b, 0x00, 0x10, 0, 0).text("\1".repeat(4096)).stop();
        refused(archive("long4.pt", long4, new byte[0]), "LONG4 at byte 2 with an integer of 4096 bytes; at most 255 expected");
    }

    @Test
    void aSmallPickleThatWouldFillTheHeapIsRefusedAgainstItsBudget() throws Exception {
        // 1 MB of EMPTY_DICT: about 270 MB of heap as Java objects. With a budget of 16 MiB it stops early.
        byte[] pkl = new byte[1 << 20];
        java.util.Arrays.fill(pkl, (byte) '}');
        Path file = dir.resolve("dicts.pt");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> TorchPickle.load(file, pkl, "archive/data.pkl", Map.of(), 16L << 20));
        assertTrue(e.getMessage().contains("EMPTY_DICT at byte"), e.getMessage());
        assertTrue(e.getMessage().contains("would take more than 16 MiB of Java heap"), e.getMessage());
        // Also memo entries and list items (MEMOIZE, DUP + APPEND), each a byte of input.
        byte[] memo = new byte[1 << 20];
        memo[0] = ']';
        java.util.Arrays.fill(memo, 1, memo.length, (byte) 0x94);
        assertThrows(CheckpointException.class, () -> TorchPickle.load(file, memo, "data.pkl", Map.of(), 16L << 20));
        byte[] appends = new byte[1 << 20];
        appends[0] = ']';
        for (int i = 1; i + 1 < appends.length; i += 2) {
            appends[i] = '2';
            appends[i + 1] = 'a';
        }
        assertThrows(CheckpointException.class, () -> TorchPickle.load(file, appends, "data.pkl", Map.of(), 16L << 20));
        // MARK, NONE and DUP floods: each byte costs at most a stack slot or a boxed int, refused by the budget.
        for (byte op : new byte[] {'(', 'N'}) {
            byte[] flood = new byte[1 << 20];
            java.util.Arrays.fill(flood, op);
            assertThrows(CheckpointException.class, () -> TorchPickle.load(file, flood, "data.pkl", Map.of(), 4L << 20));
        }
        // End to end: 8 MB of EMPTY_DICT (once 100 MB of them ran 51 s into an OutOfMemoryError) is refused after
        // about a hundred kilobytes, by the heap it asks per byte read.
        byte[] many = new byte[8 << 20];
        java.util.Arrays.fill(many, (byte) '}');
        many[0] = (byte) 0x80;
        many[1] = 2;
        refused(archive("many-dicts.pt", many, new byte[0]), "far more objects than its size explains");
    }

    @Test
    void negativeAndWrappingStorageOffsetsAreRefused() throws Exception {
        byte[] minusOne = new Pickle().op('}').str("w").tensor(4, -1, new long[] {2}, new long[] {1}).op('s').stop();
        CheckpointException e = refused(archive("minus-one.pt", minusOne, floats(4)), "offset -1");
        assertEquals("w", e.key());
        // offset -2^62 and stride 2^62: the last element is at 0, so without the sign check row 0 loaded as row 1.
        byte[] wrap = new Pickle().op('}').str("w").tensor(4, -(1L << 62), new long[] {2, 2}, new long[] {1L << 62, 1})
                .op('s').stop();
        refused(archive("wrap.pt", wrap, floats(4)), "offset -4611686018427387904", "non-negative sizes, strides and offset");
        byte[] overflow = new Pickle().op('}').str("w").tensor(4, 0, new long[] {1L << 40, 1L << 40}, new long[] {1, 1})
                .op('s').stop();
        refused(archive("overflow.pt", overflow, floats(4)), "sizes [1099511627776, 1099511627776]");
    }

    @Test
    void duplicateEntryNamesAreRefused() throws Exception {
        byte[] good = new Pickle().op('}').str("w").tensor(4, 0, new long[] {4}, new long[] {1}).op('s').stop();
        byte[] other = new Pickle().op('}').stop();
        Path twice = dir.resolve("twice.pt");
        // java.util.zip refuses equal names, so the second is written as data.pkx and renamed in the bytes.
        byte[] b = zip("archive/data.pkl", good, "archive/data/0", floats(4), "archive/data.pkx", other);
        String latin = new String(b, StandardCharsets.ISO_8859_1).replace("archive/data.pkx", "archive/data.pkl");
        Files.write(twice, latin.getBytes(StandardCharsets.ISO_8859_1));
        refused(twice, "entry 'archive/data.pkl' twice");
        Path caseOnly = dir.resolve("case.pt");
        Files.write(caseOnly, zip("archive/data.pkl", good, "archive/data/0", floats(4), "archive/DATA/0", floats(2)));
        refused(caseOnly, "entry 'archive/DATA/0' twice", "ignoring case");
    }

    @Test
    void messagesSpeakOfPythonValuesNotJavaClasses() throws Exception {
        // A dict key that is a tuple: once "a key that is a IdentityKey".
        byte[] tupleKey = new Pickle().op('}').tuple(1, 2).op('N', 's').stop();
        CheckpointException e = refused(archive("tuple-key.pt", tupleKey, new byte[0]), "a key that is a tuple");
        assertFalse(e.getMessage().contains("IdentityKey"), e.getMessage());
        // A size past 64 bits: once "holding an int, not an int".
        Pickle big = new Pickle().op('}').str("w").global("torch._utils", "_rebuild_tensor_v2").op('(');
        big.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).op('t', 'Q');
        big.integer(0).op('(', 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 't').tuple(1).op(0x89)
                .global("collections", "OrderedDict").op(')', 'R', 't', 'R', 's');
        e = refused(archive("big-size.pt", big.stop(), floats(4)), "sizes holding an int beyond 64 bits at position 0");
        // A storage longer than its data: once "its record holds 256 bytes".
        byte[] longer = new Pickle().op('}').str("w").tensor(100, 0, new long[] {100}, new long[] {1}).op('s').stop();
        e = refused(archive("longer.pt", longer, floats(4)), "declaring 100 elements", "is only 16 bytes: a truncated or altered file");
        assertFalse(e.getMessage().contains("record"), e.getMessage());
    }

    @Test
    void aSafetensorsFileNamedPtIsRecognisedByItsContent() throws Exception {
        Path st = dir.resolve("weights.pt");
        try (Arena arena = Arena.ofConfined()) {
            Safetensors.write(st, Map.of("w", Tensor.ofFloats(arena, new float[] {1, 2}, 2)));
        }
        refused(st, "a safetensors file (by its content");
        assertTrue(Safetensors.looksLikeSafetensors(st));
        Path pt = dir.resolve("real.pt");
        byte[] pkl = new Pickle().op('}').stop();
        Files.write(pt, zip("archive/data.pkl", pkl));
        assertFalse(Safetensors.looksLikeSafetensors(pt));
        assertFalse(Safetensors.looksLikeSafetensors(MemorySegment.ofArray(new byte[3])));
    }

    @Test
    void aStateDictOfManyTensorsStaysFarBelowTheBudget() throws Exception {
        // 20,000 tensors of one float each: a legitimate pickle must not come near the heap budget.
        Pickle p = new Pickle().op('}');
        for (int i = 0; i < 20_000; i++) {
            p.str("t" + i).tensor(1, 0, new long[] {1}, new long[] {1}).op('s');
        }
        byte[] pkl = p.stop();
        Object root = TorchPickle.load(dir.resolve("x.pt"), pkl, "data.pkl", Map.of("0", MemorySegment.ofArray(floats(1))));
        assertTrue(root instanceof Map<?, ?> m && m.size() == 20_000);
    }
}
