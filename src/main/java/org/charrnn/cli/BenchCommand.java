package org.charrnn.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.BackendProvider;
import org.charrnn.backend.Backends;
import org.charrnn.backend.cuda.CudaBackendProvider;
import org.charrnn.backend.cuda.KernelProfile;
import org.charrnn.backend.cuda.StepRatesProbe;
import org.charrnn.bench.Bar;
import org.charrnn.bench.BenchResult;
import org.charrnn.bench.BenchRunner;
import org.charrnn.bench.BenchSpec;
import org.charrnn.bench.Chart;
import org.charrnn.bench.Compare;
import org.charrnn.bench.Grids;
import org.charrnn.bench.JsonRows;
import org.charrnn.bench.Predictions;
import org.charrnn.bench.Table;
import org.charrnn.model.CellType;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.ProgressBar;
import org.charrnn.util.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code charrnn bench}: times whole training steps (forward, loss, backward, clip, Adam) on a grid
 * of configurations; prints an aligned table and appends JSON lines joinable with
 * bench/torch_baseline.py's. With {@code --compare}, {@code --bar} or {@code --chart} it reads earlier
 * JSON lines ({@code --from}) instead of measuring; with {@code --predict} it prints the step cost
 * model's prediction for the CUDA backend on an H200.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = {
            "Measure training-step throughput of a backend on a grid of model configurations.",
            "Grids: torch-rnn (LSTM, L 1..3 x H 64..512, B50 T50), large (L3 H512 and L2 H1024 at B128 T100, "
                    + "GRU and RNN L2 H256 B50 T50), all. E = H, V = 65, no dropout."
        })
