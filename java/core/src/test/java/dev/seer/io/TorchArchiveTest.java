package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile .pt files: each is a CheckpointException naming the problem, found before any tensor memory is read. */
class TorchArchiveTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void init() {
        SeerRuntime.init();
    }

    /** Loads the file, expecting a rejection within a second whose message holds every fragment. */
    private static CheckpointException rejected(Path file, String... fragments) {
        long start = System.nanoTime();
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoints.loadStateDict(file));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 1000, "took " + millis + " ms: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "no '" + f + "' in: " + e.getMessage());
        }
        return e;
    }

    private Path write(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** A valid file from libtorch's writer (zip64 end records, data descriptors): w = [[1, 2], [3, 4]]. */
    private byte[] saved() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path p = dir.resolve("valid.pt");
            TorchCheckpoints.saveStateDict(p, Map.of("w", Tensor.ofFloats(arena, new float[] {1, 2, 3, 4}, 2, 2)));
            return Files.readAllBytes(p);
        }
    }

    private static int indexOf(byte[] b, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= b.length; i++) {
            for (int k = 0; k < pattern.length; k++) {
                if (b[i + k] != pattern[k]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("pattern not found: " + HexFormat.of().formatHex(pattern));
    }

    private static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Replaces the first occurrence of a byte pattern with one of the same length (zip offsets stay valid). */
    private static byte[] patch(byte[] b, String from, String to) {
        assertEquals(from.length(), to.length());
        byte[] out = b.clone();
        System.arraycopy(latin1(to), 0, out, indexOf(b, latin1(from)), to.length());
        return out;
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Offset of the central directory entry for a name. */
    private static int central(byte[] b, String name) {
        ByteBuffer buf = le(b);
        for (int p = indexOf(b, latin1("PK\u0001\u0002")); ; ) {
            int n = buf.getShort(p + 28) & 0xFFFF;
            if (new String(b, p + 46, n, StandardCharsets.ISO_8859_1).equals(name)) {
                return p;
            }
            p += 46 + n + (buf.getShort(p + 30) & 0xFFFF) + (buf.getShort(p + 32) & 0xFFFF);
        }
    }

    /** A stored zip of archive/data.pkl, archive/data/0 and archive/version, as java.util.zip writes it. */
    private static byte[] archive(byte[] pickle, byte[] storage) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.setMethod(ZipOutputStream.STORED);
            Map<String, byte[]> entries = new LinkedHashMap<>();
            entries.put("archive/data.pkl", pickle);
            entries.put("archive/data/0", storage);
            entries.put("archive/version", latin1("3\n"));
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey());
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                z.setCrc(crc.getValue());
                z.setSize(e.getValue().length);
                zip.putNextEntry(z);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    private static byte[] pickle(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    @Test
    void hugeStringLengthIsRejectedBeforeAnyAllocation() throws Exception {
        // Found by MutationTest: BINUNICODE declares 0xB0000001 bytes with 178 left; libtorch took over 10 s on it.
        byte[] bytes;
        try (var in = getClass().getResourceAsStream("/io/huge-string-length.pt")) {
            bytes = in.readAllBytes();
        }
        assertEquals(1244, bytes.length);
        CheckpointException e = rejected(write("huge-string-length.pt", bytes), "archive/data.pkl",
                "BINUNICODE at byte 42 declaring 2952790017 bytes where 178 remain");
        assertEquals(null, e.key());
    }

    @Test
    void filesFromTheWriterStillLoad() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("a", Tensor.ofFloats(arena, new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
            Tensor bf = Tensor.allocate(arena, DType.BF16, 3);
            bf.copyFrom(new float[] {0.5f, -1f, 2f});
            in.put("b", bf);
            in.put("c", Tensor.allocate(arena, DType.BOOL, 5));
            in.put("d", Tensor.allocate(arena, DType.I64));
            in.put("e", Tensor.allocate(arena, DType.F16, 0, 4));
            for (int i = 0; i < 300; i++) {
                in.put("many." + i, Tensor.ofFloats(arena, new float[] {i}, 1));
            }
            Path pt = dir.resolve("model.pt");
            TorchCheckpoints.saveStateDict(pt, in);
            Map<String, Tensor> out = TorchCheckpoints.loadStateDict(pt);
            assertEquals(in.keySet(), out.keySet());
            for (String k : in.keySet()) {
                assertEquals(in.get(k).shape(), out.get(k).shape(), k);
                assertArrayEquals(in.get(k).segment().toArray(ValueLayout.JAVA_BYTE),
                        out.get(k).segment().toArray(ValueLayout.JAVA_BYTE), k);
            }
        }
    }

    @Test
    void handWrittenArchiveLoads() throws Exception {
        // The same state dict as saved(), written by java.util.zip (no zip64, no data descriptors).
        byte[] valid = saved();
        int start = indexOf(valid, new byte[] {(byte) 0x80, 2, 'c'});
        byte[] pkl = Arrays.copyOfRange(valid, start, start + le(valid).getInt(central(valid, "archive/data.pkl") + 20));
        byte[] floats = new byte[16];
        le(floats).asFloatBuffer().put(new float[] {1, 2, 3, 4});
        Map<String, Tensor> sd = TorchCheckpoints.loadStateDict(write("hand.pt", archive(pkl, floats)));
        assertArrayEquals(new float[] {1, 2, 3, 4}, sd.get("w").toFloatArray());
        assertTrue(TorchCheckpoints.loadStateDict(write("empty.pt", archive(pickle("8002 7d 71 00 2e"), new byte[0]))).isEmpty());
    }

    @Test
    void truncatedCentralDirectory() throws Exception {
        byte[] b = saved();
        int eocd = b.length - 22;
        int zip64 = (int) le(b).getLong(eocd - 12);
        le(b).putInt(eocd + 12, le(b).getInt(eocd + 12) - 10);
        le(b).putLong(zip64 + 40, le(b).getLong(zip64 + 40) - 10);
        rejected(write("cd.pt", b), "expected a torch.save archive", "central directory entry 4 running past the directory's end");
        byte[] more = saved();
        le(more).putShort(more.length - 22 + 10, (short) 6);
        le(more).putLong((int) le(more).getLong(more.length - 22 - 12) + 32, 6);
        rejected(write("count.pt", more), "central directory entry 5 of 6 missing");
        byte[] cut = saved();
        rejected(write("cut.pt", Arrays.copyOf(cut, cut.length - 30)), "no zip end of central directory record");
        byte[] disagree = saved();
        le(disagree).putShort(disagree.length - 22 + 10, (short) 4);
        rejected(write("disagree.pt", disagree), "zip and zip64 end records disagreeing on the entry count (4 and 5)");
    }

    @Test
    void entrySizeBeyondTheFile() throws Exception {
        byte[] b = saved();
        int p = central(b, "archive/data/0");
        le(b).putInt(p + 20, 0x7FFF_FFF0).putInt(p + 24, 0x7FFF_FFF0);
        rejected(write("size.pt", b), "entry 'archive/data/0' of 2147483632 bytes");
        byte[] off = saved();
        le(off).putInt(central(off, "archive/data.pkl") + 42, off.length - 10);
        rejected(write("offset.pt", off), "entry 'archive/data.pkl' with no local header");
        byte[] deflated = saved();
        le(deflated).putShort(central(deflated, "archive/version") + 10, (short) 8);
        rejected(write("deflated.pt", deflated), "stored uncompressed", "entry 'archive/version' compressed with zip method 8");
    }

    @Test
    void unknownOpcodeAndMissingStop() throws Exception {
        byte[] b = saved();
        rejected(write("op.pt", patch(b, "\u0080\u0002c", "\u0080\u0002\u00ff")), "unknown opcode 0xff at byte 2");
        rejected(write("stop.pt", patch(b, "Tensor]q\n\u0086Rq\u000b.", "Tensor]q\n\u0086Rq\u000bN")),
                "no STOP opcode before the end, 225 bytes");
        byte[] storage = new byte[16];
        rejected(write("nostop.pt", archive(pickle("8002 7d"), storage)), "no STOP opcode");
        rejected(write("empty.pt", archive(new byte[0], storage)), "an empty pickle");
        rejected(write("underflow.pt", archive(pickle("8002 73 2e"), storage)), "SETITEM at byte 2 popping 3 values from a stack of 0");
        rejected(write("mark.pt", archive(pickle("8002 74 2e"), storage)), "TUPLE at byte 2 without a MARK");
        rejected(write("line.pt", archive(pickle("8002 63 746f726368"), storage)), "GLOBAL at byte 2 with an unterminated text argument");
        rejected(write("arg.pt", archive(pickle("8002 4a 0102"), storage)), "BININT at byte 2 cut off");
        rejected(write("proto.pt", archive(pickle("8006 7d 2e"), storage)), "PROTO at byte 0: unknown protocol 6");
    }

    @Test
    void declaredLengthsBeyondThePickle() throws Exception {
        byte[] storage = new byte[16];
        // 8-byte lengths with the top bit set are negative as Java longs: compared unsigned, never cast.
        rejected(write("u8.pt", archive(pickle("8004 8d f0ffffffffffffff 6162 2e"), storage)),
                "BINUNICODE8 at byte 2 declaring 18446744073709551600 bytes where 3 remain");
        rejected(write("b8.pt", archive(pickle("8004 8e 0000000001000000 6162 2e"), storage)),
                "BINBYTES8 at byte 2 declaring 4294967296 bytes where 3 remain");
        rejected(write("frame.pt", archive(pickle("8004 95 ffffffffffffff7f 7d 2e"), storage)),
                "FRAME at byte 2 declaring 9223372036854775807 bytes where 2 remain");
        rejected(write("long4.pt", archive(pickle("8002 8b ffffffff 2e"), storage)), "LONG4 at byte 2 declaring -1 bytes");
        rejected(write("short.pt", archive(pickle("8002 8c 09 6162 2e"), storage)), "SHORT_BINUNICODE at byte 2 declaring 9 bytes where 3 remain");
        // A memo index past the pickle cannot come from a pickler (libtorch would size a table of 2^32 entries).
        rejected(write("memo.pt", archive(pickle("8002 7d 72 ffffffff 2e"), storage)),
                "LONG_BINPUT at byte 3 with memo index 4294967295");
        rejected(write("get.pt", archive(pickle("8002 68 05 2e"), storage)), "BINGET at byte 2 reading memo entry 5, never set");
    }

    @Test
    void nestedTensorSubclassRebuildsDoNotRecurse() throws Exception {
        // {'w': _rebuild_from_type_v2(_rebuild_from_type_v2, None, (), None)}: a chain of these could be as deep as
        // the pickle is long, so only one level is unwrapped; the rest is an inert object, named in the error.
        byte[] pkl = pickle("80027d2858010000007763746f7263682e5f74656e736f720a5f72656275696c645f66726f6d5f747970655f7632"
                + "0a71002868004e294e7452752e");
        CheckpointException e = rejected(write("nested.pt", archive(pkl, new byte[0])),
                "tensor 'w': expected a tensor, found an object of class torch._tensor._rebuild_from_type_v2");
        assertEquals("w", e.key());
    }

    @Test
    void storageLargerThanItsRecord() throws Exception {
        byte[] b = saved();
        byte[] bigger = patch(b, "cpuq\u0006K\u0004t", "cpuq\u0006K\u0005t");
        rejected(write("bigger.pt", bigger), "BINPERSID at byte", "storage '0' declaring 5 elements of torch.FloatStorage (4 bytes each), but its data (entry data/0) is only 16 bytes");
        rejected(write("missing.pt", patch(b, "X\u0001\u0000\u0000\u00000q\u0005", "X\u0001\u0000\u0000\u00007q\u0005")),
                "storage '7' declaring 4 elements of torch.FloatStorage (4 bytes each), but the archive has no data/7 entry");
        rejected(write("pid.pt", patch(b, "storageq\u0003", "storagfq\u0003")), "a reference other than ('storage'");
    }

    @Test
    void tensorBeyondItsStorage() throws Exception {
        byte[] b = saved();
        // sizes (2, 2) strides (2, 1) become sizes (3, 2): 6 floats over a 16-byte storage.
        CheckpointException e = rejected(write("size.pt", patch(b, "K\u0000(K\u0002K\u0002t", "K\u0000(K\u0003K\u0002t")),
                "sizes [3, 2], strides [2, 1], offset 0", "within its storage of 16 bytes");
        assertEquals("w", e.key());
        rejected(write("offset.pt", patch(b, "K\u0000(K\u0002K\u0002t", "K\u0001(K\u0002K\u0002t")), "offset 1");
        // stride 0: a broadcast view whose contiguous copy would be larger than the storage.
        rejected(write("stride.pt", patch(b, "(K\u0002K\u0002t(K\u0002K\u0001t", "(K\u0002K\u0005t(K\u0000K\u0000t")),
                "sizes [2, 5], strides [0, 0]");
    }
}
