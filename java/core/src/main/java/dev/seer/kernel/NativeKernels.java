package dev.seer.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.seer.SeerOptions;
import dev.seer.tensor.SeerRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Raw Panama bindings to libseer_cpu (native/include/seer.h, seer_dit.h). Arguments are not validated here: callers
 * go through {@link Kernels} and {@link DitOps}, which check shapes, dtypes and devices first. Every call's status
 * is turned into a {@link KernelException} carrying the library's thread-local message.
 *
 * <p>The library lists its ops (the op table, native/src/seer_ops.h): {@link #ops()}. Every op is bound here, each
 * with its Java signature; OpTableTest checks that the two lists agree, so a kernel added to the table without a
 * binding (or a binding left behind by a removed kernel) fails the build's tests.
 */
public final class NativeKernels {
    public static final int ABI_VERSION = 1;
    /**
     * The highest Taylor order the kernels store (SEER_MAX_ORDER in seer.h): the one constant for the Java side
     * (cache policies and schedules included). The library is checked to agree when it loads.
     */
    public static final int MAX_ORDER = 4;
    /** Most steps one forecast-sums call computes (SEER_MAX_SUM_STEPS in seer.h). */
    public static final int MAX_SUM_STEPS = 32;
    /** Most threads a kernel call may use ({@link SeerOptions#MAX_THREADS}). */
    public static final int MAX_THREADS = SeerOptions.MAX_THREADS;

    private static volatile NativeKernels cpu;

    private final Path path;
    private final List<NativeOp> ops;
    private final Set<String> boundOps = new TreeSet<>();
    private final MethodHandle lastError;
    private final MethodHandle cpuFeatures;
    private final MethodHandle variantAvailable;
    private final MethodHandle variantBest;
    private final MethodHandle setNumThreads;
    private final MethodHandle getNumThreads;
    private final MethodHandle setThreadLimit;
    private final MethodHandle getThreadLimit;
    private final MethodHandle getMaxThreads;
    private final MethodHandle setParallelThreshold;
    private final MethodHandle getParallelThreshold;
    private final MethodHandle update;
    private final MethodHandle forecast;
    private final MethodHandle forecastResidual;
    private final MethodHandle forecastResidualMulti;
    private final MethodHandle forecastSums;
    private final MethodHandle updateResidual;
    private final MethodHandle linearRows;
    private final MethodHandle linearRowsPack;
    private final MethodHandle ditPatchEmbed;
    private final MethodHandle ditFinalLayer;
    private final MethodHandle ditForecastStep;
    private final MethodHandle streamCopy;
    private final MethodHandle streamTriad;

    private NativeKernels(Path path) {
        this.path = path;
        // The library's lookup lives for the whole process: the one thing allowed in the global arena.
        SymbolLookup lib = SymbolLookup.libraryLookup(path, Arena.global());
        Linker linker = Linker.nativeLinker();
        MethodHandle abi = handle(linker, lib, "seer_abi_version", FunctionDescriptor.of(JAVA_INT));
        int version;
        try {
            version = (int) abi.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("seer_abi_version failed", t);
        }
        if (version != ABI_VERSION) {
            throw new IllegalStateException(path + " has ABI version " + version + ", this Seer expects " + ABI_VERSION);
        }
        int maxOrder = callInt(handle(linker, lib, "seer_max_order", FunctionDescriptor.of(JAVA_INT)));
        if (maxOrder != MAX_ORDER) {
            throw new IllegalStateException(path + " has SEER_MAX_ORDER " + maxOrder + ", this Seer expects " + MAX_ORDER);
        }
        ops = readOps(linker, lib);
        lastError = handle(linker, lib, "seer_last_error", FunctionDescriptor.of(ADDRESS));
        cpuFeatures = handle(linker, lib, "seer_cpu_features", FunctionDescriptor.of(JAVA_INT));
        variantAvailable = handle(linker, lib, "seer_variant_available", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        variantBest = handle(linker, lib, "seer_variant_best", FunctionDescriptor.of(JAVA_INT));
        setNumThreads = handle(linker, lib, "seer_set_num_threads", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        getNumThreads = handle(linker, lib, "seer_get_num_threads", FunctionDescriptor.of(JAVA_INT));
        setThreadLimit = handle(linker, lib, "seer_set_thread_limit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        getThreadLimit = handle(linker, lib, "seer_get_thread_limit", FunctionDescriptor.of(JAVA_INT));
        getMaxThreads = handle(linker, lib, "seer_get_max_threads", FunctionDescriptor.of(JAVA_INT));
        setParallelThreshold = handle(linker, lib, "seer_set_parallel_threshold", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        getParallelThreshold = handle(linker, lib, "seer_get_parallel_threshold", FunctionDescriptor.of(JAVA_LONG));
        update = op(linker, lib, "taylor_update", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_FLOAT));
        forecast = op(linker, lib, "taylor_forecast", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_FLOAT, ADDRESS));
        forecastResidual = op(linker, lib, "taylor_forecast_residual", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_FLOAT, ADDRESS));
        forecastResidualMulti = op(linker, lib, "taylor_forecast_residual_multi", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS,
                ADDRESS, JAVA_FLOAT, ADDRESS));
        forecastSums = op(linker, lib, "taylor_forecast_sums", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS,
                JAVA_LONG, ADDRESS, ADDRESS));
        updateResidual = op(linker, lib, "taylor_update_residual", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_FLOAT));
        linearRows = op(linker, lib, "linear_rows", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        linearRowsPack = op(linker, lib, "linear_rows_pack", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
        ditPatchEmbed = op(linker, lib, "dit_patch_embed", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        ditFinalLayer = op(linker, lib, "dit_final_layer", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_FLOAT));
        ditForecastStep = op(linker, lib, "dit_forecast_step", FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS,
                ADDRESS, JAVA_FLOAT, ADDRESS, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, ADDRESS));
        streamCopy = op(linker, lib, "stream_copy", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        streamTriad = op(linker, lib, "stream_triad", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_LONG));
    }

    /** The CPU library, loaded once, always after libtorch (see SeerRuntime). */
    public static NativeKernels cpu() {
        NativeKernels k = cpu;
        if (k == null) {
            SeerRuntime.init();
            synchronized (NativeKernels.class) {
                k = cpu;
                if (k == null) {
                    Path p = NativeLibraries.find("libseer_cpu.so").orElseThrow(() -> new IllegalStateException(
                            "libseer_cpu.so not found at " + NativeLibraries.searchedWhere("libseer_cpu.so")
                                    + "; build it with `mvn package` (needs cmake and gcc)"));
                    k = new NativeKernels(p);
                    k.setNumThreads(SeerRuntime.threads());
                    cpu = k;
                }
            }
        }
        return k;
    }

    /**
     * Extracts the Seer libraries packaged in the jar (libseer_cpu; libseer_cuda when the build has it) into
     * {@code dir}, for pre-extraction ({@code seer extract-natives}); returns the files.
     */
    public static java.util.List<Path> extractPackaged(Path dir) {
        return NativeLibraries.extractPackaged(dir);
    }

    /** Called by SeerRuntime.setThreads: applies to the library if it is loaded (else it picks it up on load). */
    public static synchronized void applyThreads(int n) {
        if (cpu != null) {
            cpu.setNumThreads(n);
        }
    }

    /** Binds the op seer_{@code name} and records it as bound. */
    private MethodHandle op(Linker linker, SymbolLookup lib, String name, FunctionDescriptor fd) {
        boundOps.add(name);
        return handle(linker, lib, "seer_" + name, fd);
    }

    private static List<NativeOp> readOps(Linker linker, SymbolLookup lib) {
        MethodHandle count = handle(linker, lib, "seer_op_count", FunctionDescriptor.of(JAVA_INT));
        MethodHandle name = handle(linker, lib, "seer_op_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle family = handle(linker, lib, "seer_op_family", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle flags = handle(linker, lib, "seer_op_flags", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        try {
            int n = (int) count.invokeExact();
            List<NativeOp> r = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int f = (int) flags.invokeExact(i);
                r.add(new NativeOp(cString((MemorySegment) name.invokeExact(i)), cString((MemorySegment) family.invokeExact(i)),
                        (f & OP_VARIANTS) != 0, (f & OP_CUDA) != 0));
            }
            return List.copyOf(r);
        } catch (Throwable t) {
            throw new IllegalStateException("reading the op list of libseer_cpu failed", t);
        }
    }

    private static String cString(MemorySegment p) {
        return p.reinterpret(256).getString(0);
    }

    private static int callInt(MethodHandle h) {
        try {
            return (int) h.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("calling libseer_cpu failed", t);
        }
    }

    private static MethodHandle handle(Linker linker, SymbolLookup lib, String name, FunctionDescriptor fd) {
        MemorySegment sym = lib.find(name).orElseThrow(() -> new IllegalStateException("symbol " + name + " missing from libseer_cpu"));
        return linker.downcallHandle(sym, fd);
    }

    public Path path() {
        return path;
    }

    /** SEER_OP_VARIANTS and SEER_OP_CUDA of seer.h. */
    private static final int OP_VARIANTS = 1;
    private static final int OP_CUDA = 2;

    /**
     * One op of the library's op list: seer_{@code name}, of {@code family} ("core" for seer.h, else the model
     * family of its header, e.g. "dit"); {@code variants}: it takes a {@link Variant}; {@code cuda}: libseer_cuda has
     * seer_cuda_{@code name}.
     */
    public record NativeOp(String name, String family, boolean variants, boolean cuda) {
    }

    /** The library's ops, in the op table's order. */
    public List<NativeOp> ops() {
        return ops;
    }

    /** The ops these bindings bind, by name (without the seer_ prefix). */
    public Set<String> boundOps() {
        return Collections.unmodifiableSet(boundOps);
    }

    public String lastError() {
        try {
            MemorySegment p = (MemorySegment) lastError.invokeExact();
            return p.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("seer_last_error failed", t);
        }
    }

    public int cpuFeatures() {
        try {
            return (int) cpuFeatures.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public boolean isAvailable(Variant v) {
        if (v == null) {
            throw new IllegalArgumentException("variant is null");
        }
        try {
            return (int) variantAvailable.invokeExact(v.code()) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public Variant bestVariant() {
        try {
            return Variant.fromCode((int) variantBest.invokeExact());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Threads of the parallel kernels, 1..{@link #MAX_THREADS}. */
    public void setNumThreads(int n) {
        if (n < 1 || n > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be in 1.." + MAX_THREADS + ", found " + n);
        }
        try {
            check((int) setNumThreads.invokeExact(n));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Threads the parallel kernels use when called from this thread (within its {@link #setThreadLimit limit}). */
    public int numThreads() {
        try {
            return (int) getNumThreads.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Caps the calling thread's parallel work at {@code n} threads (Seer's kernels and the thread's OpenMP team
     * size, which libtorch's ops use); 0 removes the cap. Other threads are not affected. Prefer
     * {@link dev.seer.tensor.ThreadLimit}, which restores the previous value.
     */
    public void setThreadLimit(int n) {
        if (n < 0 || n > MAX_THREADS) {
            throw new IllegalArgumentException("thread limit must be in 0.." + MAX_THREADS + ", found " + n);
        }
        try {
            check((int) setThreadLimit.invokeExact(n));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The calling thread's cap, 0 if none. */
    public int threadLimit() {
        try {
            return (int) getThreadLimit.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** omp_get_max_threads() on the calling thread: the size of its next OpenMP team (libtorch's included). */
    public int openMpMaxThreads() {
        try {
            return (int) getMaxThreads.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Below this many elements per call the kernels run serially; >= 0. */
    public void setParallelThreshold(long elements) {
        if (elements < 0) {
            throw new IllegalArgumentException("parallel threshold must be >= 0 elements, found " + elements);
        }
        try {
            check((int) setParallelThreshold.invokeExact(elements));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long parallelThreshold() {
        try {
            return (long) getParallelThreshold.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void update(int variant, int dtype, MemorySegment feature, MemorySegment factors, int newOrder, long n, float distance) {
        try {
            check((int) update.invokeExact(variant, dtype, feature, factors, newOrder, n, distance));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void forecast(int variant, int dtype, MemorySegment out, MemorySegment factors, int order, long n, float delta,
                  MemorySegment nonfinite) {
        try {
            check((int) forecast.invokeExact(variant, dtype, out, factors, order, n, delta, nonfinite));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void forecastResidual(int variant, int dtype, MemorySegment x, MemorySegment gate, long gateRowStride,
                          MemorySegment factors, int order, long batch, long tokens, long channels, float delta,
                          MemorySegment nonfinite) {
        try {
            check((int) forecastResidual.invokeExact(variant, dtype, x, gate, gateRowStride, factors, order, batch,
                    tokens, channels, delta, nonfinite));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void forecastResidualMulti(int variant, int dtype, MemorySegment x, long batch, long tokens, long channels,
                               int branches, MemorySegment gates, long gateRowStride, MemorySegment factors,
                               MemorySegment orders, float delta, MemorySegment nonfinite) {
        try {
            check((int) forecastResidualMulti.invokeExact(variant, dtype, x, batch, tokens, channels, branches, gates,
                    gateRowStride, factors, orders, delta, nonfinite));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void forecastSums(int variant, int dtype, MemorySegment out, int steps, MemorySegment deltas, long batch,
                      long tokens, long channels, int branches, MemorySegment gates, long gateRowStride,
                      MemorySegment factors, MemorySegment orders) {
        try {
            check((int) forecastSums.invokeExact(variant, dtype, out, steps, deltas, batch, tokens, channels, branches,
                    gates, gateRowStride, factors, orders));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void updateResidual(int variant, int dtype, MemorySegment x, MemorySegment gate, long gateRowStride,
                        MemorySegment feature, MemorySegment factors, int newOrder, long batch, long tokens,
                        long channels, float distance) {
        try {
            check((int) updateResidual.invokeExact(variant, dtype, x, gate, gateRowStride, feature, factors, newOrder,
                    batch, tokens, channels, distance));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void linearRows(int variant, MemorySegment y, MemorySegment x, MemorySegment wT, MemorySegment bias, long rows,
                    long k, long n) {
        try {
            check((int) linearRows.invokeExact(variant, y, x, wT, bias, rows, k, n));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void linearRowsPack(MemorySegment panels, MemorySegment w, long k, long n) {
        try {
            check((int) linearRowsPack.invokeExact(panels, w, k, n));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void ditPatchEmbed(int variant, MemorySegment out, MemorySegment x, MemorySegment wT, MemorySegment bias,
                       MemorySegment pos, long batch, long inChannels, long size, long patch, long channels) {
        try {
            check((int) ditPatchEmbed.invokeExact(variant, out, x, wT, bias, pos, batch, inChannels, size, patch, channels));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void ditForecastStep(int variant, int dtype, MemorySegment out, MemorySegment h, MemorySegment x, MemorySegment embedWT,
                         MemorySegment embedBias, MemorySegment pos, int branches, MemorySegment gates,
                         long gateRowStride, MemorySegment factors, MemorySegment orders, float delta,
                         MemorySegment finalMods, MemorySegment finalWT, MemorySegment finalBias, float eps, long batch,
                         long inChannels, long size, long patch, long channels, long outChannels,
                         MemorySegment nonfinite) {
        try {
            check((int) ditForecastStep.invokeExact(variant, dtype, out, h, x, embedWT, embedBias, pos, branches, gates,
                    gateRowStride, factors, orders, delta, finalMods, finalWT, finalBias, eps, batch, inChannels, size,
                    patch, channels, outChannels, nonfinite));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void ditFinalLayer(int variant, MemorySegment out, MemorySegment h, MemorySegment mods, MemorySegment wT,
                       MemorySegment bias, long batch, long channels, long size, long patch, long outChannels, float eps) {
        try {
            check((int) ditFinalLayer.invokeExact(variant, out, h, mods, wT, bias, batch, channels, size, patch, outChannels,
                    eps));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * STREAM copy, dst[i] = src[i] for n floats (8 bytes moved per element), threaded like the kernels: the
     * bandwidth reference of the kernel benchmarks. The segments must hold n floats and must not overlap.
     */
    public void streamCopy(MemorySegment dst, MemorySegment src, long n) {
        checkFloats("stream_copy", "dst", dst, n, true);
        checkFloats("stream_copy", "src", src, n, false);
        try {
            check((int) streamCopy.invokeExact(dst, src, n));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * STREAM triad, a[i] = b[i] + scalar * c[i] for n floats (12 bytes moved per element), threaded like the
     * kernels. The segments must hold n floats; a must not overlap b or c.
     */
    public void streamTriad(MemorySegment a, MemorySegment b, MemorySegment c, float scalar, long n) {
        checkFloats("stream_triad", "a", a, n, true);
        checkFloats("stream_triad", "b", b, n, false);
        checkFloats("stream_triad", "c", c, n, false);
        try {
            check((int) streamTriad.invokeExact(a, b, c, scalar, n));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code s} can be handed to C as n floats: not null, n in range, native, alive, usable from this thread,
     * float-aligned, large enough, and writable if written. Overlaps are left to C (SEER_ERR_INVALID_ARGUMENT).
     */
    private static void checkFloats(String fn, String name, MemorySegment s, long n, boolean written) {
        if (n < 0 || n > Long.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException(fn + ": n must be in 0.." + Long.MAX_VALUE / Float.BYTES + " floats, found " + n);
        }
        if (s == null) {
            throw new IllegalArgumentException(fn + ": " + name + " is null (use MemorySegment.NULL when n is 0)");
        }
        if (n == 0) {
            return;
        }
        if (!s.isNative()) {
            throw new IllegalArgumentException(fn + ": " + name + " is on-heap memory; C needs native memory");
        }
        if (!s.scope().isAlive()) {
            throw new IllegalArgumentException(fn + ": " + name + "'s memory is no longer alive (its arena was closed)");
        }
        if (!s.isAccessibleBy(Thread.currentThread())) {
            throw new IllegalArgumentException(fn + ": " + name + "'s memory is confined to another thread");
        }
        if (written && s.isReadOnly()) {
            throw new IllegalArgumentException(fn + ": " + name + " is read-only memory, and it is written");
        }
        if (s.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException(fn + ": " + name + " at address 0x" + Long.toHexString(s.address())
                    + " is not aligned to 4-byte floats");
        }
        if (s.byteSize() < n * Float.BYTES) {
            throw new IllegalArgumentException(fn + ": " + name + " holds " + s.byteSize() + " bytes, " + n
                    + " floats need " + n * Float.BYTES);
        }
    }

    private void check(int status) {
        if (status != 0) {
            throw new KernelException(status, lastError());
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
