package dev.seer.eval;

import dev.seer.kernel.NativeKernels;
import dev.seer.kernel.Variant;
import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;

/**
 * The kernel benchmark, llm.c style: first every built CPU variant is validated against the reference on fresh
 * random inputs, then the AUTO variant is timed against the STREAM triad and copy measured in the same run at the
 * same working set, and against the libtorch op chain a straightforward implementation runs.
 *
 * <p><b>Working set</b>: the bytes one call reads plus the bytes it writes, each buffer counted once. The element
 * count follows from it per op (order p, element size e):
 * <ul>
 *   <li>taylor_update: reads F and D^0..D^(p-1), writes D^0..D^p: (2p + 2) n e</li>
 *   <li>taylor_forecast: reads D^0..D^p, writes out: (p + 2) n e</li>
 *   <li>taylor_forecast_residual: reads x, D^0..D^p and the gate, writes x: (p + 3) n e + B C e</li>
 *   <li>taylor_update_residual: reads x, F, D^0..D^(p-1) and the gate, writes x and D^0..D^p: (2p + 4) n e + B C e</li>
 *   <li>taylor_forecast_residual_multi over K branches: (K (p + 1) + 2) n e + K B C e</li>
 *   <li>taylor_forecast_sums over K branches for W steps: reads the factors, writes W sums: (K (p + 1) + W) n e
 *   + K W B C e (each step's gates)</li>
 * </ul>
 * Residual ops run on (B, N, C) = (2, N, 384), DiT-S/2's batch and width, N chosen to fill the working set. The
 * multi op runs a DiT-S/2 stack, 12 layers x 2 branches (K = 24) of (2, N, 384): N = 256 is DiT-S/2 itself (55.6
 * MiB in f32 at order 2); other working sets scale N, and where even N = 1 overflows the working set (64 KiB) K
 * drops instead. The libtorch chain for multi is K sequential residual chains; the per-branch comparison is K
 * Seer taylor_forecast_residual calls. The sums op takes the same stack for the {@link #SUM_STEPS} forecast
 * steps of a TaylorSeer window at N = 5 (deltas -1 .. -4), each step with its own gates; its libtorch chain is W
 * such stack chains, each from zero, and its unfused form one taylor_forecast_residual_multi call per step (the
 * official op order, which reads every factor at every step).
 *
 * <p><b>Validation</b> is bitwise for every dtype: the kernels are specified to be bit-identical to the reference
 * (f32 arithmetic without FMA or reassociation, one round-to-nearest-even store per bf16/f16 value; seer.h). The
 * reference itself is checked for f32 against the libtorch op chain (the official TaylorSeer numerics); for
 * bf16/f16 libtorch rounds after every op, so there the reference is the specification. The multi op is checked
 * against K sequential reference taylor_forecast_residual calls, its definition; the sums op against one
 * reference multi-branch call per step on a zeroed buffer, its specification.
 */
public final class KernelBench {
    public static final long KIB = 1024;
    public static final long MIB = 1024 * KIB;
    public static final List<Long> SIZES = List.of(64 * KIB, MIB, 16 * MIB, 64 * MIB, 256 * MIB);
    public static final List<Long> QUICK_SIZES = List.of(64 * KIB, MIB, 16 * MIB);
    public static final long MIN_SIZE = 4 * KIB;
    public static final long MAX_SIZE = 4096 * MIB;
    public static final int DEFAULT_ORDER = 2;
    /** DiT-S/2: batch 2, hidden size 384, 12 layers of two cached branches. */
    public static final long BATCH = 2;
    public static final long CHANNELS = 384;
    public static final int STACK_BRANCHES = 24;
    /** The steps of one taylor_forecast_sums call: the forecast steps of a TaylorSeer window at N = 5. */
    public static final int SUM_STEPS = 4;

    /** Validation shapes (B, N, C): odd widths and tails; the second is above the parallel threshold. */
    public static final List<Shape> VALIDATION_SHAPES = List.of(Shape.of(2, 3, 37), Shape.of(2, 131, 383));

