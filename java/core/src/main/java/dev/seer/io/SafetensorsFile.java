package dev.seer.io;

import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An open, validated safetensors file, mapped read-only. Tensors from {@link #get(String)} are views of the
 * mapping (or, for data not aligned to its element size, of an aligned copy in the same arena); they are valid
 * until {@link #close()}, after which any access to them throws {@link IllegalStateException}. Their owner is
 * this object.
 *
 * <p>The memory is read-only: Java writes through {@link Tensor#segment()} throw, and a libtorch tensor made
 * with {@code Torch.wrap} must not be written to (the pages are mapped without write permission); clone first.
 * Thread-safe: tensors can be fetched and read from any thread while the file is open.
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final int SUGGESTIONS = 5;

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Safetensors.Entry> entries;
    private final Map<String, String> metadata;
    private final Map<String, Tensor> tensors = new ConcurrentHashMap<>();
    private volatile boolean closed;

    SafetensorsFile(Path path, Arena arena, MemorySegment data, Map<String, Safetensors.Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** Tensor keys in header order (the metadata entry is not a key). */
    public Set<String> keys() {
        return entries.keySet();
    }

    /** True if the file holds a tensor named {@code key}. */
    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    /** The header's {@code __metadata__} map; empty when absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The element type of tensor {@code key}, without touching its data. */
    public DType dtype(String key) throws CheckpointException {
        return entry(key).dtype();
    }

    /** The shape of tensor {@code key}, without touching its data. */
    public Shape shape(String key) throws CheckpointException {
        return entry(key).shape();
    }

    /**
     * Tensor {@code key} as a read-only host tensor over the file's memory (no copy unless misaligned); the
     * same object on every call.
     *
     * @throws CheckpointException   if there is no such tensor; the message lists a few keys that are present
     * @throws IllegalStateException if this file is closed
     */
    public Tensor get(String key) throws CheckpointException {
        Safetensors.Entry e = entry(key);
        ensureOpen();
        return tensors.computeIfAbsent(key, k -> materialise(e));
    }

    /**
     * Tensor {@code key}, checked against the shape the caller's model needs.
     *
     * @throws CheckpointException if the key is missing or the shape differs, e.g.
     *                             {@code model.safetensors: tensor 'x.weight': expected shape (1152, 384), found (1152, 385)}
     */
    public Tensor get(String key, Shape expectedShape) throws CheckpointException {
        Shape actual = entry(key).shape();
        if (!actual.equals(expectedShape)) {
            throw new CheckpointException(path, key, "shape " + expectedShape, actual.toString());
        }
        return get(key);
    }

    /** Unmaps the file; every tensor handed out becomes invalid. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        tensors.clear();
        arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + entries.size() + " tensors" + (closed ? ", closed" : "") + "]";
    }

    private Tensor materialise(Safetensors.Entry e) {
        MemorySegment seg = data.asSlice(e.begin(), e.end() - e.begin());
        int item = e.dtype().byteSize();
        if (seg.address() % item != 0) {
            // Views with aligned layouts (Tensor.toFloatArray, the kernels) need natural alignment: copy once.
            MemorySegment copy = arena.allocate(Math.max(seg.byteSize(), 1), Tensor.HOST_ALIGNMENT).asSlice(0, seg.byteSize());
            copy.copyFrom(seg);
            seg = copy.asReadOnly();
        }
        return Tensor.ofSegment(e.dtype(), e.shape(), seg, this);
    }

    private Safetensors.Entry entry(String key) throws CheckpointException {
        Safetensors.Entry e = entries.get(key);
        if (e == null) {
            throw new CheckpointException(path, key, "a tensor with this key", missingDescription(key));
        }
        return e;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    /** Names a few present keys, those sharing the longest prefix with the one asked for first. */
    private String missingDescription(String key) {
        if (entries.isEmpty()) {
            return "no tensors in the file";
        }
        List<String> present = new ArrayList<>(entries.keySet());
        present.sort(Comparator.comparingInt((String k) -> -commonPrefix(k, key)).thenComparing(Comparator.naturalOrder()));
        StringBuilder sb = new StringBuilder("none among ").append(entries.size()).append(" tensors (present: ");
        for (int i = 0; i < Math.min(SUGGESTIONS, present.size()); i++) {
            sb.append(i == 0 ? "" : ", ").append('\'').append(present.get(i)).append('\'');
        }
        if (present.size() > SUGGESTIONS) {
            sb.append(", ...");
        }
        return sb.append(')').toString();
    }

    private static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }
}
