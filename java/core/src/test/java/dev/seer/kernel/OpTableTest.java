package dev.seer.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.kernel.NativeKernels.NativeOp;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Java side follows the native op table (native/src/seer_ops.h), which libseer_cpu exports as its op list:
 * every listed op is bound and nothing else is (KernelBenchOpsTest checks that {@code seer kernels} validates and
 * times every core kernel with CPU variants). A kernel added to the table without its Java side fails here, naming it.
 */
class OpTableTest {
    private static Set<String> names(List<NativeOp> ops) {
        return ops.stream().map(NativeOp::name).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void everyListedOpIsBoundAndEveryBindingIsListed() {
        NativeKernels lib = NativeKernels.cpu();
        assertEquals(names(lib.ops()), lib.boundOps(), "the ops libseer_cpu lists vs the ops NativeKernels binds");
        assertEquals(lib.ops().size(), names(lib.ops()).size(), "an op is listed twice: " + lib.ops());
    }

    @Test
    void theListCarriesFamiliesAndFlags() {
        List<NativeOp> ops = NativeKernels.cpu().ops();
        assertTrue(ops.contains(new NativeOp("taylor_forecast_residual_multi", "core", true, true)), ops.toString());
        assertTrue(ops.contains(new NativeOp("taylor_forecast_sums", "core", true, false)), ops.toString());
        assertTrue(ops.contains(new NativeOp("dit_forecast_step", "dit", true, false)), ops.toString());
        assertTrue(ops.contains(new NativeOp("stream_triad", "core", false, false)), ops.toString());
    }
}