    private KernelBench() {
    }

    /** The kernels, named as in seer.h without the seer_ prefix. */
    public enum Op {
        TAYLOR_UPDATE("taylor_update"),
        TAYLOR_FORECAST("taylor_forecast"),
        TAYLOR_FORECAST_RESIDUAL("taylor_forecast_residual"),
        TAYLOR_FORECAST_RESIDUAL_MULTI("taylor_forecast_residual_multi"),
        TAYLOR_UPDATE_RESIDUAL("taylor_update_residual"),
        TAYLOR_FORECAST_SUMS("taylor_forecast_sums");

        private final String id;

        Op(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        /** Runs on (B, N, C) buffers with gates read from an adaLN modulation. */
        boolean usesGates() {
            return this != TAYLOR_UPDATE && this != TAYLOR_FORECAST;
        }

        /** Runs over a stack of branches. */
        boolean isStack() {
            return this == TAYLOR_FORECAST_RESIDUAL_MULTI || this == TAYLOR_FORECAST_SUMS;
        }

        /** The forecast steps one call serves. */
        int steps() {
            return this == TAYLOR_FORECAST_SUMS ? SUM_STEPS : 1;
        }

        boolean readsFeature() {
            return this == TAYLOR_UPDATE || this == TAYLOR_UPDATE_RESIDUAL;
        }

        /** Bytes per element of x moved per branch-independent pass, see the class comment. */
        long bufferPasses(int order, int branches) {
            return switch (this) {
                case TAYLOR_UPDATE -> 2L * order + 2;
                case TAYLOR_FORECAST -> order + 2L;
                case TAYLOR_FORECAST_RESIDUAL -> order + 3L;
                case TAYLOR_UPDATE_RESIDUAL -> 2L * order + 4;
                case TAYLOR_FORECAST_RESIDUAL_MULTI -> (long) branches * (order + 1) + 2;
                case TAYLOR_FORECAST_SUMS -> (long) branches * (order + 1) + SUM_STEPS;
            };
        }

        public static Op parse(String name) {
            for (Op op : values()) {
                if (op.id.equals(name)) {
                    return op;
                }
            }
            throw new IllegalArgumentException("unknown op '" + name + "'");
        }

        public static List<String> names() {
            return Arrays.stream(values()).map(Op::id).toList();
        }

        @Override
        public String toString() {
            return id;
        }
    }

    /** The dtypes the kernels store: f32, bf16, f16. */
    public static DType parseDType(String name) {
        return switch (name) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            default -> throw new IllegalArgumentException("unknown dtype '" + name + "'");
        };
    }

    public static String dtypeName(DType d) {
        return d.name().toLowerCase(Locale.ROOT);
    }

