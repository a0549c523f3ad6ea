package org.charrnn.cli;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.data.Corpus;
import org.charrnn.data.CorpusOptions;
import org.charrnn.data.Datasets;
import org.charrnn.data.UnknownSymbolsError;
import org.charrnn.data.Vocabulary;
import org.charrnn.io.Checkpoint;
import org.charrnn.io.Resume;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.train.LrSchedule;
import org.charrnn.train.RunConfig;
import org.charrnn.train.TrainConfig;
import org.charrnn.train.Trainer;
import org.charrnn.util.Durations;
import org.charrnn.util.LogLines;
import org.charrnn.util.ProgressBar;
import org.charrnn.util.UserError;
import org.charrnn.viz.ReportPage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code charrnn train}: truncated-BPTT training with checkpoints, validation and samples. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "Train a character-level language model (default: tiny-shakespeare).")
public final class TrainCommand implements Callable<Integer> {

    @Option(
            names = "--data",
            defaultValue = "shakespeare",
            description = "Corpus: a UTF-8 file, or 'shakespeare' (downloaded once into the cache directory).")
    String data;

    @Mixin
    DataOptionsMixin dataOptions;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    GraphOptionMixin graphOption;

    @Option(
            names = "--model",
            defaultValue = "lstm",
            description = "lstm | gru | rnn | mut1 | mut2 | mut3 (MUT1 and MUT2 need --embedding = --hidden).")
    String model;

    @Option(names = "--layers", defaultValue = "2", description = "Stacked recurrent layers L.")
    int layers;

    @Option(names = "--hidden", defaultValue = "128", description = "Hidden size H.")
    int hidden;

    @Option(names = "--embedding", defaultValue = "64", description = "Embedding size E.")
    int embedding;

    @Option(
            names = "--dropout",
            defaultValue = "0",
            description = "Inverted dropout between layers and before the decoder.")
    double dropout;

    @Option(names = "--batch", defaultValue = "50", description = "Parallel streams B.")
    int batch;

    @Option(names = "--seq", defaultValue = "50", description = "Truncated-BPTT window T.")
    int seq;

    @Option(names = "--optimizer", defaultValue = "adam", description = "adam | rmsprop | adagrad | sgd.")
    String optimizer;

    @Option(
            names = "--lr",
            description = "Learning rate (default: 2e-3 for adam and rmsprop, 0.1 for adagrad and sgd).")
    Double lr;

    @Option(names = "--weight-decay", defaultValue = "0", description = "L2 coefficient added to the gradient.")
    double weightDecay;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum.")
    double momentum;

    @Option(names = "--decay", defaultValue = "0.95", description = "RMSprop square-average decay.")
    double decay;

    @Option(names = "--lr-schedule", defaultValue = "step", description = "constant | step | cosine.")
    String schedule;

    @Option(
            names = "--lr-decay",
            defaultValue = "0.97",
            description = "Step schedule: multiply the learning rate by F ...")
    double lrDecay;

    @Option(names = "--lr-decay-every", defaultValue = "1", description = "... every N epochs.")
    int lrDecayEvery;

    @Option(names = "--clip", defaultValue = "5", description = "Gradient clipping threshold.")
    double clip;

    @Option(
            names = "--clip-mode",
            defaultValue = "norm",
            description = "norm (global L2 norm) | value (elementwise clamp).")
    String clipMode;

    @Option(
            names = "--val-frac",
            defaultValue = "0.05",
            description = "Fraction of the corpus (from its end) for validation.")
    double valFrac;

    @Option(
            names = "--test-frac",
            defaultValue = "0",
            description = "Fraction of the corpus (at its very end) held out for testing.")
    double testFrac;

    @Option(
            names = "--max-epochs",
            defaultValue = "3",
            description = "Epochs in the whole run (a resume counts the earlier ones); 3 take minutes, "
                    + "a real run wants 20 to 50.")
    int maxEpochs;

    @Option(names = "--max-iters", defaultValue = "0", description = "Iterations in the whole run (0 = no limit).")
    long maxIters;

    @Option(
            names = "--max-time",
            defaultValue = "0",
            description = "Stop with a checkpoint after training this long, e.g. 45m, 2h, 1h30m (0 = no limit).")
    String maxTime;

    @Option(
            names = "--early-stop",
            defaultValue = "0",
            description = "Stop after N validations in a row without a better val loss (0 = never).")
    int earlyStop;

    @Option(
            names = "--val-every",
            defaultValue = "1000",
            description = "Validate every N iterations (and at each epoch end).")
    int valEvery;

    @Option(
            names = "--val-max-windows",
            defaultValue = "0",
            description = "Validate on at most N windows per pass (0 = the whole val split; cap it for huge corpora).")
    long valMaxWindows;

    @Option(
            names = "--checkpoint-every",
            defaultValue = "1000",
            description = "Write a checkpoint every N iterations (and at the end).")
    int checkpointEvery;

    @Option(
            names = "--checkpoint-minutes",
            defaultValue = "10",
            description = "Also write a checkpoint when M minutes passed since the last one (0 = by iterations only).")
    double checkpointMinutes;

