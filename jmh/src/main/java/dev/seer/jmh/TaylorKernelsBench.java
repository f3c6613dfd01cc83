package dev.seer.jmh;

import dev.seer.eval.KernelBench;
import dev.seer.eval.KernelBench.Fixture;
import dev.seer.eval.KernelBench.Op;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Each Taylor kernel (AUTO variant, through the Kernels facade) against the libtorch op chain a straightforward
 * implementation runs, on the same buffers. {@code size} is the working set: bytes read + written once each per
 * call (formulas and shapes in {@link KernelBench}); GB/s = that many bytes / the time per op, and StreamBench at
 * the same size gives the triad to divide by.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class TaylorKernelsBench {
    @Param({"taylor_update", "taylor_forecast", "taylor_forecast_residual", "taylor_forecast_residual_multi", "taylor_update_residual",
            "taylor_forecast_sums"})
    public String op;

    @Param({"f32", "bf16", "f16"})
    public String dtype;

    @Param({"64KiB", "1MiB", "16MiB", "64MiB", "256MiB"})
    public String size;

    @Param({"2"})
    public int order;

    private Fixture fixture;

    @Setup(Level.Trial)
    public void setup() {
        fixture = new Fixture(Op.parse(op), KernelBench.parseDType(dtype), order, KernelBench.parseSize(size));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fixture.close();
    }

    @Benchmark
    public void seer() {
        fixture.seer();
    }

    @Benchmark
    public void libtorch() {
        fixture.libtorch();
    }
}
