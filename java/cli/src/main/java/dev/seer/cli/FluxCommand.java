package dev.seer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seer.cache.CachePolicy;
import dev.seer.cache.FactorDtype;
import dev.seer.io.Safetensors;
import dev.seer.kernel.Variant;
import dev.seer.model.MemoryPlan;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.flux.FluxInputs;
import dev.seer.model.flux.FluxMemoryPlan;
import dev.seer.model.flux.FluxModel;
import dev.seer.model.flux.FluxParams;
import dev.seer.model.flux.FluxSampler;
import dev.seer.model.flux.FluxWeights;
import dev.seer.sampling.ProgressListener;
import dev.seer.sampling.RunStats;
import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code seer flux}: one FLUX.1 sampling from text-encoder outputs, with TaylorSeer (official FLUX schedule), FORA or
 * no cache. Writes the final latents (tensor {@code sample}, (B, 16, H, W) float32) and prints the run's statistics.
 */
@Command(name = "flux", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Sample FLUX.1 [dev] or [schnell] latents from T5/CLIP outputs (an inputs file), with TaylorSeer caching.")
final class FluxCommand implements Callable<Integer> {
    /** Random weights (speed runs) are drawn only for models up to this size: FLUX-dev itself would take 47.6 GB. */
    static final long RANDOM_WEIGHTS_MAX_BYTES = 8L << 30;

    @Option(names = "--model", required = true, description = "flux-dev, flux-schnell, or a params JSON file with the official FluxParams field names. Default: none, required.")
    String model;

    @Option(names = "--weights", description = "A BFL .safetensors checkpoint (flux1-dev.safetensors), a diffusers single file, or a diffusers model or transformer/ directory (config.json, sharded safetensors and their index). Default: none, random weights (speed runs only).")
    Path weights;

    @Option(names = "--weights-seed", defaultValue = "0", description = "Seed of the random weights used when --weights is absent. Default: ${DEFAULT-VALUE}.")
    long weightsSeed;

    @Option(names = "--inputs", description = "A safetensors file with 'txt' (B, L, context_in_dim), 'vec' (B, vec_in_dim) and optionally 'noise' (B, C, H, W), 'txt_ids', 'img_ids', 'timesteps' (steps + 1). Default: none, random text inputs (speed runs only).")
    Path inputs;

    @Option(names = "--txt-tokens", defaultValue = "512", description = "Text tokens of the random inputs used when --inputs is absent, 1..4096. Default: ${DEFAULT-VALUE}.")
    int txtTokens;

    @Option(names = "--width", description = "Image width in pixels, a multiple of 16 in 16..16384 (latents are 1/8). Default: 1024, or the inputs' noise.")
    Integer width;

    @Option(names = "--height", description = "Image height in pixels, a multiple of 16 in 16..16384. Default: 1024, or the inputs' noise.")
    Integer height;

    @Option(names = "--steps", description = "Sampling steps, 1..1000. Default: the inputs' timesteps, else 50 with a guidance embedding (dev), 4 without (schnell).")
    Integer steps;

    @Option(names = "--guidance", description = "Guidance value for guidance-distilled models (dev), a finite number in 0..100. Default: 3.5. Not allowed for schnell.")
    Double guidance;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the initial noise when the inputs hold none (libtorch's CPU generator, as torch.manual_seed). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--dtype", defaultValue = "f32", description = "Compute dtype: f32, or bf16 (linear maps and the MLP GELU in bf16; norms, rotary embedding, attention, modulation and residual streams in float32; bf16-stored weights read in place; random weights are then stored in bf16). Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Mixin
    PolicyOptions policyOptions = new PolicyOptions();

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Mixin
    FactorDtypeOption factorDtype = new FactorDtypeOption();

    @Mixin
    MemoryPlanOption memoryPlan = new MemoryPlanOption();

    @Option(names = "--out-latents", description = "Write the final latents to this safetensors file (tensor 'sample', (B, C, H, W) float32), in an existing writable directory. Default: not written.")
    Path outLatents;

    @Option(names = "--json", description = "Print the statistics as one JSON object instead of a table. Default: off.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        FluxParams params = FluxParams.resolve(model);
        DType compute = computeType("--dtype", dtype);
        CachePolicy policy = policyOptions.policy(6, 1);
        FactorDtype factors = factorDtype.value();
        OptionChecks.existingFile("--inputs", inputs, "an existing safetensors file");
        if (weights != null && !weights.toFile().exists()) {
            throw OptionChecks.invalid("--weights", weights.toString(), "an existing .safetensors file or diffusers directory (no such path)");
        }
        OptionChecks.writableFile("--out-latents", outLatents);
        OptionChecks.range("--txt-tokens", txtTokens, 1, 4096);
        if (width != null) {
            pixels("--width", width);
        }
        if (height != null) {
            pixels("--height", height);
        }
        if (steps != null) {
            OptionChecks.range("--steps", steps, 1, 1000);
        }
        if (guidance != null) {
            if (!params.guidanceEmbed()) {
                throw OptionChecks.invalid("--guidance", guidance, "no value for this model (it has no guidance embedding: schnell)");
            }
            OptionChecks.finiteRange("--guidance", guidance, 0, 100);
        }
        if (weights == null) {
            long bytes = compute.byteSize() * FluxWeights.expectedShapes(params).values().stream()
                    .mapToLong(shape -> java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b)).sum();
            if (bytes > RANDOM_WEIGHTS_MAX_BYTES) {
                throw OptionChecks.invalid("--weights", "none", "a checkpoint for this model (random " + computeName(compute) + " weights would take "
                        + bytes / (1L << 20) + " MiB; at most " + (RANDOM_WEIGHTS_MAX_BYTES >> 20) + " MiB are drawn)");
            }
        }
        threads.apply();
        FluxInputs in;
        if (inputs != null) {
            in = FluxInputs.read(inputs, params);
        } else {
            System.err.println("note: no --inputs given; using random text inputs (" + txtTokens + " tokens): speed runs only");
            in = randomInputs(params, txtTokens, seed);
        }
        if (in.noise() != null) {
            checkAgainstNoise("--width", width, in.noiseShape()[3]);
            checkAgainstNoise("--height", height, in.noiseShape()[2]);
        }
        int latentH = in.noise() != null ? (int) in.noiseShape()[2] : (height == null ? 1024 : height) / 8;
        int latentW = in.noise() != null ? (int) in.noiseShape()[3] : (width == null ? 1024 : width) / 8;
        int stepCount;
        if (in.timesteps() != null) {
            stepCount = in.timesteps().length - 1;
            if (steps != null && steps != stepCount) {
                throw OptionChecks.invalid("--steps", steps, stepCount + " (the inputs' timesteps hold " + (stepCount + 1) + " values)");
            }
        } else {
            stepCount = steps != null ? steps : params.guidanceEmbed() ? 50 : 4;
        }
        double g = guidance != null ? guidance : 3.5;
        FluxSampler.Request request = new FluxSampler.Request(stepCount, latentH, latentW, g, params.guidanceEmbed(), seed, policy,
                Variant.AUTO, json ? ProgressListener.NONE : new ProgressBar(System.err, "sampling"), factors);
        if (!memoryPlan.ignore) {
            MemoryPlan plan = FluxMemoryPlan.forRun(params, model, in.batch(), in.txtTokens(),
                    (long) (latentH / 2) * (latentW / 2), weights == null ? null : PlanCommand.bytesOf(weights), compute,
                    policy, factors.storageFor(DType.F32).byteSize());
            long available = DitConfig.machineMemoryBytes();
            if (!plan.fits(available)) {
                throw OptionChecks.invalid("--model", model, "a run whose memory plan fits: it needs "
                        + plan.summary() + ", more than the " + MemoryPlan.bytes(available)
                        + " of memory available (see seer plan; --dtype bf16, --factor-dtype bf16, taylorseer-lite or"
                        + " --ignore-memory-plan)");
            }
        }
        FluxWeights w;
        if (weights != null) {
            w = FluxWeights.load(params, weights);
        } else {
            System.err.println("note: no --weights given; using random weights (seed " + weightsSeed + ", stored in "
                    + computeName(compute) + "): speed runs only, the samples are noise");
            w = FluxWeights.fromStateDict(params, FluxWeights.randomStateDict(params, weightsSeed, Arena.ofAuto(), compute));
        }
        FluxSampler.Result r;
        try (FluxModel flux = new FluxModel(w, compute)) {
            r = FluxSampler.sample(flux, in, request);
            if (outLatents != null) {
                try (Arena arena = Arena.ofConfined()) {
                    Tensor t = Tensor.ofFloats(arena, r.latents(), r.shape().toArray());
                    Safetensors.write(outLatents, Map.of("sample", t), Map.of("policy", policy.spec(),
                            "steps", String.valueOf(stepCount), "model", model));
                }
            }
            print(r, params, policy, stepCount, flux.weights());
        }
        return 0;
    }

    /** The compute dtype named by {@code value}: f32 (float32) or bf16 (bfloat16). */
    static DType computeType(String option, String value) {
        return switch (value == null ? "" : value.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> DType.F32;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw OptionChecks.invalid(option, value, "f32, bf16");
        };
    }

    /** How the statistics name a compute dtype: float32 or bf16. */
    static String computeName(DType compute) {
        return compute == DType.BF16 ? "bf16" : "float32";
    }

    private static void pixels(String option, int v) {
        if (v < 16 || v > 16384 || v % 16 != 0) {
            throw OptionChecks.invalid(option, v, "a multiple of 16 in 16..16384");
        }
    }

    private static void checkAgainstNoise(String option, Integer pixels, long latent) {
        if (pixels != null && pixels != latent * 8) {
            throw OptionChecks.invalid(option, pixels, latent * 8 + " (the inputs' noise is " + latent + " latents = " + latent * 8 + " pixels)");
        }
    }

    /** Random text inputs (T5-like and CLIP-like N(0, 1) values, {@code txtTokens} tokens) for speed runs. */
    static FluxInputs randomInputs(FluxParams p, int txtTokens, long seed) {
        Random rnd = new Random(seed);
        float[] txt = new float[txtTokens * p.contextInDim()];
        float[] vec = new float[p.vecInDim()];
        for (int i = 0; i < txt.length; i++) {
            txt[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < vec.length; i++) {
            vec[i] = (float) rnd.nextGaussian();
        }
        return new FluxInputs(txt, new long[] {1, txtTokens, p.contextInDim()}, vec, null, null, null, null, null);
    }

    private void print(FluxSampler.Result r, FluxParams p, CachePolicy policy, int stepCount, FluxWeights w) throws IOException {
        RunStats s = r.stats();
        String computeName = computeName(w.computeType());
        String stored = w.storedTypes().toString() + (w.convertsPerUse() ? " (converted to " + computeName + " per use)" : "");
        if (json) {
            ObjectMapper om = new ObjectMapper();
            ObjectNode o = om.createObjectNode();
            o.put("model", model);
            o.put("policy", policy.name());
            o.put("interval", policy.interval());
            o.put("order", policy.maxOrder());
            o.put("steps", stepCount);
            o.put("samples", r.shape().dim(0));
            o.put("compute_dtype", computeName);
            o.put("weights_dtype", stored);
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
            o.set("nonfinite_fallbacks", om.valueToTree(s.nonFiniteFallbacks()));
            System.out.println(om.writeValueAsString(o));
            return;
        }
        int full = s.fullSteps().size();
        int fc = s.forecastSteps().size();
        System.out.printf(Locale.ROOT, "model            %s (depth %d + %d single, hidden %d), latents %s%n", model, p.depth(),
                p.depthSingleBlocks(), p.hiddenSize(), r.shape());
        System.out.printf(Locale.ROOT, "compute          %s; weights stored %s%n", computeName, stored);
        System.out.printf(Locale.ROOT, "policy           %s (interval %d, order %d), %d steps%n", policy.name(), policy.interval(), policy.maxOrder(), stepCount);
        System.out.printf(Locale.ROOT, "full steps       %d %s%n", full, s.fullSteps());
        System.out.printf(Locale.ROOT, "forecast steps   %d%n", fc);
        System.out.printf(Locale.ROOT, "FLOPs official   %.4g%n", s.flopsOfficial());
        System.out.printf(Locale.ROOT, "FLOPs actual     %.4g%n", s.flopsActual());
        System.out.printf(Locale.ROOT, "cache            %.1f MiB%n", s.cacheBytes() / 1048576.0);
        System.out.printf(Locale.ROOT, "time             %.3f s (full steps %.3f s = %.2f ms each, forecast steps %.3f s = %.3f ms each, other %.3f s)%n",
                s.seconds(), s.secondsFull(), full == 0 ? 0 : 1e3 * s.secondsFull() / full, s.secondsForecast(),
                fc == 0 ? 0 : 1e3 * s.secondsForecast() / fc, s.secondsOther());
        if (!s.nonFiniteFallbacks().isEmpty()) {
            System.out.printf(Locale.ROOT, "fallbacks        %s (non-finite forecasts recomputed in full)%n", s.nonFiniteFallbacks());
        }
    }
}
