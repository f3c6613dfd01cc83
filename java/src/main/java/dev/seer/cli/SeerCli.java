package dev.seer.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code seer} command line. Results go to stdout, progress and logs to stderr. Exit codes: 0 success,
 * 1 a check failed (kernel validation, soak growth), 2 a usage error (a bad option or input file), reported in
 * one line without a stack trace.
 */
@Command(name = "seer", mixinStandardHelpOptions = true, version = "seer 0.1.0",
        description = "Diffusion transformers with TaylorSeer feature forecasting on the JVM.",
        subcommands = {SampleCommand.class, KernelsCommand.class, TrainCommand.class, TrainProbeCommand.class,
                EvalCommand.class, BenchCommand.class, SoakCommand.class, VaeCommand.class, CommandLine.HelpCommand.class})
public final class SeerCli implements Runnable {
    static final int USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
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

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
