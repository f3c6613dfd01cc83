package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.seer.kernel.NativeKernels;
import dev.seer.kernel.NativeKernels.NativeOp;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every core kernel with CPU variants in the native op table (native/src/seer_ops.h) is validated and timed by
 * {@code seer kernels} (llm.c's validate-then-time habit): a kernel added to the table without a bench op fails here,
 * naming it.
 */
class KernelBenchOpsTest {
    @Test
    void everyCoreKernelWithVariantsIsValidatedAndTimedBySeerKernels() {
        List<NativeOp> kernels = NativeKernels.cpu().ops().stream()
                .filter(o -> o.family().equals("core") && o.variants()).toList();
        assertEquals(kernels.stream().map(NativeOp::name).collect(Collectors.toCollection(TreeSet::new)),
                new TreeSet<>(KernelBench.Op.names()),
                "the core kernels with variants vs the ops of seer kernels (KernelBench.Op)");
    }
}
