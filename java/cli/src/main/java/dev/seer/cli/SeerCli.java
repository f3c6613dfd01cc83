package dev.seer.cli;

import dev.seer.Seer;
import dev.seer.SeerOptions;
import dev.seer.families.ModelFamilies;
import dev.seer.model.Family;
import dev.seer.model.flux.FluxFamily;
import java.io.IOException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code seer} command line. Results go to stdout, progress and logs to stderr. Exit codes: 0 success,
 * 1 a check failed (kernel validation, soak growth), 2 a usage error (a bad option or input file), reported in
 * one line without a stack trace, 3 a run that finished with an unusable result (non-finite latents; nothing is
 * written).
 */
@Command(name = "seer", mixinStandardHelpOptions = true, version = "seer 0.1.0",
        description = "Diffusion transformers with TaylorSeer feature forecasting on the JVM.",
        subcommands = {SampleCommand.class, FluxCommand.class, VaeCommand.class, KernelsCommand.class, TrainCommand.class,
                TrainProbeCommand.class, EvalCommand.class, BenchCommand.class, SoakCommand.class,
                ExtractNativesCommand.class, BenchThreadsCommand.class, PlanCommand.class, CommandLine.HelpCommand.class})
public final class SeerCli implements Runnable {
    static final int USAGE = 2;
    static final int UNUSABLE_RESULT = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // the CLI opts in to Seer's process-wide settings (system properties and environment as given) and headless AWT
        SeerOptions.Builder options = SeerOptions.builder().awtHeadless(true);
        if (System.getProperty(SeerOptions.BLAS_THREADS_PROPERTY) == null && runsFlux(byFamily(args))) {
            // FLUX's float32 linear maps are libtorch's, on OpenBLAS (DiT's run in Seer's kernel): give OpenBLAS the
            // cores (1.8x faster on the 2-core box: docs/BENCHMARKS.md, "FLUX: bf16 compute ...")
            options.blasThreads(SeerOptions.defaults().threads().orElse(Runtime.getRuntime().availableProcessors()));
        }
        Seer.configure(options.build());
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
        args = byFamily(args);
        CommandLine cli = new CommandLine(new SeerCli());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException || ex instanceof IllegalStateException) {
                commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
                return USAGE;
            }
            throw ex;
        });
        // A value picocli cannot convert ('abc' for an integer) or an unknown option: the message, then what the
        // option allows (its own help line), instead of the whole usage text.
        cli.setParameterExceptionHandler((ex, arguments) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter err = cmd.getErr();
            err.println(cmd.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
            if (ex.getArgSpec() instanceof CommandLine.Model.OptionSpec o) {
                err.println("  " + o.longestName() + ": " + String.join(" ", o.renderedDescription()));
            } else if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
                err.println("  see '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options");
            }
            err.flush();
            return USAGE;
        });
        return cli.execute(args);
    }

    /**
     * {@code seer sample --model M ...} with a model of the FLUX family runs {@code seer flux ...}: FLUX samples from
     * text conditioning, with options of its own. Other families' models stay with {@code seer sample}.
     */
    static String[] byFamily(String[] args) {
        if (args.length == 0 || !args[0].equals("sample")) {
            return args;
        }
        String model = modelArgument(args);
        Family<?> family;
        try {
            family = model == null ? null : ModelFamilies.resolve(model).family();
        } catch (IllegalArgumentException | IOException e) {
            return args; // seer sample says what is wrong with --model
        }
        if (family != FluxFamily.INSTANCE) {
            return args;
        }
        String[] routed = args.clone();
        routed[0] = FluxCommand.class.getAnnotation(Command.class).name();
        return routed;
    }

    /** Whether the (routed) command line runs a FLUX model: {@code seer flux}, or {@code seer bench} of a FLUX model. */
    static boolean runsFlux(String[] args) {
        if (args.length == 0) {
            return false;
        }
        return args[0].equals(FluxCommand.class.getAnnotation(Command.class).name())
                || args[0].equals("bench") && FluxBenchOptions.isFlux(modelArgument(args));
    }

    /** The value of --model, or null. */
    private static String modelArgument(String[] args) {
        String model = null;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--model") && i + 1 < args.length) {
                model = args[i + 1];
            } else if (args[i].startsWith("--model=")) {
                model = args[i].substring("--model=".length());
            }
        }
        return model;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
