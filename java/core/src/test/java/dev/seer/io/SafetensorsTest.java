package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    /** The file layout of the format, built by hand so these tests do not depend on the writer. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return file(h.length, h, data);
    }

    static byte[] file(long declaredHeaderLength, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredHeaderLength).put(header).put(data);
        return b.array();
    }

    private Path write(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private CheckpointException rejects(String header, byte[] data) throws Exception {
        Path p = write("bad.safetensors", file(header, data));
        return assertThrows(CheckpointException.class, () -> Safetensors.open(p).close());
    }

    private static void assertMentions(Exception e, String... fragments) {
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    @Test
    void roundTripsEveryDType() throws Exception {
        Random rnd = new Random(1);
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (DType d : DType.values()) {
                // Odd sizes so that packed offsets leave some tensors unaligned in the file.
                Tensor t = Tensor.allocate(arena, d, 3, 5);
                byte[] bytes = new byte[(int) t.byteSize()];
                rnd.nextBytes(bytes);
                if (d == DType.BOOL) {
                    for (int i = 0; i < bytes.length; i++) {
                        bytes[i] &= 1;
                    }
                }
                MemorySegment.copy(bytes, 0, t.segment(), ValueLayout.JAVA_BYTE, 0, bytes.length);
                in.put("t." + d.name().toLowerCase(), t);
            }
            in.put("empty", Tensor.allocate(arena, DType.F32, 0, 4));
            in.put("scalar", Tensor.ofFloats(arena, new float[] {3.25f}));
            Map<String, String> meta = Map.of("format", "pt", "note", "ünïcode ✓");
            Path p = dir.resolve("all.safetensors");
            Safetensors.write(p, in, meta);

            try (SafetensorsFile f = Safetensors.open(p)) {
                assertEquals(in.keySet().stream().sorted().toList(), List.copyOf(f.keys()));
                assertEquals(meta, f.metadata());
                for (Map.Entry<String, Tensor> e : in.entrySet()) {
                    Tensor got = f.get(e.getKey());
                    assertEquals(e.getValue().dtype(), got.dtype(), e.getKey());
                    assertEquals(e.getValue().shape(), got.shape(), e.getKey());
                    assertEquals(e.getValue().dtype(), f.dtype(e.getKey()));
                    assertEquals(e.getValue().shape(), f.shape(e.getKey()));
                    assertEquals(0, got.address() % got.dtype().byteSize(), "aligned: " + e.getKey());
                    assertArrayEquals(e.getValue().segment().toArray(ValueLayout.JAVA_BYTE),
                            got.segment().toArray(ValueLayout.JAVA_BYTE), e.getKey());
                    assertSame(f, got.owner());
                    assertSame(got, f.get(e.getKey()), "one tensor object per key");
                }
                assertArrayEquals(new float[] {3.25f}, f.get("scalar").toFloatArray());
                assertEquals(Shape.of(), f.shape("scalar"));
            }
        }
    }

    @Test
    void writerLayoutIsSortedPaddedAndContiguous() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("z", Tensor.ofFloats(arena, new float[] {1, 2}, 2));
            in.put("a", Tensor.allocate(arena, DType.I8, 3));
            in.put("m", Tensor.allocate(arena, DType.F64, 1));
            Path p = dir.resolve("layout.safetensors");
            Safetensors.write(p, in, Map.of("k", "v"));
            byte[] bytes = Files.readAllBytes(p);
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertEquals(0, (8 + n) % 8);
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            assertEquals(header.strip(), header.substring(0, header.strip().length()), "padding is trailing spaces");
            JsonNode root = new ObjectMapper().readTree(header);
            List<String> names = new ArrayList<>();
            root.fieldNames().forEachRemaining(names::add);
            assertEquals(List.of("__metadata__", "a", "m", "z"), names);
            assertEquals("[0,3]", root.get("a").get("data_offsets").toString());
            assertEquals("[3,11]", root.get("m").get("data_offsets").toString());
            assertEquals("[11,19]", root.get("z").get("data_offsets").toString());
            assertEquals(8 + n + 19, bytes.length);
        }
    }

    @Test
    void readsAHandBuiltFileWithAnUnalignedTensor() throws Exception {
        ByteBuffer data = ByteBuffer.allocate(3 + 8 + 4).order(ByteOrder.LITTLE_ENDIAN);
        data.put((byte) 1).put((byte) 2).put((byte) -3).putFloat(1.5f).putFloat(-2f).putShort((short) 0x3f80).putShort((short) 0xc000);
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"b\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[3,11]},"
                + "\"c\":{\"shape\":[1,2],\"dtype\":\"BF16\",\"data_offsets\":[11,15]}}";
        // Pad so that the data section starts 8-byte aligned: then 'a' (offset 3) is unaligned in memory.
        String header = json + " ".repeat((int) ((8 - (json.length() + 8) % 8) % 8));
        Path p = write("hand.safetensors", file(header, data.array()));
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(List.of("b", "a", "c"), List.copyOf(f.keys()), "header order");
            assertEquals(Map.of("format", "pt"), f.metadata());
            Tensor b = f.get("b");
            assertArrayEquals(new byte[] {1, 2, -3}, b.segment().toArray(ValueLayout.JAVA_BYTE));
            assertTrue(b.segment().isMapped(), "aligned data is not copied");
            Tensor a = f.get("a");
            assertEquals(0, a.address() % 4);
            assertFalse(a.segment().isMapped(), "unaligned data is copied into an aligned buffer");
            assertArrayEquals(new float[] {1.5f, -2f}, a.toFloatArray());
            assertArrayEquals(new float[] {1f, -2f}, f.get("c").toFloatArray());
            assertEquals(Shape.of(1, 2), f.shape("c"));
            assertTrue(b.segment().isReadOnly() && a.segment().isReadOnly(), "tensors are read-only");
        }
    }

    @Test
    void nullMetadataAndGapsAndTrailingBytesAreAccepted() throws Exception {
        String header = "{\"__metadata__\":null,\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]}}";
        Path p = write("gaps.safetensors", file(header, new byte[] {0, 0, 0, 0, 7, 8, 9, 9}));
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(Map.of(), f.metadata());
            assertArrayEquals(new byte[] {7, 8}, f.get("x").segment().toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void missingKeyNamesTheKeyAndSomePresentOnes() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (int i = 0; i < 8; i++) {
                in.put("blocks." + i + ".attn.qkv.weight", Tensor.ofFloats(arena, new float[] {i}, 1));
            }
            Path p = dir.resolve("model.safetensors");
            Safetensors.write(p, in);
            try (SafetensorsFile f = Safetensors.open(p)) {
                CheckpointException e = assertThrows(CheckpointException.class, () -> f.get("blocks.3.attn.proj.weight"));
                assertEquals("blocks.3.attn.proj.weight", e.key());
                assertEquals(p, e.file());
                assertMentions(e, "tensor 'blocks.3.attn.proj.weight'", "none among 8 tensors", "'blocks.3.attn.qkv.weight'", "...");
                assertThrows(CheckpointException.class, () -> f.shape("nope"));
            }
        }
    }

    @Test
    void tensorsDieWithTheFile() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path p = dir.resolve("x.safetensors");
            Safetensors.write(p, Map.of("w", Tensor.ofFloats(arena, new float[] {1, 2}, 2)));
            SafetensorsFile f = Safetensors.open(p);
            Tensor w = f.get("w");
            f.close();
            f.close();
            assertThrows(IllegalStateException.class, w::toFloatArray);
            assertThrows(IllegalStateException.class, () -> f.get("w"));
        }
    }

    // ---- hostile files -----------------------------------------------------------------------------------

    @Test
    void fileShorterThanTheLengthPrefix() throws Exception {
        Path p = write("short.safetensors", new byte[5]);
        assertMentions(assertThrows(CheckpointException.class, () -> Safetensors.open(p)), "at least 8 bytes", "found 5 bytes");
    }

    @Test
    void headerLongerThanTheFile() throws Exception {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        Path p = write("long.safetensors", file(1000, h, new byte[0]));
        assertMentions(assertThrows(CheckpointException.class, () -> Safetensors.open(p)), "header too long", "1000");
    }

    @Test
    void headerLongerThanTheCap() throws Exception {
        Path p = write("cap.safetensors", file(Safetensors.MAX_HEADER_BYTES + 1, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]));
        assertMentions(assertThrows(CheckpointException.class, () -> Safetensors.open(p)), "header too long", "100000001");
        Path q = write("huge.safetensors", file(-1L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]));
        assertMentions(assertThrows(CheckpointException.class, () -> Safetensors.open(q)), "18446744073709551615");
    }

    @Test
    void truncatedFile() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path p = dir.resolve("full.safetensors");
            Safetensors.write(p, Map.of("w", Tensor.ofFloats(arena, new float[16], 16)));
            byte[] bytes = Files.readAllBytes(p);
            Path cut = write("cut.safetensors", Arrays.copyOf(bytes, bytes.length - 5));
            CheckpointException e = assertThrows(CheckpointException.class, () -> Safetensors.open(cut));
            assertMentions(e, "tensor 'w'", "offsets out of range", "truncated");
            Path cutHeader = write("cuth.safetensors", Arrays.copyOf(bytes, 20));
            assertMentions(assertThrows(CheckpointException.class, () -> Safetensors.open(cutHeader)), "header too long");
        }
    }

    @Test
    void notJson() throws Exception {
        assertMentions(rejects("this is not json", new byte[0]), "malformed JSON");
        assertMentions(rejects("{\"a\":", new byte[0]), "malformed JSON");
        assertMentions(rejects("{} {}", new byte[0]), "malformed JSON");
        assertMentions(rejects("[1, 2]", new byte[0]), "a JSON object", "a JSON array");
        assertMentions(rejects("", new byte[0]), "empty header");
    }

    @Test
    void invalidUtf8() throws Exception {
        byte[] h = {'{', '"', (byte) 0xc3, (byte) 0x28, '"', ':', '1', '}'};
        Path p = write("utf8.safetensors", file(h.length, h, new byte[0]));
        assertMentions(assertThrows(CheckpointException.class, () -> Safetensors.open(p)), "invalid UTF-8", "byte 2");
    }

    @Test
    void nestingBomb() throws Exception {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        assertMentions(rejects("{\"__metadata__\":{\"a\":" + deep + "}}", new byte[0]), "malformed JSON", "nesting depth");
        assertMentions(rejects(deep, new byte[0]), "nesting depth");
    }

    @Test
    void duplicateKeys() throws Exception {
        String e = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        assertMentions(rejects("{\"x\":" + e + ",\"x\":" + e + "}", new byte[1]), "duplicate key", "\"x\"");
    }

    @Test
    void badDType() throws Exception {
        CheckpointException e = rejects("{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]);
        assertMentions(e, "tensor 'x'", "bad dtype 'F8_E4M3'", "BF16");
        assertEquals("x", e.key());
        assertMentions(rejects("{\"x\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]), "string dtype");
        assertMentions(rejects("{\"x\":{\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]), "string dtype", "found none");
    }

    @Test
    void shapeOverflowAndBadDimensions() throws Exception {
        long big = 1L << 40;
        assertMentions(rejects("{\"x\":{\"dtype\":\"F32\",\"shape\":[" + big + "," + big + "],\"data_offsets\":[0,4]}}", new byte[4]),
                "shape overflow");
        // Overflow hidden behind a zero: Shape.of would throw an unchecked exception if this got through.
        assertMentions(rejects("{\"x\":{\"dtype\":\"F32\",\"shape\":[0," + big + "," + big + "],\"data_offsets\":[0,0]}}", new byte[0]),
                "shape overflow");
        assertMentions(rejects("{\"x\":{\"dtype\":\"F32\",\"shape\":[" + (Long.MAX_VALUE / 2) + "],\"data_offsets\":[0,4]}}", new byte[4]),
                "shape overflow");
        assertMentions(rejects("{\"x\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", new byte[0]), "non-negative", "-1");
        assertMentions(rejects("{\"x\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,0]}}", new byte[0]), "non-negative");
        assertMentions(rejects("{\"x\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],\"data_offsets\":[0,0]}}", new byte[0]),
                "fit in a long");
        assertMentions(rejects("{\"x\":{\"dtype\":\"U8\",\"shape\":\"2\",\"data_offsets\":[0,0]}}", new byte[0]), "array of non-negative");
    }

    @Test
    void offsetsOutOfRangeOrInconsistent() throws Exception {
        assertMentions(rejects("{\"x\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", new byte[2]),
                "offsets out of range", "[0, 4]");
        assertMentions(rejects("{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[3,1]}}", new byte[4]), "offsets out of range");
        assertMentions(rejects("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[8]),
                "expected 8 bytes of data for F32 (2,)", "found 4");
        assertMentions(rejects("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[1]), "[begin, end]");
        assertMentions(rejects("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", new byte[1]), "non-negative");
    }

    @Test
    void overlappingTensors() throws Exception {
        String h = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}";
        assertMentions(rejects(h, new byte[8]), "overlap", "'a'", "tensor 'b'");
        String shared = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}";
        assertMentions(rejects(shared, new byte[4]), "overlap");
        String empties = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[2,2]}}";
        try (SafetensorsFile f = Safetensors.open(write("empties.safetensors", file(empties, new byte[4])))) {
            assertEquals(0, f.get("e").byteSize(), "an empty tensor occupies no bytes");
        }
    }

    @Test
    void unknownFieldsAndBadMetadata() throws Exception {
        assertMentions(rejects("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":1}}", new byte[1]),
                "unknown field 'extra'");
        assertMentions(rejects("{\"x\":[1]}", new byte[1]), "tensor 'x'", "a JSON array");
        assertMentions(rejects("{\"__metadata__\":{\"a\":1}}", new byte[0]), "__metadata__", "'a' mapped to a JSON number 1");
        assertMentions(rejects("{\"__metadata__\":[\"a\"]}", new byte[0]), "__metadata__", "array");
    }

    // ---- writer -------------------------------------------------------------------------------------------

    @Test
    void failedWriteLeavesNoPartialFile() throws Exception {
        Path target = dir.resolve("out.safetensors");
        Arena dead = Arena.ofConfined();
        Tensor freed = Tensor.ofFloats(dead, new float[1024], 1024);
        dead.close();
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("a.first", Tensor.ofFloats(arena, new float[1024], 1024));
            in.put("b.freed", freed);
            assertThrows(IllegalStateException.class, () -> Safetensors.write(target, in));
            assertFalse(Files.exists(target));
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(List.of(), s.toList(), "no temporary file left behind");
            }

            // An existing file stays intact when a rewrite fails.
            Safetensors.write(target, Map.of("ok", Tensor.ofFloats(arena, new float[] {7}, 1)));
            byte[] before = Files.readAllBytes(target);
            assertThrows(IllegalStateException.class, () -> Safetensors.write(target, in));
            assertArrayEquals(before, Files.readAllBytes(target));
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(List.of(target), s.toList());
            }
        }
    }

    @Test
    void writeIntoAMissingDirectoryFailsCleanly() {
        Path target = dir.resolve("no/such/dir/out.safetensors");
        assertThrows(java.io.IOException.class, () -> Safetensors.write(target, Map.of()));
        assertFalse(Files.exists(target));
    }

    @Test
    void writerRefusesAReservedKey() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.ofFloats(arena, new float[] {1}, 1);
            assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("m.safetensors"), Map.of("__metadata__", t)));
        }
    }

    @Test
    void emptyFileWithOnlyMetadataRoundTrips() throws Exception {
        Path p = dir.resolve("meta.safetensors");
        Safetensors.write(p, Map.of(), Map.of("only", "metadata"));
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertTrue(f.keys().isEmpty());
            assertEquals("metadata", f.metadata().get("only"));
            assertNull(f.metadata().get("other"));
        }
    }
}
