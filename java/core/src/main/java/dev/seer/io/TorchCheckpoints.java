package dev.seer.io;

import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.pytorch.CompilationUnit;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.global.torch;

/**
 * State dicts in PyTorch's {@code torch.save} format (.pt: a zip archive holding {@code data.pkl} and the tensor
 * storages). Read in Java ({@link TorchArchive}, {@link TorchPickle}) from the mapped file, so checkpoints of any
 * size load without copying the weights, whether Python's {@code torch.save} or libtorch's pickler wrote them;
 * written through libtorch's own pickler ({@code torch::pickle_save}), which Python's {@code torch.load} reads.
 *
 * <p>Accepted structure: a dict (or OrderedDict, as {@code model.state_dict()} returns) of str to tensor, or a dict
 * that wraps one under {@code "ema"} (DiT training checkpoints; preferred), {@code "model"} or {@code "state_dict"}.
 * The other entries of such a checkpoint (optimizer state, an argparse Namespace) are read inertly and ignored:
 * no Python class is ever instantiated.
 *
 * <p>A hostile file is a {@link CheckpointException}, not a multi-gigabyte allocation or an out-of-bounds read:
 * the archive's offsets, the pickle's lengths and every tensor's extent within its storage are checked.
 *
 * <p>Lifetime: contiguous tensors whose data is aligned to its element size (torch.save aligns records to 64
 * bytes) are read-only views of the mapped file; the others are copied. Either way the memory is released once
 * the returned tensors are unreachable.
 */
public final class TorchCheckpoints {
    /** Wrapper keys tried in order when the top-level dict is not itself a state dict. */
    static final String[] WRAPPERS = {"ema", "model", "state_dict"};

    private TorchCheckpoints() {
    }

