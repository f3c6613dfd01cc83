package dev.seer;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The process-wide settings Seer applies once, when it first starts (see {@link Seer#configure}). Each one can
 * be left alone: then Seer does not touch that part of the process.
 *
 * <table>
 *   <caption>Settings, what they change in the process, and their defaults</caption>
 *   <tr><th>setting</th><th>changes</th><th>default ({@link #defaults()})</th><th>leave it with</th></tr>
 *   <tr><td>{@link Builder#threads threads}</td><td>libtorch's process-wide thread count
 *       ({@code torch.set_num_threads}) and Seer's kernels' default</td>
 *       <td>{@code seer.threads}, else SEER_THREADS, else all cores</td><td>{@link Builder#leaveThreads()}</td></tr>
 *   <tr><td>{@link Builder#blasThreads blasThreads}</td><td>environment variable OPENBLAS_NUM_THREADS (not when the
 *       environment already sets it)</td><td>{@code seer.blas.threads} (a count, or "auto" to leave it), else 1</td>
 *       <td>{@link Builder#leaveBlasThreads()}</td></tr>
 *   <tr><td>{@link Builder#passiveOpenMpWait passiveOpenMpWait}</td><td>environment variable OMP_WAIT_POLICY=PASSIVE,
 *       only when OpenBLAS runs a thread pool (not when the environment sets it)</td><td>on</td>
 *       <td>{@code passiveOpenMpWait(false)}</td></tr>
 *   <tr><td>{@link Builder#tuneMalloc tuneMalloc}</td><td>glibc's malloc thresholds (mallopt: mmap threshold 32 MiB,
 *       trim threshold 1 GiB), for every allocation of the process</td><td>{@code seer.malloc.tune}, else on</td>
 *       <td>{@code tuneMalloc(false)}</td></tr>
 *   <tr><td>{@link Builder#extractDir extractDir}</td><td>where libtorch's and Seer's native libraries are extracted:
 *       system property {@code org.bytedeco.javacpp.cachedir} (JavaCPP's cache, unless already set), and
 *       DIR/seer-native</td><td>{@code seer.extract.dir}, else SEER_EXTRACT_DIR, else
 *       {@code org.bytedeco.javacpp.cachedir}, else ~/.cache/seer/javacpp</td>
 *       <td>{@link Builder#leaveExtractDir()}: JavaCPP's own cache directory</td></tr>
 *   <tr><td>{@link Builder#awtHeadless awtHeadless}</td><td>system property {@code java.awt.headless=true} (not when
 *       already set)</td><td>off</td><td>(off)</td></tr>
 * </table>
 *
 * <p>OPENBLAS_NUM_THREADS=1 keeps OpenBLAS from starting a pool of spinning threads that takes the cores from
 * Seer's kernels and from everything else on the machine (docs/BENCHMARKS.md, "OpenBLAS threads"); the malloc
 * thresholds keep libtorch's freed intermediate tensors for reuse instead of paying page faults again at every op
 * (see {@code SeerRuntime}). Leaving them costs speed, not correctness.
 *
 * <p>Immutable; build with {@link #builder()} (which starts from the defaults) or {@link #untouched()}.
 */
public final class SeerOptions {
    /**
     * Most threads anything in Seer may be given (a count, a run's limit, a kernel call): more is a typo, not a
     * machine, and OpenMP would try to start them all.
     */
    public static final int MAX_THREADS = 1024;
    /** libtorch's and the kernels' thread count. */
    public static final String THREADS_PROPERTY = "seer.threads";
    /** The environment variable read when {@link #THREADS_PROPERTY} is absent. */
    public static final String THREADS_ENV = "SEER_THREADS";
    /** OpenBLAS threads: a count, or "auto" to leave OpenBLAS to its environment (one thread per core). */
    public static final String BLAS_THREADS_PROPERTY = "seer.blas.threads";
    /** "false" leaves glibc's malloc thresholds alone. */
    public static final String MALLOC_TUNE_PROPERTY = "seer.malloc.tune";
    /** The directory native libraries are extracted to. */
    public static final String EXTRACT_DIR_PROPERTY = "seer.extract.dir";
    /** The environment variable read when {@link #EXTRACT_DIR_PROPERTY} is absent. */
    public static final String EXTRACT_DIR_ENV = "SEER_EXTRACT_DIR";
    /** JavaCPP's own cache directory property; when set, it is the default extraction directory too. */
    public static final String JAVACPP_CACHE_DIR_PROPERTY = "org.bytedeco.javacpp.cachedir";

    private final OptionalInt threads;
    private final OptionalInt blasThreads;
    private final boolean passiveOpenMpWait;
    private final boolean tuneMalloc;
    private final Optional<Path> extractDir;
    private final boolean awtHeadless;

    private SeerOptions(Builder b) {
        this.threads = b.threads;
        this.blasThreads = b.blasThreads;
        this.passiveOpenMpWait = b.passiveOpenMpWait;
        this.tuneMalloc = b.tuneMalloc;
        this.extractDir = b.extractDir;
        this.awtHeadless = b.awtHeadless;
    }

    /**
     * The defaults: system properties and environment variables read now (see the table above).
     *
     * @throws IllegalArgumentException naming the property and the value when one is not valid
     */
    public static SeerOptions defaults() {
        Builder b = new Builder();
        String threads = System.getProperty(THREADS_PROPERTY);
        String threadsSource = THREADS_PROPERTY;
        if (threads == null) {
            threads = System.getenv(THREADS_ENV);
            threadsSource = THREADS_ENV;
        }
        b.threads(threads == null ? Runtime.getRuntime().availableProcessors() : parseCount(threadsSource, threads));
        String blas = System.getProperty(BLAS_THREADS_PROPERTY, "1").trim();
        if (blas.equalsIgnoreCase("auto")) {
            b.leaveBlasThreads();
        } else {
            b.blasThreads(parseCount(BLAS_THREADS_PROPERTY, blas));
        }
        b.tuneMalloc(!"false".equalsIgnoreCase(System.getProperty(MALLOC_TUNE_PROPERTY, "true").trim()));
        b.extractDir(defaultExtractDir());
        return b.build();
    }

    /** Options that change nothing in the process: every setting left alone. */
    public static SeerOptions untouched() {
        return new Builder().leaveThreads().leaveBlasThreads().passiveOpenMpWait(false).tuneMalloc(false)
                .leaveExtractDir().awtHeadless(false).build();
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return defaults().toBuilder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.threads = threads;
        b.blasThreads = blasThreads;
        b.passiveOpenMpWait = passiveOpenMpWait;
        b.tuneMalloc = tuneMalloc;
        b.extractDir = extractDir;
        b.awtHeadless = awtHeadless;
        return b;
    }

    /** libtorch's process-wide thread count and the kernels' default; empty: left as libtorch and OpenMP set it. */
    public OptionalInt threads() {
        return threads;
    }

    /** OPENBLAS_NUM_THREADS to set; empty: left as the environment has it. */
    public OptionalInt blasThreads() {
        return blasThreads;
    }

    /** Whether OMP_WAIT_POLICY=PASSIVE is set when OpenBLAS runs a thread pool. */
    public boolean passiveOpenMpWait() {
        return passiveOpenMpWait;
    }

    /** Whether glibc's malloc thresholds are raised. */
    public boolean tuneMalloc() {
        return tuneMalloc;
    }

    /** Where native libraries are extracted; empty: JavaCPP's own cache directory. */
    public Optional<Path> extractDir() {
        return extractDir;
    }

    /** Whether java.awt.headless=true is set (when unset). */
    public boolean awtHeadless() {
        return awtHeadless;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeerOptions s && threads.equals(s.threads) && blasThreads.equals(s.blasThreads)
                && passiveOpenMpWait == s.passiveOpenMpWait && tuneMalloc == s.tuneMalloc
                && extractDir.equals(s.extractDir) && awtHeadless == s.awtHeadless;
    }

    @Override
    public int hashCode() {
        return Objects.hash(threads, blasThreads, passiveOpenMpWait, tuneMalloc, extractDir, awtHeadless);
    }

    @Override
    public String toString() {
        return "SeerOptions[threads=" + show(threads) + ", blasThreads=" + show(blasThreads) + ", passiveOpenMpWait="
                + passiveOpenMpWait + ", tuneMalloc=" + tuneMalloc + ", extractDir="
                + extractDir.map(Path::toString).orElse("leave") + ", awtHeadless=" + awtHeadless + "]";
    }

    private static String show(OptionalInt v) {
        return v.isPresent() ? String.valueOf(v.getAsInt()) : "leave";
    }

    private static Path defaultExtractDir() {
        String dir = System.getProperty(EXTRACT_DIR_PROPERTY);
        if (dir == null || dir.isBlank()) {
            dir = System.getenv(EXTRACT_DIR_ENV);
        }
        if (dir == null || dir.isBlank()) {
            dir = System.getProperty(JAVACPP_CACHE_DIR_PROPERTY);
        }
        if (dir == null || dir.isBlank()) {
            return Path.of(System.getProperty("user.home"), ".cache", "seer", "javacpp");
        }
        return Path.of(dir.trim());
    }

    private static int parseCount(String source, String value) {
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > MAX_THREADS) {
            throw new IllegalArgumentException(source + ": '" + value + "' is not allowed; allowed: an integer in 1.."
                    + MAX_THREADS + (source.equals(BLAS_THREADS_PROPERTY) ? " or 'auto'" : ""));
        }
        return n;
    }

    /** Fluent construction; every setter validates its value. */
    public static final class Builder {
        private OptionalInt threads = OptionalInt.empty();
        private OptionalInt blasThreads = OptionalInt.empty();
        private boolean passiveOpenMpWait = true;
        private boolean tuneMalloc = true;
        private Optional<Path> extractDir = Optional.empty();
        private boolean awtHeadless;

        private Builder() {
        }

        /** Sets libtorch's process-wide thread count (and the kernels' default) to n, 1..1024. */
        public Builder threads(int n) {
            threads = OptionalInt.of(checkCount("threads", n));
            return this;
        }

        /** Leaves libtorch's thread count as libtorch and OpenMP choose it (OMP_NUM_THREADS, else the cores). */
        public Builder leaveThreads() {
            threads = OptionalInt.empty();
            return this;
        }

        /** Sets OPENBLAS_NUM_THREADS to n, 1..1024, unless the environment already sets it. */
        public Builder blasThreads(int n) {
            blasThreads = OptionalInt.of(checkCount("blasThreads", n));
            return this;
        }

        /** Leaves OPENBLAS_NUM_THREADS as the environment has it (unset: OpenBLAS runs one thread per core). */
        public Builder leaveBlasThreads() {
            blasThreads = OptionalInt.empty();
            return this;
        }

        /** Whether to set OMP_WAIT_POLICY=PASSIVE when OpenBLAS runs a thread pool (and the environment has none). */
        public Builder passiveOpenMpWait(boolean on) {
            passiveOpenMpWait = on;
            return this;
        }

        /** Whether to raise glibc's malloc thresholds (mallopt) for the whole process. */
        public Builder tuneMalloc(boolean on) {
            tuneMalloc = on;
            return this;
        }

        /** Extracts native libraries under {@code dir} (falling back to the temporary directory if it is not usable). */
        public Builder extractDir(Path dir) {
            if (dir == null) {
                throw new IllegalArgumentException("extractDir is null; use leaveExtractDir() for JavaCPP's own cache directory");
            }
            extractDir = Optional.of(dir.toAbsolutePath().normalize());
            return this;
        }

        /** Leaves JavaCPP's cache directory as JavaCPP chooses it; Seer's own libraries go next to it. */
        public Builder leaveExtractDir() {
            extractDir = Optional.empty();
            return this;
        }

        /** Whether to set java.awt.headless=true (when unset), for PNG output on a machine with a DISPLAY. */
        public Builder awtHeadless(boolean on) {
            awtHeadless = on;
            return this;
        }

        public SeerOptions build() {
            return new SeerOptions(this);
        }

        private static int checkCount(String name, int n) {
            if (n < 1 || n > MAX_THREADS) {
                throw new IllegalArgumentException(name + ": " + n + " is not allowed; allowed: 1.." + MAX_THREADS);
            }
            return n;
        }
    }
}
