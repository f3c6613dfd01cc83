package dev.seer.io;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Structural checks of a {@code torch.save} archive, in Java, before libtorch's reader sees the bytes.
 *
 * <p>Why: libtorch trusts the lengths a file declares. Its unpickler sizes a string by the 4-byte length of a
 * BINUNICODE opcode before finding that the bytes are not there (a 1 KB file can make it allocate and read 3 GB),
 * sizes its memo table by the largest memo index, and sizes a storage by the element count the pickle declares,
 * whatever the size of the record holding the bytes. So the zip container and the opcode stream of
 * {@code data.pkl} are checked here, in one linear pass each and without building objects: every offset and
 * declared length must lie inside the bytes there are.
 *
 * <p>Zip: the end records (zip64 included, as torch.save writes them), every central directory entry, its local
 * header and data. torch.save stores every record uncompressed, so a compressed (or encrypted) entry is rejected
 * rather than inflated: its declared size is what would be allocated.
 *
 * <p>Pickle: the opcodes of protocols 0 to 5 (the table of Python's {@code pickletools}), each with its argument
 * format and stack effect. The stack holds placeholders, except for the few plain values (str, int, globals,
 * tuples) that the storage references {@code BINPERSID ('storage', torch.FloatStorage, key, device, numel)} are
 * built from; each reference must name a record {@code <prefix>/data/<key>} holding at least
 * {@code numel * itemsize} bytes.
 */
final class TorchArchive {
    /** What the zip checks expect, in {@link CheckpointException}'s words. */
    private static final String ARCHIVE = "a torch.save archive";

    private final Path file;
    private final byte[] b;

    private TorchArchive(Path file, byte[] bytes) {
        this.file = file;
        this.b = bytes;
    }

    /** One archive member: its name and where its bytes lie in the file. */
    record Entry(String name, int offset, int size) {
    }

    /**
     * Checks the archive and every {@code <prefix>/data.pkl} in it.
     *
     * @throws CheckpointException naming the first problem found
     */
    static void check(Path file, byte[] bytes) throws CheckpointException {
        TorchArchive a = new TorchArchive(file, bytes);
        List<Entry> entries = a.entries();
        String first = entries.getFirst().name();
        int slash = first.indexOf('/');
        if (slash <= 0) {
            throw a.bad(ARCHIVE, "first entry '" + first + "' outside a folder");
        }
        String prefix = first.substring(0, slash + 1);
        String dataPrefix = (prefix + "data/").toLowerCase(Locale.ROOT);
        // libtorch's zip reader (miniz) looks names up ignoring ASCII case; keep the smallest of equal names.
        Map<String, Integer> records = new HashMap<>();
        for (Entry e : entries) {
            String lower = e.name().toLowerCase(Locale.ROOT);
            if (lower.startsWith(dataPrefix)) {
                records.merge(lower.substring(dataPrefix.length()), e.size(), Math::min);
            }
        }
        boolean found = false;
        for (Entry e : entries) {
            if (e.name().equalsIgnoreCase(prefix + "data.pkl")) {
                new PickleScan(a, e, records).run();
                found = true;
            }
        }
        if (!found) {
            throw a.bad(ARCHIVE, "no " + prefix + "data.pkl");
        }
    }

    private CheckpointException bad(String expected, String found) {
        return new CheckpointException(file, null, expected, found);
    }

    // ---- zip ------------------------------------------------------------------------------------------------

    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;

    /** The central directory's entries, in order, each checked to lie inside the file; never empty. */
    private List<Entry> entries() throws CheckpointException {
        int n = b.length;
        int eocd = -1;
        for (int p = n - 22; p >= Math.max(0, n - 22 - 0xFFFF); p--) {
            if (i32(p) == EOCD) {
                eocd = p;
                break;
            }
        }
        if (eocd < 0) {
            throw bad(ARCHIVE, "no zip end of central directory record in " + n + " bytes");
        }
        long count = u16(eocd + 10);
        long cdSize = u32(eocd + 12);
        long cdOffset = u32(eocd + 16);
        long cdLimit = eocd;
        if (eocd >= 20 && i32(eocd - 20) == ZIP64_LOCATOR) {
            long z = i64(eocd - 12);
            if (z < 0 || z > eocd - 20 - 56 || i32((int) z) != ZIP64_EOCD) {
                throw bad(ARCHIVE, "a zip64 locator pointing to " + Long.toUnsignedString(z) + ", not to a zip64 end record");
            }
            int p = (int) z;
            count = zip64(count, 0xFFFF, i64(p + 32), "entry count");
            cdSize = zip64(cdSize, 0xFFFFFFFFL, i64(p + 40), "central directory size");
            cdOffset = zip64(cdOffset, 0xFFFFFFFFL, i64(p + 48), "central directory offset");
            cdLimit = z;
        }
        if (count == 0) {
            throw bad(ARCHIVE, "an empty zip archive");
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > cdLimit - cdSize) {
            throw bad(ARCHIVE, "a central directory of " + Long.toUnsignedString(cdSize) + " bytes at offset "
                    + Long.toUnsignedString(cdOffset) + ", beyond its end records at " + cdLimit);
        }
        int end = (int) (cdOffset + cdSize);
        List<Entry> entries = new ArrayList<>();
        int p = (int) cdOffset;
        for (long i = 0; i < count; i++) {
            if (p > end - 46 || i32(p) != CENTRAL) {
                throw bad(ARCHIVE, "central directory entry " + i + " of " + count + " missing or cut at offset " + p);
            }
            int nameLen = u16(p + 28);
            int extraLen = u16(p + 30);
            int next = p + 46 + nameLen + extraLen + u16(p + 32);
            if (next > end) {
                throw bad(ARCHIVE, "central directory entry " + i + " running past the directory's end");
            }
            String name = new String(b, p + 46, nameLen, StandardCharsets.ISO_8859_1);
            entries.add(entry(p, name, p + 46 + nameLen, extraLen, cdOffset));
            p = next;
        }
        return entries;
    }

    /** A zip64 value where the 32-bit one says "see zip64", else the 32-bit one, which must agree. */
    private long zip64(long small, long sentinel, long big, String what) throws CheckpointException {
        if (small != sentinel && small != big) {
            throw bad(ARCHIVE, "zip and zip64 end records disagreeing on the " + what + " (" + small + " and "
                    + Long.toUnsignedString(big) + ")");
        }
        return big;
    }

    private Entry entry(int p, String name, int extra, int extraLen, long dataLimit) throws CheckpointException {
        int flags = u16(p + 8);
        int method = u16(p + 10);
        long csize = u32(p + 20);
        long usize = u32(p + 24);
        long local = u32(p + 42);
        // The zip64 extra field holds, in this order, the 8-byte values whose 32-bit fields are all ones.
        for (int q = extra; q + 4 <= extra + extraLen; q += 4 + u16(q + 2)) {
            if (u16(q) == 1) {
                int v = q + 4;
                int limit = Math.min(v + u16(q + 2), extra + extraLen);
                if (usize == 0xFFFFFFFFL && v + 8 <= limit) {
                    usize = i64(v);
                    v += 8;
                }
                if (csize == 0xFFFFFFFFL && v + 8 <= limit) {
                    csize = i64(v);
                    v += 8;
                }
                if (local == 0xFFFFFFFFL && v + 8 <= limit) {
                    local = i64(v);
                }
                break;
            }
        }
        if ((flags & 1) != 0) {
            throw bad(ARCHIVE, "entry '" + name + "' encrypted");
        }
        if (method != 0) {
            throw bad(ARCHIVE + " (its entries are stored uncompressed)", "entry '" + name + "' compressed with zip method " + method);
        }
        if (csize != usize) {
            throw bad(ARCHIVE, "stored entry '" + name + "' with sizes " + Long.toUnsignedString(csize) + " and "
                    + Long.toUnsignedString(usize));
        }
        if (local < 0 || local > b.length - 30 || i32((int) local) != LOCAL) {
            throw bad(ARCHIVE, "entry '" + name + "' with no local header at offset " + Long.toUnsignedString(local));
        }
        long data = local + 30 + u16((int) local + 26) + u16((int) local + 28);
        if (csize < 0 || data > dataLimit || csize > dataLimit - data) {
            throw bad(ARCHIVE, "entry '" + name + "' of " + Long.toUnsignedString(csize) + " bytes at offset " + data
                    + ", beyond the " + dataLimit + " bytes before the central directory");
        }
        return new Entry(name, (int) data, (int) csize);
    }

    private int u8(int p) {
        return b[p] & 0xFF;
    }

    private int u16(int p) {
        return u8(p) | u8(p + 1) << 8;
    }

    private int i32(int p) {
        return u16(p) | u16(p + 2) << 16;
    }

    private long u32(int p) {
        return i32(p) & 0xFFFFFFFFL;
    }

    private long i64(int p) {
        return u32(p) | u32(p + 4) << 32;
    }

    // ---- pickle ---------------------------------------------------------------------------------------------

    /** How an opcode's argument is laid out after it. */
    private enum Arg {
        NONE, U1, U2, I4, U4, U8, F8,
        /** One newline-terminated line. */
        LINE,
        /** Two newline-terminated lines (GLOBAL, INST). */
        LINES2,
        /** A length of 1, 4 (signed or not) or 8 bytes, then that many bytes. */
        LEN1, LEN4, ULEN4, LEN8
    }

    /** Pops everything above the top mark, and the mark, before the fixed pops. */
    private static final int TO_MARK = -1;

    /** One opcode: its name, argument, and stack effect ({@code toMark}, then {@code pops} off, {@code pushes} on). */
    private record Op(String name, Arg arg, boolean toMark, int pops, int pushes) {
    }

    private static final Op[] OPS = new Op[256];

    private static void op(int code, String name, Arg arg, int pops, int pushes) {
        OPS[code] = pops == TO_MARK ? new Op(name, arg, true, 0, pushes) : new Op(name, arg, false, pops, pushes);
    }

    /** As {@link #op}, popping to the mark and then {@code pops} more (APPENDS: the list below the mark). */
    private static void markOp(int code, String name, int pops, int pushes) {
        OPS[code] = new Op(name, Arg.NONE, true, pops, pushes);
    }

    static {
        // Python's pickletools opcode table, protocols 0-5.
        op('I', "INT", Arg.LINE, 0, 1);
        op('J', "BININT", Arg.I4, 0, 1);
        op('K', "BININT1", Arg.U1, 0, 1);
        op('M', "BININT2", Arg.U2, 0, 1);
        op('L', "LONG", Arg.LINE, 0, 1);
        op(0x8a, "LONG1", Arg.LEN1, 0, 1);
        op(0x8b, "LONG4", Arg.LEN4, 0, 1);
        op('S', "STRING", Arg.LINE, 0, 1);
        op('T', "BINSTRING", Arg.LEN4, 0, 1);
        op('U', "SHORT_BINSTRING", Arg.LEN1, 0, 1);
        op('B', "BINBYTES", Arg.ULEN4, 0, 1);
        op('C', "SHORT_BINBYTES", Arg.LEN1, 0, 1);
        op(0x8e, "BINBYTES8", Arg.LEN8, 0, 1);
        op(0x96, "BYTEARRAY8", Arg.LEN8, 0, 1);
        op(0x97, "NEXT_BUFFER", Arg.NONE, 0, 1);
        op(0x98, "READONLY_BUFFER", Arg.NONE, 1, 1);
        op('N', "NONE", Arg.NONE, 0, 1);
        op(0x88, "NEWTRUE", Arg.NONE, 0, 1);
        op(0x89, "NEWFALSE", Arg.NONE, 0, 1);
        op('V', "UNICODE", Arg.LINE, 0, 1);
        op(0x8c, "SHORT_BINUNICODE", Arg.LEN1, 0, 1);
        op('X', "BINUNICODE", Arg.ULEN4, 0, 1);
        op(0x8d, "BINUNICODE8", Arg.LEN8, 0, 1);
        op('F', "FLOAT", Arg.LINE, 0, 1);
        op('G', "BINFLOAT", Arg.F8, 0, 1);
        op(']', "EMPTY_LIST", Arg.NONE, 0, 1);
        op('a', "APPEND", Arg.NONE, 2, 1);
        markOp('e', "APPENDS", 1, 1);
        op('l', "LIST", Arg.NONE, TO_MARK, 1);
        op(')', "EMPTY_TUPLE", Arg.NONE, 0, 1);
        op('t', "TUPLE", Arg.NONE, TO_MARK, 1);
        op(0x85, "TUPLE1", Arg.NONE, 1, 1);
        op(0x86, "TUPLE2", Arg.NONE, 2, 1);
        op(0x87, "TUPLE3", Arg.NONE, 3, 1);
        op('}', "EMPTY_DICT", Arg.NONE, 0, 1);
        op('d', "DICT", Arg.NONE, TO_MARK, 1);
        op('s', "SETITEM", Arg.NONE, 3, 1);
        markOp('u', "SETITEMS", 1, 1);
        op(0x8f, "EMPTY_SET", Arg.NONE, 0, 1);
        markOp(0x90, "ADDITEMS", 1, 1);
        op(0x91, "FROZENSET", Arg.NONE, TO_MARK, 1);
        op('0', "POP", Arg.NONE, 1, 0);
        op('2', "DUP", Arg.NONE, 1, 2);
        op('(', "MARK", Arg.NONE, 0, 0);
        op('1', "POP_MARK", Arg.NONE, TO_MARK, 0);
        op('g', "GET", Arg.LINE, 0, 1);
        op('h', "BINGET", Arg.U1, 0, 1);
        op('j', "LONG_BINGET", Arg.U4, 0, 1);
        op('p', "PUT", Arg.LINE, 1, 1);
        op('q', "BINPUT", Arg.U1, 1, 1);
        op('r', "LONG_BINPUT", Arg.U4, 1, 1);
        op(0x94, "MEMOIZE", Arg.NONE, 1, 1);
        op(0x82, "EXT1", Arg.U1, 0, 1);
        op(0x83, "EXT2", Arg.U2, 0, 1);
        op(0x84, "EXT4", Arg.I4, 0, 1);
        op('c', "GLOBAL", Arg.LINES2, 0, 1);
        op(0x93, "STACK_GLOBAL", Arg.NONE, 2, 1);
        op('R', "REDUCE", Arg.NONE, 2, 1);
        op('b', "BUILD", Arg.NONE, 2, 1);
        op('i', "INST", Arg.LINES2, TO_MARK, 1);
        op('o', "OBJ", Arg.NONE, TO_MARK, 1);
        op(0x81, "NEWOBJ", Arg.NONE, 2, 1);
        op(0x92, "NEWOBJ_EX", Arg.NONE, 3, 1);
        op(0x80, "PROTO", Arg.U1, 0, 0);
        op('.', "STOP", Arg.NONE, 1, 0);
        op(0x95, "FRAME", Arg.U8, 0, 0);
        op('P', "PERSID", Arg.LINE, 0, 1);
        op('Q', "BINPERSID", Arg.NONE, 1, 1);
    }

    /** Bytes per element of libtorch's storage classes ({@code torch.FloatStorage}...); unknown ones count 16. */
    private static final Map<String, Integer> ITEM_SIZES = Map.ofEntries(
            Map.entry("Byte", 1), Map.entry("Char", 1), Map.entry("Bool", 1), Map.entry("Short", 2),
            Map.entry("Half", 2), Map.entry("BFloat16", 2), Map.entry("Int", 4), Map.entry("Float", 4),
            Map.entry("Long", 8), Map.entry("Double", 8), Map.entry("ComplexHalf", 4), Map.entry("ComplexFloat", 8),
            Map.entry("ComplexDouble", 16), Map.entry("QInt8", 1), Map.entry("QUInt8", 1), Map.entry("QInt32", 4),
            Map.entry("Untyped", 1));
    private static final int MAX_ITEM_SIZE = 16;

    /** A placeholder for a value whose content does not matter here. */
    private static final Object ANY = new Object();

    private record Global(String module, String name) {
    }

    private record Tuple(List<Object> items) {
    }

    /** One linear pass over a pickle, simulating only its stack's shape. */
    private static final class PickleScan {
        private final TorchArchive a;
        private final Path file;
        private final byte[] b;
        private final int start;
        private final int end;
        private final String expected;
        private final Map<String, Integer> records;
        private final List<Object> stack = new ArrayList<>();
        private final Deque<Integer> marks = new ArrayDeque<>();
        private final Map<Long, Object> memo = new HashMap<>();
        private int pos;
        private Op op;
        private int at;

        PickleScan(TorchArchive a, Entry pkl, Map<String, Integer> records) {
            this.a = a;
            this.file = a.file;
            this.b = a.b;
            this.start = pkl.offset();
            this.end = pkl.offset() + pkl.size();
            this.expected = "a well-formed pickle in " + pkl.name();
            this.records = records;
        }

        private CheckpointException bad(String found) {
            return new CheckpointException(file, null, expected, found);
        }

        private String here() {
            return op.name() + " at byte " + (at - start);
        }

        void run() throws CheckpointException {
            pos = start;
            while (pos < end) {
                at = pos;
                int code = b[pos++] & 0xFF;
                op = OPS[code];
                if (op == null) {
                    throw bad(String.format("unknown opcode 0x%02x at byte %d", code, at - start));
                }
                long arg = 0;
                String text = null;
                int payload = pos;
                switch (op.arg()) {
                    case NONE -> {
                    }
                    case U1 -> arg = take(1) & 0xFF;
                    case U2 -> arg = take(2) & 0xFFFF;
                    case I4 -> arg = (int) take(4);
                    case U4 -> arg = take(4) & 0xFFFFFFFFL;
                    case U8, F8 -> arg = take(8);
                    case LINE -> text = line();
                    case LINES2 -> text = line() + "\n" + line();
                    case LEN1 -> payload = skip(take(1) & 0xFF);
                    case LEN4 -> payload = skip((int) take(4));
                    case ULEN4 -> payload = skip(take(4) & 0xFFFFFFFFL);
                    case LEN8 -> payload = skip(take(8));
                }
                if (code == 0x95 && (arg < 0 || arg > end - pos)) {
                    throw bad(here() + " declaring " + Long.toUnsignedString(arg) + " bytes where " + (end - pos) + " remain");
                }
                if (code == 0x80 && arg > 5) {
                    throw bad(here() + ": unknown protocol " + arg);
                }
                if (code == '(') {
                    marks.push(stack.size());
                } else {
                    apply(code, arg, text, payload);
                }
                if (code == '.') {
                    return;
                }
            }
            throw bad(pos == start ? "an empty pickle" : "no STOP opcode before the end, " + (end - start) + " bytes");
        }

        /** The next n bytes, little-endian, as a long. */
        private long take(int n) throws CheckpointException {
            if (n > end - pos) {
                throw bad(here() + " cut off: its " + n + "-byte argument runs past the end");
            }
            long v = 0;
            for (int i = n - 1; i >= 0; i--) {
                v = v << 8 | (b[pos + i] & 0xFF);
            }
            pos += n;
            return v;
        }

        /** Skips a declared payload length; returns where it starts. */
        private int skip(long len) throws CheckpointException {
            if (len < 0 || len > end - pos) {
                String declared = op.arg() == Arg.LEN4 ? Long.toString(len) : Long.toUnsignedString(len);
                throw bad(here() + " declaring " + declared + " bytes where " + (end - pos) + " remain");
            }
            pos += (int) len;
            return pos - (int) len;
        }

        private String line() throws CheckpointException {
            for (int i = pos; i < end; i++) {
                if (b[i] == '\n') {
                    String s = new String(b, pos, i - pos, StandardCharsets.ISO_8859_1);
                    pos = i + 1;
                    return s;
                }
            }
            throw bad(here() + " with an unterminated text argument");
        }

        private void apply(int code, long arg, String text, int payload) throws CheckpointException {
            List<Object> items = List.of();
            if (op.toMark()) {
                if (marks.isEmpty()) {
                    throw bad(here() + " without a MARK");
                }
                int mark = marks.pop();
                items = new ArrayList<>(stack.subList(mark, stack.size()));
                stack.subList(mark, stack.size()).clear();
            }
            int floor = marks.isEmpty() ? 0 : marks.peek();
            if (stack.size() - floor < op.pops()) {
                throw bad(here() + " popping " + op.pops() + " values from a stack of " + (stack.size() - floor));
            }
            List<Object> popped = stack.subList(stack.size() - op.pops(), stack.size());
            Object top = popped.isEmpty() ? null : popped.getLast();
            Object pushed = switch (code) {
                case 'J', 'K', 'M' -> arg;
                case 0x8a, 0x8b -> littleEndian(payload, pos - payload);
                case 'I', 'L' -> decimal(text);
                case 'X', 0x8c, 0x8d -> new String(b, payload, pos - payload, StandardCharsets.UTF_8);
                case 'c' -> new Global(text.substring(0, text.indexOf('\n')), text.substring(text.indexOf('\n') + 1));
                case 0x93 -> popped.get(0) instanceof String m && popped.get(1) instanceof String n ? new Global(m, n) : ANY;
                case 't' -> new Tuple(items);
                case ')', 0x85, 0x86, 0x87 -> new Tuple(List.copyOf(popped));
                case 'h', 'j', 'g' -> get(code == 'g' ? decimal(text) : arg);
                case 'q', 'r', 'p', 0x94 -> {
                    put(code == 'p' ? decimal(text) : code == 0x94 ? memo.size() : arg, top);
                    yield top;
                }
                case 'Q' -> {
                    storage(top);
                    yield ANY;
                }
                default -> ANY;
            };
            popped.clear();
            for (int i = 0; i < op.pushes(); i++) {
                stack.add(code == '2' ? top : pushed);
            }
        }

        private Object get(Object index) throws CheckpointException {
            Object v = index instanceof Long l ? memo.get(l) : null;
            if (v == null) {
                throw bad(here() + " reading memo entry " + index + ", never set");
            }
            return v;
        }

        private void put(Object index, Object value) throws CheckpointException {
            // libtorch's memo is a vector sized by the largest index; a pickler numbers entries from 0.
            if (!(index instanceof Long l) || l < 0 || l > end - start) {
                throw bad(here() + " with memo index " + index + ", beyond the pickle's " + (end - start) + " bytes");
            }
            memo.put(l, value);
        }

        /** A storage reference: ('storage', torch.XStorage, key, device, numel), its bytes in data/key. */
        private void storage(Object pid) throws CheckpointException {
            if (!(pid instanceof Tuple(List<Object> t)) || t.size() < 5 || !"storage".equals(t.get(0))
                    || !(t.get(1) instanceof Global(String module, String cls)) || !(t.get(2) instanceof String key)
                    || !(t.get(4) instanceof Long numel)) {
                throw bad(here() + " with a reference other than ('storage', torch.<type>Storage, key, device, numel)");
            }
            Integer itemSize = "torch".equals(module) && cls.endsWith("Storage")
                    ? ITEM_SIZES.get(cls.substring(0, cls.length() - "Storage".length())) : null;
            int size = itemSize == null ? MAX_ITEM_SIZE : itemSize;
            Integer record = records.get(key.toLowerCase(Locale.ROOT));
            if (numel < 0 || numel > 0 && (record == null || numel > record / size)) {
                throw bad(here() + ": storage '" + key + "' of " + numel + " " + module + "." + cls + " elements, but "
                        + (record == null ? "no record data/" + key : "its record holds " + record + " bytes"));
            }
        }

        private static Object decimal(String text) {
            String s = text.endsWith("L") ? text.substring(0, text.length() - 1) : text;
            try {
                return Long.parseLong(s.strip());
            } catch (NumberFormatException e) {
                return ANY;
            }
        }

        /** A LONG1/LONG4 payload: little-endian two's complement; ANY beyond 8 bytes. */
        private Object littleEndian(int from, int n) {
            if (n > 8) {
                return ANY;
            }
            long v = 0;
            for (int i = n - 1; i >= 0; i--) {
                v = v << 8 | (b[from + i] & 0xFF);
            }
            return n == 0 ? 0L : v << (64 - 8 * n) >> (64 - 8 * n);
        }
    }
}
