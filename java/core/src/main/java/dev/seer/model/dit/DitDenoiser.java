package dev.seer.model.dit;

import dev.seer.model.BranchHooks;
import dev.seer.model.CallFlops;
import dev.seer.model.Denoiser;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.cache.TaylorSeerSchedule.StepKind;
import java.util.Arrays;
import java.util.List;

/**
 * A DiT as the sampling loop drives it for one run: the batch's labels (conditional, then null labels under
 * guidance) and the run's {@link StepConditioning}, computed ahead for the run's timesteps. Closing it frees the
 * conditioning, not the model.
 */
final class DitDenoiser implements Denoiser {
    private final DitModel model;
    private final long[] labels;
    private final StepConditioning conditioning;
    private final DitFlops.Config flops;
    private final boolean guided;
    private final long[] timesteps;

    /**
     * @param labels   one per batch row
     * @param schedule the run's timesteps in loop order
     * @param guided   whether the batch is a guidance pair combined after each call (for the FLOPs)
     */
    DitDenoiser(DitModel model, long[] labels, long[] schedule, boolean guided) {
        DitConfig c = model.config();
        this.model = model;
        this.labels = labels.clone();
        this.guided = guided;
        this.timesteps = new long[labels.length];
        this.flops = DitFlops.Config.dit(c.depth(), c.hiddenSize(), c.numHeads(), c.patchSize(), c.inputSize(), labels.length);
        this.conditioning = model.stepConditioning(schedule, labels);
    }

    @Override
    public List<HookPoint> hookPoints() {
        return model.hookPoints();
    }

    @Override
    public int inputLength() {
        DitConfig c = model.config();
        return labels.length * c.inChannels() * c.inputSize() * c.inputSize();
    }

    @Override
    public int outputLength() {
        DitConfig c = model.config();
        return labels.length * c.outChannels() * c.inputSize() * c.inputSize();
    }

    @Override
    public void call(float[] x, StepContext ctx, BranchHooks hooks, float[] out) {
        Arrays.fill(timesteps, (long) ctx.timestep());
        model.forward(x, labels.length, timesteps, labels, ctx, hooks, conditioning, out);
    }

    @Override
    public CallFlops flops() {
        return new CallFlops() {
            @Override
            public double official(boolean full) {
                return full ? DitFlops.fullStepFlops(flops) : DitFlops.forecastStepFlops(flops);
            }

            @Override
            public double actual(boolean full, int order) {
                return DitFlops.actualStepFlops(flops, full ? StepKind.FULL : StepKind.FORECAST, order, guided);
            }

            @Override
            public double officialStackForecast() {
                return DitFlops.stackForecastStepFlops(flops);
            }

            @Override
            public double actualStackForecast(int order) {
                return DitFlops.actualStackForecastFlops(flops, order, guided);
            }
        };
    }

    @Override
    public void close() {
        conditioning.close();
    }
}
