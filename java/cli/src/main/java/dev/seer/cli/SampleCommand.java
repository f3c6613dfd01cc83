package dev.seer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seer.cache.CachePolicy;
import dev.seer.cache.ForecastSums;
import dev.seer.families.ModelFamilies;
import dev.seer.eval.FashionDemo;
import dev.seer.eval.FashionProbe;
import dev.seer.eval.ShippedModels;
import dev.seer.io.CheckpointException;
import dev.seer.io.Images;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.io.TorchCheckpoints;
import dev.seer.kernel.Variant;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitMemoryPlan;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitWeights;
import dev.seer.model.dit.DitPipeline;
import dev.seer.sampling.RunStats;
import dev.seer.model.dit.SampleRequest;
import dev.seer.sampling.SampleResult;
import dev.seer.sampling.SamplerKind;
import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seer sample}: class-conditional DiT sampling with an optional cache policy. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = {"Sample latents from a class-conditional DiT, uncached or with FORA / TaylorSeer forecasting.",
                "Without --model, --weights, --labels, --noise and --out-latents: the shipped Fashion-MNIST DiT, sampled "
                        + "uncached and with the cache policy from the same noise, one row per class, written as one "
                        + "labelled grid (--out-grid), with a table of time, FLOPs, speedup and fidelity."})
final class SampleCommand implements Callable<Integer> {
    @Option(names = "--model", description = "A preset (${COMPLETION-CANDIDATES}) or a config JSON file with the official constructor arguments. Default: the shipped Fashion-MNIST DiT when --weights is absent too, else DiT-S/2.",
            completionCandidates = Presets.class)
    String model;

    @Option(names = "--out-grid", defaultValue = "seer-sample.png", description = "The shipped model's comparison grid (PNG), in an existing writable directory. Default: ${DEFAULT-VALUE}.")
    String outGrid;

    @Option(names = "--per-class", defaultValue = "3", description = "The shipped model's samples per class and side of the grid, 1..100. Default: ${DEFAULT-VALUE}.")
    int perClass;

    @Option(names = "--input-size", defaultValue = "32", description = "Latent size H = W for presets, 1..1024 and a multiple of the patch size. Default: ${DEFAULT-VALUE}.")
    int inputSize;

    @Option(names = "--num-classes", defaultValue = "1000", description = "Classes for presets, 1..1000000. Default: ${DEFAULT-VALUE}.")
    int numClasses;

    @Option(names = "--weights", description = "An existing official DiT state dict (.pt, .pth, .bin) or .safetensors file with the official key names. Default: none, the model gets random weights (speed runs only).")
    Path weights;

    @Option(names = "--weights-seed", defaultValue = "0", description = "Seed of the random weights used when --weights is absent, any integer. Default: ${DEFAULT-VALUE}.")
    long weightsSeed;

