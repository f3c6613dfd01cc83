package dev.seer.io;

import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then
 * raw little-endian tensor data. See <a href="https://github.com/huggingface/safetensors">huggingface/safetensors</a>.
 *
 * <p>Reading maps the file and hands out zero-copy tensors ({@link #open(Path)}). The header is validated
 * completely before any tensor is handed out, so that a hostile file fails with a {@link CheckpointException}
 * and cannot crash the JVM, hang, or make the reader allocate more than the file's own size implies:
 * <ul>
 *   <li>the header length must fit in the file and be at most {@link #MAX_HEADER_BYTES};</li>
 *   <li>the header must be valid UTF-8 holding one JSON object (duplicate names, trailing tokens, nesting deeper
 *       than {@link #MAX_JSON_DEPTH} and over-long strings or numbers are rejected while parsing);</li>
 *   <li>every tensor entry has exactly the fields {@code dtype}, {@code shape} and {@code data_offsets}; unknown
 *       fields are rejected rather than ignored, because a reader that skips what it does not understand may
 *       silently misread a file written by a newer or different writer;</li>
 *   <li>{@code dtype} is one of {@link DType#safetensorsName()}; {@code shape} holds non-negative integers whose
 *       product (and byte size) fits in a long; {@code data_offsets} is [begin, end] with
 *       0 &lt;= begin &lt;= end &lt;= data size and end - begin == numel * itemsize;</li>
 *   <li>no two tensors share a byte (empty tensors occupy none); gaps and trailing bytes are allowed, as
 *       they are harmless and some writers align their data;</li>
 *   <li>{@code __metadata__}, when present and not null, maps strings to strings.</li>
 * </ul>
 *
 * <p>Data that starts at an offset not aligned to its element size (possible when a writer packs, say, a 3-byte
 * I8 tensor in front of an F32 one) is copied once into a 64-byte-aligned buffer in the file's arena; everything
 * else in Seer, including {@link Tensor#toFloatArray()} and the kernels, may rely on natural alignment.
 */
public final class Safetensors {
    /** The largest header accepted, as in the reference implementation (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** JSON nesting allowed in a header; a valid one needs 3 (object, entry, shape array). */
    public static final int MAX_JSON_DEPTH = 8;
    /** The longest JSON string (key, dtype or metadata value) accepted. */
    public static final int MAX_JSON_STRING = 16 * 1024 * 1024;

    static final String METADATA_KEY = "__metadata__";
    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long WRITE_CHUNK = 1L << 26;

    private static final Json.Limits JSON_LIMITS = new Json.Limits(MAX_JSON_DEPTH, MAX_JSON_STRING, 40);

    private Safetensors() {
    }

    /**
     * Maps {@code file} read-only and validates its header. The returned file owns the mapping (a shared arena):
     * its tensors are valid until it is closed and may be read from any thread.
     *
     * @throws CheckpointException if the file is not a valid safetensors file
     * @throws IOException         if it cannot be opened or mapped
     */
    public static SafetensorsFile open(Path file) throws IOException {
        requireLittleEndianHost();
        Arena arena = Arena.ofShared();
        try {
            MemorySegment map;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < 8) {
                    throw new CheckpointException(file, null, "at least 8 bytes (the u64 header length)", size + " bytes");
                }
                map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            return wrap(file, arena, map);
        } catch (InternalError e) {
            // The JDK's translation of SIGBUS: the mapped file shrank between mapping and reading its header.
            arena.close();
            throw TorchCheckpoints.changedWhileReading(file, null, e);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Whether bytes look like a safetensors file: a little-endian header length that fits the file, then a JSON
     * object. For telling a safetensors file under another name (.pt) apart from what that name promises.
     */
    public static boolean looksLikeSafetensors(MemorySegment bytes) {
        if (bytes.byteSize() < 10) {
            return false;
        }
        long n = bytes.get(U64_LE, 0);
        return n >= 2 && n <= bytes.byteSize() - 8 && bytes.get(ValueLayout.JAVA_BYTE, 8) == '{';
    }

    /** {@link #looksLikeSafetensors(MemorySegment)} for the start of a file; false when it cannot be read. */
    public static boolean looksLikeSafetensors(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
            while (head.hasRemaining() && ch.read(head) >= 0) {
                // fill
            }
            if (head.hasRemaining()) {
                return false;
            }
            long n = head.getLong(0);
            return n >= 2 && n <= ch.size() - 8 && head.get(8) == '{';
        } catch (IOException e) {
            return false;
        }
    }

    /** As {@link #write(Path, Map, Map)} without metadata. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /**
     * Writes host tensors of any {@link DType} as a safetensors file: keys sorted, {@code __metadata__} first
     * when non-empty, the header padded with spaces to a multiple of 8 bytes, data contiguous in key order.
     * The file is written to a temporary file in the same directory, fsync'd and renamed over {@code file}, so
     * it is either complete or absent (an existing file stays as it was when writing fails).
     *
     * @param metadata string metadata, may be null or empty
     * @throws IllegalArgumentException for a key named {@code __metadata__}, null keys/values, or device tensors
     * @throws IllegalStateException    if a tensor's memory has been freed (the target is then left untouched)
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        requireLittleEndianHost();
        TreeMap<String, Tensor> sorted = new TreeMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String key = e.getKey();
            Tensor t = e.getValue();
            if (key == null || t == null) {
                throw new IllegalArgumentException("tensor keys and tensors must not be null, found key " + key);
            }
            if (key.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("'" + METADATA_KEY + "' is reserved for metadata and cannot name a tensor");
            }
            if (!t.device().isCpu()) {
                throw new IllegalArgumentException("tensor '" + key + "' is on " + t.device() + "; only host tensors can be written");
            }
            sorted.put(key, t);
        }
        Map<String, Json.Value> root = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            Map<String, Json.Value> meta = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
                if (e.getValue() == null) {
                    throw new IllegalArgumentException("metadata value for '" + e.getKey() + "' is null");
                }
                meta.put(e.getKey(), new Json.Str(e.getValue()));
            }
            root.put(METADATA_KEY, new Json.Obj(meta));
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            Tensor t = e.getValue();
            List<Json.Value> shape = new ArrayList<>();
            for (long d : t.shape().toArray()) {
                shape.add(Json.Num.of(d));
            }
            long end = Math.addExact(offset, t.byteSize());
            Map<String, Json.Value> entry = new LinkedHashMap<>();
            entry.put("dtype", new Json.Str(t.dtype().safetensorsName()));
            entry.put("shape", new Json.Arr(shape));
            entry.put("data_offsets", new Json.Arr(List.of(Json.Num.of(offset), Json.Num.of(end))));
            root.put(e.getKey(), new Json.Obj(entry));
            offset = end;
        }
        byte[] json = new Json.Obj(root).toJson().getBytes(StandardCharsets.UTF_8);
        // 8 + padded length is a multiple of 8, so data starts 8-byte aligned in the file (and in a mapping).
        int padded = Math.toIntExact((json.length + 7L) & ~7L);
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');

        AtomicFiles.write(file, ch -> {
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
            writeFully(ch, prefix);
            writeFully(ch, ByteBuffer.wrap(header));
            for (Tensor t : sorted.values()) {
                MemorySegment seg = t.segment();
                for (long off = 0; off < seg.byteSize(); off += WRITE_CHUNK) {
                    writeFully(ch, seg.asSlice(off, Math.min(WRITE_CHUNK, seg.byteSize() - off)).asByteBuffer());
                }
            }
        });
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Tensor data is raw little-endian bytes, handed out without swapping. */
    /**
     * Reads a whole safetensors stream (e.g. a class-path resource) into native memory and validates it as
     * {@link #open(Path)} does, without a file. The returned object owns the memory (a shared arena) until closed.
     *
     * @param source   names the data in messages and in {@link SafetensorsFile#path()} (e.g. the resource name)
     * @param maxBytes the most bytes accepted, so that a wrong stream cannot fill the memory
     * @throws CheckpointException if the data is not valid safetensors or longer than maxBytes
     */
    public static SafetensorsFile read(InputStream in, Path source, long maxBytes) throws IOException {
        requireLittleEndianHost();
        byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        if (bytes.length > maxBytes) {
            throw new CheckpointException(source, null, "at most " + maxBytes + " bytes", "more");
        }
        if (bytes.length < 8) {
            throw new CheckpointException(source, null, "at least 8 bytes (the u64 header length)", bytes.length + " bytes");
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment data = arena.allocate(bytes.length, Tensor.HOST_ALIGNMENT);
            MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
            return wrap(source, arena, data.asReadOnly());
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Validates the header of {@code map} (the whole file, at least 8 bytes) and hands out its tensors. */
    private static SafetensorsFile wrap(Path file, Arena arena, MemorySegment map) throws CheckpointException {
        long n = map.get(U64_LE, 0);
        long available = map.byteSize() - 8;
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new CheckpointException(file, null, "a header length of at most " + MAX_HEADER_BYTES + " bytes",
                    Long.toUnsignedString(n) + " (header too long)");
        }
        if (n > available) {
            throw new CheckpointException(file, null, "a header length of at most " + available
                    + " bytes (the rest of the file)", n + " (header too long for the file; truncated?)");
        }
        byte[] header = map.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        MemorySegment data = map.asSlice(8 + n);
        Header h = parseHeader(file, header, data.byteSize());
        return new SafetensorsFile(file, arena, data, h.entries, h.metadata);
    }

    private static void requireLittleEndianHost() {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("safetensors I/O needs a little-endian host, this one is " + ByteOrder.nativeOrder());
        }
    }

    // ---- header parsing ------------------------------------------------------------------------------------

    /** One validated header entry; offsets are relative to the start of the data section. */
    record Entry(DType dtype, Shape shape, long begin, long end) {
    }

    private record Header(Map<String, Entry> entries, Map<String, String> metadata) {
    }

    private static Header parseHeader(Path file, byte[] bytes, long dataSize) throws CheckpointException {
        String text = decodeUtf8(file, bytes);
        if (text.isBlank()) {
            throw new CheckpointException(file, null, "a JSON object as header", "an empty header");
        }
        Json.Value parsed;
        try {
            parsed = Json.parse(text, JSON_LIMITS);
        } catch (Json.SyntaxException e) {
            throw new CheckpointException(file, null, "a JSON object as header", "malformed JSON: " + describe(e), e);
        }
        if (!(parsed instanceof Json.Obj root)) {
            throw new CheckpointException(file, null, "a JSON object as header", "a JSON " + parsed.kind());
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, Json.Value> field : root.fields().entrySet()) {
            String key = field.getKey();
            Json.Value value = field.getValue();
            if (key.equals(METADATA_KEY)) {
                metadata = parseMetadata(file, value);
            } else {
                entries.put(key, parseEntry(file, key, value, dataSize));
            }
        }
        checkNoOverlap(file, entries);
        return new Header(Collections.unmodifiableMap(entries), metadata);
    }

    private static String decodeUtf8(Path file, byte[] bytes) throws CheckpointException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            CharBuffer chars = decoder.decode(in);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file, null, "a UTF-8 JSON header", "invalid UTF-8 at header byte " + in.position(), e);
        }
    }

    private static Map<String, String> parseMetadata(Path file, Json.Value node) throws CheckpointException {
        if (node == Json.Null.NULL) {
            return Map.of();
        }
        if (!(node instanceof Json.Obj obj)) {
            throw new CheckpointException(file, null, METADATA_KEY + " as a map of strings to strings", "a JSON " + node.kind());
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, Json.Value> e : obj.fields().entrySet()) {
            if (!(e.getValue() instanceof Json.Str str)) {
                throw new CheckpointException(file, null, METADATA_KEY + " as a map of strings to strings",
                        "'" + e.getKey() + "' mapped to a JSON " + e.getValue().kind());
            }
            meta.put(e.getKey(), str.value());
        }
        return Collections.unmodifiableMap(meta);
    }

    private static Entry parseEntry(Path file, String key, Json.Value value, long dataSize) throws CheckpointException {
        if (!(value instanceof Json.Obj node)) {
            throw new CheckpointException(file, key, "an object with dtype, shape and data_offsets", "a JSON " + value.kind());
        }
        for (Map.Entry<String, Json.Value> field : node.fields().entrySet()) {
            String name = field.getKey();
            if (!name.equals("dtype") && !name.equals("shape") && !name.equals("data_offsets")) {
                throw new CheckpointException(file, key, "only the fields dtype, shape and data_offsets", "unknown field '" + name + "'");
            }
        }
        Json.Value dtValue = node.get("dtype");
        if (!(dtValue instanceof Json.Str dt)) {
            throw new CheckpointException(file, key, "a string dtype", dtValue == null ? "none" : "a JSON " + dtValue.kind());
        }
        DType dtype = null;
        for (DType d : DType.values()) {
            if (d.safetensorsName().equals(dt.value())) {
                dtype = d;
            }
        }
        if (dtype == null) {
            throw new CheckpointException(file, key, "a dtype among " + dtypeNames(), "bad dtype '" + dt.value() + "'");
        }

        Json.Value shValue = node.get("shape");
        if (!(shValue instanceof Json.Arr sh)) {
            throw new CheckpointException(file, key, "shape as an array of non-negative integers",
                    shValue == null ? "none" : "a JSON " + shValue.kind());
        }
        long[] dims = new long[sh.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = nonNegativeLong(file, key, "shape", sh.get(i));
        }
        long numel;
        long bytes;
        try {
            // Shape.of also multiplies the non-zero sizes; check the same product here so it cannot throw.
            long nonZero = 1;
            for (long d : dims) {
                nonZero = Math.multiplyExact(nonZero, Math.max(d, 1));
            }
            Math.multiplyExact(nonZero, (long) dtype.byteSize());
            numel = 1;
            for (long d : dims) {
                numel *= d;
            }
            bytes = numel * dtype.byteSize();
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, key, "a shape whose size fits in a long",
                    "shape " + Arrays.toString(dims) + " (shape overflow)");
        }
        Shape shape = Shape.of(dims);

        Json.Value offValue = node.get("data_offsets");
        if (!(offValue instanceof Json.Arr off) || off.size() != 2) {
            throw new CheckpointException(file, key, "data_offsets as [begin, end]", offValue == null ? "none"
                    : offValue instanceof Json.Arr a ? "an array of " + a.size() : "a JSON " + offValue.kind());
        }
        long begin = nonNegativeLong(file, key, "data_offsets", off.get(0));
        long end = nonNegativeLong(file, key, "data_offsets", off.get(1));
        if (begin > end || end > dataSize) {
            throw new CheckpointException(file, key, "data_offsets with 0 <= begin <= end <= " + dataSize + " (the data size)",
                    "[" + begin + ", " + end + "] (offsets out of range" + (end > dataSize ? "; is the file truncated?)" : ")"));
        }
        if (end - begin != bytes) {
            throw new CheckpointException(file, key, bytes + " bytes of data for " + dtype + " " + shape,
                    (end - begin) + " (data_offsets [" + begin + ", " + end + "])");
        }
        return new Entry(dtype, shape, begin, end);
    }

    private static long nonNegativeLong(Path file, String key, String field, Json.Value v) throws CheckpointException {
        if (!(v instanceof Json.Num n) || !n.fitsLong() || n.longValue() < 0) {
            throw new CheckpointException(file, key, field + " of non-negative integers that fit in a long",
                    v == null ? "none" : v.toJson());
        }
        return n.longValue();
    }

    private static void checkNoOverlap(Path file, Map<String, Entry> entries) throws CheckpointException {
        List<Map.Entry<String, Entry>> byOffset = new ArrayList<>();
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            if (e.getValue().end > e.getValue().begin) {
                byOffset.add(e);
            }
        }
        byOffset.sort(Comparator.comparingLong((Map.Entry<String, Entry> e) -> e.getValue().begin)
                .thenComparingLong(e -> e.getValue().end));
        for (int i = 1; i < byOffset.size(); i++) {
            Map.Entry<String, Entry> prev = byOffset.get(i - 1);
            Map.Entry<String, Entry> cur = byOffset.get(i);
            if (cur.getValue().begin < prev.getValue().end) {
                throw new CheckpointException(file, cur.getKey(), "data that no other tensor uses",
                        "data_offsets [" + cur.getValue().begin + ", " + cur.getValue().end + "] overlap tensor '"
                                + prev.getKey() + "' at [" + prev.getValue().begin + ", " + prev.getValue().end + "]");
            }
        }
    }

    private static String describe(Json.SyntaxException e) {
        String reason = e.reason().length() > 200 ? e.reason().substring(0, 200) + "..." : e.reason();
        return reason + " (at header character " + e.offset() + ")";
    }

    private static String dtypeNames() {
        StringBuilder sb = new StringBuilder();
        for (DType d : DType.values()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(d.safetensorsName());
        }
        return sb.toString();
    }
}
