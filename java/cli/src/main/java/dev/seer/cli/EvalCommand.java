package dev.seer.cli;

import dev.seer.cache.CachePolicy;
import dev.seer.eval.FashionDemo;
import dev.seer.eval.FashionEval;
import dev.seer.eval.FashionProbe;
import dev.seer.eval.Metrics;
import dev.seer.eval.ShippedModels;
import dev.seer.io.FashionMnist;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.sampling.ProgressListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seer eval}: the quality table of the Fashion-MNIST DiT under several cache policies. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Generate Fashion-MNIST samples (label i mod 10) uncached and with each cache policy from the same noise, "
                + "and score them with the probe: class consistency (probe prediction = conditioning label), Fréchet "
                + "distance of the probe's 128 penultimate features to the test set's (the FID recipe), and PSNR / SSIM "
                + "against the uncached sample from the same noise.",
                "--floor adds the Fréchet distance of real training images to the test set: the value a perfect model would get."})
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--samples", description = "Samples per policy, 2..60000 (a covariance needs two). Default: ${DEFAULT-VALUE}.")
    int samples = 1000;

    @Option(names = "--steps", description = "DDIM steps, 1..1000. Default: ${DEFAULT-VALUE}.")
    int steps = 50;

    @Option(names = "--cfg", description = "Guidance scale, a finite number >= 0 (0: no guidance). Default: ${DEFAULT-VALUE} (the shipped model's).")
    double cfg = ShippedModels.DIT_CFG;

    @Option(names = "--policies", split = ",", description = "Cache policies besides the uncached baseline, as "
            + "taylorseer:N:O or fora:N (N >= 1, O in 0..4); 'none' for the baseline only. Default: ${DEFAULT-VALUE}.")
    List<String> policies = new ArrayList<>(List.of("taylorseer:3:2", "taylorseer:4:2", "taylorseer:5:2"));

    @Option(names = "--chunk", description = "Samples per sampling call, 1..10000. Default: ${DEFAULT-VALUE}.")
    int chunk = 100;

    @Option(names = "--seed", description = "Seed of the first chunk's noise (chunk i uses seed + i), any integer. Default: ${DEFAULT-VALUE}.")
    long seed = 0;

    @Option(names = "--floor", description = "Also report the Fréchet distance of real training images against the test set. Default: off.")
    boolean floor;

    @Option(names = "--model", description = "An existing DiT config JSON file (with --weights). Default: the shipped Fashion-MNIST DiT.")
    Path model;

    @Option(names = "--weights", description = "An existing DiT weights file for --model (.safetensors or .pt, official key names). Default: the shipped weights.")
    Path weights;

    @Option(names = "--probe", description = "An existing probe weights file (seer train-probe's output). Default: the shipped probe.")
    Path probe;

    @Option(names = "--data", description = "Fashion-MNIST directory (the IDX files, gzip'd or not). Default: ${DEFAULT-VALUE}.")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--keep", description = "A directory where each policy's samples are kept (safetensors); a later "
            + "run with the same settings reads them instead of sampling again; created if missing. Default: none.")
    Path keep;

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Override
    public Integer call() throws Exception {
        // Everything is validated before any work starts.
        List<CachePolicy> list = new ArrayList<>();
        for (String p : policies) {
            CachePolicy policy = OptionChecks.policy("--policies", p);
            if (!(policy instanceof CachePolicy.None)) {
                list.add(policy);
            }
        }
        OptionChecks.range("--samples", samples, 2, 60_000);
        OptionChecks.range("--steps", steps, 1, 1000);
        OptionChecks.finiteRange("--cfg", cfg, 0, Double.MAX_VALUE);
        OptionChecks.range("--chunk", chunk, 1, 10_000);
        if ((model == null) != (weights == null)) {
            throw model == null ? OptionChecks.invalid("--weights", weights.toString(), "a weights file together with --model")
                    : OptionChecks.invalid("--model", model.toString(), "a config file together with --weights");
        }
        OptionChecks.existingFile("--model", model, "an existing DiT config JSON file");
        OptionChecks.existingFile("--weights", weights, "an existing .pt, .pth, .bin or .safetensors file");
        OptionChecks.existingFile("--probe", probe, "an existing probe weights file");
        threads.apply();
        PrintStream out = System.out;
        FashionMnist.Dataset test = FashionMnist.load(data, FashionMnist.Split.TEST);
        try (FashionProbe pr = probe == null ? FashionProbe.loadShipped() : FashionProbe.load(probe);
             DitModel dit = model == null ? ShippedModels.fashionDit() : DitModel.load(DitConfig.fromJson(model), weights)) {
            float[] testImages = FashionEval.images(test);
            Metrics.Gaussian ref = FashionEval.features(pr, testImages, test.size());
            out.printf(Locale.ROOT, "probe test accuracy %.2f%%; reference: probe features of the %d test images%n",
                    100 * FashionEval.accuracy(pr, test), test.size());
            if (floor) {
                FashionMnist.Dataset train = FashionMnist.load(data, FashionMnist.Split.TRAIN);
                float[] all = FashionEval.images(train);
                double fdAll = Metrics.frechetDistance(FashionEval.features(pr, all, train.size()), ref);
                int[] pick = subset(train.size(), samples, seed);
                int hw = FashionMnist.SIZE * FashionMnist.SIZE;
                float[] sub = new float[samples * hw];
                for (int i = 0; i < samples; i++) {
                    System.arraycopy(all, pick[i] * hw, sub, i * hw, hw);
                }
                double fdSub = Metrics.frechetDistance(FashionEval.features(pr, sub, samples), ref);
                out.printf(Locale.ROOT, "floor: Fréchet distance of training images to the test set: %.3f (all %d), %.3f (%d random ones, seed %d)%n",
                        fdAll, train.size(), fdSub, samples, seed);
            }
            out.printf(Locale.ROOT, "%d samples per policy, %d DDIM steps, guidance scale %.2f, seeds %d.. (one per chunk of %d)%n",
                    samples, steps, cfg, seed, chunk);
            out.printf(Locale.ROOT, "%-22s %9s %10s %8s %8s %9s %8s %7s%n", "policy", "time s", "FLOPs", "speedup", "class", "Fréchet", "PSNR dB", "SSIM");
            FashionEval.Generated base = generate(dit, new CachePolicy.None());
            print(out, "uncached", base, base, FashionEval.score(pr, base, ref, null));
            for (CachePolicy p : list) {
                FashionEval.Generated g = generate(dit, p);
                print(out, p.label(), g, base, FashionEval.score(pr, g, ref, base));
            }
        }
        return 0;
    }

    private FashionEval.Generated generate(DitModel dit, CachePolicy p) throws java.io.IOException {
        String label = p.label();
        Path file = null;
        if (keep != null) {
            java.nio.file.Files.createDirectories(keep);
            file = keep.resolve(String.format(Locale.ROOT, "%s-n%d-s%d-cfg%s-seed%d-chunk%d.safetensors",
                    label.replace(" ", "-").replace("=", "").toLowerCase(Locale.ROOT), samples, steps, cfg, seed, chunk));
            if (java.nio.file.Files.exists(file)) {
                try (dev.seer.io.SafetensorsFile f = dev.seer.io.Safetensors.open(file)) {
                    var m = f.metadata();
                    long[] labels = new long[samples];
                    for (int i = 0; i < samples; i++) {
                        labels[i] = i % dit.config().numClasses();
                    }
                    System.err.println(label + ": samples read from " + file);
                    return new FashionEval.Generated(f.get("images").toFloatArray(), labels, Double.parseDouble(m.get("seconds")),
                            Double.parseDouble(m.get("flops_actual")), Double.parseDouble(m.get("flops_official")));
                }
            }
        }
        FashionEval.Generated g = FashionEval.generate(dit, samples, steps, cfg, p, seed, chunk, progress(label));
        if (file != null) {
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                int s = dit.config().inputSize();
                dev.seer.io.Safetensors.write(file, java.util.Map.of("images", dev.seer.tensor.Tensor.ofFloats(arena, g.images(),
                        samples, dit.config().inChannels(), s, s)), java.util.Map.of("seconds", String.valueOf(g.seconds()),
                        "flops_actual", String.valueOf(g.flopsActual()), "flops_official", String.valueOf(g.flopsOfficial()),
                        "policy", label));
            }
        }
        return g;
    }

    private static ProgressListener progress(String label) {
        return (done, total, full) -> {
            System.err.printf("\r%-22s %d/%d samples", label, done, total);
            if (done == total) {
                System.err.println();
            }
            System.err.flush();
        };
    }

    private static void print(PrintStream out, String name, FashionEval.Generated g, FashionEval.Generated base, FashionEval.Scores s) {
        out.printf(Locale.ROOT, "%-22s %9.1f %10.3g %7.2fx %7.1f%% %9.3f %8s %7s%n", name, g.seconds(), g.flopsActual(),
                base.seconds() / g.seconds(), 100 * s.classConsistency(), s.frechet(),
                Double.isNaN(s.psnr()) ? "-" : String.format(Locale.ROOT, "%.2f", s.psnr()),
                Double.isNaN(s.ssim()) ? "-" : String.format(Locale.ROOT, "%.4f", s.ssim()));
        out.flush();
    }

    private static int[] subset(int n, int k, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < k; i++) {
            int j = i + r.nextInt(n - i);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return java.util.Arrays.copyOf(p, k);
    }
}