    /** "65536", "64KiB", "64K", "16MiB", "1GiB" (binary units) to bytes. */
    public static long parseSize(String s) {
        String t = s.trim();
        long unit = 1;
        String lower = t.toLowerCase(Locale.ROOT);
        for (String[] u : new String[][] {{"kib", "1024"}, {"mib", "1048576"}, {"gib", "1073741824"}, {"k", "1024"},
                {"m", "1048576"}, {"g", "1073741824"}}) {
            if (lower.endsWith(u[0])) {
                unit = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("'" + s + "' is not a size");
        }
    }

    public static String formatSize(long bytes) {
        if (bytes % MIB == 0) {
            return bytes / MIB + " MiB";
        }
        if (bytes % KIB == 0) {
            return bytes / KIB + " KiB";
        }
        return bytes + " B";
    }

    /**
     * The call's shape: (batch, tokens, channels) per branch, the branch count, the steps it serves, and the bytes
     * it moves.
     */
    public record Layout(Op op, DType dtype, int order, long batch, long tokens, long channels, int branches, int steps,
                         long bytes) {
        public long elements() {
            return batch * tokens * channels;
        }

        public String describe() {
            String s = op.usesGates() ? "(" + batch + ", " + tokens + ", " + channels + ")" : "(" + elements() + ")";
            s = branches > 1 ? branches + " x " + s : s;
            return steps > 1 ? s + " x " + steps + " steps" : s;
        }
    }

    /** The layout whose bytes come closest to {@code workingSet} from below (at least one element/token/branch). */
    public static Layout layout(Op op, DType dtype, int order, long workingSet) {
        long e = dtype.byteSize();
        if (!op.usesGates()) {
            long n = Math.max(1, workingSet / (op.bufferPasses(order, 1) * e));
            return new Layout(op, dtype, order, 1, 1, n, 1, 1, op.bufferPasses(order, 1) * n * e);
        }
        long row = BATCH * CHANNELS * e; // one token of one buffer, and one gate
        int k = op.isStack() ? STACK_BRANCHES : 1;
        int w = op.steps(); // gates per branch
        long tokens = (workingSet - (long) k * w * row) / (op.bufferPasses(order, k) * row);
        if (tokens < 1) {
            tokens = 1;
            if (op.isStack()) {
                // per branch: order + 1 factor rows and a gate per step; plus what does not depend on k
                long fixed = op.bufferPasses(order, 0);
                k = (int) Math.max(1, (workingSet - fixed * row) / ((order + 1 + w) * row));
            }
        }
        long bytes = op.bufferPasses(order, k) * tokens * row + (long) k * w * row;
        return new Layout(op, dtype, order, BATCH, tokens, CHANNELS, k, w, bytes);
    }

    // ---- validation ----

    /** One variant of one op and dtype, checked on every validation shape. */
    public record Check(Op op, DType dtype, Variant variant, boolean passed, String against, String detail) {
    }

    /** The CPU variants this machine runs (REF always). */
    public static List<Variant> availableVariants() {
        NativeKernels lib = NativeKernels.cpu();
        return Arrays.stream(Variant.values()).filter(v -> v != Variant.AUTO && lib.isAvailable(v)).toList();
    }

    /** Validates every available variant of {@code op} on {@link #VALIDATION_SHAPES}. */
    public static List<Check> validate(Op op, DType dtype, int order, long seed) {
        return validate(op, dtype, order, seed, VALIDATION_SHAPES);
    }

    /** Validates every available variant of {@code op} on the given (B, N, C) shapes, fresh random inputs each. */
    public static List<Check> validate(Op op, DType dtype, int order, long seed, List<Shape> shapes) {
        checkOrder(order);
        List<Variant> variants = availableVariants();
        String[] failure = new String[variants.size()];
        for (Shape s : shapes) {
            Layout l = new Layout(op, dtype, order, s.dim(0), s.dim(1), s.dim(2), op.isStack() ? STACK_BRANCHES : 1,
                    op.steps(), 0);
            long shapeSeed = Objects.hash(seed, op.id(), dtypeName(dtype), order, s.toString());
            // expected: the reference (for a stack op: its definition by reference calls of the op it fuses)
            List<byte[]> expected;
            try (KernelBuffers b = buffers(l, shapeSeed)) {
                if (op.isStack()) {
                    b.runDefinition(Variant.REF);
                } else {
                    b.runSeer(Variant.REF);
                }
                expected = b.outputs();
            }
            for (int vi = 0; vi < variants.size(); vi++) {
                Variant v = variants.get(vi);
                if (failure[vi] != null) {
                    continue;
                }
                if (v != Variant.REF || op.isStack()) {
                    try (KernelBuffers b = buffers(l, shapeSeed)) {
                        b.runSeer(v);
                        failure[vi] = compare(b, s, expected, b.outputs(), variantName(v), op.isStack() ? definition(op) : "ref");
                    }
                }
                if (failure[vi] == null && v == Variant.REF && dtype == DType.F32) {
                    // the reference against the official op chain (f32 only, see the class comment)
                    try (KernelBuffers t = buffers(l, shapeSeed)) {
                        t.prepareTorch();
                        List<byte[]> chain;
                        try (PointerScope scope = new PointerScope()) {
                            chain = t.torchChain().stream().map(KernelBench::torchBytes).toList();
                        }
                        failure[vi] = compare(t, s, chain, expected, "ref", "libtorch op chain");
                    }
                }
            }
        }
        List<Check> checks = new ArrayList<>();
        for (int vi = 0; vi < variants.size(); vi++) {
            Variant v = variants.get(vi);
            checks.add(new Check(op, dtype, v, failure[vi] == null, against(op, dtype, v), failure[vi] == null ? "" : failure[vi]));
        }
        return checks;
    }

    /** What a stack op is checked against: the reference calls of the op it fuses. */
    private static String definition(Op op) {
        return op == Op.TAYLOR_FORECAST_SUMS ? "ref taylor_forecast_residual_multi per step on zeros"
                : "ref taylor_forecast_residual per branch";
    }

    private static String against(Op op, DType dtype, Variant v) {
        String ref = op.isStack() ? definition(op) : "ref";
        if (v != Variant.REF) {
            return "bitwise vs " + ref;
        }
        if (dtype == DType.F32) {
            return op.isStack() ? "bitwise vs " + ref + " and the libtorch op chain" : "bitwise vs the libtorch op chain";
        }
        return op.isStack() ? "bitwise vs " + ref : "the specification (libtorch rounds per op in " + dtypeName(dtype) + ")";
    }

    private static KernelBuffers buffers(Layout l, long seed) {
        KernelBuffers b = new KernelBuffers(l.op(), l.dtype(), l.order(), l);
        b.fillRandom(new Random(seed));
        return b;
    }

    private static byte[] torchBytes(org.bytedeco.pytorch.Tensor t) {
        return Torch.view(t.contiguous()).segment().toArray(ValueLayout.JAVA_BYTE);
    }

    /** null when equal, else where and how they differ. */
    private static String compare(KernelBuffers b, Shape s, List<byte[]> want, List<byte[]> got, String gotName, String wantName) {
        int es = b.dtype.byteSize();
        for (int i = 0; i < want.size(); i++) {
            int at = Arrays.mismatch(want.get(i), got.get(i));
            if (at >= 0) {
                int el = at / es;
                return String.format(Locale.ROOT, "shape %s: %s element %d: %s 0x%s, %s 0x%s", s, b.outputName(i), el,
                        gotName, hex(got.get(i), el, es), wantName, hex(want.get(i), el, es));
            }
        }
        return null;
    }

    private static String hex(byte[] a, int element, int es) {
        if ((long) (element + 1) * es > a.length) {
            return "(missing)";
        }
        StringBuilder sb = new StringBuilder();
        for (int k = es - 1; k >= 0; k--) {
            sb.append(String.format("%02x", a[element * es + k]));
        }
        return sb.toString();
    }

    public static String variantName(Variant v) {
        return v.name().toLowerCase(Locale.ROOT);
    }

    static void checkOrder(int order) {
        if (order < 0 || order > NativeKernels.MAX_ORDER) {
            throw new IllegalArgumentException("order must be in 0.." + NativeKernels.MAX_ORDER + ", found " + order);
        }
    }

    // ---- timing ----

    /**
     * Median seconds per call: warm-up (at least 2 calls and a tenth of the budget), then calls timed one by one
     * until at least {@code minSeconds} (and at least 5 calls) have run.
     */
    public static double medianSeconds(Runnable call, double minSeconds) {
        long warmEnd = System.nanoTime() + (long) (minSeconds * 0.1e9);
        for (int i = 0; i < 2 || System.nanoTime() < warmEnd; i++) {
            call.run();
        }
        long[] t = new long[64];
        int n = 0;
        long total = 0;
        long budget = (long) (minSeconds * 1e9);
        while (n < 5 || total < budget) {
            long t0 = System.nanoTime();
            call.run();
            long dt = System.nanoTime() - t0;
            if (n == t.length) {
                t = Arrays.copyOf(t, n * 2);
            }
            t[n++] = dt;
            total += dt;
        }
        long[] sorted = Arrays.copyOf(t, n);
        Arrays.sort(sorted);
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        return median / 1e9;
    }

    /** STREAM copy (2 arrays of workingSet / 8 floats) and triad (3 arrays of workingSet / 12 floats). */
    public record StreamResult(long workingSet, double copySeconds, double copyGbps, double triadSeconds, double triadGbps) {
    }

    /** Buffers for STREAM copy and triad at one working set, freed on close. */
    public static final class StreamFixture implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final NativeKernels lib = NativeKernels.cpu();
        private final MemorySegment a;
        private final MemorySegment b;
        private final MemorySegment c;
        private final long copyN;
        private final long triadN;

        public StreamFixture(long workingSet) {
            copyN = Math.max(1, workingSet / 8);
            triadN = Math.max(1, workingSet / 12);
            long n = Math.max(copyN, triadN);
            a = arena.allocate(n * 4, Tensor.HOST_ALIGNMENT);
            b = arena.allocate(n * 4, Tensor.HOST_ALIGNMENT);
            c = arena.allocate(n * 4, Tensor.HOST_ALIGNMENT);
            for (long i = 0; i < n; i++) {
                b.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1f + (i % 97) * 0.001f);
                c.setAtIndex(ValueLayout.JAVA_FLOAT, i, 2f);
            }
            a.fill((byte) 0);
        }

