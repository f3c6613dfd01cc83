package dev.seer.cli;

import dev.seer.eval.FashionEval;
import dev.seer.eval.FashionProbe;
import dev.seer.io.FashionMnist;
import dev.seer.train.ProbeTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seer train-probe}: trains the Fashion-MNIST classifier that {@code seer eval} uses as its quality probe. */
@Command(name = "train-probe", mixinStandardHelpOptions = true,
        description = "Train the quality probe (a small CNN, see FashionProbe) on Fashion-MNIST and report its test accuracy.")
public final class TrainProbeCommand implements Callable<Integer> {
    @Option(names = "--epochs", description = "Epochs, 1..1000. Default: ${DEFAULT-VALUE}.")
    int epochs = 4;

    @Option(names = "--batch", description = "Images per step, 1..60000. Default: ${DEFAULT-VALUE}.")
    int batch = 128;

    @Option(names = "--lr", description = "AdamW learning rate, in (0, 1]. Default: ${DEFAULT-VALUE}.")
    double lr = 1e-3;

    @Option(names = "--seed", description = "Seed of the weights and the data order, any integer. Default: ${DEFAULT-VALUE}.")
    long seed = 0;

    @Option(names = "--data", description = "Fashion-MNIST directory (the IDX files, gzip'd or not). Default: ${DEFAULT-VALUE}.")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--out", description = "Where the weights go; the directory is created. Default: ${DEFAULT-VALUE}.")
    Path out = Path.of("build/train/fashion-probe.safetensors");

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Override
    public Integer call() throws Exception {
        // Everything is validated before any work starts.
        OptionChecks.range("--epochs", epochs, 1, 1000);
        OptionChecks.range("--batch", batch, 1, 60_000);
        OptionChecks.positive("--lr", lr, 1);
        threads.apply();
        FashionMnist.Dataset train = FashionMnist.load(data, FashionMnist.Split.TRAIN);
        FashionMnist.Dataset test = FashionMnist.load(data, FashionMnist.Split.TEST);
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        long t0 = System.nanoTime();
        try (ProbeTrainer trainer = new ProbeTrainer(seed, lr)) {
            for (int e = 0; e < epochs; e++) {
                double loss = trainer.epoch(train.images(), train.labels(), e, batch);
                System.err.printf(Locale.ROOT, "epoch %d/%d  train loss %.4f  %.0f s%n", e + 1, epochs, loss, (System.nanoTime() - t0) / 1e9);
            }
            trainer.save(out, Map.of("epochs", String.valueOf(epochs), "seed", String.valueOf(seed), "lr", String.valueOf(lr),
                    "batch", String.valueOf(batch)));
        }
        try (FashionProbe probe = FashionProbe.load(out)) {
            double acc = FashionEval.accuracy(probe, test);
            System.out.printf(Locale.ROOT, "probe test accuracy %.2f%% (%d images); weights: %s (%d bytes); %.0f s%n",
                    100 * acc, test.size(), out, Files.size(out), (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
