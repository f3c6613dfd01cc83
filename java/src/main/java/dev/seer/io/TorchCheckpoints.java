package dev.seer.io;

import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.CompilationUnit;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.GenericDict;
import org.bytedeco.pytorch.GenericDictEntryRef;
import org.bytedeco.pytorch.GenericDictIterator;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.global.torch;

/**
 * State dicts in PyTorch's {@code torch.save} format (.pt: a zip archive holding {@code data.pkl} and the tensor
 * storages), read and written by libtorch's own pickler ({@code torch::pickle_load} / {@code torch::pickle_save}),
 * so the format is exactly what PyTorch produces and accepts.
 *
 * <p>Accepted structure: a dict of str to tensor, or a dict that wraps one under {@code "ema"} (DiT training
 * checkpoints; preferred), {@code "model"} or {@code "state_dict"}. libtorch's unpickler knows tensors and the
 * builtin containers only, so a checkpoint that also pickles Python objects (an argparse Namespace, say) is
 * rejected by libtorch itself; re-save just the state dict, or convert to safetensors.
 *
 * <p>libtorch's reader trusts the lengths and sizes a file declares, so the zip container and the pickle are
 * checked in Java first ({@link TorchArchive}) and each tensor's extent against its storage after unpickling:
 * a hostile file is a {@link CheckpointException}, not a multi-gigabyte allocation or an out-of-bounds read.
 *
 * <p>Lifetime: the returned tensors are {@link Torch#view} views that hold their libtorch tensors as owners; the
 * memory is freed when the Seer tensors become unreachable (JavaCPP's deallocator). Called inside an open JavaCPP
 * {@code PointerScope}, the libtorch tensors are attached to that scope and freed when it closes: use them only
 * inside it.
 */
public final class TorchCheckpoints {
    /**
     * Largest .pt file read: pickle_load takes the whole file as one byte array (a Java array, hence about
     * 2 GiB), and holds a second copy while unpickling. Larger checkpoints: convert them to safetensors.
     */
    public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 64;

    /** Wrapper keys tried in order when the top-level dict is not itself a state dict. */
    static final String[] WRAPPERS = {"ema", "model", "state_dict"};

    private TorchCheckpoints() {
    }

    /**
     * Reads a state dict from a {@code torch.save}'d file. Non-contiguous tensors are made contiguous (a copy);
     * the others are not copied after unpickling. Keys keep the file's order.
     *
     * @throws CheckpointException if the file is too large, is not a torch.save archive, libtorch rejects it,
     *                             or it does not hold a dict of str to CPU tensors of a {@link DType}
     * @throws IOException         if it cannot be read
     */
    public static Map<String, Tensor> loadStateDict(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new CheckpointException(file, null, "a .pt file of at most " + MAX_FILE_BYTES
                    + " bytes (pickle_load reads it whole; convert larger checkpoints to safetensors)", size + " bytes");
        }
        byte[] bytes = Files.readAllBytes(file);
        TorchArchive.check(file, bytes);
        SeerRuntime.init();
        IValue root;
        try {
            root = torch.pickle_load(new ByteVector(bytes));
        } catch (RuntimeException e) {
            throw new CheckpointException(file, null, "a torch.save archive", "libtorch error: " + firstLine(e), e);
        }
        try {
            return toStateDict(file, root);
        } catch (RuntimeException e) {
            // A C++ exception from any accessor below arrives as a RuntimeException: still the file's fault.
            throw new CheckpointException(file, null, "a dict of tensors", "libtorch error: " + firstLine(e), e);
        }
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

    private static Map<String, Tensor> toStateDict(Path file, IValue root) throws CheckpointException {
        if (!root.isGenericDict()) {
            throw new CheckpointException(file, null, "a dict of tensors", "top-level object is a " + kind(root));
        }
        GenericDict dict = root.toGenericDict();
        for (String wrapper : WRAPPERS) {
            IValue inner = lookup(dict, wrapper);
            if (inner != null && inner.isGenericDict()) {
                dict = inner.toGenericDict();
                break;
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        GenericDictIterator end = dict.end();
        for (GenericDictIterator it = dict.begin(); !it.equals(end); it.increment()) {
            GenericDictEntryRef entry = it.access();
            IValue k = entry.key();
            if (!k.isString()) {
                throw new CheckpointException(file, null, "a dict with str keys", "a key of type " + kind(k));
            }
            String key = k.toStringRef().getString(StandardCharsets.UTF_8);
            IValue v = entry.value();
            if (!v.isTensor()) {
                throw new CheckpointException(file, key, "a tensor", "a " + kind(v));
            }
            out.put(key, toSeer(file, key, v.toTensor()));
        }
        return Collections.unmodifiableMap(out);
    }

    private static Tensor toSeer(Path file, String key, org.bytedeco.pytorch.Tensor t) throws CheckpointException {
        if (t.is_sparse() || t.is_quantized() || t.is_mkldnn()) {
            throw new CheckpointException(file, key, "a dense tensor", "a sparse, quantized or MKL-DNN tensor");
        }
        if (!t.is_cpu()) {
            throw new CheckpointException(file, key, "a CPU tensor", "device " + t.device().str().getString());
        }
        try {
            // Checked here so that an unsupported type is the file's error (Torch.view would throw unchecked).
            DType.fromTorch(t.scalar_type());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, key, "a dtype Seer stores (" + Arrays.toString(DType.values()) + ")",
                    "scalar type " + t.scalar_type());
        }
        checkExtent(file, key, t);
        org.bytedeco.pytorch.Tensor dense = t.is_contiguous() ? t : t.contiguous();
        return Torch.view(dense);
    }

    /**
     * libtorch sets a tensor's offset, sizes and strides from the pickle without comparing them to its storage:
     * every element must lie inside the storage, and a copy to contiguous memory must not be larger than it
     * (no overlapping or broadcast views, which a state dict does not hold), before anything reads the memory.
     */
    private static void checkExtent(Path file, String key, org.bytedeco.pytorch.Tensor t) throws CheckpointException {
        long[] sizes = t.sizes().vec().get();
        long[] strides = t.strides().vec().get();
        long storageBytes = t.storage().nbytes();
        long item = t.element_size();
        try {
            long numel = 1;
            long last = t.storage_offset();
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
            throw new CheckpointException(file, key, "sizes, strides and offset within its storage of " + storageBytes
                    + " bytes", "sizes " + Arrays.toString(sizes) + ", strides " + Arrays.toString(strides)
                    + ", offset " + t.storage_offset() + " (" + item + "-byte elements)");
        }
    }

    /** The value for a str key, or null; GenericDict.find keeps absence out of C++ exceptions. */
    private static IValue lookup(GenericDict dict, String key) {
        GenericDictIterator it = dict.find(new IValue(key));
        return it.equals(dict.end()) ? null : it.access().value();
    }

    /** Python-facing names for libtorch's IValue tags. */
    private static String kind(IValue v) {
        String tag = v.tagKind().getString();
        return switch (tag) {
            case "GenericList" -> "List";
            case "GenericDict" -> "dict";
            case "Tuple" -> "tuple";
            case "String" -> "str";
            case "Int" -> "int";
            case "Double" -> "float";
            case "Bool" -> "bool";
            case "Object" -> "object of class " + objectClass(v);
            default -> tag;
        };
    }

    private static String objectClass(IValue v) {
        try {
            return v.toObject().name().getString();
        } catch (RuntimeException e) {
            return "(unknown)";
        }
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