    @Option(names = "--steps", defaultValue = "50", description = "Sampling steps, 1..1000. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--sampler", defaultValue = "ddim", description = "Sampler: ddim or ddpm. Default: ${DEFAULT-VALUE}.")
    String sampler;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM eta, a number in [0, 1] (0: deterministic; past 1 DDIM's noise exceeds what is left). Default: ${DEFAULT-VALUE}.")
    double eta;

    @Option(names = "--cfg", description = "Classifier-free guidance scale, a finite number >= 0; 0 turns guidance off. Default: 1.5, or 4 for the shipped Fashion-MNIST DiT.")
    Double cfg;

    @Option(names = "--guide-all-channels", description = "Guide every latent channel. Default: off (the official code guides channels 0..2 only).")
    boolean guideAllChannels;

    @Option(names = "--labels", split = ",", description = "Comma-separated class labels, one sample each, each in 0..num_classes-1. Default: 0, or the labels in --noise.")
    long[] labels;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of libtorch's CPU generator (initial and per-step noise, as torch.manual_seed), any integer. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--noise", description = "An existing safetensors file with tensor 'noise' (n, C, H, W) float32 and optionally 'labels' (n) int64. Default: none, noise from --seed.")
    Path noise;

    @Option(names = "--variant", defaultValue = "auto", description = "Kernel variant: auto, ref, avx2, avx512. Default: ${DEFAULT-VALUE}.")
    String variant;

    @Option(names = "--forecast-sums", defaultValue = "auto", description = "Forecast sums: auto, on or off. On: the first forecast step after a full step computes the stack's forecasts of every forecast step up to the next full step in one pass over the Taylor factors, and each step adds its sum (the same terms in another order: the latents differ from the official order at float rounding). Off: each step forecasts in the official order. Auto: on when the factors exceed 32 MiB (then reading them once per full step pays). Default: ${DEFAULT-VALUE}.")
    String forecastSums;

    @Mixin
    PolicyOptions policyOptions = new PolicyOptions();

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Mixin
    FactorDtypeOption factorDtype = new FactorDtypeOption();

    @Option(names = "--out-latents", description = "Write the final latents of the conditional half to this safetensors file (tensor 'sample'), in an existing writable directory. Default: not written.")
    String outLatents;

    @Option(names = "--out-image", description = "Write a PNG, in an existing writable directory: the images for 1- or 3-channel models, the pictures decoded by --vae, a false-colour preview of channels 0..2 otherwise. Default: not written.")
    String outImage;

    @Option(names = "--vae", description = "Decode the samples for --out-image with this autoencoder: a diffusers AutoencoderKL directory (sd-vae-ft-ema or -mse for DiT) or a .safetensors file (see seer vae). Default: none, a latent preview.")
    Path vae;

    @Option(names = "--vae-config", description = "The --vae autoencoder's config: a preset (sd, flux) or a config JSON file. Default: the directory's config.json; flux for a BFL file.")
    String vaeConfig;

    @Option(names = "--json", description = "Print the statistics as one JSON object instead of a table. Default: off.")
    boolean json;

    @Option(names = "--repeat", defaultValue = "1", description = "Run the same sampling this many times in one process (JIT warm after the first) and report the run with the median time, 1..1000. Default: ${DEFAULT-VALUE}.")
    int repeat;

    @Mixin
    MemoryPlanOption memoryPlan = new MemoryPlanOption();

    private double[] runSeconds = new double[0];
    private CachePolicy policy;
    private SamplerKind samplerKind;
    private Variant variantChoice;
    private ForecastSums forecastSumsChoice;

    static final class Presets implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ModelFamilies.presetNames().iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        // Everything is validated before any work starts.
        validateCommon();
        if (model == null && weights == null && labels == null && noise == null && outLatents == null && vae == null) {
            if (ShippedModels.hasFashionDit()) {
                return fashionDemo();
            }
            System.err.println("note: this build does not ship the Fashion-MNIST DiT yet (docs/models/fashion-dit.md); "
                    + "sampling DiT-S/2 instead");
        }
        if (model == null) {
            model = "DiT-S/2";
        }
        double cfg = this.cfg == null ? 1.5 : this.cfg;
        DitConfig config = parseModel();
        if (cfg > 0 && !config.hasNullClass()) {
            throw OptionChecks.invalid("--cfg", cfg, "0 for this model (class_dropout_prob 0: it has no null class to guide with)");
        }
        OptionChecks.existingFile("--weights", weights, "an existing .pt, .pth, .bin or .safetensors file");
        OptionChecks.existingFile("--noise", noise, "an existing safetensors file");
        Path latentsFile = OptionChecks.outputFile("--out-latents", outLatents);
        Path imageFile = OptionChecks.outputFile("--out-image", outImage);
        dev.seer.model.vae.VaeConfig vaeChecked = vae == null ? null
                : VaeCommand.checkSamplingVae(vae, vaeConfig, config.inChannels(), imageFile);
        if (labels != null) {
            if (labels.length == 0) {
                throw OptionChecks.invalid("--labels", "", "class labels in 0.." + (config.numClasses() - 1));
            }
            for (long y : labels) {
                OptionChecks.range("--labels", y, 0, config.numClasses() - 1);
            }
        }
        threads.apply();
        float[] noiseValues = null;
        long[] sampleLabels = labels;
        if (noise != null) {
            try (SafetensorsFile f = Safetensors.open(noise)) {
                Tensor t = f.get("noise");
                Shape want = Shape.of(t.shape().dim(0), config.inChannels(), config.inputSize(), config.inputSize());
                if (t.dtype() != DType.F32 || !t.shape().equals(want) || t.shape().rank() != 4) {
                    throw new CheckpointException(noise, "noise", "F32 of shape (n, " + config.inChannels() + ", "
                            + config.inputSize() + ", " + config.inputSize() + ")", t.dtype() + " of shape " + t.shape());
                }
                noiseValues = t.toFloatArray();
                if (sampleLabels == null && f.contains("labels")) {
                    Tensor l = f.get("labels");
                    if (l.dtype() != DType.I64 || !l.shape().equals(Shape.of(t.shape().dim(0)))) {
                        throw new CheckpointException(noise, "labels", "I64 of shape (" + t.shape().dim(0) + ",)",
                                l.dtype() + " of shape " + l.shape());
                    }
                    sampleLabels = new long[(int) l.numel()];
                    for (int i = 0; i < sampleLabels.length; i++) {
                        sampleLabels[i] = l.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
                    }
                }
                if (sampleLabels == null) {
                    sampleLabels = new long[(int) t.shape().dim(0)];
                } else if (sampleLabels.length != t.shape().dim(0)) {
                    throw OptionChecks.invalid("--labels", sampleLabels.length + " labels",
                            "one label per sample of --noise (" + t.shape().dim(0) + ")");
                }
            } catch (InternalError e) {
                throw TorchCheckpoints.changedWhileReading(noise, null, e); // the mapped file shrank while read
            }
        }
        if (sampleLabels == null) {
            sampleLabels = new long[] {0};
        }
        if (!memoryPlan.ignore) {
            try {
                DitMemoryPlan.requireFits(config, model, sampleLabels.length, cfg > 0 ? 2 : 1, steps, policy,
                        factorDtype.value().storageFor(DType.F32).byteSize(), forecastSumsChoice,
                        weights == null ? DitMemoryPlan.Source.RANDOM : DitMemoryPlan.Source.FILE,
                        DitConfig.machineMemoryBytes());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--model " + model + ": " + e.getMessage(), e);
            }
        }
        SampleRequest request = SampleRequest.builder(sampleLabels).noise(noiseValues).steps(steps).sampler(samplerKind).eta(eta)
                .cfgScale(cfg).guideAllChannels(guideAllChannels).policy(policy).seed(seed).variant(variantChoice)
                .forecastSums(forecastSumsChoice).factorDtype(factorDtype.value())
                .listener(new ProgressBar(System.err, "sampling")).build();
        for (long y : sampleLabels) {
            if (y < 0 || y >= config.numClasses()) {
                throw new IllegalArgumentException("--noise: label " + y + " is not allowed; allowed: labels in 0.."
                        + (config.numClasses() - 1));
            }
        }

        DitModel dit;
        if (weights != null) {
            dit = DitModel.load(config, weights);
        } else {
            System.err.println("note: no --weights given; using random weights (seed " + weightsSeed + "): speed runs only, the samples are noise");
            try (Arena arena = Arena.ofConfined()) {
                dit = DitModel.fromStateDict(config, DitWeights.random(config, weightsSeed, arena));
            }
        }
        List<SampleResult> runs = new ArrayList<>();
        try (DitModel model = dit; DitPipeline pipeline = new DitPipeline(model)) {
            for (int i = 0; i < repeat; i++) {
                runs.add(pipeline.sample(request));
            }
        }
        List<SampleResult> byTime = new ArrayList<>(runs);
        byTime.sort(Comparator.comparingDouble(r -> r.stats().seconds()));
        SampleResult result = byTime.get(byTime.size() / 2);
        runSeconds = runs.stream().mapToDouble(r -> r.stats().seconds()).toArray();
        String nonFinite = nonFinite(result, cfg, noiseValues);
        if (nonFinite != null) {
            System.err.println("seer sample: " + nonFinite + "; no output written");
            return SeerCli.UNUSABLE_RESULT;
        }
        if (latentsFile != null) {
            try (Arena arena = Arena.ofConfined()) {
                Tensor t = Tensor.ofFloats(arena, result.latents(), result.shape().toArray());
                Safetensors.write(latentsFile, Map.of("sample", t), Map.of("policy", policy.spec(), "steps", String.valueOf(steps)));
            } catch (IOException e) {
                throw new IOException("--out-latents: " + e.getMessage(), e);
            }
        }
        if (imageFile != null) {
            try {
                if (vae != null) {
                    VaeCommand.decodeToPng(vae, vaeChecked, result.latents(), result.shape().toArray(), imageFile);
                } else {
                    writeImage(result, config, imageFile);
                }
            } catch (IOException e) {
                throw new IOException("--out-image: " + e.getMessage(), e);
            }
        }
        print(result, config, policy);
        return 0;
    }