        /** a = b over copyBytes() / 8 floats. */
        public void copy() {
            lib.streamCopy(a, b, copyN);
        }

        /** a = b + 3 c over triadBytes() / 12 floats. */
        public void triad() {
            lib.streamTriad(a, b, c, 3f, triadN);
        }

        public long copyBytes() {
            return copyN * 8;
        }

        public long triadBytes() {
            return triadN * 12;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** STREAM copy and triad at {@code workingSet}, timed like the kernels. */
    public static StreamResult measureStream(long workingSet, double minSeconds) {
        try (StreamFixture f = new StreamFixture(workingSet)) {
            double tc = medianSeconds(f::copy, minSeconds);
            double tt = medianSeconds(f::triad, minSeconds);
            return new StreamResult(workingSet, tc, f.copyBytes() / tc / 1e9, tt, f.triadBytes() / tt / 1e9);
        }
    }

    /**
     * The buffers of one op at one working set, filled and ready to time, with the Seer call (AUTO), the libtorch
     * chain and (multi) the per-branch calls. For the JMH benchmarks and {@link #measure}.
     */
    public static final class Fixture implements AutoCloseable {
        private final KernelBuffers buffers;

        public Fixture(Op op, DType dtype, int order, long workingSet) {
            checkOrder(order);
            buffers = new KernelBuffers(op, dtype, order, KernelBench.layout(op, dtype, order, workingSet));
            buffers.fillPattern();
        }

        public Layout layout() {
            return buffers.layout;
        }

        /** One call of the op, AUTO variant, through the Kernels facade. */
        public void seer() {
            buffers.runSeer(Variant.AUTO);
        }

        /** The same work as the libtorch op chain, temporaries freed. */
        public void libtorch() {
            buffers.runTorch();
        }

        /**
         * Stack ops only: the same work in the calls the op fuses, AUTO variant: one taylor_forecast_residual call
         * per branch (multi), one taylor_forecast_residual_multi call per step (sums).
         */
        public void unfused() {
            if (!buffers.op.isStack()) {
                throw new IllegalStateException("unfused calls exist for the stack ops only, this is " + buffers.op);
            }
            buffers.runUnfused(Variant.AUTO);
        }

        @Override
        public void close() {
            buffers.close();
        }
    }

    /**
     * One timed kernel: seconds are medians per call; NaN where a comparison does not apply (unfused: stack ops
     * only, see {@link Fixture#unfused()}).
     */
    public record Result(Op op, DType dtype, int order, long workingSet, Layout layout, Variant variant, int threads,
                         double seconds, double gbps, StreamResult stream, double fractionOfTriad,
                         double libtorchSeconds, double speedupVsLibtorch, double unfusedSeconds,
                         double speedupVsUnfused) {
        public long bytes() {
            return layout.bytes();
        }
    }

    /** Times one op/dtype/size against the given STREAM numbers of the same size. */
    public static Result measure(Op op, DType dtype, int order, long workingSet, double minSeconds, StreamResult stream) {
        try (Fixture f = new Fixture(op, dtype, order, workingSet)) {
            double seer = medianSeconds(f::seer, minSeconds);
            double torch = medianSeconds(f::libtorch, minSeconds);
            double unfused = op.isStack() ? medianSeconds(f::unfused, minSeconds) : Double.NaN;
            Layout l = f.layout();
            double gbps = l.bytes() / seer / 1e9;
            return new Result(op, dtype, order, workingSet, l, NativeKernels.cpu().bestVariant(), SeerRuntime.threads(),
                    seer, gbps, stream, gbps / stream.triadGbps(), torch, torch / seer, unfused, unfused / seer);
        }
    }

    // ---- the whole run ----

    /** What to run. */
    public record Settings(List<Op> ops, List<DType> dtypes, List<Long> sizes, int order, double minSeconds, long seed) {
        public Settings {
            checkOrder(order);
            if (ops.isEmpty() || dtypes.isEmpty() || sizes.isEmpty()) {
                throw new IllegalArgumentException("ops, dtypes and sizes must not be empty");
            }
            for (long s : sizes) {
                if (s < MIN_SIZE || s > MAX_SIZE) {
                    throw new IllegalArgumentException("sizes must be in " + formatSize(MIN_SIZE) + " .. " + formatSize(MAX_SIZE) + ", found " + s);
                }
            }
            if (!(minSeconds > 0) || Double.isInfinite(minSeconds)) {
                throw new IllegalArgumentException("minSeconds must be finite and > 0, found " + minSeconds);
            }
            ops = List.copyOf(ops);
            dtypes = List.copyOf(dtypes);
            sizes = List.copyOf(sizes);
        }
    }

    /** Receives the run's progress and results as they happen. */
    public interface Listener {
        default void progress(String message) {
        }

        default void validated(Check check) {
        }

        default void stream(StreamResult stream) {
        }

        default void measured(Result result) {
        }
    }

    /** Everything a run produced. */
    public record Report(List<Check> checks, List<StreamResult> streams, List<Result> results) {
        public boolean allPassed() {
            return checks.stream().allMatch(Check::passed);
        }
    }

    /** Validation of every op/dtype, then timing of every size/op/dtype. */
    public static Report run(Settings s, Listener listener) {
        SeerRuntime.init();
        List<Check> checks = new ArrayList<>();
        int total = s.ops().size() * s.dtypes().size();
        int done = 0;
        for (Op op : s.ops()) {
            for (DType d : s.dtypes()) {
                listener.progress(String.format(Locale.ROOT, "validate [%d/%d] %s %s", ++done, total, op, dtypeName(d)));
                for (Check c : validate(op, d, s.order(), s.seed())) {
                    checks.add(c);
                    listener.validated(c);
                }
            }
        }
        List<StreamResult> streams = new ArrayList<>();
        List<Result> results = new ArrayList<>();
        total = s.sizes().size() * s.ops().size() * s.dtypes().size();
        done = 0;
        for (long size : s.sizes()) {
            listener.progress("stream " + formatSize(size));
            StreamResult st = measureStream(size, s.minSeconds());
            streams.add(st);
            listener.stream(st);
            for (Op op : s.ops()) {
                for (DType d : s.dtypes()) {
                    listener.progress(String.format(Locale.ROOT, "time [%d/%d] %s %s %s", ++done, total, op, dtypeName(d), formatSize(size)));
                    Result r = measure(op, d, s.order(), size, s.minSeconds(), st);
                    results.add(r);
                    listener.measured(r);
                }
            }
        }
        return new Report(checks, streams, results);
    }
}
