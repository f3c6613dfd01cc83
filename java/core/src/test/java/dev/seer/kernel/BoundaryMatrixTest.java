package dev.seer.kernel;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.seer.tensor.DType;
import dev.seer.tensor.Device;
import dev.seer.tensor.GateView;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * The native boundary, argument by argument: every binding of the kernel package, in every CPU variant, called
 * with each kind of bad argument it can be handed (null, wrong shape, dtype or device, on-heap, freed, foreign
 * thread's, read-only or misaligned memory, overlapping buffers, orders, distances and deltas out of range,
 * huge sizes). Each call must be refused with an IllegalArgumentException, or a KernelException carrying the C
 * library's message, that names what is wrong; none may reach C with memory C would fault on. The C library's
 * own checks are exercised directly too, through the raw bindings, with arguments only C can see.
 */
class BoundaryMatrixTest {
    static final Shape SHAPE = Shape.of(2, 3, 37); // odd channel count: vector tails in every variant
    static final long CHANNELS = 37;
    static final int MAX_ORDER = 4;
    static final int ORDER = 2;

    /** A thread that owns a confined arena, for memory that the test thread may not touch. */
    static ExecutorService owner;
    static Arena foreign;

    @BeforeAll
    static void startOwner() throws Exception {
        owner = Executors.newSingleThreadExecutor();
        foreign = owner.submit(Arena::ofConfined).get();
    }

    @AfterAll
    static void stopOwner() throws Exception {
        owner.submit(() -> foreign.close()).get();
        owner.shutdown();
    }

    enum Slot { X, OUT, FEATURE, GATE, FACTORS, STACK, NEW_ORDER, DISTANCE, DELTA }

    /** The public kernel bindings, with the arguments each takes and the ones it writes. */
    enum Op {
        UPDATE("taylor_update", EnumSet.of(Slot.FEATURE, Slot.FACTORS, Slot.NEW_ORDER, Slot.DISTANCE)),
        FORECAST("taylor_forecast", EnumSet.of(Slot.OUT, Slot.FACTORS, Slot.DELTA)),
        FORECAST_RESIDUAL("taylor_forecast_residual", EnumSet.of(Slot.X, Slot.GATE, Slot.FACTORS, Slot.DELTA)),
        UPDATE_RESIDUAL("taylor_update_residual",
                EnumSet.of(Slot.X, Slot.GATE, Slot.FEATURE, Slot.FACTORS, Slot.NEW_ORDER, Slot.DISTANCE)),
        FORECAST_RESIDUAL_MULTI("taylor_forecast_residual_multi", EnumSet.of(Slot.X, Slot.STACK, Slot.DELTA));

        final String id;
        final Set<Slot> slots;

        Op(String id, Set<Slot> slots) {
            this.id = id;
            this.slots = slots;
        }

        void call(Args a) {
            switch (this) {
                case UPDATE -> Kernels.taylorUpdate(a.variant, a.factors, a.feature, a.newOrder, a.distance);
                case FORECAST -> Kernels.taylorForecast(a.variant, a.out, a.factors, a.delta);
                case FORECAST_RESIDUAL -> Kernels.taylorForecastResidual(a.variant, a.x, a.gate, a.factors, a.delta);
                case UPDATE_RESIDUAL -> Kernels.taylorUpdateResidual(a.variant, a.x, a.gate, a.feature, a.factors,
                        a.newOrder, a.distance);
                case FORECAST_RESIDUAL_MULTI -> Kernels.taylorForecastResidualMulti(a.variant, a.x, a.stack, a.delta);
            }
        }

        boolean writes(Slot s) {
            return s == Slot.X || s == Slot.OUT;
        }
    }

    /** One call's arguments: valid by default, then one of them spoiled. */
    static final class Args {
        final Arena arena;
        Variant variant;
        Tensor x;
        Tensor out;
        Tensor feature;
        Tensor gateStorage;
        GateView gate;
        TaylorFactors factors;
        TaylorFactors second;
        BranchStack stack;
        int newOrder = ORDER + 1;
        float distance = -5f;
        float delta = 2f;

        Args(Arena arena, Variant variant) {
            this.arena = arena;
            this.variant = variant;
            x = filled(arena, 0.5f);
            out = filled(arena, 0f);
            feature = filled(arena, 0.25f);
            gateStorage = Tensor.allocate(arena, DType.F32, 2, 2 * CHANNELS);
            gateStorage.copyFrom(new float[(int) (4 * CHANNELS)]);
            gate = new GateView(gateStorage, CHANNELS, CHANNELS);
            factors = factors(arena);
            second = factors(arena);
            stack = new BranchStack(arena, List.of(factors, second),
                    List.of(new GateView(gateStorage, 0, CHANNELS), new GateView(gateStorage, CHANNELS, CHANNELS)));
        }

        Tensor get(Slot s) {
            return switch (s) {
                case X -> x;
                case OUT -> out;
                case FEATURE -> feature;
                default -> throw new IllegalArgumentException(s + " is not a tensor slot");
            };
        }

        void set(Slot s, Tensor t) {
            switch (s) {
                case X -> x = t;
                case OUT -> out = t;
                case FEATURE -> feature = t;
                default -> throw new IllegalArgumentException(s + " is not a tensor slot");
            }
        }
    }

