package dev.seer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code seer} command line. Results go to stdout, progress and logs to stderr. */
@Command(name = "seer", mixinStandardHelpOptions = true, version = "seer 0.1.0",
        description = "Diffusion transformers with TaylorSeer feature forecasting on the JVM.",
        subcommands = {SampleCommand.class, KernelsCommand.class, TrainCommand.class, TrainProbeCommand.class,
                EvalCommand.class, SoakCommand.class, CommandLine.HelpCommand.class})
public final class SeerCli implements Runnable {
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
                commandLine.getErr().println("seer " + commandLine.getCommandName() + ": " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