    /** The main job: the shipped model, uncached vs the cache policy, one grid and one table. */
    private int fashionDemo() throws IOException {
        Path outGrid = OptionChecks.outputFile("--out-grid", this.outGrid);
        OptionChecks.outputFile("--out-image", outImage);
        double scale = cfg == null ? ShippedModels.DIT_CFG : cfg;
        SampleRequest request = SampleRequest.builder(0).steps(steps).sampler(samplerKind).eta(eta).cfgScale(scale)
                .guideAllChannels(guideAllChannels).policy(policy).seed(seed).variant(variantChoice)
                .forecastSums(forecastSumsChoice).factorDtype(factorDtype.value()).build();
        threads.apply();
        FashionDemo.Result r;
        try (DitModel dit = ShippedModels.fashionDit(); FashionProbe probe = FashionProbe.loadShipped()) {
            r = FashionDemo.run(dit, probe, request, perClass, outGrid, new ProgressBar(System.err, "uncached  "),
                    new ProgressBar(System.err, "cached    "));
        }
        FashionDemo.printTable(System.out, r, policy.label(), 10 * perClass, steps, scale);
        System.out.println("grid: " + outGrid.toAbsolutePath() + " (left: uncached, right: " + policy.label() + ")");
        return 0;
    }

    private void writeImage(SampleResult r, DitConfig config, Path outImage) throws IOException {
        int n = (int) r.shape().dim(0);
        int c = config.inChannels();
        int s = config.inputSize();
        Images.Grid grid = Images.grid(1, n).scale(Math.max(1, 128 / s));
        for (int i = 0; i < n; i++) {
            float[] one = Arrays.copyOfRange(r.latents(), i * c * s * s, (i + 1) * c * s * s);
            grid.set(0, i, c == 1 ? Images.gray(one, s, s) : c == 3 ? Images.rgb(one, s, s) : Images.latentPreview(one, c, s, s));
        }
        grid.write(outImage);
    }

