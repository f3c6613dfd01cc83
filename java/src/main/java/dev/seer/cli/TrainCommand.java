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
import picocli.CommandLine.Option;

/** {@code seer train}: trains the class-conditional Fashion-MNIST DiT; resumes from its checkpoint when one exists. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a class-conditional pixel-space DiT on Fashion-MNIST (28 x 28 x 1 in [-1, 1], patch 4: 49 tokens) "
                + "with the official DiT objective (epsilon MSE + variational bound), AdamW and EMA weights.",
                "If the checkpoint exists, training resumes from it (same options required); Ctrl-C at any moment "
                        + "loses at most the steps since the last checkpoint."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--steps", description = "Total optimiser steps (default ${DEFAULT-VALUE}).")
    long steps = 3000;

    @Option(names = "--batch", description = "Images per step (default ${DEFAULT-VALUE}).")
    int batch = 64;

    @Option(names = "--lr", description = "AdamW learning rate (default ${DEFAULT-VALUE}).")
    double lr = 3e-4;

    @Option(names = "--ema-decay", description = "EMA decay after the warm-up min(d, (1+s)/(10+s)) (default ${DEFAULT-VALUE}).")
    double emaDecay = 0.999;

    @Option(names = "--seed", description = "Seed of the weights, data order and noise (default ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--model-config", description = "A DiT config JSON (official argument names); default: the shipped "
            + "architecture (depth 6, hidden 128, 4 heads, patch 4, input 28, 1 channel, 10 classes, learn_sigma).")
    Path modelConfig;

    @Option(names = "--data", description = "Fashion-MNIST directory (default ${DEFAULT-VALUE}).")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--checkpoint", description = "Training checkpoint, written atomically (default ${DEFAULT-VALUE}).")
    Path checkpoint = Path.of("build/train/fashion-dit.ckpt.safetensors");

    @Option(names = "--checkpoint-every", description = "Seconds between checkpoints (default ${DEFAULT-VALUE}).")
    double checkpointEvery = 180;

    @Option(names = "--out", description = "Where the EMA weights go (at every checkpoint and at the end) (default ${DEFAULT-VALUE}).")
    Path out = Path.of("build/train/fashion-dit.safetensors");

    @Option(names = "--loss-csv", description = "Loss log: step, loss, wall seconds (default ${DEFAULT-VALUE}).")
    Path lossCsv = Path.of("build/train/fashion-dit-loss.csv");

    @Option(names = "--loss-png", description = "Loss curve drawn at the end (default ${DEFAULT-VALUE}).")
    Path lossPng = Path.of("build/train/fashion-dit-loss.png");

    @Option(names = "--grid-png", description = "Uncached samples of the EMA weights drawn at the end, one row per class "
            + "(50 DDIM steps, guidance 4, seed 0; default ${DEFAULT-VALUE}).")
    Path gridPng = Path.of("build/train/fashion-dit-samples.png");

    @Option(names = "--fresh", description = "Ignore (and overwrite) an existing checkpoint.")
    boolean fresh;

    @Option(names = "--threads", description = "libtorch threads (default: all cores).")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        PrintStream err = System.err;
        SeerRuntime.init();
        if (threads != null) {
            SeerRuntime.setThreads(threads);
        }
        DitConfig model = modelConfig == null ? TrainOptions.fashionModel() : DitConfig.fromJson(modelConfig);
        TrainOptions opts = new TrainOptions(model, batch, lr, 0.0, 0.9, 0.999, 1e-8, emaDecay, seed, steps);
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