    static Tensor filled(Arena arena, float v) {
        Tensor t = Tensor.allocate(arena, DType.F32, SHAPE);
        float[] values = new float[(int) SHAPE.numel()];
        java.util.Arrays.fill(values, v);
        t.copyFrom(values);
        return t;
    }

    static TaylorFactors factors(Arena arena) {
        TaylorFactors f = TaylorFactors.allocate(arena, DType.F32, SHAPE, MAX_ORDER);
        for (int i = 0; i <= MAX_ORDER; i++) {
            float[] v = new float[(int) SHAPE.numel()];
            java.util.Arrays.fill(v, 1f / (i + 1));
            f.factor(i).copyFrom(v);
        }
        f.setOrder(ORDER);
        return f;
    }

    /** An F32 tensor of SHAPE whose address is 1 byte past a float boundary. */
    static Tensor misaligned(Arena arena) {
        long bytes = SHAPE.numel() * 4;
        MemorySegment s = arena.allocate(bytes + 4, 64).asSlice(1, bytes);
        return Tensor.ofSegment(DType.F32, SHAPE, s, arena);
    }

    static Tensor closed(DType dtype, Shape shape) {
        Arena a = Arena.ofConfined();
        Tensor t = Tensor.allocate(a, dtype, shape);
        a.close();
        return t;
    }

