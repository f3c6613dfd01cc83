package dev.seer.jmh;

import dev.seer.eval.KernelBench.Fixture;
import dev.seer.eval.KernelBench.Op;
import dev.seer.kernel.NativeKernels;
import dev.seer.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a call costs when there is (almost) nothing to compute: the raw Panama downcall (seer_stream_copy with
 * n = 0: a downcall plus the C argument checks), and a one-element taylor_forecast through the Kernels facade
 * (Java checks, the nonfinite flag, the C checks, one element computed, no OpenMP region).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class DowncallBench {
    private Arena arena;
    private MemorySegment a;
    private MemorySegment b;
    private NativeKernels lib;
    private Fixture forecastOne;

    @Setup(Level.Trial)
    public void setup() {
        lib = NativeKernels.cpu();
        arena = Arena.ofConfined();
        a = arena.allocate(64, 64);
        b = arena.allocate(64, 64);
        // 16 bytes moved by an order-2 f32 forecast = 1 element
        forecastOne = new Fixture(Op.TAYLOR_FORECAST, DType.F32, 2, 16);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        forecastOne.close();
        arena.close();
    }

    @Benchmark
    public void rawDowncallN0() {
        lib.streamCopy(a, b, 0);
    }

    @Benchmark
    public void facadeForecastN1() {
        forecastOne.seer();
    }
}
