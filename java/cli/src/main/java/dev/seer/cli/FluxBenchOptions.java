package dev.seer.cli;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.FactorDtype;
import dev.seer.eval.BenchGrid;
import dev.seer.eval.FluxPolicyBench;
import dev.seer.families.ModelFamilies;
import dev.seer.io.TextFiles;
import dev.seer.model.flux.FluxFamily;
import dev.seer.model.flux.FluxInputs;
import dev.seer.model.flux.FluxModel;
import dev.seer.model.flux.FluxParams;
import dev.seer.model.flux.FluxWeights;
import dev.seer.tensor.DType;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code seer bench --model flux-dev|flux-schnell|params.json}: the FLUX rows of the policy bench (speed and fidelity to
 * the uncached latents; random weights unless {@code --weights}), with options of their own for the model's size.
 */
final class FluxBenchOptions {
    /** The FLUX rows: FORA N=6, TaylorSeer N=6 at orders 1 and 2. */
    static final List<String> DEFAULT_GRID = List.of("fora:6", "taylorseer:6:1", "taylorseer:6:2");

    @Option(names = "--flux-depth", description = "FLUX models only: double-stream blocks, 0..1000 (scales a preset down for speed runs with random weights). Default: the model's.")
    Integer depth;

    @Option(names = "--flux-single-blocks", description = "FLUX models only: single-stream blocks, 0..1000. Default: the model's.")
    Integer singleBlocks;

    @Option(names = "--txt-tokens", defaultValue = "64", description = "FLUX models only: text tokens of the random text inputs, 1..4096. Default: ${DEFAULT-VALUE}.")
    int txtTokens;

    @Option(names = "--image-size", defaultValue = "256", description = "FLUX models only: image width = height in pixels, a multiple of 16 in 16..16384 (256: 256 image tokens). Default: ${DEFAULT-VALUE}.")
    int imageSize;

    @Option(names = "--guidance", defaultValue = "3.5", description = "FLUX models with a guidance embedding (dev) only: the guidance value, 0..100. Default: ${DEFAULT-VALUE}.")
    double guidance;

    @Option(names = "--dtype", split = ",", defaultValue = "f32", description = "FLUX models only: compute dtypes, f32 and/or bf16 (see seer flux --help); "
            + "each gets its own rows, interleaved in one run; the first is the fidelity reference. Default: ${DEFAULT-VALUE}.")
    List<String> dtypes;

    /** Whether {@code model} names a FLUX model (a preset or a params JSON file). */
    static boolean isFlux(String model) {
        try {
            return model != null && ModelFamilies.resolve(model).family() == FluxFamily.INSTANCE;
        } catch (IllegalArgumentException | IOException e) {
            return false; // the DiT path says what is wrong with --model
        }
    }

    /** Runs the FLUX bench with the bench command's shared options. */
    int run(BenchCommand b) throws Exception {
        FluxParams base = FluxParams.resolve(b.model);
        if (depth != null) {
            OptionChecks.range("--flux-depth", depth, 0, 1000);
        }
        if (singleBlocks != null) {
            OptionChecks.range("--flux-single-blocks", singleBlocks, 0, 1000);
        }
        FluxParams p = new FluxParams(base.inChannels(), base.outChannels(), base.vecInDim(), base.contextInDim(),
                base.hiddenSize(), base.mlpRatio(), base.numHeads(), depth != null ? depth : base.depth(),
                singleBlocks != null ? singleBlocks : base.depthSingleBlocks(), base.axesDim(), base.theta(), base.qkvBias(),
                base.guidanceEmbed());
        OptionChecks.range("--txt-tokens", txtTokens, 1, 4096);
        if (imageSize < 16 || imageSize > 16384 || imageSize % 16 != 0) {
            throw OptionChecks.invalid("--image-size", imageSize, "a multiple of 16 in 16..16384");
        }
        OptionChecks.finiteRange("--guidance", guidance, 0, 100);
        OptionChecks.range("--steps", b.steps, 1, 1000);
        if (b.repeats != null) {
            OptionChecks.range("--repeats", b.repeats, 1, 1000);
        }
        OptionChecks.existingFile("--weights", b.weights, "an existing FLUX .safetensors file or diffusers directory");
        b.threads.validate();
        List<DType> computes = new ArrayList<>(new LinkedHashSet<>(dtypes.stream().map(d -> FluxCommand.computeType("--dtype", d)).toList()));
        List<CachePolicy> grid = BenchGrid.parse(b.policies != null ? b.policies : DEFAULT_GRID);
        if (b.weights == null) {
            long params = FluxWeights.expectedShapes(p).values().stream().mapToLong(s -> Arrays.stream(s).reduce(1, (x, y) -> x * y)).sum();
            long bytes = computes.stream().mapToLong(d -> params * d.byteSize()).sum();
            if (bytes > FluxCommand.RANDOM_WEIGHTS_MAX_BYTES) {
                throw OptionChecks.invalid("--weights", "none", "a checkpoint, or a smaller model (--flux-depth, --flux-single-blocks): random "
                        + "weights would take " + (bytes >> 20) + " MiB; at most " + (FluxCommand.RANDOM_WEIGHTS_MAX_BYTES >> 20) + " MiB are drawn");
            }
        }
        int repeats = b.repeats != null ? b.repeats : b.quick ? 1 : 3;
        List<FactorDtype> factorDtypes = b.factorDtypes == null ? List.of(FactorDtype.F32)
                : b.factorDtypes.stream().map(FactorDtypeOption::parse).toList();
        FluxPolicyBench.Settings settings = new FluxPolicyBench.Settings(b.steps, imageSize / 8, imageSize / 8, guidance,
                repeats, b.seed, grid, true, factorDtypes);
        Path json = b.outJson != null ? b.outJson : b.outDir.resolve("bench.json");
        Files.createDirectories(b.outDir);
        OptionChecks.writableFile("--out-json", json);

        b.threads.apply();
        PrintStream err = System.err;
        if (b.weights == null) {
            err.println("note: no --weights given; using random weights (seed " + b.weightsSeed + ", stored in each compute dtype): "
                    + "speed and fidelity to the uncached rows only");
        }
        FluxInputs in = FluxCommand.randomInputs(p, txtTokens, b.seed);
        List<FluxModel> models = new ArrayList<>();
        try {
            for (DType d : computes) {
                FluxWeights w = b.weights != null ? FluxWeights.load(p, b.weights)
                        : FluxWeights.fromStateDict(p, FluxWeights.randomStateDict(p, b.weightsSeed, Arena.ofAuto(), d));
                models.add(new FluxModel(w, d));
            }
            FluxPolicyBench.Report report = FluxPolicyBench.run(b.model, models, in, settings, (done, total, what) -> {
                String line = String.format(Locale.ROOT, "\rbench %d/%d  %s", done, total, what);
                err.print(String.format("%-100s", line.length() > 100 ? line.substring(0, 100) : line));
                if (done >= total) {
                    err.println();
                }
                err.flush();
            });
            String header = FluxPolicyBench.header(report);
            String md = FluxPolicyBench.markdown(report);
            TextFiles.writeAtomically(json, FluxPolicyBench.json(report));
            TextFiles.writeAtomically(b.outDir.resolve("bench.md"), header + "\n\n" + md);
            System.out.println(header);
            System.out.println();
            System.out.print(md);
            System.out.println("\nwritten: " + json.toAbsolutePath() + ", " + b.outDir.resolve("bench.md").toAbsolutePath());
        } finally {
            for (FluxModel m : models) {
                m.close();
            }
        }
        return 0;
    }
}