    static Tensor foreignThread(DType dtype, Shape shape) {
        try {
            return owner.submit(() -> Tensor.allocate(foreign, dtype, shape)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static TaylorFactors closedFactors() {
        Arena a = Arena.ofConfined();
        TaylorFactors f = factors(a);
        a.close();
        return f;
    }

    /** A bad value for one tensor argument, and what the refusal must say about it. */
    record TensorCase(String name, Function<Arena, Tensor> make, String says) {
    }

    static List<TensorCase> tensorCases() {
        long n = SHAPE.numel();
        return List.of(
                new TensorCase("null", a -> null, "is null"),
                new TensorCase("one channel short", a -> Tensor.allocate(a, DType.F32, 2, 3, 36), "(2, 3, 36)"),
                new TensorCase("fewer elements, same rank", a -> Tensor.allocate(a, DType.F32, 2, 1, 37), "(2, 1, 37)"),
                new TensorCase("rank 2", a -> Tensor.allocate(a, DType.F32, 6, 37), "(6, 37)"),
                new TensorCase("dtype bf16", a -> Tensor.allocate(a, DType.BF16, SHAPE), "BF16"),
                new TensorCase("dtype f16", a -> Tensor.allocate(a, DType.F16, SHAPE), "F16"),
                new TensorCase("dtype f64", a -> Tensor.allocate(a, DType.F64, SHAPE), "F64"),
                new TensorCase("dtype i32 (same item size)", a -> Tensor.allocate(a, DType.I32, SHAPE), "I32"),
                new TensorCase("cuda device", a -> Tensor.ofDeviceAddress(DType.F32, SHAPE, Device.cuda(0), 0x1000, null), "cuda:0"),
                new TensorCase("heap memory", a -> Tensor.ofSegment(DType.F32, SHAPE, MemorySegment.ofArray(new float[(int) n]), null), "on-heap"),
                new TensorCase("closed arena", a -> closed(DType.F32, SHAPE), "no longer alive"),
                new TensorCase("another thread's arena", a -> foreignThread(DType.F32, SHAPE), "another thread"),
                new TensorCase("misaligned by 1 byte", BoundaryMatrixTest::misaligned, "not aligned"));
    }

    /** A spoiled argument other than a tensor: what it does to the arguments, which ops take it, what must be said. */
    record Case(String name, Set<Slot> needs, Consumer<Args> spoil, String says) {
    }

    static List<Case> otherCases() {
        List<Case> c = new ArrayList<>();
        Set<Slot> any = EnumSet.noneOf(Slot.class);
        c.add(new Case("variant null", any, a -> a.variant = null, "variant is null"));
        // written tensors must be writable; read-only inputs are fine (see readOnlyInputsAreAccepted)
        for (Slot s : List.of(Slot.X, Slot.OUT)) {
            c.add(new Case(s + " read-only", EnumSet.of(s), a -> a.set(s, readOnly(a.get(s))), "read-only"));
        }
        // factors
        Set<Slot> factors = EnumSet.of(Slot.FACTORS);
        c.add(new Case("factors null", factors, a -> a.factors = null, "factors is null"));
        c.add(new Case("factors' arena closed", factors, a -> a.factors = closedFactors(), "arena was closed"));
        c.add(new Case("factors of another thread's arena", factors, a -> a.factors = foreignFactors(), "another thread"));
        // bf16 or f16 factors under these float32 tensors are a valid pair (narrow factors); the refused pairs are
        // checked in NarrowFactorsTest
        c.add(new Case("factors of another shape", factors,
                a -> a.factors = TaylorFactors.allocate(a.arena, DType.F32, Shape.of(2, 3, 38), MAX_ORDER), "(2, 3, 38)"));
        c.add(new Case("out is factor 1", EnumSet.of(Slot.OUT, Slot.FACTORS), a -> a.out = a.factors.factor(1), "overlaps"));
        c.add(new Case("x is factor 0", EnumSet.of(Slot.X, Slot.FACTORS), a -> a.x = a.factors.factor(0), "overlap"));
        c.add(new Case("feature is factor 2", EnumSet.of(Slot.FEATURE, Slot.FACTORS), a -> a.feature = a.factors.factor(2), "overlap"));
        c.add(new Case("feature is x", EnumSet.of(Slot.FEATURE, Slot.X), a -> a.feature = a.x, "overlap"));
        c.add(new Case("empty factors", EnumSet.of(Slot.FACTORS, Slot.DELTA), a -> a.factors.clear(), "empty"));
        // gates
        Set<Slot> gate = EnumSet.of(Slot.GATE);
        c.add(new Case("gate null", gate, a -> a.gate = null, "gate is null"));
        c.add(new Case("gate bf16 with f32 x (mixed dtypes)", gate,
                a -> a.gate = GateView.of(Tensor.allocate(a.arena, DType.BF16, 2, CHANNELS)), "gate has dtype BF16"));
        c.add(new Case("gate on cuda", gate, a -> a.gate = GateView.of(Tensor.ofDeviceAddress(DType.F32,
                Shape.of(2, CHANNELS), Device.cuda(0), 0x1000, null)), "gate must be on cpu"));
        c.add(new Case("gate batch 3", gate, a -> a.gate = GateView.of(Tensor.allocate(a.arena, DType.F32, 3, CHANNELS)), "gate must be (2, 37)"));
        c.add(new Case("gate 36 channels", gate, a -> a.gate = GateView.of(Tensor.allocate(a.arena, DType.F32, 2, 36)), "gate must be (2, 37)"));
        c.add(new Case("gate storage closed", gate, a -> a.gate = GateView.of(closed(DType.F32, Shape.of(2, CHANNELS))), "no longer alive"));
        c.add(new Case("gate storage of another thread", gate,
                a -> a.gate = GateView.of(foreignThread(DType.F32, Shape.of(2, CHANNELS))), "another thread"));
        c.add(new Case("gate storage on the heap", gate, a -> a.gate = GateView.of(Tensor.ofSegment(DType.F32,
                Shape.of(2, CHANNELS), MemorySegment.ofArray(new float[(int) (2 * CHANNELS)]), null)), "on-heap"));
        c.add(new Case("gate storage misaligned", gate, a -> a.gate = GateView.of(misalignedGate(a.arena)), "not aligned"));
        c.add(new Case("x overlaps the gate", EnumSet.of(Slot.X, Slot.GATE), a -> a.gate = gateOver(a.x), "overlap"));
        c.add(new Case("gate overlaps factors being updated", EnumSet.of(Slot.GATE, Slot.NEW_ORDER),
                a -> a.gate = gateOver(a.factors.factor(1)), "overlap"));
        // orders, distances, deltas
        Set<Slot> order = EnumSet.of(Slot.NEW_ORDER);
        c.add(new Case("new order -1", order, a -> a.newOrder = -1, "new order must be in 0..4, found -1"));
        c.add(new Case("new order 5", order, a -> a.newOrder = 5, "new order must be in 0..4, found 5"));
        c.add(new Case("new order Integer.MAX_VALUE", order, a -> a.newOrder = Integer.MAX_VALUE, "found " + Integer.MAX_VALUE));
        c.add(new Case("new order skips one", order, a -> a.newOrder = ORDER + 2, "the cache holds order 2"));
        for (float d : new float[] {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            c.add(new Case("distance " + d, EnumSet.of(Slot.DISTANCE), a -> a.distance = d, "distance must be finite and non-zero, found " + d));
        }
        for (float d : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            c.add(new Case("delta " + d, EnumSet.of(Slot.DELTA), a -> a.delta = d, "delta must be finite, found " + d));
        }
        // the whole-stack kernel's own arguments
        Set<Slot> stack = EnumSet.of(Slot.STACK);
        c.add(new Case("stack null", stack, a -> a.stack = null, "stack is null"));
        c.add(new Case("a branch of the stack is empty", stack, a -> a.second.clear(), "branch 1 is empty"));
        c.add(new Case("the stack's arena closed", stack, a -> a.stack = closedStack(a), "stack's arena was closed"));
        c.add(new Case("a branch's arena closed", stack, a -> a.stack = new BranchStack(a.arena, List.of(a.factors, closedFactors()),
                List.of(new GateView(a.gateStorage, 0, CHANNELS), new GateView(a.gateStorage, CHANNELS, CHANNELS))), "arena was closed"));
        c.add(new Case("x overlaps the stack's gates", stack, a -> {
            Tensor overX = Tensor.ofSegment(DType.F32, Shape.of(2, 2 * CHANNELS), a.x.segment().asSlice(0, 4 * CHANNELS * 4), null);
            a.stack = new BranchStack(a.arena, List.of(a.factors, a.second),
                    List.of(new GateView(overX, 0, CHANNELS), new GateView(overX, CHANNELS, CHANNELS)));
        }, "overlaps the gates"));
        c.add(new Case("x is a branch's factor", stack, a -> a.x = a.second.factor(0), "overlaps the factors of branch 1"));
        return c;
    }

    static Tensor readOnly(Tensor t) {
        return Tensor.ofSegment(t.dtype(), t.shape(), t.segment().asReadOnly(), t.owner());
    }

    static Tensor misalignedGate(Arena arena) {
        long bytes = 2 * CHANNELS * 4;
        return Tensor.ofSegment(DType.F32, Shape.of(2, CHANNELS), arena.allocate(bytes + 4, 64).asSlice(2, bytes), arena);
    }

    /** A (2, C) gate laid over the first 2C floats of {@code t}. */
    static GateView gateOver(Tensor t) {
        return GateView.of(Tensor.ofSegment(DType.F32, Shape.of(2, CHANNELS), t.segment().asSlice(0, 2 * CHANNELS * 4), t.owner()));
    }

    static TaylorFactors foreignFactors() {
        try {
            return owner.submit(() -> factors(foreign)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static BranchStack closedStack(Args a) {
        Arena tables = Arena.ofConfined();
        BranchStack s = new BranchStack(tables, List.of(a.factors, a.second),
                List.of(new GateView(a.gateStorage, 0, CHANNELS), new GateView(a.gateStorage, CHANNELS, CHANNELS)));
        tables.close();
        return s;
    }

    static void assertRefused(Executable call, String op, String... says) {
        RuntimeException e = assertThrows(RuntimeException.class, call);
        assertTrue(e instanceof IllegalArgumentException || e instanceof KernelException,
                "expected IllegalArgumentException or KernelException, got " + e);
        String m = String.valueOf(e.getMessage());
        if (op != null) {
            assertTrue(m.startsWith(op + ":"), "the message names the op " + op + ": " + m);
        }
        for (String s : says) {
            assertTrue(m.contains(s), "the message says '" + s + "': " + m);
        }
    }

    static List<Variant> variants() {
        return List.of(Variant.REF, Variant.AVX2, Variant.AVX512, Variant.AUTO);
    }

    static DynamicTest run(String name, Variant v, Consumer<Args> body) {
        return dynamicTest(name, () -> {
            assumeTrue(v == Variant.AUTO || NativeKernels.cpu().isAvailable(v), v + " is not available on this CPU");
            try (Arena arena = Arena.ofConfined()) {
                body.accept(new Args(arena, v));
            }
        });
    }

    @TestFactory
    List<DynamicNode> everyBindingRefusesEveryBadArgument() {
        List<DynamicNode> ops = new ArrayList<>();
        for (Op op : Op.values()) {
            List<DynamicNode> perVariant = new ArrayList<>();
            for (Variant v : variants()) {
                List<DynamicNode> tests = new ArrayList<>();
                tests.add(run("valid arguments are accepted", v, a -> assertDoesNotThrow(() -> op.call(a))));
                for (Slot slot : List.of(Slot.X, Slot.OUT, Slot.FEATURE)) {
                    if (!op.slots.contains(slot)) {
                        continue;
                    }
                    String name = slot.name().toLowerCase(java.util.Locale.ROOT);
                    for (TensorCase tc : tensorCases()) {
                        tests.add(run(name + ": " + tc.name(), v, a -> {
                            a.set(slot, tc.make().apply(a.arena));
                            assertRefused(() -> op.call(a), op.id, tc.says());
                        }));
                    }
                }
                for (Case c : otherCases()) {
                    if (op.slots.containsAll(c.needs())) {
                        tests.add(run(c.name(), v, a -> {
                            c.spoil().accept(a);
                            assertRefused(() -> op.call(a), op.id, c.says());
                        }));
                    }
                }
                perVariant.add(DynamicContainer.dynamicContainer(v.name(), tests));
            }
            ops.add(DynamicContainer.dynamicContainer(op.id, perVariant));
        }
        return ops;
    }

    /** Read-only memory is fine wherever a kernel only reads (weights of a mapped file, for instance). */
    @TestFactory
    List<DynamicTest> readOnlyInputsAreAccepted() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Variant v : variants()) {
            tests.add(run("update reads a read-only feature, " + v, v, a -> {
                Kernels.taylorUpdate(a.variant, a.factors, readOnly(a.feature), a.newOrder, a.distance);
                assertEquals(ORDER + 1, a.factors.order());
            }));
            tests.add(run("residuals read a read-only gate and feature, " + v, v, a -> {
                GateView gate = new GateView(readOnly(a.gateStorage), CHANNELS, CHANNELS);
                assertTrue(Kernels.taylorForecastResidual(a.variant, a.x, gate, a.factors, a.delta));
                Kernels.taylorUpdateResidual(a.variant, a.x, gate, readOnly(a.feature), a.factors, a.newOrder, a.distance);
            }));
        }
        return tests;
    }

    /** What builds the kernels' arguments refuses the sizes and layouts that would mislead C. */
    @TestFactory
    List<DynamicTest> argumentConstructionRefusesHugeAndInconsistentSizes() {
        List<DynamicTest> t = new ArrayList<>();
        t.add(dynamicTest("a shape of more than Long.MAX_VALUE elements", () -> assertRefused(
                () -> Shape.of(Long.MAX_VALUE, 2), null, "more than")));
        t.add(dynamicTest("a negative dimension", () -> assertRefused(() -> Shape.of(2, -1), null, ">= 0")));
        t.add(dynamicTest("a tensor of more than Long.MAX_VALUE bytes", () -> {
            try (Arena arena = Arena.ofConfined()) {
                assertRefused(() -> Tensor.allocate(arena, DType.F32, Long.MAX_VALUE / 2), null, "more than");
                assertRefused(() -> TaylorFactors.allocate(arena, DType.F32, Shape.of(Long.MAX_VALUE / 2), 2), null, "more than");
            }
        }));
        t.add(dynamicTest("a huge shape over a small segment", () -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = arena.allocate(64, 64);
                assertRefused(() -> Tensor.ofSegment(DType.F32, Shape.of(1L << 40), s, arena), null, "bytes");
                assertRefused(() -> Tensor.ofSegment(DType.F32, Shape.of(Long.MAX_VALUE), s, arena), null, "more than");
            }
        }));
        t.add(dynamicTest("gate column ranges that overflow or fall outside", () -> {
            try (Arena arena = Arena.ofConfined()) {
                Tensor storage = Tensor.allocate(arena, DType.F32, 2, 2 * CHANNELS);
                assertRefused(() -> new GateView(storage, Long.MAX_VALUE, 1), null, "outside");
                assertRefused(() -> new GateView(storage, 1, Long.MAX_VALUE), null, "outside");
                assertRefused(() -> new GateView(storage, -1, CHANNELS), null, "outside");
                assertRefused(() -> new GateView(storage, CHANNELS + 1, CHANNELS), null, "outside");
                assertRefused(() -> new GateView(null, 0, 1), null, "null");
                assertRefused(() -> new GateView(Tensor.allocate(arena, DType.F32, SHAPE), 0, 1), null, "2-D");
                assertRefused(() -> GateView.of(null), null, "null");
            }
        }));
        t.add(dynamicTest("factors: null arguments, orders out of range, non-kernel dtypes", () -> {
            try (Arena arena = Arena.ofConfined()) {
                assertRefused(() -> TaylorFactors.allocate(null, DType.F32, SHAPE, 2), null, "arena null");
                assertRefused(() -> TaylorFactors.allocate(arena, null, SHAPE, 2), null, "dtype null");
                assertRefused(() -> TaylorFactors.allocate(arena, DType.F32, null, 2), null, "shape null");
                assertRefused(() -> TaylorFactors.allocate(arena, DType.F32, SHAPE, 5), null, "0..4", "5");
                assertRefused(() -> TaylorFactors.allocate(arena, DType.F32, SHAPE, -1), null, "0..4", "-1");
                assertRefused(() -> TaylorFactors.allocate(arena, DType.I32, SHAPE, 2), null, "I32");
                TaylorFactors f = factors(arena);
                assertRefused(() -> f.factor(5), null, "0..4", "5");
            }
        }));
        t.add(dynamicTest("stacks: empty, mismatched, foreign gates, nulls", () -> {
            try (Arena arena = Arena.ofConfined()) {
                Args a = new Args(arena, Variant.AUTO);
                GateView g0 = new GateView(a.gateStorage, 0, CHANNELS);
                GateView g1 = new GateView(a.gateStorage, CHANNELS, CHANNELS);
                assertRefused(() -> new BranchStack(arena, List.of(), List.of()), null, "at least one branch");
                assertRefused(() -> new BranchStack(arena, List.of(a.factors), List.of(g0, g1)), null, "1 branches, 2 gates");
                assertRefused(() -> new BranchStack(null, List.of(a.factors), List.of(g0)), null, "arena null");
                assertRefused(() -> new BranchStack(arena, null, List.of(g0)), null, "branches null");
                assertRefused(() -> new BranchStack(arena, java.util.Arrays.asList(a.factors, null), List.of(g0, g1)), null, "branch 1 is null");
                TaylorFactors other = TaylorFactors.allocate(arena, DType.F32, Shape.of(2, 3, 38), 2);
                assertRefused(() -> new BranchStack(arena, List.of(a.factors, other), List.of(g0, g1)), null, "branch 1", "(2, 3, 38)");
                TaylorFactors half = TaylorFactors.allocate(arena, DType.BF16, SHAPE, 2);
                assertRefused(() -> new BranchStack(arena, List.of(a.factors, half), List.of(g0, g1)), null, "branch 1", "BF16");
                GateView elsewhere = GateView.of(Tensor.allocate(arena, DType.F32, 2, CHANNELS));
                assertRefused(() -> new BranchStack(arena, List.of(a.factors, a.second), List.of(g0, elsewhere)), null, "same storage");
                GateView cuda = GateView.of(Tensor.ofDeviceAddress(DType.F32, Shape.of(2, CHANNELS), Device.cuda(0), 0x1000, null));
                assertRefused(() -> new BranchStack(arena, List.of(a.factors), List.of(cuda)), null, "gate 0 must be on cpu");
                GateView narrow = new GateView(a.gateStorage, 0, CHANNELS - 1);
                assertRefused(() -> new BranchStack(arena, List.of(a.factors), List.of(narrow)), null, "gate 0 must be (2, 37)");
                // setGates: the same checks for the next step's gates
                BranchStack s = new BranchStack(arena, List.of(a.factors, a.second), List.of(g0, g1));
                assertRefused(() -> s.setGates(List.of(g0)), null, "2 branches, 1 gates");
                assertRefused(() -> s.setGates(java.util.Arrays.asList(g0, null)), null, "gate 1 is null");
                assertRefused(() -> s.setGates(List.of(g0, elsewhere)), null, "same storage");
                assertRefused(() -> s.setGates(List.of(narrow, narrow)), null, "gate 0 must be (2, 37)");
            }
        }));
        t.add(dynamicTest("a stack pointed at other gates forecasts as a stack built with them", () -> {
            try (Arena arena = Arena.ofConfined()) {
                Args a = new Args(arena, Variant.AUTO);
                Tensor other = Tensor.allocate(arena, DType.F32, 2, 2 * CHANNELS);
                float[] g = new float[(int) (4 * CHANNELS)];
                for (int i = 0; i < g.length; i++) {
                    g[i] = 0.01f * (i % 17) - 0.05f;
                }
                other.copyFrom(g);
                List<GateView> next = List.of(new GateView(other, 0, CHANNELS), new GateView(other, CHANNELS, CHANNELS));
                Tensor x1 = filled(arena, 0.5f);
                Tensor x2 = filled(arena, 0.5f);
                Kernels.taylorForecastResidualMulti(Variant.AUTO, x1, new BranchStack(arena, List.of(a.factors, a.second), next),
                        a.delta);
                a.stack.setGates(next);
                Kernels.taylorForecastResidualMulti(Variant.AUTO, x2, a.stack, a.delta);
                org.junit.jupiter.api.Assertions.assertArrayEquals(x1.toFloatArray(), x2.toFloatArray());
                org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(x1.toFloatArray(), filled(arena, 0.5f).toFloatArray()),
                        "the gates are not all zero, so the forecast moved x");
            }
        }));
        return t;
    }

    /** The public raw bindings of libseer_cpu: STREAM loops, threads, thresholds, variants. */
    @TestFactory
    List<DynamicTest> publicRawBindingsRefuseBadArguments() {
        NativeKernels lib = NativeKernels.cpu();
        List<DynamicTest> t = new ArrayList<>();
        record Stream(String name, boolean triad) {
        }
        for (Stream s : List.of(new Stream("stream_copy", false), new Stream("stream_triad", true))) {
            t.add(dynamicTest(s.name + ": valid", () -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment a = arena.allocate(400, 64);
                    MemorySegment b = arena.allocate(400, 64);
                    b.fill((byte) 1);
                    stream(lib, s.triad, a, b, b, 100);
                    assertEquals(b.get(ValueLayout.JAVA_FLOAT, 396) * (s.triad ? 3 : 1), a.get(ValueLayout.JAVA_FLOAT, 396));
                    stream(lib, s.triad, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, 0);
                }
            }));
            record Bad(String name, String says, Function<Arena, MemorySegment[]> args, long n) {
            }
            List<Bad> bad = List.of(
                    new Bad("negative n", "n must be in 0..", a -> three(a, 400), -1),
                    new Bad("n = Long.MAX_VALUE", "n must be in 0..", a -> three(a, 400), Long.MAX_VALUE),
                    new Bad("n * 4 overflows", "n must be in 0..", a -> three(a, 400), Long.MAX_VALUE / 2),
                    new Bad("n larger than the segments", "400 bytes", a -> three(a, 400), 101),
                    new Bad("null destination", "is null", a -> new MemorySegment[] {null, seg(a, 400), seg(a, 400)}, 100),
                    new Bad("null source", "is null", a -> new MemorySegment[] {seg(a, 400), null, null}, 100),
                    new Bad("destination on the heap", "on-heap", a -> new MemorySegment[] {MemorySegment.ofArray(new float[100]), seg(a, 400), seg(a, 400)}, 100),
                    new Bad("source on the heap", "on-heap", a -> new MemorySegment[] {seg(a, 400), MemorySegment.ofArray(new float[100]), MemorySegment.ofArray(new float[100])}, 100),
                    new Bad("closed destination", "no longer alive", a -> new MemorySegment[] {closedSeg(400), seg(a, 400), seg(a, 400)}, 100),
                    new Bad("another thread's destination", "another thread", a -> new MemorySegment[] {foreignSeg(400), seg(a, 400), seg(a, 400)}, 100),
                    new Bad("read-only destination", "read-only", a -> new MemorySegment[] {seg(a, 400).asReadOnly(), seg(a, 400), seg(a, 400)}, 100),
                    new Bad("misaligned destination", "not aligned", a -> new MemorySegment[] {a.allocate(408, 64).asSlice(1, 400), seg(a, 400), seg(a, 400)}, 100),
                    new Bad("misaligned source", "not aligned", a -> new MemorySegment[] {seg(a, 400), a.allocate(408, 64).asSlice(2, 400), a.allocate(408, 64).asSlice(2, 400)}, 100),
                    new Bad("destination overlaps the source", "overlaps", a -> {
                        MemorySegment m = seg(a, 800);
                        return new MemorySegment[] {m.asSlice(0, 400), m.asSlice(200, 400), m.asSlice(200, 400)};
                    }, 100));
            for (Bad b : bad) {
                t.add(dynamicTest(s.name + ": " + b.name, () -> {
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment[] m = b.args.apply(arena);
                        assertRefused(() -> stream(lib, s.triad, m[0], m[1], m[2], b.n), s.name, b.says);
                    }
                }));
            }
        }
        t.add(dynamicTest("threads out of range", () -> {
            assertRefused(() -> lib.setNumThreads(0), null, "1..1024", "found 0");
            assertRefused(() -> lib.setNumThreads(-3), null, "found -3");
            assertRefused(() -> lib.setNumThreads(Integer.MAX_VALUE), null, "found " + Integer.MAX_VALUE);
        }));
        t.add(dynamicTest("negative parallel threshold", () -> assertRefused(() -> lib.setParallelThreshold(-1), null, ">= 0", "-1")));
        t.add(dynamicTest("variants: null, unknown codes", () -> {
            assertRefused(() -> lib.isAvailable(null), null, "variant is null");
            assertRefused(() -> Variant.fromCode(99), null, "99");
        }));
        return t;
    }

    static void stream(NativeKernels lib, boolean triad, MemorySegment a, MemorySegment b, MemorySegment c, long n) {
        if (triad) {
            lib.streamTriad(a, b, c, 2f, n);
        } else {
            lib.streamCopy(a, b, n);
        }
    }

    static MemorySegment seg(Arena a, long bytes) {
        return a.allocate(bytes, 64);
    }

    static MemorySegment[] three(Arena a, long bytes) {
        return new MemorySegment[] {seg(a, bytes), seg(a, bytes), seg(a, bytes)};
    }

    static MemorySegment closedSeg(long bytes) {
        Arena a = Arena.ofConfined();
        MemorySegment s = a.allocate(bytes, 64);
        a.close();
        return s;
    }

    static MemorySegment foreignSeg(long bytes) {
        try {
            return owner.submit(() -> foreign.allocate(bytes, 64)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The C library's own checks, reached through the raw bindings with arguments the Java facade never passes:
     * unknown variant and dtype codes, null and misaligned pointers, orders and counts out of range, overlapping
     * buffers, gate strides below the width, shapes whose element count overflows. Each is a KernelException
     * with status INVALID_ARGUMENT and C's message, and no crash.
     */
    @TestFactory
    List<DynamicTest> theCLibraryRefusesWhatOnlyItCanSee() {
        NativeKernels lib = NativeKernels.cpu();
        List<DynamicTest> t = new ArrayList<>();
        record Raw(String name, String says, Consumer<Raws> call) {
        }
        List<Raw> raws = List.of(
                new Raw("update: variant code 99", "variant=99", r -> lib.update(99, 0, r.a, r.ptrs, 1, 16, 1f)),
                new Raw("update: variant code -1", "variant=-1", r -> lib.update(-1, 0, r.a, r.ptrs, 1, 16, 1f)),
                new Raw("update: dtype code 7", "dtype=7", r -> lib.update(1, 7, r.a, r.ptrs, 1, 16, 1f)),
                new Raw("update: null feature", "NULL", r -> lib.update(1, 0, MemorySegment.NULL, r.ptrs, 1, 16, 1f)),
                new Raw("update: null factor table", "factors is NULL", r -> lib.update(1, 0, r.a, MemorySegment.NULL, 1, 16, 1f)),
                new Raw("update: null factor inside the order", "factors[1] is NULL", r -> lib.update(1, 0, r.a, r.holed, 1, 16, 1f)),
                new Raw("update: misaligned feature", "aligned", r -> lib.update(1, 0, r.odd, r.ptrs, 1, 16, 1f)),
                new Raw("update: new order 5", "exceeds SEER_MAX_ORDER", r -> lib.update(1, 0, r.a, r.ptrs, 5, 16, 1f)),
                new Raw("update: new order -1", "negative", r -> lib.update(1, 0, r.a, r.ptrs, -1, 16, 1f)),
                new Raw("update: negative n", "negative", r -> lib.update(1, 0, r.a, r.ptrs, 1, -16, 1f)),
                new Raw("update: n * 4 overflows", "overflow", r -> lib.update(1, 0, r.a, r.ptrs, 1, Long.MAX_VALUE / 2, 1f)),
                new Raw("update: distance NaN", "distance", r -> lib.update(1, 0, r.a, r.ptrs, 1, 16, Float.NaN)),
                new Raw("update: distance 0", "distance", r -> lib.update(1, 0, r.a, r.ptrs, 1, 16, 0f)),
                new Raw("update: feature overlaps a factor", "overlap", r -> lib.update(1, 0, r.f0, r.ptrs, 1, 16, 1f)),
                new Raw("forecast: order 7", "exceeds SEER_MAX_ORDER", r -> lib.forecast(1, 0, r.a, r.ptrs, 7, 16, 1f, r.flag)),
                new Raw("forecast: null out", "NULL", r -> lib.forecast(1, 0, MemorySegment.NULL, r.ptrs, 1, 16, 1f, r.flag)),
                new Raw("forecast: out overlaps a factor", "overlap", r -> lib.forecast(1, 0, r.f0, r.ptrs, 1, 16, 1f, r.flag)),
                new Raw("forecast: dtype code -2", "dtype=-2", r -> lib.forecast(1, -2, r.a, r.ptrs, 1, 16, 1f, r.flag)),
                new Raw("residual: gate stride below channels", "gate_row_stride", r -> lib.forecastResidual(1, 0, r.a, r.b, 3, r.ptrs, 1, 2, 2, 4, 1f, r.flag)),
                new Raw("residual: negative batch", "negative shape", r -> lib.forecastResidual(1, 0, r.a, r.b, 4, r.ptrs, 1, -2, 2, 4, 1f, r.flag)),
                new Raw("residual: batch*tokens*channels overflows", "overflows",
                        r -> lib.forecastResidual(1, 0, r.a, r.b, Long.MAX_VALUE, r.ptrs, 1, Long.MAX_VALUE, 2, 4, 1f, r.flag)),
                new Raw("residual: null gate", "NULL", r -> lib.forecastResidual(1, 0, r.a, MemorySegment.NULL, 4, r.ptrs, 1, 2, 2, 4, 1f, r.flag)),
                new Raw("residual: x overlaps the gate", "overlap", r -> lib.forecastResidual(1, 0, r.a, r.a, 4, r.ptrs, 1, 2, 2, 4, 1f, r.flag)),
                new Raw("update_residual: x is the feature", "overlap", r -> lib.updateResidual(1, 0, r.a, r.b, 4, r.a, r.ptrs, 1, 2, 2, 4, 1f)),
                new Raw("update_residual: distance infinite", "distance", r -> lib.updateResidual(1, 0, r.a, r.b, 4, r.c, r.ptrs, 1, 2, 2, 4, Float.POSITIVE_INFINITY)),
                new Raw("multi: negative branches", "num_branches", r -> lib.forecastResidualMulti(1, 0, r.a, 2, 2, 4, -1, r.gates, 4, r.ptrs, r.orders, 1f, r.flag)),
                new Raw("multi: null orders", "orders", r -> lib.forecastResidualMulti(1, 0, r.a, 2, 2, 4, 1, r.gates, 4, r.ptrs, MemorySegment.NULL, 1f, r.flag)),
                new Raw("multi: order 9 in the table", "orders[0]", r -> {
                    r.orders.set(ValueLayout.JAVA_INT, 0, 9);
                    lib.forecastResidualMulti(1, 0, r.a, 2, 2, 4, 1, r.gates, 4, r.ptrs, r.orders, 1f, r.flag);
                }),
                new Raw("multi: null gate table", "gates", r -> lib.forecastResidualMulti(1, 0, r.a, 2, 2, 4, 1, MemorySegment.NULL, 4, r.ptrs, r.orders, 1f, r.flag)));
        for (Raw raw : raws) {
            t.add(dynamicTest(raw.name, () -> {
                try (Arena arena = Arena.ofConfined()) {
                    Raws r = new Raws(arena);
                    KernelException e = assertThrows(KernelException.class, () -> raw.call.accept(r));
                    assertEquals(1, e.status(), e.getMessage());
                    assertTrue(e.getMessage().contains(raw.says), "C's message says '" + raw.says + "': " + e.getMessage());
                    assertTrue(e.getMessage().contains("INVALID_ARGUMENT"), e.getMessage());
                }
            }));
        }
        return t;
    }

    /** Small valid buffers for the raw calls: 16 floats each, a factor table of order 4, a one-branch stack. */
    static final class Raws {
        final MemorySegment a;
        final MemorySegment b;
        final MemorySegment c;
        final MemorySegment odd;
        final MemorySegment f0;
        final MemorySegment ptrs;
        final MemorySegment holed;
        final MemorySegment gates;
        final MemorySegment orders;
        final MemorySegment flag;

        Raws(Arena arena) {
            a = arena.allocate(64, 64);
            b = arena.allocate(64, 64);
            c = arena.allocate(64, 64);
            odd = arena.allocate(68, 64).asSlice(1, 64);
            ptrs = arena.allocate(ValueLayout.ADDRESS, MAX_ORDER + 1);
            holed = arena.allocate(ValueLayout.ADDRESS, MAX_ORDER + 1);
            MemorySegment first = null;
            for (int i = 0; i <= MAX_ORDER; i++) {
                MemorySegment f = arena.allocate(64, 64);
                first = i == 0 ? f : first;
                ptrs.setAtIndex(ValueLayout.ADDRESS, i, f);
                holed.setAtIndex(ValueLayout.ADDRESS, i, i == 1 ? MemorySegment.NULL : f);
            }
            f0 = first;
            gates = arena.allocate(ValueLayout.ADDRESS, 1);
            gates.setAtIndex(ValueLayout.ADDRESS, 0, b);
            orders = arena.allocate(ValueLayout.JAVA_INT, 1);
            orders.set(ValueLayout.JAVA_INT, 0, 1);
            flag = arena.allocate(ValueLayout.JAVA_INT);
        }
    }
}
