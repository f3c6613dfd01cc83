package dev.seer.train;

import dev.seer.model.dit.DitConfig;

/**
 * Hyper-parameters of a DiT training run. The official DiT recipe is AdamW with lr 1e-4, no weight decay,
 * batch 256 and EMA decay 0.9999 over 400k steps; a run of a few thousand steps needs a shorter EMA memory, so the
 * decay here follows the warm-up {@code min(emaDecay, (1 + step) / (10 + step))}.
 *
 * @param model       the architecture
 * @param batchSize   images per step
 * @param lr          AdamW learning rate
 * @param weightDecay AdamW decoupled weight decay
 * @param beta1       AdamW beta1
 * @param beta2       AdamW beta2
 * @param adamEps     AdamW epsilon
 * @param emaDecay    the EMA decay after warm-up
 * @param seed        seeds the initial weights, the data order and every step's noise, timesteps and label dropout
 * @param steps       total optimiser steps
 */
public record TrainOptions(DitConfig model, int batchSize, double lr, double weightDecay, double beta1, double beta2,
                           double adamEps, double emaDecay, long seed, long steps) {
    public TrainOptions {
        if (model == null) {
            throw new IllegalArgumentException("model is null");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, found " + batchSize);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and > 0, found " + lr);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay must be finite and >= 0, found " + weightDecay);
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in [0, 1), found " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must be in [0, 1), found " + beta2);
        }
        if (!(adamEps > 0) || Double.isInfinite(adamEps)) {
            throw new IllegalArgumentException("adam epsilon must be finite and > 0, found " + adamEps);
        }
        if (!(emaDecay >= 0 && emaDecay < 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), found " + emaDecay);
        }
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be >= 0, found " + steps);
        }
    }

    /** The shipped Fashion-MNIST model's architecture: 28 x 28 x 1 input, patch 4 (49 tokens), depth 6, hidden 128, 4 heads. */
    public static DitConfig fashionModel() {
        return new DitConfig(28, 4, 1, 128, 6, 4, 4.0, 0.1, 10, true);
    }

    /** The options of the shipped Fashion-MNIST model. */
    public static TrainOptions fashionDefaults(long steps) {
        return new TrainOptions(fashionModel(), 64, 3e-4, 0.0, 0.9, 0.999, 1e-8, 0.999, 0, steps);
    }

    /** A JSON summary written into checkpoints, so a resume can refuse different settings. */
    public String toJson() {
        return "{\"model\": " + model.toJson() + ", \"batch_size\": " + batchSize + ", \"lr\": " + lr
                + ", \"weight_decay\": " + weightDecay + ", \"beta1\": " + beta1 + ", \"beta2\": " + beta2
                + ", \"adam_eps\": " + adamEps + ", \"ema_decay\": " + emaDecay + ", \"seed\": " + seed + "}";
    }
}
