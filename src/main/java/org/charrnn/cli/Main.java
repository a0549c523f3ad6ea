package org.charrnn.cli;

import java.io.PrintWriter;
import org.charrnn.util.ConfigError;
import org.charrnn.util.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code charrnn} command line: a thin layer over the library API. Errors in the user's
 * input print one line {@code charrnn: ...} and exit 2 (stack traces only with --debug).
 */
@Command(
        name = "charrnn",
        mixinStandardHelpOptions = true,
        version = "charrnn " + Main.VERSION,
        description = "Character-level RNN language models (LSTM, GRU, RNN) on CUDA, OpenCL or pure Java.",
        subcommands = {
            TrainCommand.class,
            SampleCommand.class,
            EvalCommand.class,
            CorpusCommand.class,
            BenchCommand.class,
            VerifyCommand.class,
            DevicesCommand.class,
            CellsCommand.class,
            ReportCommand.class,
            CaptionCommand.class,
            CommandLine.HelpCommand.class
        },
        showDefaultValues = true)
public final class Main implements Runnable {
    static final String VERSION = "0.1.0";

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(),
                "missing command (train, sample, eval, verify, devices, corpus, bench, cells, report; see --help)");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        try {
            return cl.execute(args);
        } catch (Error e) {
            // picocli hands only Exceptions to the execution-exception handler; Errors (out of heap,
            // a native library failing to link) arrive here and are still one line unless --debug
            PrintWriter err = cl.getErr();
            boolean debug = java.util.Arrays.asList(args).contains("--debug");
            err.println(
                    e instanceof OutOfMemoryError
                            ? "charrnn: out of Java heap memory ("
                                    + Runtime.getRuntime().maxMemory() / (1 << 20)
                                    + " MiB); raise it with JAVA_OPTS=-Xmx8g, or use a smaller model, batch or corpus"
                            : "charrnn: internal error: " + e + (debug ? "" : " (run with --debug for details)"));
            if (debug) e.printStackTrace(err);
            err.flush();
            return 1;
        }
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String hint = "";
            if (ex instanceof CommandLine.UnmatchedArgumentException u
                    && !u.getSuggestions().isEmpty())
                hint = "; did you mean "
                        + String.join(
                                " or ",
                                u.getSuggestions()
                                        .subList(
                                                0,
                                                Math.min(3, u.getSuggestions().size()))) + "?";
            err.println("charrnn: " + ex.getMessage() + hint + " (see: charrnn " + commandPath(ex.getCommandLine())
                    + "--help)");
            err.flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, command, parsed) -> {
            PrintWriter err = command.getErr();
            boolean debug = isDebug(parsed);
            Throwable t = ex;
            if (t instanceof UserError u) {
                err.println("charrnn: " + u.getMessage());
                if (debug) u.printStackTrace(err);
                err.flush();
                return u.exitCode();
            }
            if (t instanceof IllegalArgumentException) {
                err.println(
                        "charrnn: " + (t instanceof ConfigError c ? c.render(OptionNames.BY_SETTING) : t.getMessage()));
                if (debug) t.printStackTrace(err);
                err.flush();
                return 2;
            }
            err.println("charrnn: internal error: " + t + (debug ? "" : " (run with --debug for details)"));
            if (debug) t.printStackTrace(err);
            err.flush();
            return 1;
        });
        return cl;
    }

    private static String commandPath(CommandLine cl) {
        StringBuilder sb = new StringBuilder();
        for (CommandLine c = cl; c != null && c.getParent() != null; c = c.getParent())
            sb.insert(0, c.getCommandName() + " ");
        return sb.toString();
    }

    private static boolean isDebug(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) return true;
        }
        return false;
    }
}
