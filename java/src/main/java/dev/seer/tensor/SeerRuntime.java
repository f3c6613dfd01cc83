package dev.seer.tensor;

import dev.seer.kernel.NativeKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process-wide start-up, once, in the order these machines need (see docs/DESIGN notes):
 * <ol>
 *   <li>OMP_WAIT_POLICY=PASSIVE in the process environment before any OpenMP runtime starts, but only when
 *       OpenBLAS runs a thread pool (see {@link #BLAS_THREADS_PROPERTY}): then the OpenMP threads must sleep
 *       between parallel regions, or they and OpenBLAS's spinning threads starve each other. Otherwise OpenMP's
 *       default stands (spin briefly, then sleep): waking a sleeping thread costs ~0.1 ms on these virtual
 *       machines, at every one of a step's parallel regions;</li>
 *   <li>OPENBLAS_NUM_THREADS from {@link #BLAS_THREADS_PROPERTY}, when that is set, unless the environment sets it;</li>
 *   <li>libc10, libtorch_cpu and libtorch extracted into JavaCPP's cache before anything is loaded, so an
 *       unrelated libtorch on the library path can never be bound first;</li>
 *   <li>libtorch loaded here; libseer_cpu only after it ({@link NativeKernels#cpu()} calls {@link #init()} first),
 *       so that one OpenMP runtime ends up in the process.</li>
 * </ol>
 * Threads: system property {@code seer.threads} or environment SEER_THREADS, default all cores.
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
    public static final String BLAS_THREADS_PROPERTY = "seer.blas.threads";
    private static volatile boolean initialized;
    private static int threads;

    private SeerRuntime() {
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

    public static int threads() {
        init();
        return threads;
    }

    /** Sets the thread count of libtorch and of Seer's kernels. */
    public static synchronized void setThreads(int n) {
        if (n < 1 || n > NativeKernels.MAX_THREADS) {
            throw new IllegalArgumentException("threads must be in 1.." + NativeKernels.MAX_THREADS + ", found " + n);
        }
        init();
        torch.set_num_threads(n);
        threads = n;
        NativeKernels.applyThreads(n);
    }

    private static void doInit() {
        String blas = System.getProperty(BLAS_THREADS_PROPERTY, "1").trim();
        int blasThreads = 0; // 0: auto, OpenBLAS's own default (one per core)
        if (!blas.equalsIgnoreCase("auto")) {
            try {
                blasThreads = Integer.parseInt(blas);
            } catch (NumberFormatException e) {
                blasThreads = -1;
            }
            if (blasThreads < 1) {
                throw new IllegalArgumentException(BLAS_THREADS_PROPERTY + " must be a count >= 1 or 'auto', found '" + blas + "'");
            }
            setenv("OPENBLAS_NUM_THREADS", String.valueOf(blasThreads), false);
        }
        String blasEnv = System.getenv("OPENBLAS_NUM_THREADS"); // the environment's value wins over the property
        boolean blasPool = blasEnv != null ? !blasEnv.trim().equals("1") : blasThreads != 1;
        if (blasPool) {
            // OpenBLAS's spinning pool and spinning OpenMP threads starve each other on every core they share
            setenv("OMP_WAIT_POLICY", "PASSIVE", false);
        }
        if (!"false".equals(System.getProperty("seer.malloc.tune"))) {
            keepFreedMemoryForReuse();
        }
        if (System.getProperty("org.bytedeco.javacpp.cachedir") == null) {
            Path cache = Path.of(System.getProperty("user.home"), ".cache", "seer", "javacpp");
            System.setProperty("org.bytedeco.javacpp.cachedir", cache.toString());
        }
        String platform = Loader.getPlatform();
        try {
            for (String lib : new String[] {"libc10.so", "libtorch_cpu.so", "libtorch.so"}) {
                Loader.cacheResource(torch.class, "/org/bytedeco/pytorch/" + platform + "/" + lib);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not extract libtorch's libraries into "
                    + System.getProperty("org.bytedeco.javacpp.cachedir") + ": " + e.getMessage(), e);
        }
        Loader.load(torch.class);
        String setting = System.getProperty("seer.threads",
                System.getenv().getOrDefault("SEER_THREADS", String.valueOf(Runtime.getRuntime().availableProcessors())));
        int n;
        try {
            n = Integer.parseInt(setting.trim());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > NativeKernels.MAX_THREADS) {
            throw new IllegalArgumentException("seer.threads / SEER_THREADS must be an integer in 1.."
                    + NativeKernels.MAX_THREADS + ", found '" + setting + "'");
        }
        torch.set_num_threads(n);
        threads = n;
        LOG.debug("runtime ready: libtorch with {} threads", n);
    }

    /**
     * libtorch allocates and frees every intermediate tensor of every op. With glibc's defaults, blocks from
     * 128 KiB up are fresh mmaps and the heap top is trimmed after frees, so each op pays page faults again (very
     * costly on virtual machines). Raising the mmap threshold to glibc's maximum (32 MiB) and the trim
     * threshold to 1 GiB keeps freed blocks for reuse. Opt out with -Dseer.malloc.tune=false.
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
