package dev.seer.cli;

import dev.seer.eval.FashionDemo;
import dev.seer.eval.LossPlot;
import dev.seer.eval.ShippedModels;
import dev.seer.io.FashionMnist;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitConfig;
import dev.seer.tensor.SeerRuntime;
import dev.seer.train.DitTrainer;
import dev.seer.train.LossLog;
import dev.seer.train.TrainOptions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seer train}: trains the class-conditional Fashion-MNIST DiT; resumes from its checkpoint when one exists. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a class-conditional pixel-space DiT on Fashion-MNIST (28 x 28 x 1 in [-1, 1], patch 4: 49 tokens) "
                + "with the official DiT objective (epsilon MSE + variational bound), AdamW and EMA weights.",
                "If the checkpoint exists, training resumes from it (same options required); Ctrl-C at any moment "
                        + "loses at most the steps since the last checkpoint."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--steps", description = "Total optimiser steps, 1..1000000000 (a resumed run continues up to it). Default: ${DEFAULT-VALUE}.")
    long steps = 3000;

    @Option(names = "--batch", description = "Images per step, 1..60000. Default: ${DEFAULT-VALUE}.")
    int batch = 64;

    @Option(names = "--lr", description = "AdamW learning rate, in (0, 1]. Default: ${DEFAULT-VALUE}.")
    double lr = 3e-4;

    @Option(names = "--ema-decay", description = "EMA decay d after the warm-up min(d, (1+s)/(10+s)), in [0, 1). Default: ${DEFAULT-VALUE}.")
    double emaDecay = 0.999;

    @Option(names = "--seed", description = "Seed of the weights, data order and noise, any integer. Default: ${DEFAULT-VALUE}.")
    long seed = 0;

    @Option(names = "--model-config", description = "An existing DiT config JSON file (official argument names) for "
            + "28 x 28 x 1 inputs and at least 10 classes. Default: the shipped architecture (depth 6, hidden 128, 4 heads, patch 4, "
            + "input 28, 1 channel, 10 classes, learn_sigma).")
    Path modelConfig;

    @Option(names = "--data", description = "Fashion-MNIST directory (the IDX files, gzip'd or not). Default: ${DEFAULT-VALUE}.")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--checkpoint", description = "Training checkpoint, written atomically; its directory is created. Default: ${DEFAULT-VALUE}.")
    Path checkpoint = Path.of("build/train/fashion-dit.ckpt.safetensors");

    @Option(names = "--checkpoint-every", description = "Seconds between checkpoints, in (0, 86400]. Default: ${DEFAULT-VALUE}.")
    double checkpointEvery = 180;

    @Option(names = "--out", description = "Where the EMA weights go (at every checkpoint and at the end). Default: ${DEFAULT-VALUE}.")
    Path out = Path.of("build/train/fashion-dit.safetensors");

    @Option(names = "--loss-csv", description = "Loss log: step, loss, wall seconds. Default: ${DEFAULT-VALUE}.")
    Path lossCsv = Path.of("build/train/fashion-dit-loss.csv");

    @Option(names = "--loss-png", description = "Loss curve drawn at the end. Default: ${DEFAULT-VALUE}.")
    Path lossPng = Path.of("build/train/fashion-dit-loss.png");

    @Option(names = "--grid-png", description = "Uncached samples of the EMA weights drawn at the end, one row per class "
            + "(50 DDIM steps, guidance 4, seed 0). Default: ${DEFAULT-VALUE}.")
    Path gridPng = Path.of("build/train/fashion-dit-samples.png");

    @Option(names = "--fresh", description = "Ignore (and overwrite) an existing checkpoint. Default: off (resume).")
    boolean fresh;

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Override
    public Integer call() throws Exception {
        PrintStream err = System.err;
        // Everything is validated before any work starts.
        OptionChecks.range("--steps", steps, 1, 1_000_000_000);
        OptionChecks.range("--batch", batch, 1, 60_000);
        OptionChecks.positive("--lr", lr, 1);
        OptionChecks.halfOpen("--ema-decay", emaDecay, 0, 1);
        OptionChecks.positive("--checkpoint-every", checkpointEvery, 86_400);
        OptionChecks.existingFile("--model-config", modelConfig, "an existing DiT config JSON file");
        threads.validate();
        DitConfig model;
        try {
            model = modelConfig == null ? TrainOptions.fashionModel() : DitConfig.fromJson(modelConfig);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--model-config: " + e.getMessage(), e);
        }
        if (model.inputSize() != FashionMnist.SIZE || model.inChannels() != 1 || model.numClasses() < 10) {
            throw OptionChecks.invalid("--model-config", modelConfig.toString(), "a config with input_size "
                    + FashionMnist.SIZE + ", in_channels 1 and num_classes >= 10 (Fashion-MNIST), found input_size "
                    + model.inputSize() + ", in_channels " + model.inChannels() + ", num_classes " + model.numClasses());
        }
        TrainOptions opts = new TrainOptions(model, batch, lr, 0.0, 0.9, 0.999, 1e-8, emaDecay, seed, steps);
        threads.apply();
        FashionMnist.Dataset train = FashionMnist.load(data, FashionMnist.Split.TRAIN);
        for (Path p : new Path[] {checkpoint, out, lossCsv}) {
            if (p.toAbsolutePath().getParent() != null) {
                Files.createDirectories(p.toAbsolutePath().getParent());
            }
        }
        try (DitTrainer trainer = new DitTrainer(opts, train.images(), train.labels())) {
            if (!fresh && Files.exists(checkpoint)) {
                trainer.loadCheckpoint(checkpoint);
                err.printf("resumed from %s at step %d (%.0f s of training so far)%n", checkpoint, trainer.step(), trainer.wallSeconds());
            }
            LossLog log = LossLog.open(lossCsv, trainer.step());
            err.printf("training %s for %d steps, batch %d, lr %g, %d threads%n", model.toJson(), steps, batch, lr, SeerRuntime.threads());
            long lastSave = System.nanoTime();
            double running = Double.NaN;
            long start = System.nanoTime();
            long startStep = trainer.step();
            while (trainer.step() < steps) {
                double l = trainer.trainStep();
                running = Double.isNaN(running) ? l : 0.98 * running + 0.02 * l;
                log.append(trainer.step(), l, trainer.wallSeconds());
                double elapsed = (System.nanoTime() - start) / 1e9;
                double perStep = elapsed / (trainer.step() - startStep);
                progress(err, trainer.step(), steps, running, perStep * (steps - trainer.step()));
                if ((System.nanoTime() - lastSave) / 1e9 >= checkpointEvery) {
                    trainer.saveCheckpoint(checkpoint);
                    trainer.saveEma(out);
                    log.flush();
                    lastSave = System.nanoTime();
                }
            }
            err.println();
            trainer.saveCheckpoint(checkpoint);
            log.close();
            trainer.saveEma(out);
            java.util.List<double[]> rows = LossLog.read(lossCsv);
            double recent = rows.subList(Math.max(0, rows.size() - 100), rows.size()).stream().mapToDouble(r -> r[1]).average().orElse(Double.NaN);
            LossPlot.write(lossPng, rows, 100, String.format(java.util.Locale.ROOT,
                    "DiT on Fashion-MNIST: %d steps, batch %d, %.0f min", trainer.step(), batch, trainer.wallSeconds() / 60));
            try (DitModel dit = DitModel.load(model, out)) {
                FashionDemo.sampleGrid(dit, null, 10, 50, ShippedModels.DIT_CFG, 0, gridPng);
            }
            System.out.printf("loss curve: %s%nsamples: %s%n", lossPng, gridPng);
            System.out.printf("trained %d steps in %.0f s of wall time; mean loss of the last 100 steps %.4f%nEMA weights: %s%ncheckpoint: %s%nloss log: %s%n",
                    trainer.step(), trainer.wallSeconds(), recent, out, checkpoint, lossCsv);
        }
        return 0;
    }

    private static void progress(PrintStream err, long done, long total, double loss, double etaSeconds) {
        int width = 30;
        int filled = (int) (width * done / Math.max(1, total));
        err.printf("\rtrain [%s] %d/%d  loss %.4f  eta %dm%02ds ", "#".repeat(filled) + ".".repeat(width - filled), done, total,
                loss, (long) etaSeconds / 60, (long) etaSeconds % 60);
        err.flush();
    }
}
