package dev.seer.model.dit;

import dev.seer.eval.ShippedModels;
import dev.seer.tensor.SeerRuntime;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One chunk of a sampling run's conditioning on the shipped model, as {@link StepConditioning} asks for it: 16
 * steps of a guided batch of 10 labels (320 rows, 176 distinct (timestep, label) pairs): silu(c), every block's
 * gates and the final layer's shift/scale. {@code computed} empties the model's conditioning memo first (a run's
 * first chunk ever); {@code fromMemo} finds every pair there (the chunks of every later run with the same
 * schedule and labels). In this package to reach the package-private conditioning.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class ConditioningBench {
    private static final int STEPS = 16;
    private static final int LABELS = 10;

    private DitModel model;
    private long[] timesteps;
    private long[] labels;

    @Setup
    public void setup() throws IOException {
        SeerRuntime.init();
        model = ShippedModels.fashionDit();
        int batch = 2 * LABELS;
        timesteps = new long[STEPS * batch];
        labels = new long[STEPS * batch];
        for (int s = 0; s < STEPS; s++) {
            for (int b = 0; b < batch; b++) {
                timesteps[s * batch + b] = 999 - 20L * s;
                labels[s * batch + b] = b < LABELS ? b : model.config().numClasses(); // the guided half: null label
            }
        }
    }

    @TearDown
    public void tearDown() {
        model.close();
    }

    @Benchmark
    public long computed() {
        model.clearConditioningMemo();
        return chunk();
    }

    @Benchmark
    public long fromMemo() {
        return chunk();
    }

    private long chunk() {
        try (Arena arena = Arena.ofConfined()) {
            return model.conditionRows(arena, timesteps, labels).gates().numel();
        }
    }
}
