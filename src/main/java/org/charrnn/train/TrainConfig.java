package org.charrnn.train;

import java.nio.file.Path;

import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.model.CellType;

/**
 * Everything a training run needs besides its data. Defaults follow char-rnn / torch-rnn
 * ({@link #defaults()}); CLI options map one to one onto these fields.
 *
 * @param cell            --model
 * @param layers          --layers (2)
 * @param hidden          --hidden (128)
 * @param embedding       --embedding (64)
 * @param dropout         --dropout (0)
 * @param batch           --batch B (50): number of parallel streams
 * @param seqLen          --seq T (50): truncated-BPTT window length
 * @param optimizer       --optimizer and its hyper-parameters (adam)
 * @param lr              --lr (the optimizer's default when not given)
 * @param schedule        --lr-schedule (step)
 * @param lrDecay         --lr-decay (0.97, step schedule)
 * @param lrDecayEvery    --lr-decay-every epochs (1)
 * @param clip            --clip (5)
 * @param clipMode        --clip-mode (norm)
 * @param maxEpochs       --max-epochs (50), counting the whole run
 * @param maxIters        --max-iters (0 = no limit), counting the whole run
 * @param valEvery        --val-every iterations (1000; also at each epoch end)
 * @param checkpointEvery --checkpoint-every iterations (1000; also at the end)
 * @param keep            --keep newest checkpoints (5), plus the best by val loss
 * @param out             --out run directory (checkpoints/)
 * @param seed            --seed (42): init, dropout masks and checkpoint samples
 * @param sampleLength    characters of the sample written at each checkpoint (200)
 * @param sampleTemperature temperature of that sample (0.8)
 * @param printEvery      --print-every iterations between log lines in --quiet mode (10)
 * @param valMaxWindows   --val-max-windows: validate on at most this many windows of each pass (0 = the whole
 *                        split; large corpora such as the Linux kernel want a cap)
 */