public final class BenchCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    GraphOptionMixin graphOption;

    @Option(
            names = "--grid",
            description = "torch-rnn | large | all; --model/--layers/--hidden/--batch/--seq then filter its rows.")
    String grid;

    @Option(
            names = "--model",
            showDefaultValue = Help.Visibility.NEVER,
            split = ",",
            description = "lstm | gru | rnn | mut1 | mut2 | mut3 (comma-separated list; default lstm without --grid). "
                    + "These five options also filter the rows of --compare and --chart.")
    List<String> model = new ArrayList<>();

    @Option(
            names = "--layers",
            showDefaultValue = Help.Visibility.NEVER,
            split = ",",
            description = "Layers L (list; default 2 without --grid).")
    List<Integer> layers = new ArrayList<>();

    @Option(
            names = "--hidden",
            showDefaultValue = Help.Visibility.NEVER,
            split = ",",
            description = "Hidden size H = embedding size E (list; default 128 without --grid).")
    List<Integer> hidden = new ArrayList<>();

    @Option(
            names = "--batch",
            showDefaultValue = Help.Visibility.NEVER,
            split = ",",
            description = "Streams B (list; default 50 without --grid).")
    List<Integer> batch = new ArrayList<>();

    @Option(
            names = "--seq",
            showDefaultValue = Help.Visibility.NEVER,
            split = ",",
            description = "Window T (list; default 50 without --grid).")
    List<Integer> seq = new ArrayList<>();

    @Option(names = "--steps", defaultValue = "30", description = "Timed training steps per configuration.")
    int steps;

    @Option(names = "--warmup", defaultValue = "8", description = "Untimed steps before them.")
    int warmup;

    @Option(
            names = "--split-steps",
            description = "Extra instrumented steps for the forward/backward/update split (default: min(steps, 10)).")
    Integer splitSteps;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the parameters and random tokens.")
    long seed;

    @Option(names = "--json", description = "Append one JSON line per configuration to this file.")
    Path json;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Option(
            names = "--compare",
            description =
                    "Do not measure: join the --from files' rows with PyTorch's and print a Markdown table of ms/step ratios.")
    boolean compare;

    @Option(
            names = "--bar",
            description = "Do not measure: judge the --from files' CUDA rows (fp32, TF32, --rnn-kernel auto) against "
                    + "PyTorch's: 5x faster than PyTorch with a CUDA graph at B <= 50, 2x above, peak memory no higher "
                    + "than eager PyTorch's. Prints a table; exit status 1 if a row misses.")
    boolean bar;

    @Option(
            names = "--predict",
            description = "Do not measure: print the step cost model's ms per training step of the CUDA backend on an "
                    + "H200 (--precision fp32 or tf32, --rnn-kernel) for each configuration, where the time goes, and "
                    + "beside the --from files' PyTorch rows with a CUDA graph the factor the bar needs; beside "
                    + "their charrnn-cuda rows of the same precision and --rnn-kernel (graphs, no -D knob) the "
                    + "measured ms and the prediction over it.")
    boolean predict;

    @Option(
            names = "--profile",
            paramLabel = "FILE",
            description =
                    "With --predict: Nsight Compute's CSV of a bench run of the one row given (ncu --csv --metrics "
                            + "gpu__time_duration.sum ... charrnn bench --no-graph; bench/gpu-check.sh's profile step): its "
                            + "kernels a step, by kernel and by part, beside the step cost model's price of each.")
    Path profile;

    @Option(
            names = "--probe",
            paramLabel = "FILE",
            description = "Do not bench: measure on the CUDA device (--device) the rates the step cost model assumes "
                    + "(a graph node's and a GEMM's floor, the graph launch, the step's host copy, HBM, GEMM "
                    + "efficiency in fp32 and TF32, how far a second stream gets beside the first, and each GEMM "
                    + "shape of the steps of --grid's rows, default all, in fp32 and TF32) and write them "
                    + "into this rates file (native-test/probe_rates's, "
                    + "which -Dcharrnn.persistent.rates hands to --predict), creating it if need be.")
    Path probe;

    @Option(
            names = "--chart",
            description =
                    "Do not measure: render the --from files' rows as an SVG chart (chars/s vs H per backend) into this file.")
    Path chart;

    @Option(
            names = "--from",
            showDefaultValue = Help.Visibility.NEVER,
            description =
                    "JSON-lines results (ours or bench/torch_baseline.py's) for --compare, --bar and --chart; repeatable.")
    List<Path> from = new ArrayList<>();

    @Option(names = "--title", defaultValue = "charrnn training throughput", description = "Chart title.")
    String title;

    @Spec
    CommandSpec spec;

    /** The row filters: every mode reads them. */
    private static final Set<String> FILTERS = Set.of("--model", "--layers", "--hidden", "--batch", "--seq");

    /** Options every mode takes: they ask for nothing a mode that does not read them would do. */
    private static final Set<String> ANY_MODE = Set.of("--quiet", "--debug");

    /** What each mode reads besides FILTERS (the mode's own flag included). */
    private static final Set<String> MEASURES = Set.of(
            "--grid",
            "--backend",
            "--device",
            "--precision",
            "--rnn-kernel",
            "--threads",
            "--no-graph",
            "--steps",
            "--warmup",
            "--split-steps",
            "--seed",
            "--json");

    private static final Set<String> PREDICTS =
            Set.of("--predict", "--grid", "--backend", "--precision", "--rnn-kernel", "--from", "--profile");

    private static final Set<String> PROBES = Set.of("--probe", "--grid", "--backend", "--device");

    private static final Set<String> REPORTS = Set.of("--compare", "--bar", "--chart", "--from", "--title");

    /**
     * The mode the options choose (--probe, --predict, --compare/--bar/--chart, else measuring) and
     * that every option typed is one it reads: a mode combined with another, or an option it would
     * take and drop, is a UserError. Checked before anything is read or run (and by
     * GpuCheckCommandsTest on every bench line of bench/gpu-check.sh).
     */
    void requireModeOptions() {
        if (probe != null) {
            if (predict || compare || bar || chart != null || json != null || !from.isEmpty() || profile != null)
                throw new UserError("--probe measures the device's rates; it does not combine with other modes, "
                        + "--json, --from or --profile");
            requireReadBy("--probe", "measures the device's rates of the --grid rows' steps", PROBES);
        } else if (predict) {
            if (compare || bar || chart != null)
                throw new UserError(
                        "--predict prints a prediction; it does not combine with --compare, --bar or --chart");
            if (json != null) throw new UserError("--json records measurements; --predict measures nothing");
            requireReadBy("--predict", "prices the steps with the step cost model (it runs none)", PREDICTS);
        } else {
            if (profile != null) throw new UserError("--profile is only used with --predict");
            boolean reads = compare || bar || chart != null;
            if (!reads && !from.isEmpty())
                throw new UserError("--from is only used with --compare, --bar, --chart or --predict");
            if (chart == null && spec.commandLine().getParseResult().hasMatchedOption("--title"))
                throw new UserError("--title is only used with --chart");
            if (reads) {
                requireReadBy(
                        compare ? "--compare" : bar ? "--bar" : "--chart",
                        "reads the --from files' rows (--model, --layers, --hidden, --batch and --seq filter them)",
                        REPORTS);
            } else {
                requireReadBy("a measuring run", "times training steps", MEASURES);
            }
        }
    }

    /** Throws a UserError naming the first option typed that {@code mode} (which {@code what}) does not read. */
    private void requireReadBy(String mode, String what, Set<String> reads) {
        for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            String name = o.longestName();
            if (!FILTERS.contains(name) && !ANY_MODE.contains(name) && !reads.contains(name))
                throw new UserError(name + " does not apply to " + mode + ", which " + what);
        }
    }

    @Override
    public Integer call() {
        requireModeOptions();
        if (probe != null) return probe();
        if (predict) return predict();
        if (compare || bar || chart != null) return report();
        int split = splitSteps != null ? splitSteps : Math.min(steps, 10);
        BenchRunner.Settings settings = new BenchRunner.Settings(steps, warmup, split, seed);
        List<BenchSpec> specs = specs();
        if (specs.isEmpty()) throw new UserError("no configuration of grid '" + grid + "' matches the given filters");
        BackendOptions opts = graphOption.apply(backendOptions.options(seed), backendOptions);
        String kind = backendOptions.backend;
        if (!kind.equalsIgnoreCase("auto")) {
            BackendProvider p = Backends.provider(kind);
            BackendProvider.Availability a = p.probe();
            if (!a.available()) throw new UserError("backend " + p.name() + " is not available: " + a.reason());
            List<BackendProvider.DeviceInfo> devices = p.devices();
            if (!devices.isEmpty() && devices.stream().allMatch(d -> CudaBackendProvider.isEmulated(d.name())))
                throw new UserError(BenchRunner.EMULATED_REFUSAL);
        }
        boolean progress = !quiet && ProgressBar.interactive();
        List<BenchResult> results = new ArrayList<>();
        Set<String> logged = new HashSet<>(); // each distinct log line once: the backend, each B's rnn choice
        try (BufferedWriter out = json == null
                ? null
                : Files.newBufferedWriter(
                        json, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            for (int i = 0; i < specs.size(); i++) {
                BenchSpec s = specs.get(i);
                ProgressBar pb = new ProgressBar(
                        System.err,
                        String.format(Locale.ROOT, "bench %d/%d %-22s", i + 1, specs.size(), s.label()),
                        progress);
                BenchResult r = BenchRunner.run(
                        s,
                        cfg -> Backends.create(kind, cfg, opts, new Backends.Workload(s.batch(), s.seq()), line -> {
                            if (logged.add(line)) System.err.println(line);
                        }),
                        settings,
                        opts.cudaGraph(),
                        opts.rnnKernel(),
                        pb);
                pb.finish();
                if (!progress)
                    System.err.printf(
                            Locale.ROOT,
                            "bench %d/%d %s: %.3f ms/step%n",
                            i + 1,
                            specs.size(),
                            s.label(),
                            r.msMedian());
                results.add(r);
                if (out != null) {
                    out.write(r.toJsonLine());
                    out.newLine();
                    out.flush();
                }
            }
        } catch (IOException e) {
            throw new UserError("cannot write " + json + ": " + IoErrors.reason(e), e);
        }
        System.out.print(Table.text(results));
        System.out.flush();
        return 0;
    }

    private List<BenchSpec> specs() {
        List<CellType> cells = new ArrayList<>();
        for (String m : model) cells.add(CellType.parse(m));
        checkPositive("--layers", layers);
        checkPositive("--hidden", hidden);
        checkPositive("--batch", batch);
        checkPositive("--seq", seq);
        if (grid != null) return Grids.filter(Grids.grid(grid), rowFilter());
        return Grids.product(
                cells.isEmpty() ? List.of(CellType.LSTM) : cells,
                or(layers, 2),
                or(hidden, 128),
                or(batch, 50),
                or(seq, 50));
    }

    /** --model/--layers/--hidden/--batch/--seq restrict the rows --compare and --chart use. */
    private List<JsonRows> filterRows(List<JsonRows> rows) {
        Grids.Filter f = rowFilter();
        return rows.stream()
                .filter(r -> f.matches(r.cell(), r.layers(), r.hidden(), r.batch(), r.seq()))
                .toList();
    }

    private Grids.Filter rowFilter() {
        List<CellType> cells = new ArrayList<>();
        for (String m : model) cells.add(CellType.parse(m));
        return new Grids.Filter(cells, layers, hidden, batch, seq);
    }

    private static void checkPositive(String name, List<Integer> values) {
        for (int v : values) if (v < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + v);
    }

    private static List<Integer> or(List<Integer> v, int dflt) {
        return v.isEmpty() ? List.of(dflt) : v;
    }

    private Integer predict() {
        String kind = backendOptions.backend;
        if (!kind.equalsIgnoreCase("auto") && !kind.equalsIgnoreCase("cuda"))
            throw new UserError("--predict models the CUDA backend, not --backend " + kind);
        List<BenchSpec> specs = specs();
        if (specs.isEmpty()) throw new UserError("no configuration of grid '" + grid + "' matches the given filters");
        BackendOptions opts = backendOptions.options(seed);
        List<JsonRows> rows = from.isEmpty() ? List.of() : JsonRows.read(from);
        if (!from.isEmpty() && Predictions.graphMs(rows, opts.precision()).isEmpty())
            throw new UserError("no " + Predictions.GRAPH_IMPL + " rows in "
                    + opts.precision().id() + " in " + from
                    + ": --predict reads its PyTorch column from them (bench/torch_baseline.py --graph 1)");
        if (profile != null && specs.size() != 1)
            throw new UserError("--profile compares one row, not " + specs.size()
                    + ": give the profiled run's --model, --layers, --hidden, --batch and --seq");
        String profiled = "";
        if (profile != null) { // read before anything is printed: a bad file is a one-line error
            BenchSpec s = specs.get(0);
            try {
                profiled = KernelProfile.markdown(
                        s.modelConfig(), s.batch(), s.seq(), opts.precision(), opts.rnnKernel(), s.label(), profile);
            } catch (UserError e) {
                throw new UserError("--profile: " + e.getMessage(), e);
            }
        }
        System.out.print(Predictions.markdown(
                Predictions.predict(specs, opts.precision(), opts.rnnKernel(), rows), opts.precision()));
        System.out.print(profiled);
        System.out.flush();
        return 0;
    }

    private Integer probe() {
        String kind = backendOptions.backend;
        if (!kind.equalsIgnoreCase("auto") && !kind.equalsIgnoreCase("cuda"))
            throw new UserError("--probe measures a CUDA device, not --backend " + kind);
        List<StepRatesProbe.Row> rows = Grids.filter(Grids.grid(grid == null ? "all" : grid), rowFilter()).stream()
                .map(r -> new StepRatesProbe.Row(r.modelConfig(), r.batch(), r.seq()))
                .toList();
        if (rows.isEmpty())
            throw new UserError("no configuration of grid '" + (grid == null ? "all" : grid)
                    + "' matches the given filters: --probe times the GEMMs of its rows' steps");
        AtomicFile.requireFileTarget("--probe", probe); // before the measurement, not after it
        StepRatesProbe.checkExisting(probe);
        if (CudaBackendProvider.emulatorRequested()) throw new UserError(BenchRunner.EMULATED_REFUSAL);
        StepRatesProbe.Measured m = StepRatesProbe.measure(
                Math.max(0, backendOptions.options(seed).device()),
                StepRatesProbe.Sizes.GPU,
                rows,
                System.err::println);
        StepRatesProbe.writeInto(probe, m);
        System.out.println("step rates of " + m.device() + " (written into " + probe + "):");
        m.rates().forEach((k, v) -> System.out.printf(Locale.ROOT, "  %-22s %.4g%n", k, v));
        System.out.printf(
                Locale.ROOT,
                "  gemm_us_by_shape       %d GEMM shapes of %d rows' steps (each in the file)%n",
                m.gemms().size(),
                rows.size());
        return 0;
    }

    private Integer report() {
        if (from.isEmpty())
            throw new UserError("--compare, --bar and --chart need at least one --from FILE (JSON lines)");
        List<JsonRows> read = JsonRows.read(from);
        if (read.isEmpty())
            throw new UserError("no benchmark rows in " + from
                    + ": --from reads the JSON lines of charrnn bench --json or bench/torch_baseline.py");
        List<JsonRows> rows = filterRows(read);
        if (rows.isEmpty()) throw new UserError("no benchmark rows in " + from + " match the given filters");
        if (compare && rows.stream().allMatch(JsonRows::isTorch))
            throw new UserError("only PyTorch rows in " + from
                    + ": --compare needs rows of charrnn bench --json beside them to compare");
        List<Bar.Verdict> verdicts = bar ? Bar.judge(rows) : List.of();
        if (bar && verdicts.isEmpty())
            throw new UserError(
                    "no CUDA rows in fp32 or tf32 with --rnn-kernel auto in " + from + ": --bar judges those");
        if (compare) System.out.print(Compare.markdown(rows));
        if (bar) System.out.print((compare ? "\n" : "") + Bar.markdown(verdicts));
        if (chart != null) {
            try {
                AtomicFile.writeString(chart, Chart.svg(rows, title));
            } catch (IOException e) {
                throw new UserError("cannot write " + chart + ": " + IoErrors.reason(e), e);
            }
            System.err.println(
                    "chart: " + chart + " (" + Chart.seriesNames(rows).size() + " series)");
        }
        System.out.flush();
        return verdicts.stream().allMatch(Bar.Verdict::met) ? 0 : 1;
    }
}