    /**
     * Reads a state dict from a {@code torch.save}'d file. Keys keep the file's order.
     *
     * @throws CheckpointException if the file is not a torch.save archive or does not hold a dict of str to
     *                             tensors of a {@link DType}
     * @throws IOException         if it cannot be read
     */
    public static Map<String, Tensor> loadStateDict(Path file) throws IOException {
        MemorySegment mapped;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            // An automatic arena: the mapping lives as long as some tensor (or slice) of it is reachable.
            mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
        }
        try {
            return toStateDict(file, TorchArchive.load(file, mapped));
        } catch (InternalError e) {
            throw changedWhileReading(file, null, e);
        }
    }

    /**
     * A mapped file that shrank while being read: the JDK turns the SIGBUS of a Java access to a vanished page
     * into an {@link InternalError} (native code touching it would crash the JVM instead, which is why mapped
     * tensors are copied through Java before libtorch sees them).
     */
    public static CheckpointException changedWhileReading(Path file, String key, InternalError e) {
        return new CheckpointException(file, key, "a file that stays unchanged while it loads",
                "its mapped bytes could not be read: it was truncated or rewritten during the load", e);
    }

    /**
     * Writes host tensors as a {@code torch.save}-compatible state dict (a dict of str to tensor, in the map's
     * iteration order), through libtorch's pickler; {@code torch.load} in Python reads the result. Written to a
     * temporary file, fsync'd and renamed, so the file is complete or absent.
     *
     * @throws IllegalArgumentException for null keys or tensors, or tensors not in host memory
     */
    public static void saveStateDict(Path file, Map<String, Tensor> tensors) throws IOException {
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Objects.requireNonNull(e.getKey(), "tensor key");
            Tensor t = Objects.requireNonNull(e.getValue(), () -> "tensor '" + e.getKey() + "'");
            if (!t.device().isCpu()) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' is on " + t.device() + "; only host tensors can be saved");
            }
        }
        SeerRuntime.init();
        byte[] bytes;
        try {
            DictBuilder builder = DictBuilder.INSTANCE;
            IValue dict = builder.empty();
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                // from_blob views: zero-copy; the map keeps the Seer tensors (and their memory) alive meanwhile.
                dict = builder.put(dict, e.getKey(), Torch.wrap(e.getValue()));
            }
            bytes = torch.pickle_save(dict).get();
        } catch (RuntimeException e) {
            throw new IOException(file + ": libtorch could not pickle the state dict: " + firstLine(e), e);
        }
        AtomicFiles.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }

    private static Map<String, Tensor> toStateDict(Path file, Object root) throws CheckpointException {
        if (!(root instanceof Map<?, ?> dict)) {
            throw new CheckpointException(file, null, "a dict of tensors", "top-level object is " + TorchPickle.kind(root));
        }
        for (String wrapper : WRAPPERS) {
            if (dict.get(wrapper) instanceof Map<?, ?> inner) {
                dict = inner;
                break;
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> entry : dict.entrySet()) {
            if (!(entry.getKey() instanceof String key)) {
                throw new CheckpointException(file, null, "a dict with str keys", "a key that is " + TorchPickle.kind(entry.getKey()));
            }
            if (!(entry.getValue() instanceof TorchPickle.TensorRef t)) {
                throw new CheckpointException(file, key, "a tensor", TorchPickle.kind(entry.getValue()));
            }
            out.put(key, toSeer(file, key, t));
        }
        return Collections.unmodifiableMap(out);
    }

    private static Tensor toSeer(Path file, String key, TorchPickle.TensorRef t) throws CheckpointException {
        DType dtype = DTYPES.get(t.storage().type());
        if (dtype == null) {
            throw new CheckpointException(file, key, "a dtype Seer stores (" + Arrays.toString(DType.values()) + ")",
                    "storage type " + t.storage().type());
        }
        checkExtent(file, key, t, dtype.byteSize());
        long[] sizes = t.sizes();
        long numel = 1;
        for (long d : sizes) {
            numel *= d;
        }
        Shape shape = Shape.of(sizes);
        MemorySegment storage = t.storage().bytes();
        long item = dtype.byteSize();
        if (numel == 0) {
            return Tensor.ofSegment(dtype, shape, MemorySegment.NULL, null);
        }
        if (isContiguous(sizes, t.strides())) {
            MemorySegment view = storage.asSlice(t.offset() * item, numel * item);
            if (view.address() % item == 0) {
                return Tensor.ofSegment(dtype, shape, view, view);
            }
        }
        // Strided or misaligned: gather into fresh aligned memory, element by element in row-major order.
        MemorySegment copy = Arena.ofAuto().allocate(numel * item, Tensor.HOST_ALIGNMENT);
        long[] index = new long[sizes.length];
        long source = t.offset();
        for (long i = 0; i < numel; i++) {
            MemorySegment.copy(storage, source * item, copy, i * item, item);
            for (int d = sizes.length - 1; d >= 0; d--) {
                source += t.strides()[d];
                if (++index[d] < sizes[d]) {
                    break;
                }
                source -= sizes[d] * t.strides()[d];
                index[d] = 0;
            }
        }
        return Tensor.ofSegment(dtype, shape, copy, copy);
    }

    /** Row-major contiguity; strides of dimensions of size 1 do not matter. */
    private static boolean isContiguous(long[] sizes, long[] strides) {
        long expected = 1;
        for (int d = sizes.length - 1; d >= 0; d--) {
            if (sizes[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= sizes[d];
        }
        return true;
    }

    /** Storage class names ({@code torch.<name>Storage}) of the dtypes Seer stores. */
    private static final Map<String, DType> DTYPES = Map.of("Float", DType.F32, "BFloat16", DType.BF16,
            "Half", DType.F16, "Double", DType.F64, "Long", DType.I64, "Int", DType.I32, "Short", DType.I16,
            "Char", DType.I8, "Byte", DType.U8, "Bool", DType.BOOL);

    /**
     * Every element must lie inside the storage, and a copy to contiguous memory must not be larger than it (no
     * overlapping or broadcast views, which a state dict does not hold), before anything reads the memory.
     */
    private static void checkExtent(Path file, String key, TorchPickle.TensorRef t, long item) throws CheckpointException {
        long[] sizes = t.sizes();
        long[] strides = t.strides();
        long storageBytes = t.storage().byteSize();
        try {
            long numel = 1;
            long last = t.offset();
            if (t.offset() < 0) {
                throw new ArithmeticException();
            }
            for (int i = 0; i < sizes.length; i++) {
                if (sizes[i] < 0 || strides[i] < 0) {
                    throw new ArithmeticException();
                }
                numel = Math.multiplyExact(numel, sizes[i]);
                last = Math.addExact(last, Math.multiplyExact(Math.max(sizes[i] - 1, 0), strides[i]));
            }
            if (last < 0 || numel > 0 && (Math.multiplyExact(last + 1, item) > storageBytes
                    || Math.multiplyExact(numel, item) > storageBytes)) {
                throw new ArithmeticException();
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, key, "non-negative sizes, strides and offset whose elements all lie "
                    + "within its storage of " + storageBytes + " bytes", "sizes " + abbreviate(sizes) + ", strides "
                    + abbreviate(strides) + ", offset " + t.offset() + " (" + item + "-byte elements)");
        }
    }

    private static String abbreviate(long[] v) {
        return v.length <= 8 ? Arrays.toString(v) : Arrays.toString(Arrays.copyOf(v, 8)).replace("]", ", ...] (" + v.length + ")");
    }

    private static String firstLine(Throwable e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        int nl = msg.indexOf('\n');
        if (nl >= 0) {
            msg = msg.substring(0, nl);
        }
        return msg.length() > 300 ? msg.substring(0, 300) + "..." : msg;
    }

    /**
     * Builds a libtorch {@code Dict[str, Tensor]}. The bytedeco API exposes no constructor or insert for
     * GenericDict, so two TorchScript functions create and fill one (dicts are reference types: put mutates,
     * which is also why {@link #empty()} must never return a shared dict).
     */
    private static final class DictBuilder {
        static final DictBuilder INSTANCE = new DictBuilder();

        private static final String SOURCE = """
                def empty() -> Dict[str, Tensor]:
                    d: Dict[str, Tensor] = {}
                    return d

                def put(d: Dict[str, Tensor], k: str, v: Tensor) -> Dict[str, Tensor]:
                    d[k] = v
                    return d
                """;

        private final CompilationUnit unit;
        private final Function empty;
        private final Function put;

        private DictBuilder() {
            unit = torch.compile(SOURCE);
            empty = unit.get_function(new QualifiedName("empty"));
            put = unit.get_function(new QualifiedName("put"));
        }

        /** A new dict: a copy, because TorchScript may hand out one shared constant for the empty literal. */
        IValue empty() {
            return new IValue(empty.apply(new IValueVector()).toGenericDict().copy());
        }

        IValue put(IValue dict, String key, org.bytedeco.pytorch.Tensor value) {
            return put.apply(new IValueVector(dict, new IValue(key), new IValue(value)));
        }
    }
}
