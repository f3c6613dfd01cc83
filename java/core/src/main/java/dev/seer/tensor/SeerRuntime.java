package dev.seer.tensor;

import dev.seer.SeerOptions;
import dev.seer.kernel.NativeKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process-wide start-up, once, with the {@link SeerOptions} given to {@link dev.seer.Seer#configure} (else
 * {@link SeerOptions#defaults()}), in the order these machines need (see docs/DESIGN notes). Every change to the
 * process is logged at debug level, and every one the options leave alone is too:
 * <ol>
 *   <li>java.awt.headless, when asked for;</li>
 *   <li>OPENBLAS_NUM_THREADS ({@link SeerOptions#blasThreads()}), unless the environment sets it, and
 *       OMP_WAIT_POLICY=PASSIVE before any OpenMP runtime starts, but only when OpenBLAS runs a thread pool: then the
 *       OpenMP threads must sleep between parallel regions, or they and OpenBLAS's spinning threads starve each other.
 *       Otherwise OpenMP's default stands (spin briefly, then sleep): waking a sleeping thread costs ~0.1 ms on these
 *       virtual machines, at every one of a step's parallel regions;</li>
 *   <li>glibc's malloc thresholds ({@link SeerOptions#tuneMalloc()});</li>
 *   <li>the extraction directory ({@link SeerOptions#extractDir()}, falling back to the temporary directory with a
 *       warning when it cannot be written), given to JavaCPP unless {@code org.bytedeco.javacpp.cachedir} is set;</li>
 *   <li>libc10, libtorch_cpu and libtorch extracted into JavaCPP's cache before anything is loaded, so an
 *       unrelated libtorch on the library path can never be bound first;</li>
 *   <li>libtorch loaded here; libseer_cpu only after it ({@link NativeKernels#cpu()} calls {@link #init()} first),
 *       so that one OpenMP runtime ends up in the process;</li>
 *   <li>libtorch's process-wide thread count ({@link SeerOptions#threads()}).</li>
 * </ol>
 * A run can use fewer threads than the process-wide count without changing it: {@link ThreadLimit}.
 */
public final class SeerRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(SeerRuntime.class);
    /**
     * OpenBLAS threads: system property {@code seer.blas.threads}, a count or "auto" (OpenBLAS's own default, one
     * per core); default 1. Sampling runs its large products in Seer's own kernels, and OpenBLAS serves only the
     * small products inside libtorch's attention, from within libtorch's parallel regions. OpenBLAS's pthread pool
     * busy-waits after every call (up to 2^28 cycles) instead of sleeping, taking the cores from Seer's kernels
     * (DiT-S/2: 143 ms a full step with 1, 234 ms with auto) and, on a machine whose cores other processes also
     * use, from everything (5 to 20 times slower). "auto" still pays for libtorch's own large products (training
     * on an idle machine). An environment OPENBLAS_NUM_THREADS wins.
     */
    public static final String BLAS_THREADS_PROPERTY = SeerOptions.BLAS_THREADS_PROPERTY;
    /** The file {@code seer extract-natives} writes into a complete extraction directory (which may then be read-only). */
    public static final String PRE_EXTRACTED_MARKER = "seer-natives.txt";
    private static final String HEADLESS_PROPERTY = "java.awt.headless";
    private static volatile boolean initialized;
    private static SeerOptions configured;
    private static SeerOptions started;
    private static Path extractDir;
    private static int threads;

    private SeerRuntime() {
    }

    /** One change Seer makes to the process at start, or one it was asked to leave alone. */
    sealed interface Change {
        /** What is changed, for the debug log. */
        String describe();
    }

    /** setenv(name, value) when the environment does not have it. */
    record EnvChange(String name, String value) implements Change {
        public String describe() {
            return "environment " + name + "=" + value;
        }
    }

    /** A system property, when unset. */
    record PropertyChange(String name, String value) implements Change {
        public String describe() {
            return "system property " + name + "=" + value;
        }
    }

    /** glibc's malloc thresholds. */
    record MallocChange() implements Change {
        public String describe() {
            return "mallopt M_MMAP_THRESHOLD=32 MiB, M_TRIM_THRESHOLD=1 GiB";
        }
    }

    /** libtorch's process-wide thread count (after loading it). */
    record ThreadsChange(int threads) implements Change {
        public String describe() {
            return "libtorch threads " + threads + " (torch.set_num_threads) and Seer's kernels' default";
        }
    }

    /** A setting the options leave alone (logged, not applied). */
    record Left(String what) implements Change {
        public String describe() {
            return "left alone: " + what;
        }
    }

    /**
     * The changes {@code options} make to a process with environment {@code env} and system properties
     * {@code property}, in the order they are applied; {@code extractDir} is the chosen extraction directory or null.
     */
    static List<Change> plan(SeerOptions options, Map<String, String> env, Function<String, String> property, Path extractDir) {
        List<Change> changes = new ArrayList<>();
        if (options.awtHeadless() && property.apply(HEADLESS_PROPERTY) == null) {
            changes.add(new PropertyChange(HEADLESS_PROPERTY, "true"));
        }
        String blasEnv = env.get("OPENBLAS_NUM_THREADS");
        if (blasEnv != null) {
            changes.add(new Left("OPENBLAS_NUM_THREADS (the environment sets " + blasEnv.trim() + ")"));
        } else if (options.blasThreads().isPresent()) {
            blasEnv = String.valueOf(options.blasThreads().getAsInt());
            changes.add(new EnvChange("OPENBLAS_NUM_THREADS", blasEnv));
        } else {
            changes.add(new Left("OPENBLAS_NUM_THREADS (unset: OpenBLAS runs one thread per core)"));
        }
        boolean blasPool = blasEnv == null || !blasEnv.trim().equals("1");
        if (blasPool && options.passiveOpenMpWait() && env.get("OMP_WAIT_POLICY") == null) {
            // OpenBLAS's spinning pool and spinning OpenMP threads starve each other on every core they share
            changes.add(new EnvChange("OMP_WAIT_POLICY", "PASSIVE"));
        } else if (blasPool) {
            changes.add(new Left("OMP_WAIT_POLICY (" + (env.get("OMP_WAIT_POLICY") != null
                    ? "the environment sets " + env.get("OMP_WAIT_POLICY") : "passiveOpenMpWait is off") + ")"));
        }
        changes.add(options.tuneMalloc() ? new MallocChange() : new Left("glibc's malloc thresholds"));
        String javacppDir = property.apply(SeerOptions.JAVACPP_CACHE_DIR_PROPERTY);
        if (extractDir == null) {
            changes.add(new Left("the extraction directory (JavaCPP's cache: " + (javacppDir != null ? javacppDir : "its default") + ")"));
        } else if (javacppDir == null) {
            changes.add(new PropertyChange(SeerOptions.JAVACPP_CACHE_DIR_PROPERTY, extractDir.toString()));
        } else {
            changes.add(new Left(SeerOptions.JAVACPP_CACHE_DIR_PROPERTY + " (set to " + javacppDir + ")"));
        }
        changes.add(options.threads().isPresent() ? new ThreadsChange(options.threads().getAsInt())
                : new Left("libtorch's thread count (libtorch's default)"));
        return changes;
    }

    /**
     * Sets the options Seer starts with ({@link dev.seer.Seer#configure}); until Seer starts, the last call wins.
     *
     * @throws IllegalStateException if Seer has started with other options
     */
    public static synchronized void configure(SeerOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options is null; SeerOptions.untouched() changes nothing in the process");
        }
        if (started != null && !started.equals(options)) {
            throw new IllegalStateException("Seer has already started with " + started
                    + "; Seer.configure must be called before Seer's first use (found " + options + ")");
        }
        if (configured != null && !configured.equals(options)) {
            LOG.debug("configure replaces {}", configured);
        }
        configured = options;
        LOG.debug("configured: {}", options);
    }

    /** The options Seer started with, or will start with. */
    public static synchronized SeerOptions options() {
        if (started != null) {
            return started;
        }
        return configured != null ? configured : SeerOptions.defaults();
    }

    /** Whether the runtime has started. */
    public static boolean started() {
        return initialized;
    }

    /** Initialises the runtime if needed; cheap after the first call. */
    public static void init() {
        if (!initialized) {
            synchronized (SeerRuntime.class) {
                if (!initialized) {
                    doInit();
                    initialized = true;
                }
            }
        }
    }

    /** libtorch's process-wide thread count (runs may use fewer: {@link ThreadLimit}). */
    public static int threads() {
        init();
        return threads;
    }

    /**
     * The directory Seer extracts its own native libraries into (DIR/seer-native under the extraction directory, or
     * next to JavaCPP's cache when the options leave the extraction directory alone).
     */
    public static Path nativeExtractDir() {
        init();
        return extractDir.resolve("seer-native");
    }

    /** Sets the process-wide thread count of libtorch and of Seer's kernels (the CLI's --threads). */
    public static synchronized void setThreads(int n) {
        if (n < 1 || n > NativeKernels.MAX_THREADS) {
            throw new IllegalArgumentException("threads must be in 1.." + NativeKernels.MAX_THREADS + ", found " + n);
        }
        init();
        torch.set_num_threads(n);
        threads = n;
        NativeKernels.applyThreads(n);
        LOG.debug("process-wide: libtorch threads {} (SeerRuntime.setThreads)", n);
    }

    private static void doInit() {
        SeerOptions options = configured != null ? configured : SeerOptions.defaults();
        Path chosen = options.extractDir().map(SeerRuntime::usableExtractDir).orElse(null);
        List<Change> changes = plan(options, System.getenv(), System::getProperty, chosen);
        LOG.debug("starting with {}", options);
        for (Change c : changes) {
            switch (c) {
                case PropertyChange p -> System.setProperty(p.name(), p.value());
                case EnvChange e -> setenv(e.name(), e.value(), false);
                case MallocChange m -> keepFreedMemoryForReuse();
                case ThreadsChange t -> {
                    continue; // needs libtorch: below
                }
                case Left l -> {
                }
            }
            LOG.debug("process-wide: {}", c.describe());
        }
        Path javacppDir;
        String platform = Loader.getPlatform();
        try {
            javacppDir = Loader.getCacheDir().toPath();
            for (String lib : new String[] {"libc10.so", "libtorch_cpu.so", "libtorch.so"}) {
                Loader.cacheResource(torch.class, "/org/bytedeco/pytorch/" + platform + "/" + lib);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not extract libtorch's libraries into JavaCPP's cache "
                    + System.getProperty(SeerOptions.JAVACPP_CACHE_DIR_PROPERTY, "(JavaCPP's default)") + ": " + e.getMessage()
                    + "; set -D" + SeerOptions.EXTRACT_DIR_PROPERTY + " or " + SeerOptions.EXTRACT_DIR_ENV
                    + " to a writable directory, or pre-extract with `seer extract-natives DIR`", e);
        }
        Loader.load(torch.class);
        extractDir = chosen != null ? chosen : javacppDir;
        LOG.debug("native libraries: JavaCPP's cache {}, Seer's {}", javacppDir, extractDir.resolve("seer-native"));
        int n = options.threads().isPresent() ? options.threads().getAsInt() : torch.get_num_threads();
        if (options.threads().isPresent()) {
            torch.set_num_threads(n);
            LOG.debug("process-wide: {}", new ThreadsChange(n).describe());
        }
        threads = n;
        started = options;
        LOG.debug("runtime ready: libtorch with {} threads", n);
    }

    /** The extraction directory, or the temporary directory's fallback (with a warning) when it is not usable. */
    private static Path usableExtractDir(Path wanted) {
        ExtractDir.Choice choice = ExtractDir.choose(wanted, Path.of(System.getProperty("java.io.tmpdir")));
        choice.warning().ifPresent(LOG::warn);
        return choice.dir();
    }

    /**
     * libtorch allocates and frees every intermediate tensor of every op. With glibc's defaults, blocks from
     * 128 KiB up are fresh mmaps and the heap top is trimmed after frees, so each op pays page faults again (very
     * costly on virtual machines). Raising the mmap threshold to glibc's maximum (32 MiB) and the trim
     * threshold to 1 GiB keeps freed blocks for reuse. Leave them with SeerOptions.tuneMalloc(false) or -Dseer.malloc.tune=false.
     */
    private static void keepFreedMemoryForReuse() {
        Linker linker = Linker.nativeLinker();
        var mallopt = linker.defaultLookup().find("mallopt");
        if (mallopt.isEmpty()) {
            return; // not glibc
        }
        MethodHandle h = linker.downcallHandle(mallopt.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        final int mTrimThreshold = -1;
        final int mMmapThreshold = -3;
        try {
            int ok1 = (int) h.invokeExact(mMmapThreshold, 32 << 20);
            int ok2 = (int) h.invokeExact(mTrimThreshold, 1 << 30);
            if (ok1 == 0 || ok2 == 0) {
                LOG.debug("mallopt refused the thresholds");
            }
        } catch (Throwable t) {
            LOG.debug("mallopt failed", t);
        }
    }

    /** setenv(3) through Panama: System.getenv cannot change the process environment. */
    private static void setenv(String name, String value, boolean overwrite) {
        Linker linker = Linker.nativeLinker();
        MethodHandle setenv = linker.downcallHandle(
                linker.defaultLookup().find("setenv").orElseThrow(() -> new IllegalStateException("libc has no setenv")),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(name);
            MemorySegment v = arena.allocateFrom(value);
            int rc = (int) setenv.invokeExact(n, v, overwrite ? 1 : 0);
            if (rc != 0) {
                throw new IllegalStateException("setenv(" + name + ") failed with " + rc);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setenv(" + name + ") failed", t);
        }
    }
}
