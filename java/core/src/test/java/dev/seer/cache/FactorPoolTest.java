package dev.seer.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.kernel.TaylorFactors;
import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FactorPoolTest {
    static final Shape SHAPE = Shape.of(2, 5, 8);
    static final long BUFFER = 2 * 5 * 8 * 4;

    @BeforeAll
    static void init() {
        SeerRuntime.init();
    }

    @Test
    void aReleasedRunsBuffersServeTheNextRunEmptyWhateverTheOrder() {
        try (FactorPool pool = new FactorPool(); Arena run1 = Arena.ofConfined(); Arena run2 = Arena.ofConfined()) {
            TaylorFactors a = pool.take(run1, DType.F32, SHAPE, 2);
            assertEquals(3 * BUFFER, pool.lentBytes());
            long address = a.factor(1).segment().address();
            pool.release(a);
            assertEquals(3 * BUFFER, pool.keptBytes());
            assertEquals(0, pool.lentBytes());
            // the next run takes order-1 factors and a sum (order 0) of the same layout: all from what was kept
            TaylorFactors b = pool.take(run2, DType.F32, SHAPE, 1);
            TaylorFactors sum = pool.take(run2, DType.F32, SHAPE, 0);
            assertEquals(0, pool.keptBytes());
            assertTrue(b.isEmpty() && sum.isEmpty(), "factors from the pool start with no valid order");
            assertTrue(java.util.stream.IntStream.rangeClosed(0, 1).anyMatch(i -> b.factor(i).segment().address() == address)
                    || sum.factor(0).segment().address() == address, "the kept buffer is reused");
            pool.release(b);
            pool.release(sum);
            assertEquals(3 * BUFFER, pool.keptBytes());
        }
    }

    @Test
    void keptMemoryServesNarrowerFactorsOfTheSameShapeAndBack() {
        try (FactorPool pool = new FactorPool(); Arena run = Arena.ofConfined()) {
            TaylorFactors f32 = pool.take(run, DType.F32, SHAPE, 2);
            long address = f32.factor(0).segment().address();
            pool.release(f32);
            // bf16 factors of the same shape need half the bytes: the float32 memory serves them, nothing is allocated
            TaylorFactors bf16 = pool.take(run, DType.BF16, SHAPE, 2);
            assertEquals(0, pool.keptBytes());
            assertEquals(3 * BUFFER, pool.lentBytes(), "the whole float32 memory stays lent");
            assertEquals(BUFFER / 2, bf16.factor(0).byteSize());
            assertTrue(java.util.stream.IntStream.rangeClosed(0, 2).anyMatch(i -> bf16.factor(i).segment().address() == address));
            pool.release(bf16);
            TaylorFactors again = pool.take(run, DType.F32, SHAPE, 2);
            assertTrue(java.util.stream.IntStream.rangeClosed(0, 2).anyMatch(i -> again.factor(i).segment().address() == address),
                    "and back to float32");
            pool.release(again);
            assertEquals(3 * BUFFER, pool.keptBytes());
        }
    }

    @Test
    void aSizeNoKeptBufferFitsFreesWhatIsKept() {
        try (FactorPool pool = new FactorPool(); Arena run = Arena.ofConfined()) {
            pool.release(pool.take(run, DType.F32, SHAPE, 3));
            assertEquals(4 * BUFFER, pool.keptBytes());
            // a quarter of the bytes: kept buffers more than twice the request are not lent, they are freed
            TaylorFactors small = pool.take(run, DType.BF16, Shape.of(1, 5, 8), 0);
            assertEquals(0, pool.keptBytes(), "the f32 buffers are freed when a smaller one must be allocated");
            assertEquals(5 * 8 * 2, pool.lentBytes());
            pool.release(small);
            TaylorFactors wide = pool.take(run, DType.BF16, Shape.of(2, 5, 16), 0);
            assertEquals(0, pool.keptBytes(), "nor are buffers smaller than the request");
            assertEquals(2 * 5 * 16 * 2, pool.lentBytes());
            pool.release(wide);
            pool.trim();
            assertEquals(0, pool.keptBytes());
        }
    }

    @Test
    void foreignOrTwiceReleasedFactorsAreRefused() {
        try (FactorPool pool = new FactorPool(); FactorPool other = new FactorPool(); Arena run = Arena.ofConfined()) {
            TaylorFactors own = TaylorFactors.allocate(run, DType.F32, SHAPE, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.release(own));
            assertTrue(e.getMessage().contains("not lent by this pool"), e.getMessage());
            TaylorFactors f = other.take(run, DType.F32, SHAPE, 1);
            assertThrows(IllegalArgumentException.class, () -> pool.release(f));
            other.release(f);
            assertThrows(IllegalArgumentException.class, () -> other.release(f), "released twice");
            assertThrows(IllegalArgumentException.class, () -> pool.release(null));
        }
    }

    @Test
    void badLayoutsAreRefusedBeforeAnyBufferIsTaken() {
        try (FactorPool pool = new FactorPool(); Arena run = Arena.ofConfined()) {
            pool.release(pool.take(run, DType.F32, SHAPE, 0));
            assertThrows(IllegalArgumentException.class, () -> pool.take(run, DType.F32, SHAPE, 5));
            assertThrows(IllegalArgumentException.class, () -> pool.take(run, DType.I32, SHAPE, 1));
            assertThrows(IllegalArgumentException.class, () -> pool.take(run, null, SHAPE, 1));
            assertThrows(IllegalArgumentException.class, () -> pool.take(null, DType.F32, SHAPE, 1));
            assertEquals(BUFFER, pool.keptBytes(), "a refused request frees nothing and takes nothing");
        }
    }

    @Test
    void closingFreesWhatIsKeptAndLaterWhatComesBack() {
        Arena run = Arena.ofConfined();
        FactorPool pool = new FactorPool();
        TaylorFactors kept = pool.take(run, DType.F32, SHAPE, 0);
        TaylorFactors lent = pool.take(run, DType.F32, SHAPE, 0);
        assertNotEquals(kept.factor(0).segment().address(), lent.factor(0).segment().address());
        pool.release(kept);
        pool.close();
        assertEquals(0, pool.keptBytes());
        assertThrows(IllegalStateException.class, () -> pool.take(run, DType.F32, SHAPE, 0));
        lent.factor(0).segment().set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, 1f); // still usable until released
        pool.release(lent);
        assertEquals(0, pool.keptBytes());
        assertEquals(0, pool.lentBytes());
        assertTrue(!lent.factor(0).segment().scope().isAlive(), "a buffer coming back to a closed pool is freed");
        run.close();
    }
}