    @Option(
            names = "--keep",
            defaultValue = "5",
            description = "Keep the K newest checkpoints plus the best by val loss.")
    int keep;

    @Option(
            names = "--out",
            description = "Run directory for checkpoints, metrics.jsonl and samples (default: runs/DATE-TIME).")
    Path out;

    @Option(
            names = "--resume",
            description = "Continue the run in this directory exactly where its newest checkpoint left off, with its "
                    + "settings; options given again override the safe ones.")
    Path resume;

    @Option(
            names = "--init-from",
            description = "Start a new run from this checkpoint's weights (a file or a run directory), with a fresh "
                    + "optimizer and counters; the data must use its characters.")
    Path initFrom;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Seed of the initialisation, dropout masks and samples.")
    long seed;

    @Option(names = "--quiet", description = "Plain log lines instead of a progress bar.")
    boolean quiet;

    @Option(
            names = "--print-every",
            defaultValue = "10",
            description = "Iterations between log lines (--quiet or no terminal).")
    int printEvery;

    @Option(
            names = "--sample-length",
            defaultValue = "200",
            description = "Characters of the sample written at each checkpoint (0 = none).")
    int sampleLength;

    @Option(
            names = "--sample-temperature",
            defaultValue = "0.8",
            description = "Temperature of the sample written at each checkpoint.")
    double sampleTemperature;

    @Option(
            names = "--report",
            description = "Refresh report.html in the run directory at every checkpoint (see charrnn report).")
    boolean report;

    @Spec
    CommandSpec spec;

    /** The settings as the options give them (defaults where an option is not typed). */
    private TrainConfig fromOptions(Path runDir) {
        OptimizerKind kind = OptimizerKind.parse(optimizer);
        OptimizerConfig opt = OptimizerConfig.defaults(kind)
                .withWeightDecay(weightDecay)
                .withMomentum(momentum)
                .withDecay(decay);
        Duration limit;
        try {
            limit = Durations.parse(maxTime);
        } catch (IllegalArgumentException e) {
            throw new UserError("--max-time: " + e.getMessage());
        }
        return new TrainConfig(
                new ModelSpec(CellType.parse(model), layers, hidden, embedding, dropout),
                new TrainConfig.Data(recorded(data), dataOptions.encoding(), dataOptions.maxVocab, valFrac, testFrac),
                new TrainConfig.Batching(batch, seq),
                opt,
                new TrainConfig.Schedule(
                        lr != null ? lr : kind.defaultLr(), LrSchedule.parse(schedule), lrDecay, lrDecayEvery),
                new TrainConfig.Clipping(clip, ClipMode.parse(clipMode)),
                new TrainConfig.Limits(maxEpochs, maxIters, limit, earlyStop),
                new TrainConfig.Validation(valEvery, valMaxWindows),
                new TrainConfig.Checkpointing(runDir, checkpointEvery, keep, checkpointMinutes),
                new TrainConfig.Reporting(printEvery, sampleLength, sampleTemperature),
                seed);
    }

