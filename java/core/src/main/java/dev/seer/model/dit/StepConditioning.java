package dev.seer.model.dit;

import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * What one sampling run's network calls can prepare once: the conditioning, computed ahead for several steps at a
 * time, and the step buffers every call reuses ({@link #buffers}). silu(c), every block's two gates and the final
 * layer's shift/scale depend only on the timestep and the labels, which a run knows in advance. Computed per
 * step, each forecast step would read all the gate weights (DiT-S/2: 14 MiB, a quarter of the step's memory
 * traffic) for two rows; computed for {@value #CHUNK_STEPS} steps at once, they are read once per chunk. Every
 * row is computed exactly as alone (the products never mix rows), so the results are bit-identical to the
 * per-step computation.
 *
 * <p>Made by {@link DitModel#stepConditioning}; belongs to one run and one thread, like the cache state. Chunks are
 * computed when a step first needs them and the previous chunk is freed, so memory stays at one chunk.
 */
public final class StepConditioning implements AutoCloseable {
    /** Steps per chunk: the gate weights are read once per chunk. */
    static final int CHUNK_STEPS = 16;

    private final DitModel model;
    private final long[] schedule;
    private final long[] labels;
    /** Position in the schedule of each timestep's first occurrence. */
    private final Map<Long, Integer> position = new HashMap<>();
    private Arena arena;
    /** The step buffers' arena (made on the run's thread at its first step): lives as long as the run. */
    private Arena bufferArena;
    private Buffers buffers;
    private int chunkStart = -1;
    private int chunkSteps;
    private Rows rows;
    private boolean closed;

    /**
     * A call's rows (one per batch row), and in {@code gatesAhead} the gates of this call and of the calls after it
     * that the caller asked for and the schedule holds (call k's rows at k * batch; just {@code gates} when none).
     */
    record Rows(Tensor siluC, Tensor gates, Tensor finalMods, Tensor gatesAhead) {
        Rows(Tensor siluC, Tensor gates, Tensor finalMods) {
            this(siluC, gates, finalMods, gates);
        }

        /** How many calls' gates {@link #gatesAhead} holds. */
        int callsAhead() {
            return Math.toIntExact(gatesAhead.shape().dim(0) / gates.shape().dim(0));
        }
    }

    /**
     * A step's input x (batch, in_channels, H, W), tokens h (batch, T, C) and output (batch, out_channels, H, W),
     * allocated once per run (DiT-S/2: allocating and zeroing them at every call took 50-100 us a step); each call
     * writes every element of h and out before reading it.
     */
    record Buffers(Tensor x, Tensor h, Tensor out) {
    }

    StepConditioning(DitModel model, long[] schedule, long[] labels) {
        this.model = model;
        this.schedule = schedule.clone();
        this.labels = labels.clone();
        for (int i = 0; i < schedule.length; i++) {
            position.putIfAbsent(schedule[i], i);
        }
    }

    /**
     * The rows for a forward call, or null when this run's conditioning does not cover it (other labels, mixed
     * timesteps, a timestep outside the schedule): the caller then computes its own. With the gates of up to
     * {@code calls} calls from this one on (the schedule's next timesteps, same labels) in {@link Rows#gatesAhead}.
     * Views valid until the next call or {@link #close()}.
     */
    Rows rowsFor(long[] timesteps, long[] batchLabels, int calls) {
        if (closed || !Arrays.equals(batchLabels, labels)) {
            return null;
        }
        for (long t : timesteps) {
            if (t != timesteps[0]) {
                return null;
            }
        }
        Integer at = position.get(timesteps[0]);
        if (at == null) {
            return null;
        }
        int ahead = Math.max(1, Math.min(calls, schedule.length - at));
        if (chunkStart < 0 || at < chunkStart || at + ahead > chunkStart + chunkSteps) {
            compute(at, ahead);
        }
        int batch = labels.length;
        long from = (long) (at - chunkStart) * batch;
        long to = from + batch;
        return new Rows(rows.siluC().narrow0(from, to), rows.gates().narrow0(from, to), rows.finalMods().narrow0(from, to),
                rows.gates().narrow0(from, from + (long) ahead * batch));
    }

    /** The step buffers (one batch row per label), allocated at the run's first step. */
    Buffers buffers(DitConfig config) {
        if (buffers == null) {
            bufferArena = Arena.ofConfined();
            int batch = labels.length;
            int size = config.inputSize();
            buffers = new Buffers(Tensor.allocate(bufferArena, DType.F32, batch, config.inChannels(), size, size),
                    Tensor.allocate(bufferArena, DType.F32, batch, config.tokens(), config.hiddenSize()),
                    Tensor.allocate(bufferArena, DType.F32, batch, config.outChannels(), size, size));
        }
        return buffers;
    }

    /** The chunk from schedule position start, at least minSteps long (as far as the schedule goes). */
    private void compute(int start, int minSteps) {
        if (arena != null) {
            arena.close();
        }
        arena = Arena.ofConfined();
        int steps = Math.min(Math.max(CHUNK_STEPS, minSteps), schedule.length - start);
        int batch = labels.length;
        long[] ts = new long[steps * batch];
        long[] ys = new long[steps * batch];
        for (int j = 0; j < steps; j++) {
            for (int b = 0; b < batch; b++) {
                ts[j * batch + b] = schedule[start + j];
                ys[j * batch + b] = labels[b];
            }
        }
        rows = model.conditionRows(arena, ts, ys);
        chunkStart = start;
        chunkSteps = steps;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (arena != null) {
                arena.close();
            }
            if (bufferArena != null) {
                bufferArena.close();
            }
        }
    }
}