    private void print(SampleResult r, DitConfig config, CachePolicy policy) throws IOException {
        RunStats s = r.stats();
        if (json) {
            ObjectMapper om = new ObjectMapper();
            ObjectNode o = om.createObjectNode();
            o.put("model", model);
            o.put("policy", policy.name());
            o.put("spec", policy.spec());
            o.put("interval", policy.interval());
            o.put("order", policy.maxOrder());
            o.put("steps", steps);
            o.put("samples", r.shape().dim(0));
            o.set("full_steps", om.valueToTree(s.fullSteps()));
            o.put("computed_branches", s.computedBranches());
            o.put("forecast_branches", s.forecastBranches());
            o.put("flops_official", s.flopsOfficial());
            o.put("flops_actual", s.flopsActual());
            o.put("seconds", s.seconds());
            o.put("seconds_full", s.secondsFull());
            o.put("seconds_forecast", s.secondsForecast());
            o.put("seconds_other", s.secondsOther());
            o.put("cache_bytes", s.cacheBytes());
            o.put("factor_dtype", factorDtype.value().cliName());
            o.set("seconds_runs", om.valueToTree(runSeconds));
            o.set("nonfinite_fallbacks", om.valueToTree(s.nonFiniteFallbacks()));
            System.out.println(om.writeValueAsString(o));
            return;
        }
        int full = s.fullSteps().size();
        int fc = s.forecastSteps().size();
        System.out.printf(Locale.ROOT, "model            %s (depth %d, hidden %d, %d tokens)%n", model, config.depth(), config.hiddenSize(), config.tokens());
        System.out.printf(Locale.ROOT, "policy           %s (interval %d, order %d), %d steps%n", policy.name(), policy.interval(), policy.maxOrder(), steps);
        System.out.printf(Locale.ROOT, "full steps       %d %s%n", full, s.fullSteps());
        System.out.printf(Locale.ROOT, "forecast steps   %d%n", fc);
        System.out.printf(Locale.ROOT, "FLOPs official   %.4g%n", s.flopsOfficial());
        System.out.printf(Locale.ROOT, "FLOPs actual     %.4g%n", s.flopsActual());
        System.out.printf(Locale.ROOT, "cache            %.1f MiB (%s factors)%n", s.cacheBytes() / 1048576.0,
                factorDtype.value().cliName());
        System.out.printf(Locale.ROOT, "time             %.3f s (full steps %.3f s = %.2f ms each, forecast steps %.3f s = %.3f ms each, other %.3f s)%n",
                s.seconds(), s.secondsFull(), full == 0 ? 0 : 1e3 * s.secondsFull() / full, s.secondsForecast(),
                fc == 0 ? 0 : 1e3 * s.secondsForecast() / fc, s.secondsOther());
        if (runSeconds.length > 1) {
            System.out.printf(Locale.ROOT, "runs             %s s (median shown)%n", Arrays.toString(runSeconds));
        }
        if (!s.nonFiniteFallbacks().isEmpty()) {
            System.out.printf(Locale.ROOT, "fallbacks        %s (non-finite forecasts recomputed in full)%n", s.nonFiniteFallbacks());
        }
    }

