package org.charrnn.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.data.Corpus;
import org.charrnn.data.Datasets;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelSpec;
import org.charrnn.train.LrSchedule;
import org.charrnn.train.TrainConfig;
import org.charrnn.train.Trainer;
import org.charrnn.util.ProgressBar;
import org.charrnn.viz.ReportPage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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
            defaultValue = "50",
            description = "Epochs in the whole run (a resume counts the earlier ones).")
    int maxEpochs;

    @Option(names = "--max-iters", defaultValue = "0", description = "Iterations in the whole run (0 = no limit).")
    long maxIters;

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
            names = "--keep",
            defaultValue = "5",
            description = "Keep the K newest checkpoints plus the best by val loss.")
    int keep;

    @Option(
            names = "--out",
            defaultValue = "checkpoints",
            description = "Run directory for checkpoints, metrics.jsonl and samples.")
    Path out;

    @Option(
            names = "--resume",
            description = "Continue the run in this directory exactly where its newest checkpoint left off.")
    Path resume;

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

    @Override
    public Integer call() {
        OptimizerKind kind = OptimizerKind.parse(optimizer);
        OptimizerConfig opt = OptimizerConfig.defaults(kind)
                .withWeightDecay(weightDecay)
                .withMomentum(momentum)
                .withDecay(decay);
        TrainConfig cfg = new TrainConfig(
                new ModelSpec(CellType.parse(model), layers, hidden, embedding, dropout),
                new TrainConfig.Data(data, dataOptions.encoding(), dataOptions.maxVocab, valFrac, testFrac),
                new TrainConfig.Batching(batch, seq),
                opt,
                new TrainConfig.Schedule(
                        lr != null ? lr : kind.defaultLr(), LrSchedule.parse(schedule), lrDecay, lrDecayEvery),
                new TrainConfig.Clipping(clip, ClipMode.parse(clipMode)),
                new TrainConfig.Limits(maxEpochs, maxIters),
                new TrainConfig.Validation(valEvery, valMaxWindows),
                new TrainConfig.Checkpointing(resume != null ? resume : out, checkpointEvery, keep),
                new TrainConfig.Reporting(printEvery, sampleLength, sampleTemperature),
                seed);
        boolean bar = !quiet && ProgressBar.interactive();
        Path file = Datasets.resolve(data, dataOptions.cacheDir(), new ProgressBar(System.err, "download", bar));
        ProgressBar encodeBar = new ProgressBar(System.err, "encode", bar);
        try (Corpus corpus = Corpus.open(file, dataOptions.options(valFrac, testFrac), encodeBar)) {
            encodeBar.finish();
            Trainer.Data d = new Trainer.Data(corpus.vocabulary(), corpus.train(), corpus.val(), corpus.summary());
            Trainer.Options o = new Trainer.Options(
                    backendOptions.backend,
                    backendOptions.options(seed),
                    resume,
                    quiet,
                    line -> System.err.println(line),
                    sample -> System.out.println(sample));
            if (report) {
                Path runDir = resume != null ? resume : out;
                o = o.withOnCheckpoint(f -> ReportPage.write(runDir, runDir.resolve("report.html")));
            }
            try (Trainer trainer = new Trainer(cfg, d, o)) {
                Signals.Handle signals = Signals.onStopSignals(trainer::requestStop);
                try {
                    Trainer.Result r = trainer.run();
                    if (r.interrupted()) {
                        System.err.println(
                                r.lastCheckpoint() != null
                                        ? "interrupted: checkpoint written to " + r.lastCheckpoint()
                                        : "interrupted before the first iteration: no checkpoint written");
                        return signals.exitCode();
                    }
                    System.err.printf(
                            java.util.Locale.ROOT,
                            "done: %d iterations, last loss %.4f%s%n",
                            r.iterations(),
                            r.lastLoss(),
                            Double.isNaN(r.bestValLoss())
                                    ? ""
                                    : String.format(java.util.Locale.ROOT, ", best val loss %.4f", r.bestValLoss()));
                    return 0;
                } finally {
                    signals.restore();
                }
            }
        }
    }
}
