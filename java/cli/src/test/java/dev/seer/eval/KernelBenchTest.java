package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.eval.KernelBench.Check;
import dev.seer.eval.KernelBench.Layout;
import dev.seer.eval.KernelBench.Op;
import dev.seer.kernel.Variant;
import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class KernelBenchTest {
    @Test
    void everyAvailableVariantPassesValidationAtASmallSize() {
        List<Variant> variants = KernelBench.availableVariants();
        assertTrue(variants.contains(Variant.REF));
        for (Op op : Op.values()) {
            for (DType d : List.of(DType.F32, DType.BF16, DType.F16)) {
                for (int order : new int[] {0, 2}) {
                    List<Check> checks = KernelBench.validate(op, d, order, 7, List.of(Shape.of(2, 3, 37)));
                    assertEquals(variants, checks.stream().map(Check::variant).toList(), op + " " + d);
                    for (Check c : checks) {
                        assertTrue(c.passed(), op + " " + d + " order " + order + " " + c.variant() + ": " + c.detail());
                    }
                }
            }
        }
    }

    @Test
    void layoutsFillTheWorkingSetFromBelow() {
        for (Op op : Op.values()) {
            for (DType d : List.of(DType.F32, DType.BF16)) {
                for (long size : KernelBench.SIZES) {
                    Layout l = KernelBench.layout(op, d, 2, size);
                    assertTrue(l.bytes() <= size && l.bytes() > size * 0.6, op + " " + d + " " + size + ": " + l);
                }
            }
        }
        // DiT-S/2 itself: 24 branches of (2, 256, 384), order 2, f32 = 74 buffers of 768 KiB + 24 gate rows
        Layout dit = KernelBench.layout(Op.TAYLOR_FORECAST_RESIDUAL_MULTI, DType.F32, 2, 74L * 2 * 256 * 384 * 4 + 24L * 2 * 384 * 4);
        assertEquals(24, dit.branches());
        assertEquals(256, dit.tokens());
        // the sums of 4 steps over DiT-S/2: 72 factor buffers read, 4 sums written, 24 gate rows per step
        Layout sums = KernelBench.layout(Op.TAYLOR_FORECAST_SUMS, DType.F32, 2, 76L * 2 * 256 * 384 * 4 + 96L * 2 * 384 * 4);
        assertEquals(24, sums.branches());
        assertEquals(256, sums.tokens());
        assertEquals(4, sums.steps());
        assertEquals("24 x (2, 256, 384) x 4 steps", sums.describe());
        // forecast, order 2: reads 3 factors, writes out
        assertEquals(4L * 4096 * 4, KernelBench.layout(Op.TAYLOR_FORECAST, DType.F32, 2, 65536).bytes());
    }

    @Test
    void sizesParseWithBinaryUnits() {
        assertEquals(65536, KernelBench.parseSize("65536"));
        assertEquals(65536, KernelBench.parseSize("64KiB"));
        assertEquals(256L << 20, KernelBench.parseSize("256MiB"));
        assertEquals("16 MiB", KernelBench.formatSize(16L << 20));
        assertThrows(IllegalArgumentException.class, () -> KernelBench.parseSize("12x"));
    }
}