    /**
     * Null when every latent is finite; else one line saying how many are not, and the likeliest cause that the
     * options or inputs show (a huge guidance scale, noise far from standard normal), else the weights.
     */
    private String nonFinite(SampleResult result, double cfg, float[] noiseValues) {
        if (result.stats().finite()) {
            return null;
        }
        float[] latents = result.latents();
        long bad = 0;
        for (float v : latents) {
            if (!Float.isFinite(v)) {
                bad++;
            }
        }
        float noiseMax = 0;
        if (noiseValues != null) {
            for (float v : noiseValues) {
                noiseMax = Math.max(noiseMax, Math.abs(v));
            }
        }
        String cause = cfg > 20 ? "--cfg " + cfg + " (guidance scales past ~20 amplify the model's output beyond float range)"
                : noiseMax > 100 ? "--noise " + noise + " (values up to " + noiseMax + "; standard normal noise expected)"
                : weights != null ? "--weights " + weights + " (the model's outputs overflow float32: weights far larger than a trained model's?)"
                : "the random weights (--weights-seed " + weightsSeed + ")";
        return "the final latents are not finite (" + bad + " of " + latents.length + " values NaN or infinite, the first"
                + " after step " + result.stats().firstNonFiniteStep() + "); likely cause: " + cause;
    }

    /** The options both paths use: ranges, names, the cache policy. */
    private void validateCommon() {
        OptionChecks.range("--steps", steps, 1, 1000);
        samplerKind = OptionChecks.sampler("--sampler", sampler);
        OptionChecks.finiteRange("--eta", eta, 0, 1);
        if (cfg != null) {
            OptionChecks.finiteRange("--cfg", cfg, 0, Double.MAX_VALUE);
        }
        policy = policyOptions.policy(4, 4);
        variantChoice = parseVariant(variant);
        forecastSumsChoice = parseForecastSums(forecastSums);
        factorDtype.value();
        OptionChecks.range("--per-class", perClass, 1, 100);
        OptionChecks.range("--repeat", repeat, 1, 1000);
        OptionChecks.range("--input-size", inputSize, 1, 1024);
        OptionChecks.range("--num-classes", numClasses, 1, 1_000_000);
        threads.validate();
    }

    /** --model as a config file, else as a preset sized by --input-size and --num-classes. */
    private DitConfig parseModel() throws IOException {
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
        if (!(resolved.config() instanceof DitConfig config)) {
            throw OptionChecks.invalid("--model", model, "a DiT model (this command samples the " + resolved.family().name()
                    + " family with other options)");
        }
        if (Files.isRegularFile(Path.of(model))) {
            return config;
        }
        DitConfig preset = config;
        if (inputSize % preset.patchSize() != 0) {
            throw OptionChecks.invalid("--input-size", inputSize, "a multiple of " + model + "'s patch size "
                    + preset.patchSize() + " in 1..1024");
        }
        return DitConfig.preset(model, inputSize, 4, numClasses);
    }

    static ForecastSums parseForecastSums(String name) {
        try {
            return ForecastSums.parse(name);
        } catch (IllegalArgumentException e) {
            throw OptionChecks.invalid("--forecast-sums", name, "auto, on or off");
        }
    }

    static Variant parseVariant(String name) {
        for (Variant v : Variant.values()) {
            if (v.name().equalsIgnoreCase(name)) {
                return v;
            }
        }
        throw OptionChecks.invalid("--variant", name, "auto, ref, avx2 or avx512");
    }
}
