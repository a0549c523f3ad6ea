package org.charrnn.caption;

import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.ReferenceOptimizers;
import org.charrnn.backend.RnnState;

/**
 * Trains a {@link ConditionedModel} on whole captions: every epoch visits the training captions
 * in a seeded random order, B at a time (the last batch is filled up from the start of the order),
 * each stream starting from its image's conditioned state. Adam for the model (on its backend) and
 * for the projection (on the host), the same learning rate; each part's gradients are clipped to
 * the global L2 norm {@code clip}.
 */
public final class CaptionTrainer {
    /**
     * @param batch  captions per batch
     * @param epochs passes over the training captions
     * @param lr     Adam learning rate
     * @param clip   max gradient L2 norm of the model and of the projection
     * @param seed   order of the captions
     */
    public record Settings(int batch, int epochs, double lr, double clip, long seed) {
        public Settings {
            if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
            if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
            if (!(lr > 0)) throw new IllegalArgumentException("--lr must be > 0, got " + lr);
            if (!(clip > 0)) throw new IllegalArgumentException("--clip must be > 0, got " + clip);
        }
    }

    /** Result of one epoch. */
    public record Epoch(int epoch, long iteration, double trainLoss, double valLoss) {}

    private final ConditionedModel model;
    private final CaptionData.Features features;
    private final Settings s;
    private final OptimizerConfig adam;
    private final double[][] projSlots;
    private long iteration;

    public CaptionTrainer(ConditionedModel model, CaptionData.Features features, Settings settings) {
        this.model = model;
        this.features = features;
        this.s = settings;
        OptimizerConfig d = OptimizerConfig.defaults(OptimizerKind.ADAM);
        this.adam = d;
        model.backend().setOptimizer(d);
        int P = model.projection().parameters().length;
        this.projSlots = new double[OptimizerKind.ADAM.slots().size()][P];
    }

    public long iteration() {
        return iteration;
    }

    /** Runs every epoch; {@code val} may be empty (no validation loss, NaN). */
    public void train(CaptionBatches train, CaptionBatches val, Consumer<Epoch> onEpoch) {
        int B = s.batch();
        SplittableRandom rng = new SplittableRandom(s.seed());
        try (RnnState st = model.backend().newState(B)) {
            for (int e = 1; e <= s.epochs(); e++) {
                int[] order = permutation(train.size(), rng);
                double lossSum = 0;
                long counted = 0;
                for (int from = 0; from < order.length; from += B) {
                    int[] ks = new int[B];
                    int count = 0;
                    for (int b = 0; b < B; b++) {
                        ks[b] = order[(from + b) % order.length];
                        count += train.targets(ks[b]);
                    }
                    lossSum += step(st, train, ks) * count;
                    counted += count;
                }
                onEpoch.accept(new Epoch(e, iteration, lossSum / counted, val.size() == 0 ? Double.NaN : loss(val)));
            }
        }
    }

    /** One update on captions {@code ks}; returns the batch's mean loss per counted character. */
    double step(RnnState st, CaptionBatches data, int[] ks) {
        iteration++;
        int[] imgs = new int[ks.length];
        for (int b = 0; b < ks.length; b++) imgs[b] = data.image(ks[b]);
        double loss = model.forwardBackward(st, data.window(ks, iteration), features.rows(imgs));
        model.backend().clip(ClipMode.NORM, s.clip());
        model.backend().step(s.lr(), iteration);
        double[] g = model.projection().gradients();
        double n = 0;
        for (double v : g) n += v * v;
        n = Math.sqrt(n);
        if (!Double.isFinite(n)) return loss;
        double scale = Math.min(1.0, s.clip() / (n + 1e-6));
        if (scale < 1) for (int i = 0; i < g.length; i++) g[i] *= scale;
        ReferenceOptimizers.update(adam, model.projection().parameters(), g, projSlots, s.lr(), iteration);
        return loss;
    }

    /** Mean loss per counted character (characters and END) over every caption of {@code data}. */
    public double loss(CaptionBatches data) {
        return loss(model, features, data, s.batch());
    }

    /** As {@link #loss(CaptionBatches)}, for any model, B captions at a time. */
    public static double loss(ConditionedModel model, CaptionData.Features features, CaptionBatches data, int B) {
        double sum = 0;
        long counted = 0;
        for (int from = 0; from < data.size(); from += B) {
            int n = Math.min(B, data.size() - from), count = 0;
            int[] ks = new int[n], imgs = new int[n];
            for (int b = 0; b < n; b++) {
                ks[b] = from + b;
                imgs[b] = data.image(ks[b]);
                count += data.targets(ks[b]);
            }
            try (RnnState st = model.backend().newState(n)) {
                sum += model.loss(st, data.window(ks, 0), features.rows(imgs)) * count;
            }
            counted += count;
        }
        return sum / counted;
    }

    private static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
