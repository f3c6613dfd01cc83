package dev.seer.io;

import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The unpickler for {@code data.pkl} of a {@code torch.save} archive: Python's pickle protocols 0 to 5, read into
 * plain Java values, executing nothing.
 *
 * <p>Values: None is {@code null}; bool, int, float, str and bytes are {@link Boolean}, {@link Long} (or
 * {@link BigInteger} past 64 bits), {@link Double}, {@link String} and {@code byte[]}; list is an
 * {@link ArrayList}, tuple a {@link Tuple}, dict (and OrderedDict, defaultdict) a {@link LinkedHashMap} in the
 * pickle's order, set a {@link LinkedHashSet}; a storage reference is a {@link Storage} and a tensor a
 * {@link TensorRef}. Any other class or function the pickle names (an argparse Namespace in a training checkpoint,
 * say) becomes an inert {@link PyObject}: like {@code torch.load(weights_only=True)} nothing is called, but unlike
 * it the rest of the file still loads, so a state dict can be taken out of a checkpoint that also pickled objects.
 *
 * <p>Python's {@code torch.save(model.state_dict())} writes an OrderedDict carrying a {@code _metadata} attribute
 * (a BUILD on the dict); that attribute is dropped.
 *
 * <p>A hostile pickle is a {@link CheckpointException}: every declared length must lie inside the pickle, memo
 * indices are bounded by its size, the stack is checked before every pop, and each storage reference
 * {@code ('storage', torch.FloatStorage, key, device, numel)} must name a record {@code data/<key>} holding at
 * least {@code numel * itemsize} bytes. Nothing is recursive, so self-referencing containers are harmless.
 *
 * <p>Bounded work and memory: integer and float text is at most {@link #MAX_NUMBER_CHARS} characters (torch.save
 * writes binary integers; a megabyte of decimal digits took a minute to parse), binary integers at most
 * {@link #MAX_LONG_BYTES} bytes, and every value, container item and memo entry the pickle makes is charged an
 * estimate of its Java heap cost against two budgets: {@link #HEAP_PER_BYTE} per byte read so far (plus
 * {@link #HEAP_FLOOR}), and a third of the heap that is free when loading starts. A pickle past either is refused
 * before the heap runs out, whatever it builds (one byte of opcode can ask for hundreds of bytes of heap).
 */
final class TorchPickle {
    private final Path file;
    private final byte[] b;
    private final int end;
    private final String expected;
    private final Map<String, MemorySegment> records;
    private final List<Object> stack = new ArrayList<>();
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int pos;
    private Op op;
    private int at;
    /** Estimated heap bytes of everything made so far, and the most allowed. */
    private long spent;
    private final long budget;

    /** Digits (with sign) of an INT/LONG/GET/PUT text argument, and characters of a FLOAT: torch.save needs fewer. */
    static final int MAX_NUMBER_CHARS = 20;
    /** Bytes of a LONG1/LONG4 integer (2040 bits). */
    static final int MAX_LONG_BYTES = 255;

    /**
     * @param pickle  the bytes of data.pkl
     * @param name    its archive name, for messages
     * @param records the archive's {@code data/} records by lower-cased key (zip readers match names ignoring
     *                ASCII case)
     */
    private TorchPickle(Path file, byte[] pickle, String name, Map<String, MemorySegment> records, long budget) {
        this.file = file;
        this.b = pickle;
        this.end = pickle.length;
        this.expected = "a well-formed pickle in " + name;
        this.records = records;
        this.budget = budget;
    }

    /** Unpickles data.pkl within a third of the heap that is free now; returns the pickled object. */
    static Object load(Path file, byte[] pickle, String name, Map<String, MemorySegment> records) throws CheckpointException {
        return load(file, pickle, name, records, freeHeapBytes() / 3);
    }

    /** As {@link #load(Path, byte[], String, Map)} with an explicit budget of estimated heap bytes. */
    static Object load(Path file, byte[] pickle, String name, Map<String, MemorySegment> records, long budget)
            throws CheckpointException {
        return new TorchPickle(file, pickle, name, records, budget).run();
    }

    /** The Java heap not in use now: what the heap may still grow to, less what is allocated. */
    static long freeHeapBytes() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    // ---- values -----------------------------------------------------------------------------------------------

    /** A class or function named by GLOBAL or STACK_GLOBAL. */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A Python tuple. */
    record Tuple(List<Object> items) {
    }

    /** An instance of a class Seer does not build: its class, constructor arguments and state, kept inert. */
    static final class PyObject {
        final Object type;
        final Object args;
        Object state;
        final List<Object> listItems = new ArrayList<>();
        final Map<Object, Object> dictItems = new LinkedHashMap<>();

        PyObject(Object type, Object args) {
            this.type = type;
            this.args = args;
        }

        /** The class (or function) that would have made it. */
        String typeName() {
            return type instanceof Global g ? g.toString() : "(unnamed)";
        }
    }

    /**
     * A storage: {@code numel} elements of the storage class {@code torch.<type>Storage}; {@code bytes} is its
     * record, cut to {@code numel * itemSize} bytes (empty when numel is 0 or the type is unknown).
     */
    record Storage(String key, String type, int itemSize, long numel, MemorySegment bytes) {
        long byteSize() {
            return bytes.byteSize();
        }
    }

    /** A tensor: a strided view of a storage, offset and strides in elements. */
    record TensorRef(Storage storage, long offset, long[] sizes, long[] strides) {
    }

    /** Wraps a dict key that is not a plain value, so that hashing it never walks a (possibly cyclic) container. */
    private static final class IdentityKey {
        final Object value;

        IdentityKey(Object value) {
            this.value = value;
        }
    }

    /** Bytes per element of the storage classes ({@code torch.FloatStorage}...). */
    static final Map<String, Integer> ITEM_SIZES = Map.ofEntries(
            Map.entry("Byte", 1), Map.entry("Char", 1), Map.entry("Bool", 1), Map.entry("Short", 2),
            Map.entry("Half", 2), Map.entry("BFloat16", 2), Map.entry("Int", 4), Map.entry("Float", 4),
            Map.entry("Long", 8), Map.entry("Double", 8), Map.entry("ComplexHalf", 4), Map.entry("ComplexFloat", 8),
            Map.entry("ComplexDouble", 16), Map.entry("QInt8", 1), Map.entry("QUInt8", 1), Map.entry("QInt32", 4),
            Map.entry("Untyped", 1));
    /** The element size assumed for an unknown storage class when checking its record's length. */
    private static final int MAX_ITEM_SIZE = 16;

    private static final Set<String> DICT_TYPES = Set.of("collections.OrderedDict", "builtins.dict",
            "__builtin__.dict", "collections.defaultdict");

    // ---- opcodes ----------------------------------------------------------------------------------------------

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

    // ---- the machine ------------------------------------------------------------------------------------------

    private CheckpointException bad(String found) {
        return new CheckpointException(file, null, expected, found);
    }

    private String here() {
        return op.name() + " at byte " + at;
    }

    private Object run() throws CheckpointException {
        pos = 0;
        while (pos < end) {
            at = pos;
            int code = b[pos++] & 0xFF;
            op = OPS[code];
            if (op == null) {
                throw bad(String.format("unknown opcode 0x%02x at byte %d", code, at));
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
                charge(48); // a boxed int in the mark deque
                marks.push(stack.size());
            } else if (code == '.') {
                return pop(1).getFirst();
            } else {
                apply(code, arg, text, payload);
            }
        }
        throw bad(end == 0 ? "an empty pickle" : "no STOP opcode before the end, " + end + " bytes");
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

    /** Pops the fixed number of values of the current opcode (above the top mark), oldest first. */
    private List<Object> pop(int n) throws CheckpointException {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() - floor < n) {
            throw bad(here() + " popping " + n + " values from a stack of " + (stack.size() - floor));
        }
        List<Object> tail = stack.subList(stack.size() - n, stack.size());
        List<Object> popped = new ArrayList<>(tail);
        tail.clear();
        return popped;
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
        List<Object> p = pop(op.pops());
        Object top = p.isEmpty() ? null : p.getLast();
        int len = pos - payload;
        charge(heapCost(code, items.size(), len + (text == null ? 0 : text.length())) + 16L * op.pushes());
        Object pushed = switch (code) {
            case 'J', 'K', 'M' -> arg;
            case 0x8a, 0x8b -> {
                if (len > MAX_LONG_BYTES) {
                    throw bad(here() + " with an integer of " + len + " bytes; at most " + MAX_LONG_BYTES + " expected");
                }
                yield littleEndian(payload, len);
            }
            case 'I' -> text.equals("01") ? Boolean.TRUE : text.equals("00") ? Boolean.FALSE : integer(text);
            case 'L' -> integer(text);
            case 'F' -> floating(text);
            case 'G' -> Double.longBitsToDouble(Long.reverseBytes(arg)); // BINFLOAT is big-endian
            case 'N' -> null;
            case 0x88 -> Boolean.TRUE;
            case 0x89 -> Boolean.FALSE;
            case 'X', 0x8c, 0x8d -> new String(b, payload, len, StandardCharsets.UTF_8);
            case 'T', 'U' -> new String(b, payload, len, StandardCharsets.ISO_8859_1);
            case 'S' -> unquote(text);
            case 'V' -> text;
            case 'B', 'C', 0x8e, 0x96 -> Arrays.copyOfRange(b, payload, pos);
            case 0x97, 0x98 -> throw bad(here() + ": out-of-band buffers, which torch.save does not write");
            case 0x82, 0x83, 0x84 -> throw bad(here() + ": a copyreg extension code, which torch.save does not write");
            case 'P' -> throw bad(here() + ": a text persistent id, where torch.save writes BINPERSID");
            case ']' -> new ArrayList<>();
            case 'l' -> new ArrayList<>(items);
            case 'a' -> append(p.get(0), List.of(p.get(1)));
            case 'e' -> append(top, items);
            case ')', 0x85, 0x86, 0x87 -> new Tuple(List.copyOf(nonNull(p)));
            case 't' -> new Tuple(List.copyOf(nonNull(items)));
            case '}' -> new LinkedHashMap<>();
            case 'd' -> setItems(new LinkedHashMap<>(), items);
            case 's' -> setItems(p.get(0), p.subList(1, 3));
            case 'u' -> setItems(top, items);
            case 0x8f -> new LinkedHashSet<>();
            case 0x90 -> addItems(top, items);
            case 0x91 -> addItems(new LinkedHashSet<>(), items);
            case '0', '1', 0x80, 0x95 -> null; // POP, POP_MARK, PROTO, FRAME: nothing pushed
            case '2' -> top;
            case 'g', 'h', 'j' -> get(code == 'g' ? integer(text) : arg);
            case 'p', 'q', 'r', 0x94 -> {
                put(code == 'p' ? integer(text) : code == 0x94 ? memo.size() : arg, top);
                yield top;
            }
            case 'c' -> new Global(text.substring(0, text.indexOf('\n')), text.substring(text.indexOf('\n') + 1));
            case 0x93 -> {
                if (!(p.get(0) instanceof String module) || !(p.get(1) instanceof String name)) {
                    throw bad(here() + " with a module and name other than two str");
                }
                yield new Global(module, name);
            }
            case 'R' -> reduce(p.get(0), p.get(1));
            case 'b' -> build(p.get(0), p.get(1));
            case 'i' -> {
                Global g = new Global(text.substring(0, text.indexOf('\n')), text.substring(text.indexOf('\n') + 1));
                yield new PyObject(g, new Tuple(List.copyOf(nonNull(items))));
            }
            case 'o' -> {
                if (items.isEmpty()) {
                    throw bad(here() + " with no class above the MARK");
                }
                yield new PyObject(items.getFirst(), new Tuple(List.copyOf(nonNull(items.subList(1, items.size())))));
            }
            case 0x81, 0x92 -> isDictType(p.get(0)) ? new LinkedHashMap<>() : new PyObject(p.get(0), p.get(1));
            case 'Q' -> storage(top);
            default -> throw new IllegalStateException("opcode " + op.name() + " has no action");
        };
        for (int i = 0; i < op.pushes(); i++) {
            stack.add(pushed);
        }
    }

    /**
     * An upper estimate of the heap bytes an opcode adds (64-bit JVM, compressed or not): the value it makes, the
     * items it adds to a container ({@code n}: the items above the mark), its text or payload ({@code len}).
     * Stack slots are charged separately; nothing is credited back when popped.
     */
    private static long heapCost(int code, int n, long len) {
        return switch (code) {
            case 'J', 'K', 'M', 'F', 'G' -> 24;
            case 'I', 'L', 0x8a, 0x8b -> 64 + len;
            case 'X', 0x8c, 0x8d, 'T', 'U', 'S', 'V' -> 64 + 2 * len;
            case 'B', 'C', 0x8e, 0x96 -> 32 + len;
            case ']' -> 96;
            case 'l', 'a', 'e' -> 96 + 16L * n + 16;
            case ')', 0x85, 0x86, 0x87, 't' -> 96 + 24L * n + 48;
            case '}', 0x8f, 0x81, 0x92 -> 256;
            case 'd', 'u', 0x90, 0x91 -> 256 + 96L * n;
            case 's' -> 96;
            case '(' -> 48;
            case 'g', 'p', 'q', 'r', 0x94 -> 96 + len;
            case 'c', 'i' -> 256 + 2 * len + 24L * n;
            case 0x93 -> 256;
            // REDUCE may build a dict from a list of pairs, or a tensor from tuples of ints.
            case 'R', 'b', 'o', 'Q' -> 512 + 24L * n;
            default -> 0;
        };
    }

    private void charge(long bytes) throws CheckpointException {
        spent += bytes;
        if (spent > budget) {
            throw bad(here() + ": a pickle whose objects would take more than " + (budget >> 20) + " MiB of Java "
                    + "heap (a third of the heap free when loading started; raise -Xmx if the file is trusted)");
        }
        if (spent > HEAP_FLOOR + HEAP_PER_BYTE * pos) {
            throw bad(here() + ": a pickle that makes far more objects than its size explains (" + (spent >> 20)
                    + " MiB of estimated heap from " + pos + " bytes; torch.save's pickles need at most about "
                    + HEAP_PER_BYTE / 2 + " bytes of heap per byte)");
        }
    }

    /**
     * Heap estimate allowed per byte read so far, and on top of that: the pickles of torch.save (libtorch's and
     * Python's) measured 43 and 61 bytes per byte with their fixed overhead; a run of EMPTY_DICT opcodes asks 272.
     */
    static final long HEAP_PER_BYTE = 128;
    static final long HEAP_FLOOR = 16L << 20;

    // Tuple items are immutable lists, which take no null: None inside a tuple is kept as this marker.
    private static final Object NONE_IN_TUPLE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    private static List<Object> nonNull(List<Object> items) {
        List<Object> out = new ArrayList<>(items.size());
        for (Object o : items) {
            out.add(o == null ? NONE_IN_TUPLE : o);
        }
        return out;
    }

    /** A tuple item, with None back as null. */
    static Object item(Tuple t, int i) {
        Object o = t.items().get(i);
        return o == NONE_IN_TUPLE ? null : o;
    }

    private Object append(Object target, List<Object> values) throws CheckpointException {
        if (target instanceof List<?>) {
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) target;
            list.addAll(values);
        } else if (target instanceof PyObject o) {
            o.listItems.addAll(values);
        } else {
            throw bad(here() + " appending to " + kind(target));
        }
        return target;
    }

    private Object setItems(Object target, List<Object> keysAndValues) throws CheckpointException {
        if (keysAndValues.size() % 2 != 0) {
            throw bad(here() + " with an odd number of keys and values (" + keysAndValues.size() + ")");
        }
        Map<Object, Object> map;
        if (target instanceof Map<?, ?>) {
            @SuppressWarnings("unchecked")
            Map<Object, Object> m = (Map<Object, Object>) target;
            map = m;
        } else if (target instanceof PyObject o) {
            map = o.dictItems;
        } else {
            throw bad(here() + " setting items of " + kind(target));
        }
        for (int i = 0; i < keysAndValues.size(); i += 2) {
            map.put(key(keysAndValues.get(i)), keysAndValues.get(i + 1));
        }
        return target;
    }

    private Object addItems(Object target, List<Object> values) throws CheckpointException {
        if (!(target instanceof Set<?>)) {
            throw bad(here() + " adding items to " + kind(target));
        }
        @SuppressWarnings("unchecked")
        Set<Object> set = (Set<Object>) target;
        for (Object v : values) {
            set.add(key(v));
        }
        return target;
    }

    /** Plain values hash by value; anything else by identity (a container may hold itself). */
    private static Object key(Object k) {
        return k == null || k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Double
                || k instanceof BigInteger || k instanceof Global ? k : new IdentityKey(k);
    }

    private Object get(Object index) throws CheckpointException {
        Object v = index instanceof Long l ? memo.get(l) : null;
        if (v == null && !(index instanceof Long l && memo.containsKey(l))) {
            throw bad(here() + " reading memo entry " + index + ", never set");
        }
        return v;
    }

    private void put(Object index, Object value) throws CheckpointException {
        // A pickler numbers memo entries from 0; an index past the pickle's size cannot come from one.
        if (!(index instanceof Long l) || l < 0 || l > end) {
            throw bad(here() + " with memo index " + index + ", beyond the pickle's " + end + " bytes");
        }
        memo.put(l, value);
    }

    private static boolean isDictType(Object type) {
        return type instanceof Global g && DICT_TYPES.contains(g.toString());
    }

    /** REDUCE: the few functions a state dict needs are interpreted; any other call becomes an inert object. */
    private Object reduce(Object callable, Object args) throws CheckpointException {
        if (!(args instanceof Tuple t)) {
            throw bad(here() + " with arguments " + kind(args) + ", not a tuple");
        }
        String name = callable instanceof Global g ? g.toString() : "";
        return switch (name) {
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> tensor(name, t);
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (t.items().isEmpty() || !(item(t, 0) instanceof TensorRef data)) {
                    throw bad(here() + ": " + name + " of something other than a tensor");
                }
                yield data;
            }
            // libtorch's pickler wraps containers in these, for TorchScript's static types; the value is the argument.
            case "torch.jit._pickle.restore_type_tag", "torch.jit._pickle.build_tensorlist",
                 "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist",
                 "torch.jit._pickle.build_boollist" -> {
                if (t.items().isEmpty()) {
                    throw bad(here() + ": " + name + " with no argument");
                }
                yield item(t, 0);
            }
            case "torch._tensor._rebuild_from_type_v2" -> {
                // (function, tensor class, its arguments, state): a tensor subclass; rebuilt as a plain tensor.
                if (t.items().size() < 3 || !(item(t, 2) instanceof Tuple inner)) {
                    throw bad(here() + ": " + name + " with arguments other than (function, class, args, state)");
                }
                // One level only: a hostile pickle could nest these without bound, and this must not recurse.
                boolean nested = item(t, 0) instanceof Global g && g.toString().equals(name);
                yield nested ? new PyObject(callable, t) : reduce(item(t, 0), inner);
            }
            default -> isDictType(callable) ? dict(t) : new PyObject(callable, t);
        };
    }

    /** OrderedDict() or OrderedDict([(key, value), ...]). */
    private Object dict(Tuple args) throws CheckpointException {
        Map<Object, Object> map = new LinkedHashMap<>();
        if (!args.items().isEmpty() && item(args, 0) instanceof List<?> pairs) {
            charge(96L * pairs.size());
            for (Object pair : pairs) {
                List<?> kv = pair instanceof Tuple(List<Object> i) ? i : pair instanceof List<?> l ? l : List.of();
                if (kv.size() != 2) {
                    throw bad(here() + ": a dict built from something other than (key, value) pairs");
                }
                Object v = kv.get(1);
                map.put(key(kv.get(0) == NONE_IN_TUPLE ? null : kv.get(0)), v == NONE_IN_TUPLE ? null : v);
            }
        }
        return map;
    }

    /** {@code _rebuild_tensor_v2(storage, offset, sizes, strides, requires_grad, hooks[, metadata])}. */
    private TensorRef tensor(String name, Tuple t) throws CheckpointException {
        if (t.items().size() < 4 || !(item(t, 0) instanceof Storage storage) || !(item(t, 1) instanceof Long offset)) {
            throw bad(here() + ": " + name + " with arguments other than (storage, offset, sizes, strides, ...)");
        }
        long[] sizes = longs(item(t, 2), name + " sizes");
        long[] strides = longs(item(t, 3), name + " strides");
        if (sizes.length != strides.length) {
            throw bad(here() + ": " + name + " with " + sizes.length + " sizes and " + strides.length + " strides");
        }
        return new TensorRef(storage, offset, sizes, strides);
    }

    private long[] longs(Object o, String what) throws CheckpointException {
        List<?> list = o instanceof Tuple(List<Object> i) ? i : o instanceof List<?> l ? l : null;
        if (list == null) {
            throw bad(here() + ": " + what + " given as " + kind(o) + ", not a tuple of int");
        }
        charge(8L * list.size());
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v)) {
                String found = list.get(i) instanceof BigInteger ? "an int beyond 64 bits" : kind(list.get(i));
                throw bad(here() + ": " + what + " holding " + found + " at position " + i + ", where a 64-bit int "
                        + "is expected");
            }
            out[i] = v;
        }
        return out;
    }

    /** BUILD: an OrderedDict's attributes (state_dict's _metadata) and a tensor's state are dropped. */
    private Object build(Object target, Object state) throws CheckpointException {
        if (target instanceof PyObject o) {
            o.state = state;
        } else if (!(target instanceof Map<?, ?>) && !(target instanceof TensorRef)) {
            throw bad(here() + " setting the state of " + kind(target));
        }
        return target;
    }

    /** A storage reference: ('storage', torch.XStorage, key, device, numel), its bytes in data/key. */
    private Storage storage(Object pid) throws CheckpointException {
        if (!(pid instanceof Tuple t) || t.items().size() < 5 || !"storage".equals(item(t, 0))
                || !(item(t, 1) instanceof Global(String module, String cls)) || !(item(t, 2) instanceof String key)
                || !(item(t, 4) instanceof Long numel)) {
            throw bad(here() + " with a reference other than ('storage', torch.<type>Storage, key, device, numel)");
        }
        Integer itemSize = "torch".equals(module) && cls.endsWith("Storage")
                ? ITEM_SIZES.get(cls.substring(0, cls.length() - "Storage".length())) : null;
        int size = itemSize == null ? MAX_ITEM_SIZE : itemSize;
        MemorySegment record = records.get(key.toLowerCase(Locale.ROOT));
        if (numel < 0 || numel > 0 && (record == null || numel > record.byteSize() / size)) {
            String declared = "storage '" + key + "' declaring " + numel + " elements of " + module + "." + cls;
            throw bad(here() + ": " + declared + (numel < 0 ? "" : " (" + (itemSize == null ? "at most " + size
                    : size) + " bytes each)") + ", but " + (record == null ? "the archive has no data/" + key + " entry"
                    : "its data (entry data/" + key + ") is only " + record.byteSize() + " bytes: a truncated or "
                    + "altered file"));
        }
        String type = "torch".equals(module) && cls.endsWith("Storage") ? cls.substring(0, cls.length() - "Storage".length())
                : module + "." + cls;
        MemorySegment bytes = numel == 0 || itemSize == null ? MemorySegment.NULL.reinterpret(0) : record.asSlice(0, numel * size);
        return new Storage(key, type, itemSize == null ? 0 : itemSize, numel, bytes);
    }

    private Object integer(String text) throws CheckpointException {
        String s = text.strip();
        s = s.endsWith("L") ? s.substring(0, s.length() - 1) : s;
        if (s.length() > MAX_NUMBER_CHARS) {
            // Never parsed (BigInteger's decimal parsing is quadratic) and never echoed: it could be megabytes.
            throw bad(here() + " with an integer of " + s.length() + " characters; at most " + MAX_NUMBER_CHARS
                    + " expected (torch.save writes binary integers)");
        }
        try {
            BigInteger v = new BigInteger(s);
            return v.bitLength() < 64 ? (Object) v.longValue() : v;
        } catch (NumberFormatException e) {
            throw bad(here() + " with '" + abbreviate(text) + "', not an integer");
        }
    }

    private Object floating(String text) throws CheckpointException {
        if (text.strip().length() > 2 * MAX_NUMBER_CHARS) {
            throw bad(here() + " with a float of " + text.strip().length() + " characters; at most "
                    + 2 * MAX_NUMBER_CHARS + " expected");
        }
        try {
            return Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            throw bad(here() + " with '" + abbreviate(text) + "', not a float");
        }
    }

    private static String unquote(String text) {
        String s = text.strip();
        return s.length() >= 2 && (s.charAt(0) == '\'' || s.charAt(0) == '"') ? s.substring(1, s.length() - 1) : s;
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /** A LONG1/LONG4 payload: little-endian two's complement. */
    private Object littleEndian(int from, int n) {
        if (n == 0) {
            return 0L;
        }
        byte[] bigEndian = new byte[n];
        for (int i = 0; i < n; i++) {
            bigEndian[i] = b[from + n - 1 - i];
        }
        BigInteger v = new BigInteger(bigEndian);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** A value's Python type, with an article, for messages: "a list", "an int", "an object of class x.Y". */
    static String kind(Object v) {
        return switch (v) {
            case null -> "None";
            case Boolean x -> "a bool";
            case Long x -> "an int";
            case BigInteger x -> "an int";
            case Double x -> "a float";
            case String x -> "a str";
            case byte[] x -> "bytes";
            case List<?> x -> "a list";
            case Tuple x -> "a tuple";
            case Map<?, ?> x -> "a dict";
            case Set<?> x -> "a set";
            case TensorRef x -> "a tensor";
            case Storage x -> "a storage";
            case Global g -> "the name " + g;
            case PyObject o -> "an object of class " + o.typeName();
            case IdentityKey k -> kind(k.value);
            default -> v == NONE_IN_TUPLE ? "None" : "a " + v.getClass().getSimpleName();
        };
    }
}
