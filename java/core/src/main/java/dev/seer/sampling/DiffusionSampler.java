package dev.seer.sampling;

import dev.seer.model.StepContext;
import dev.seer.tensor.Torch;
import java.util.Arrays;
import org.bytedeco.pytorch.Generator;

/**
 * DDIM or DDPM over an epsilon-predicting model, as the official DiT sampler runs them: the step index counts
 * down S-1..0 over the respaced diffusion, the model's output holds epsilon in its first C channels and (with a
 * learned variance) the variance values in the next C, and a random draw is made at every step for the whole
 * network batch (deterministic DDIM multiplies it by zero, so it skips the draw: nothing draws after the steps).
 */
public final class DiffusionSampler implements Sampler {
    private final DiffusionSteps steps;
    private final SamplerKind kind;
    private final double eta;
    private final Generator generator;
    /** The shape of one random draw: the network batch's latents. */
    private final long[] drawShape;
    private final int channels;
    private final boolean learnedVariance;
    private final float[] eps;
    private final float[] var;

    /**
     * @param steps           the respaced diffusion and its clipping
     * @param kind            DDIM or DDPM
     * @param eta             DDIM eta (DDPM ignores it)
     * @param generator       libtorch's generator, the run's source of every random draw
     * @param n               samples
     * @param rows            rows of one network call (the draw covers them all, as the official loop does)
     * @param channels        latent channels C
     * @param size            latent height and width
     * @param learnedVariance whether the model's output has C more variance channels
     */
    public DiffusionSampler(DiffusionSteps steps, SamplerKind kind, double eta, Generator generator, int n, int rows,
                            int channels, int size, boolean learnedVariance) {
        this.steps = steps;
        this.kind = kind;
        this.eta = eta;
        this.generator = generator;
        this.drawShape = new long[] {rows, channels, size, size};
        this.channels = channels;
        this.learnedVariance = learnedVariance;
        this.eps = new float[n * channels * size * size];
        this.var = new float[eps.length];
    }

    @Override
    public int steps() {
        return steps.diffusion().numSteps();
    }

    @Override
    public StepContext context(int k) {
        int i = steps() - 1 - k;
        return new StepContext(i, steps(), steps.diffusion().timestep(i), StepContext.Guidance.JOINT);
    }

    @Override
    public void step(int k, float[] x, float[] output) {
        int i = steps() - 1 - k;
        split(output);
        boolean noiseUnused = kind == SamplerKind.DDIM && eta == 0;
        float[] noise = noiseUnused ? null : Arrays.copyOf(Torch.randn(generator, drawShape), x.length);
        if (kind == SamplerKind.DDIM) {
            steps.ddim(x, eps, i, eta, noise, x);
        } else {
            steps.ddpm(x, eps, var, i, noise, x);
        }
    }

    /** eps and (with a learned variance) var from the guided output (n, C or 2C, H, W). */
    private void split(float[] output) {
        int plane = (int) (drawShape[2] * drawShape[3]);
        int outChannels = learnedVariance ? 2 * channels : channels;
        int n = eps.length / (channels * plane);
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < channels; ch++) {
                int dst = (b * channels + ch) * plane;
                System.arraycopy(output, (b * outChannels + ch) * plane, eps, dst, plane);
                if (learnedVariance) {
                    System.arraycopy(output, (b * outChannels + channels + ch) * plane, var, dst, plane);
                }
            }
        }
    }
}
