package dev.seer.jmh;

import dev.seer.eval.KernelBench;
import dev.seer.eval.KernelBench.StreamFixture;
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
 * STREAM copy (size / 8 floats, 8 bytes each) and triad (size / 12 floats, 12 bytes each) in libseer_cpu,
 * threaded like the kernels: GB/s = size / time per op, the denominator of TaylorKernelsBench's fractions.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class StreamBench {
    @Param({"64KiB", "1MiB", "16MiB", "64MiB", "256MiB"})
    public String size;

    private StreamFixture fixture;

    @Setup(Level.Trial)
    public void setup() {
        fixture = new StreamFixture(KernelBench.parseSize(size));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fixture.close();
    }

    @Benchmark
    public void copy() {
        fixture.copy();
    }

    @Benchmark
    public void triad() {
        fixture.triad();
    }
}
