package org.charrnn.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.charrnn.util.ConfigError;
import org.charrnn.util.IoErrors;
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
        showDefaultValues = true)
public final class Main implements Runnable {
    static final String VERSION = "0.1.0";

    /**
     * The commands, in the order --help lists them. Picocli reads the options of every command it
     * is given, about a tenth of a second for all of them at start-up, so a command line naming one
     * gets only that one ({@link #commandLine(String...)}). Lambdas, not constructor references:
     * those would load every command class.
     */
    private static final List<Map.Entry<String, Supplier<Object>>> COMMANDS = List.of(
            Map.entry("train", () -> new TrainCommand()),
            Map.entry("sample", () -> new SampleCommand()),
            Map.entry("eval", () -> new EvalCommand()),
            Map.entry("corpus", () -> new CorpusCommand()),
            Map.entry("bench", () -> new BenchCommand()),
            Map.entry("verify", () -> new VerifyCommand()),
            Map.entry("devices", () -> new DevicesCommand()),
            Map.entry("cells", () -> new CellsCommand()),
            Map.entry("report", () -> new ReportCommand()),
            Map.entry("caption", () -> new CaptionCommand()),
            Map.entry("help", () -> new CommandLine.HelpCommand()));

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(),
                "missing command (train, sample, eval, verify, devices, corpus, bench, cells, report, caption; see --help)");
    }

    public static void main(String[] args) {
        // a -Dcharrnn.* property the code does not read (a misspelt knob) would change nothing in silence
        String unknown = org.charrnn.bench.Knobs.unknownProperty(System.getProperties());
        if (unknown != null) {
            System.err.println("charrnn: " + unknown);
            System.exit(2);
        }
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = commandLine(args);
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
                            : e instanceof InternalError
                                            && String.valueOf(e.getMessage()).contains("unsafe memory access")
                                    ? "charrnn: a memory-mapped file (an encoded corpus in the cache) was truncated"
                                            + " or replaced while in use; run again to rebuild it"
                                    : "charrnn: internal error: " + e
                                            + (debug ? "" : " (run with --debug for details)"));
            if (debug) e.printStackTrace(err);
            err.flush();
            return 1;
        }
    }

    /**
     * A path option's value: an empty one (an unset shell variable, {@code --out "$DIR"}) would
     * otherwise be the working directory, where a run would then write or a checkpoint be looked for.
     */
    static Path path(String value) {
        if (value.isEmpty())
            throw new CommandLine.TypeConversionException("the path is empty (for the working directory give .)");
        return Path.of(value);
    }

    /**
     * The command line for {@code argv}: with only the command they name where they start with one
     * (after --debug), else with all (for help, --version and suggestions for a misspelt name).
     */
    static CommandLine commandLine(String... argv) {
        CommandLine cl = new CommandLine(new Main());
        String named = commandName(argv);
        for (Map.Entry<String, Supplier<Object>> c : COMMANDS)
            if (named == null || named.equals(c.getKey()))
                cl.addSubcommand(c.getKey(), c.getValue().get());
        shareVersion(cl, cl.getCommandSpec().version());
        cl.registerConverter(Path.class, Main::path);
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
                err.println("charrnn: " + u.render(OptionNames.BY_SETTING));
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
            // a read or write the command did not expect to fail, in words
            IOException io = t instanceof IOException e ? e : t instanceof UncheckedIOException u ? u.getCause() : null;
            if (io != null) {
                err.println("charrnn: " + IoErrors.reason(io));
                if (debug) t.printStackTrace(err);
                err.flush();
                return 1;
            }
            err.println("charrnn: internal error: " + t + (debug ? "" : " (run with --debug for details)"));
            if (debug) t.printStackTrace(err);
            err.flush();
            return 1;
        });
        return cl;
    }

    /** Gives every subcommand (and theirs) {@code version}: their -V/--version prints charrnn's. */
    private static void shareVersion(CommandLine cl, String[] version) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            sub.getCommandSpec().version(version);
            shareVersion(sub, version);
        }
    }

    /** The command {@code args} name (other than help), or null. */
    static String commandName(String... args) {
        for (String a : args) {
            if (a.equals("--debug")) continue;
            if (a.equals("help")) return null;
            for (Map.Entry<String, Supplier<Object>> c : COMMANDS)
                if (c.getKey().equals(a)) return a;
            return null;
        }
        return null;
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