public record TrainConfig(CellType cell, int layers, int hidden, int embedding, double dropout,
                          int batch, int seqLen, OptimizerConfig optimizer, double lr, LrSchedule schedule,
                          double lrDecay, int lrDecayEvery, double clip, ClipMode clipMode,
                          int maxEpochs, long maxIters, int valEvery, int checkpointEvery, int keep,
                          Path out, long seed, int sampleLength, double sampleTemperature, int printEvery,
                          long valMaxWindows) {

    public TrainConfig {
        require(layers >= 1, "--layers must be >= 1, got " + layers);
        require(hidden >= 1, "--hidden must be >= 1, got " + hidden);
        require(embedding >= 1, "--embedding must be >= 1, got " + embedding);
        require(dropout >= 0 && dropout < 1, "--dropout must be in [0, 1), got " + dropout);
        require(batch >= 1, "--batch must be >= 1, got " + batch);
        require(seqLen >= 1, "--seq must be >= 1, got " + seqLen);
        require(lr > 0 && Double.isFinite(lr), "--lr must be > 0, got " + lr);
        require(lrDecay > 0 && lrDecay <= 1, "--lr-decay must be in (0, 1], got " + lrDecay);
        require(lrDecayEvery >= 1, "--lr-decay-every must be >= 1, got " + lrDecayEvery);
        require(clip > 0, "--clip must be > 0, got " + clip);
        require(maxEpochs >= 1, "--max-epochs must be >= 1, got " + maxEpochs);
        require(maxIters >= 0, "--max-iters must be >= 0, got " + maxIters);
        require(valEvery >= 1, "--val-every must be >= 1, got " + valEvery);
        require(checkpointEvery >= 1, "--checkpoint-every must be >= 1, got " + checkpointEvery);
        require(keep >= 1, "--keep must be >= 1, got " + keep);
        require(sampleLength >= 0, "sample length must be >= 0");
        require(sampleTemperature > 0, "sample temperature must be > 0");
        require(printEvery >= 1, "--print-every must be >= 1, got " + printEvery);
        require(valMaxWindows >= 0, "--val-max-windows must be >= 0, got " + valMaxWindows);
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    public static TrainConfig defaults() {
        OptimizerConfig opt = OptimizerConfig.defaults(org.charrnn.backend.OptimizerKind.ADAM);
        return new TrainConfig(CellType.LSTM, 2, 128, 64, 0.0, 50, 50, opt, opt.kind().defaultLr(),
                LrSchedule.STEP, 0.97, 1, 5.0, ClipMode.NORM, 50, 0, 1000, 1000, 5,
                Path.of("checkpoints"), 42, 200, 0.8, 10, 0);
    }

    /** Builder-style copies for the fields tests and the CLI change most. */
    public TrainConfig withModel(CellType c, int l, int h, int e, double p) {
        return edit(b -> { b.cell = c; b.layers = l; b.hidden = h; b.embedding = e; b.dropout = p; });
    }

    public TrainConfig withBatching(int batchSize, int t) {
        return edit(b -> { b.batch = batchSize; b.seqLen = t; });
    }

    public TrainConfig withOptimizer(OptimizerConfig o, double learningRate) {
        return edit(b -> { b.optimizer = o; b.lr = learningRate; });
    }

    public TrainConfig withSchedule(LrSchedule s, double decay, int every) {
        return edit(b -> { b.schedule = s; b.lrDecay = decay; b.lrDecayEvery = every; });
    }

    public TrainConfig withClip(double c, ClipMode m) {
        return edit(b -> { b.clip = c; b.clipMode = m; });
    }

    public TrainConfig withLimits(int epochs, long iters) {
        return edit(b -> { b.maxEpochs = epochs; b.maxIters = iters; });
    }

    public TrainConfig withCheckpointing(Path dir, int valEveryIters, int checkpointEveryIters, int keepNewest) {
        return edit(b -> { b.out = dir; b.valEvery = valEveryIters; b.checkpointEvery = checkpointEveryIters; b.keep = keepNewest; });
    }

    public TrainConfig withValMaxWindows(long n) {
        return edit(b -> b.valMaxWindows = n);
    }

    public TrainConfig withSeed(long s) {
        return edit(b -> b.seed = s);
    }

    public TrainConfig withSampling(int length, double temperature, int printEveryIters) {
        return edit(b -> { b.sampleLength = length; b.sampleTemperature = temperature; b.printEvery = printEveryIters; });
    }

    /** A copy with the changes {@code change} makes to a mutable image of this config (validated again). */
    private TrainConfig edit(java.util.function.Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return f.build();
    }

    /** The record's fields, mutable: the one place that calls the canonical constructor for the withers. */
    private static final class Fields {
        CellType cell; int layers, hidden, embedding; double dropout;
        int batch, seqLen; OptimizerConfig optimizer; double lr; LrSchedule schedule;
        double lrDecay; int lrDecayEvery; double clip; ClipMode clipMode;
        int maxEpochs; long maxIters; int valEvery, checkpointEvery, keep;
        Path out; long seed; int sampleLength; double sampleTemperature; int printEvery;
        long valMaxWindows;

        Fields(TrainConfig c) {
            cell = c.cell; layers = c.layers; hidden = c.hidden; embedding = c.embedding; dropout = c.dropout;
            batch = c.batch; seqLen = c.seqLen; optimizer = c.optimizer; lr = c.lr; schedule = c.schedule;
            lrDecay = c.lrDecay; lrDecayEvery = c.lrDecayEvery; clip = c.clip; clipMode = c.clipMode;
            maxEpochs = c.maxEpochs; maxIters = c.maxIters; valEvery = c.valEvery; checkpointEvery = c.checkpointEvery; keep = c.keep;
            out = c.out; seed = c.seed; sampleLength = c.sampleLength; sampleTemperature = c.sampleTemperature; printEvery = c.printEvery;
            valMaxWindows = c.valMaxWindows;
        }

        TrainConfig build() {
            return new TrainConfig(cell, layers, hidden, embedding, dropout, batch, seqLen, optimizer, lr, schedule, lrDecay,
                    lrDecayEvery, clip, clipMode, maxEpochs, maxIters, valEvery, checkpointEvery, keep, out, seed, sampleLength,
                    sampleTemperature, printEvery, valMaxWindows);
        }
    }
}