    private boolean typed(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** The corpus, over the checkpoint's vocabulary {@code vocab} when training continues from one. */
    private Corpus open(Path file, Vocabulary vocab, CorpusOptions options, ProgressBar bar) {
        try {
            return Corpus.open(file, vocab, options, bar);
        } catch (UnknownSymbolsError e) {
            throw new UserError(
                    e.getMessage() + "; " + (resume != null ? "--resume" : "--init-from")
                            + " trains only on text written in the checkpoint's characters",
                    e);
        }
    }

    @Override
    public Integer call() {
        if (resume != null && initFrom != null)
            throw new UserError("--resume continues a run and --init-from starts one: give one of them");
        if (resume != null && out != null && !out.equals(resume))
            throw new UserError("--out " + out + " with --resume " + resume + ": a resumed run writes to its own "
                    + "directory; leave out --out");
        java.util.function.Consumer<String> log = LogLines.stderr();
        Path runDir = resume != null ? resume : out != null ? out : RunDirectories.fresh(RunDirectories.ROOT);
        Start start = start(fromOptions(runDir), runDir, log);
        TrainConfig cfg = start.cfg();
        if (resume == null) IgnoredOptions.check(cfg, this::typed); // (a resume's merge checks its own)
        // the backend's and the corpus's options are checked before the corpus is fetched and
        // encoded (minutes for a large one)
        BackendOptions backend = graphOption.apply(backendOptions.options(cfg.seed()), backendOptions);
        TrainConfig.Data d0 = cfg.data();
        CorpusOptions corpusOptions =
                new CorpusOptions(d0.encoding(), d0.maxVocab(), d0.valFrac(), d0.testFrac(), dataOptions.cacheDir());
        if (out == null && resume == null) log.accept("run directory: " + runDir);
        boolean bar = !quiet && ProgressBar.interactive();
        Path file;
        try {
            file = Datasets.resolve(d0.path(), dataOptions.cacheDir(), new ProgressBar(System.err, "download", bar));
        } catch (UserError e) {
            if (resume == null || typed("--data")) throw e;
            throw e.suffixed(" (the corpus the run's config.json names; give --data where it is now)");
        }
        ProgressBar encodeBar = new ProgressBar(System.err, "encode", bar);
        try (Corpus corpus = open(file, start.vocab(), corpusOptions, encodeBar)) {
            encodeBar.finish();
            if (corpus.uncached() != null) log.accept(corpus.uncachedNote());
            Trainer.Data d = new Trainer.Data(corpus.vocabulary(), corpus.train(), corpus.val(), corpus.summary());
            Trainer.Options o = new Trainer.Options(
                            backendOptions.backend, backend, resume, quiet, log, sample -> System.out.println(sample))
                    .withInitFrom(initFrom);
            if (report) o = o.withOnCheckpoint(f -> ReportPage.write(runDir, runDir.resolve("report.html")));
            try (Trainer trainer = new Trainer(cfg, d, o)) {
                Signals.Handle signals = Signals.onStopSignals(trainer::requestStop);
                try {
                    return finish(trainer.run(), signals);
                } finally {
                    signals.restore();
                }
            }
        }
    }

    /**
     * --data as the run records it: a file's absolute path, so that --resume finds it from any
     * working directory; a dataset's name where no file of that name is here (it is fetched into
     * the cache directory); as given where it is no valid path (the corpus check says why).
     */
    private static String recorded(String data) {
        if (data == null || data.isBlank()) return data;
        try {
            Path p = Path.of(data);
            if (Datasets.named(data) != null && !Files.exists(p)) return data;
            return p.toAbsolutePath().normalize().toString();
        } catch (InvalidPathException e) {
            return data;
        }
    }

    /** The run's settings and, where it continues from a checkpoint, that checkpoint's vocabulary (else null). */
    private record Start(TrainConfig cfg, Vocabulary vocab) {}

    /** The settings given, merged with the run's own for --resume and with the model's shape for --init-from. */
    private Start start(TrainConfig cfg, Path runDir, java.util.function.Consumer<String> log) {
        if (resume != null) {
            TrainConfig run = RunConfig.read(resume).training();
            TrainConfig.Checkpointing c = run.checkpointing(); // in this directory, wherever it was started
            run = run.withCheckpointing(new TrainConfig.Checkpointing(runDir, c.every(), c.keep(), c.minutes()));
            return new Start(
                    RunSettings.restore(run, cfg, this::typed, log),
                    Resume.load(resume, Resume.resolve(resume), Checkpoint::loadModel)
                            .vocabulary());
        }
        if (initFrom != null) {
            Checkpoint.Model from = Checkpoint.loadModel(Checkpoint.resolveModel(initFrom));
            ModelSpec have = from.config().spec();
            Vocabulary vocab = from.vocabulary();
            // the run trains in the checkpoint's vocabulary: an encoding or limit of its own would be dropped
            if (typed("--encoding") && cfg.data().encoding() != vocab.encoding())
                throw new UserError("--encoding " + cfg.data().encoding().id() + " does not match the checkpoint's "
                        + "vocabulary (" + vocab.encoding().id() + "): --init-from trains in its characters; leave "
                        + "--encoding out");
            if (typed("--max-vocab"))
                throw new UserError("--max-vocab does not apply with --init-from: the run keeps the checkpoint's "
                        + "vocabulary (" + vocab.size() + " symbols)");
            TrainConfig.Data d = cfg.data();
            cfg = cfg.withData(
                    new TrainConfig.Data(d.path(), vocab.encoding(), d.maxVocab(), d.valFrac(), d.testFrac()));
            return new Start(
                    cfg.withModel(new ModelSpec(
                            typed("--model") ? cfg.model().cell() : have.cell(),
                            typed("--layers") ? layers : have.layers(),
                            typed("--hidden") ? hidden : have.hidden(),
                            typed("--embedding") ? embedding : have.embedding(),
                            dropout)),
                    vocab);
        }
        return new Start(cfg, null);
    }

    /** The closing line of run r and the exit code: 0, or the stop signal's where it was interrupted. */
    private static int finish(Trainer.Result r, Signals.Handle signals) {
        if (r.stop() == Trainer.Stop.TIME_LIMIT || r.stop() == Trainer.Stop.EARLY_STOP)
            System.err.println("stopped early at iteration " + r.iterations() + " ("
                    + (r.stop() == Trainer.Stop.TIME_LIMIT ? "--max-time" : "--early-stop")
                    + "): checkpoint " + r.lastCheckpoint());
        if (r.interrupted()) {
            System.err.println(
                    r.lastCheckpoint() != null
                            ? "interrupted: checkpoint written to " + r.lastCheckpoint()
                            : "interrupted before the first iteration: no checkpoint written");
            return signals.exitCode();
        }
        System.err.printf(
                Locale.ROOT,
                "done: %d iterations, last loss %.4f%s%n",
                r.iterations(),
                r.lastLoss(),
                Double.isNaN(r.bestValLoss())
                        ? ""
                        : String.format(Locale.ROOT, ", best val loss %.4f", r.bestValLoss()));
        return 0;
    }
}
