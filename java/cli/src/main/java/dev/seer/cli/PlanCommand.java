package dev.seer.cli;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.ForecastSums;
import dev.seer.families.ModelFamilies;
import dev.seer.model.MemoryPlan;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitMemoryPlan;
import dev.seer.model.flux.FluxMemoryPlan;
import dev.seer.model.flux.FluxParams;
import dev.seer.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seer plan}: the memory a sampling run will need, before it runs. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Print the memory plan of a sampling run: the process's fixed cost, the weights, the copies loading "
                + "makes, one network call's activations, the cache policy's Taylor factors and the planned peak, against "
                + "this machine's memory. Nothing is loaded. seer sample refuses a run whose plan does not fit."})
final class PlanCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "A preset (${COMPLETION-CANDIDATES}) or a config JSON file of any family (the shipped model: java/models/src/main/resources/dev/seer/models/fashion-dit.json). Default: none, required.",
            completionCandidates = SampleCommand.Presets.class)
    String model;

    @Option(names = "--input-size", defaultValue = "32", description = "DiT presets: latent size H = W, 1..1024 and a multiple of the patch size. Default: ${DEFAULT-VALUE}.")
    int inputSize;

    @Option(names = "--num-classes", defaultValue = "1000", description = "DiT presets: classes, 1..1000000. Default: ${DEFAULT-VALUE}.")
    int numClasses;

    @Option(names = "--width", defaultValue = "1024", description = "FLUX: image width in pixels, a multiple of 16 in 16..16384. Default: ${DEFAULT-VALUE}.")
    int width;

    @Option(names = "--height", defaultValue = "1024", description = "FLUX: image height in pixels, a multiple of 16 in 16..16384. Default: ${DEFAULT-VALUE}.")
    int height;

    @Option(names = "--txt-tokens", defaultValue = "512", description = "FLUX: text tokens, 1..4096. Default: ${DEFAULT-VALUE}.")
    int txtTokens;

    @Option(names = "--batch", defaultValue = "1", description = "Samples per run (DiT: labels; guidance doubles a call's rows), 1..4096. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--cfg", defaultValue = "1.5", description = "DiT: guidance scale, a finite number >= 0 (0: no guidance, one row per sample). Default: ${DEFAULT-VALUE}.")
    double cfg;

    @Option(names = "--steps", defaultValue = "50", description = "DiT: sampling steps (the conditioning memo), 1..1000. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Mixin
    FactorDtypeOption factorDtype = new FactorDtypeOption();

    @Option(names = "--forecast-sums", defaultValue = "auto", description = "DiT: forecast sums, auto, on or off (as seer sample; sums add stack-shaped tensors). Default: ${DEFAULT-VALUE}.")
    String forecastSums;

    @Option(names = "--dtype", defaultValue = "f32", description = "FLUX: compute dtype, f32 or bf16 (as seer flux). Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--weights", description = "The checkpoint the run loads (DiT: a file, loaded a weight at a time; FLUX: a file or directory whose bytes the weights take). Default: none, random weights.")
    Path weights;

    @Mixin
    PolicyOptions policyOptions = new PolicyOptions();

    @Override
    public Integer call() throws IOException {
        int elementBytes = factorDtype.value().storageFor(DType.F32).byteSize();
        OptionChecks.range("--batch", batch, 1, 4096);
        OptionChecks.range("--steps", steps, 1, 1000);
        ForecastSums sums = SampleCommand.parseForecastSums(forecastSums);
        ModelFamilies.Resolved resolved;
        try {
            resolved = ModelFamilies.resolve(model);
        } catch (IllegalArgumentException | IOException e) {
            if (Files.isRegularFile(Path.of(model))) {
                throw new IllegalArgumentException("--model: " + e.getMessage(), e);
            }
            throw OptionChecks.invalid("--model", model, "a preset (" + String.join(", ", ModelFamilies.presetNames())
                    + ") or an existing config JSON file");
        }
        boolean file = Files.isRegularFile(Path.of(model));
        MemoryPlan plan;
        try {
            if (resolved.config() instanceof DitConfig preset) {
                OptionChecks.range("--input-size", inputSize, 1, 1024);
                OptionChecks.range("--num-classes", numClasses, 1, 1_000_000);
                OptionChecks.finiteRange("--cfg", cfg, 0, Double.MAX_VALUE);
                if (!file && inputSize % preset.patchSize() != 0) {
                    throw OptionChecks.invalid("--input-size", inputSize, "a multiple of " + model + "'s patch size "
                            + preset.patchSize() + " in 1..1024");
                }
                if (weights != null && !Files.isRegularFile(weights)) {
                    throw OptionChecks.invalid("--weights", weights.toString(), "an existing checkpoint file");
                }
                DitConfig config = file ? preset : DitConfig.preset(model, inputSize, 4, numClasses);
                CachePolicy policy = policyOptions.policy(4, 4);
                plan = DitMemoryPlan.of(config, model, (long) batch * (cfg > 0 ? 2 : 1), steps, policy, elementBytes, sums,
                        weights == null ? DitMemoryPlan.Source.RANDOM : DitMemoryPlan.Source.FILE);
            } else if (resolved.config() instanceof FluxParams params) {
                OptionChecks.range("--width", width, 16, 16384);
                OptionChecks.range("--height", height, 16, 16384);
                OptionChecks.range("--txt-tokens", txtTokens, 1, 4096);
                if (width % 16 != 0 || height % 16 != 0) {
                    throw OptionChecks.invalid(width % 16 != 0 ? "--width" : "--height", width % 16 != 0 ? width : height,
                            "a multiple of 16 in 16..16384");
                }
                if (weights != null && !Files.exists(weights)) {
                    throw OptionChecks.invalid("--weights", weights.toString(), "an existing checkpoint file or directory");
                }
                CachePolicy policy = policyOptions.policy(6, 1);
                plan = FluxMemoryPlan.forRun(params, model, batch, txtTokens, (long) (width / 16) * (height / 16),
                        weights == null ? null : bytesOf(weights), FluxCommand.computeType("--dtype", dtype), policy,
                        elementBytes);
            } else {
                throw OptionChecks.invalid("--model", model, "a DiT or FLUX model: seer plan has no plan for the "
                        + resolved.family().name() + " family");
            }
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith("--") ? e : new IllegalArgumentException("--model " + model + ": " + e.getMessage(), e);
        }
        long available = DitConfig.machineMemoryBytes();
        plan.lines().forEach(System.out::println);
        System.out.println(String.format(Locale.ROOT, "%-12s %-12s %s", "available", MemoryPlan.bytes(available),
                plan.fits(available) ? "this machine's memory: fits" : "this machine's memory: does NOT fit (seer sample refuses it)"));
        return 0;
    }

    /** Bytes of a file, or of every file under a directory. */
    static long bytesOf(Path p) throws IOException {
        if (!Files.isDirectory(p)) {
            return Files.size(p);
        }
        try (Stream<Path> s = Files.walk(p)) {
            long total = 0;
            for (Path f : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                total = MemoryPlan.add(total, Files.size(f));
            }
            return total;
        }
    }
}
