package dev.seer.sampling;

import dev.seer.cache.CacheStats;
import dev.seer.cache.RunCache;
import dev.seer.cache.TaylorSeerSchedule.StepPlan;
import dev.seer.model.CallFlops;
import dev.seer.model.Denoiser;
import dev.seer.model.StepContext;
import java.util.function.IntConsumer;

/**
 * The one sampling loop of every model family: at each step the guidance strategy makes the network call's batch
 * from the samples, the model runs with the cache's hooks (again, in full, if the cache's forecast was not
 * finite), the guidance strategy combines the call's output, and the sampler moves the samples. The family's
 * pipeline opens the pieces (its {@link Denoiser} with the run's conditioning, its sampler, its guidance) and
 * closes them; the loop names no family and no cache policy.
 */
public final class SamplingLoop {
    private SamplingLoop() {
    }

    /**
     * Runs every step of {@code sampler} on the samples {@code x} (n rows), in place. {@code beforeStep} is told the
     * steps done before each step and may end the run by throwing (a {@link RunCancelledException}).
     *
     * @return what the run did and cost; {@code secondsOther} counts everything outside the network calls since
     *         {@code startNanos}
     */
    public static RunStats run(Denoiser model, Sampler sampler, Guidance guidance, RunCache cache, float[] x, int n,
                               ProgressListener listener, IntConsumer beforeStep, long startNanos) {
        int rows = guidance.rows(n);
        int per = x.length / n;
        if (per * n != x.length || model.inputLength() != rows * per || model.outputLength() % rows != 0) {
            throw new IllegalArgumentException("the model's call takes " + model.inputLength() + " floats and gives "
                    + model.outputLength() + "; the samples are " + n + " rows of " + per + " floats, " + rows
                    + " rows per call");
        }
        int outPer = model.outputLength() / rows;
        // the same arrays at every step: nothing new on the Java heap per step
        float[] xIn = new float[model.inputLength()];
        float[] out = new float[model.outputLength()];
        float[] combined = new float[n * outPer];
        double full = 0;
        double forecast = 0;
        int firstNonFinite = -1;
        int steps = sampler.steps();
        for (int k = 0; k < steps; k++) {
            beforeStep.accept(k);
            StepContext ctx = sampler.context(k);
            guidance.input(x, n, per, xIn);
            long s0 = System.nanoTime();
            model.call(xIn, ctx, cache.hooks(), out);
            if (cache.redoIfNonFinite()) {
                model.call(xIn, ctx, cache.hooks(), out);
            }
            StepPlan done = cache.stepDone(ctx);
            double dt = (System.nanoTime() - s0) / 1e9;
            if (done.isFull()) {
                full += dt;
            } else {
                forecast += dt;
            }
            guidance.combine(out, n, outPer, combined);
            sampler.step(k, x, combined);
            if (firstNonFinite < 0 && !allFinite(x)) {
                firstNonFinite = ctx.step();
            }
            listener.onStep(k + 1, steps, done.isFull());
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        CallFlops flops = model.flops();
        double official = 0;
        double actual = flops.actualPerRun();
        boolean stackForecast = cache.forecastsStackOutput();
        for (StepPlan p : cache.executedPlan()) {
            if (!p.isFull() && stackForecast) {
                official += flops.officialStackForecast();
                actual += flops.actualStackForecast(p.order());
            } else {
                official += flops.official(p.isFull());
                actual += flops.actual(p.isFull(), p.order());
            }
        }
        CacheStats cs = cache.stats();
        return new RunStats(cs.fullSteps(), cs.forecastSteps(), cs.computedBranches(), cs.forecastBranches(), official,
                actual, cs.cacheBytes(), seconds, full, forecast, seconds - full - forecast, cs.nonFiniteFallbacks(),
                firstNonFinite);
    }

    private static boolean allFinite(float[] x) {
        for (float v : x) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
