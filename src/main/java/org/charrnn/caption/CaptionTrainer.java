package org.charrnn.caption;

import java.util.SplittableRandom;
import org.charrnn.backend.Backend;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.ReferenceOptimizers;
import org.charrnn.backend.RnnState;

/**
 * Trains a {@link ConditionedModel} on whole captions: every epoch visits the training captions
 * in a seeded random order, B at a time (the last batch is filled up from the start of the order),
 * each stream starting from its image's conditioned state. One optimizer for the model (on its
 * backend) and the projection (on the host), the same learning rate, after one global-norm clip
 * over both: every gradient is scaled by min(1, clip / (||(g_model, g_projection)||_2 + 1e-6)).
 */
public final class CaptionTrainer {
    /**
     * @param batch  captions per batch
     * @param epochs passes over the training captions
     * @param lr        learning rate
     * @param clip      max L2 norm of the gradients of the model and the projection together
     * @param seed      order of the captions
     * @param optimizer the optimizer of both parts
     */
    public record Settings(int batch, int epochs, double lr, double clip, long seed, OptimizerKind optimizer) {
        public Settings {
            if (optimizer == null) throw new IllegalArgumentException("an optimizer is required");
            if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
            if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
            if (!(lr > 0 && lr < Double.POSITIVE_INFINITY))
                throw new IllegalArgumentException("--lr must be a finite number > 0, got " + lr);
            if (!(clip > 0)) throw new IllegalArgumentException("--clip must be > 0, got " + clip);
            // as train's --clip: an infinite threshold is no threshold
            if (clip == Double.POSITIVE_INFINITY)
                throw new IllegalArgumentException(
                        "--clip must be finite, got " + clip + " (a threshold such as 1e9 all but turns clipping off)");
        }
    }

    /** Result of one epoch. */
    public record Epoch(int epoch, long iteration, double trainLoss, double valLoss) {}

    /**
     * One update: its iteration, the epoch as a fraction (1.5: half way through the second), the
     * batch's loss per counted character and the pre-clip norm of all the gradients.
     */
    public record Step(long iteration, double epoch, double loss, double gradNorm) {}

    /** Told of every update and every epoch. */
    public interface Listener {
        void step(Step step);

        void epoch(Epoch epoch);
    }

    private final ConditionedModel model;
    private final CaptionData.Features features;
    private final Settings s;
    private final OptimizerConfig optimizer;
    private final double[][] projSlots;
    private long iteration;
    private double lastNorm = Double.NaN;

    public CaptionTrainer(ConditionedModel model, CaptionData.Features features, Settings settings) {
        this.model = model;
        this.features = features;
        this.s = settings;
        this.optimizer = OptimizerConfig.defaults(settings.optimizer());
        model.backend().setOptimizer(optimizer);
        int P = model.projection().parameters().length;
        this.projSlots = new double[settings.optimizer().slots().size()][P];
    }

    public long iteration() {
        return iteration;
    }

    /** The host-side optimizer state of the projection (the arrays themselves). */
    public double[][] projectionSlots() {
        return projSlots;
    }

    /**
     * Continues from a saved state: the update count and both parts' optimizer state (the
     * parameters are set on the model by the caller).
     */
    public void restore(long iteration, double[][] modelSlots, double[][] projectionSlots) {
        if (projectionSlots.length != projSlots.length) throw new IllegalArgumentException("optimizer state shape");
        for (int i = 0; i < projSlots.length; i++) {
            if (projectionSlots[i].length != projSlots[i].length)
                throw new IllegalArgumentException("optimizer state shape");
            System.arraycopy(projectionSlots[i], 0, projSlots[i], 0, projSlots[i].length);
        }
        model.backend().setOptimizerState(modelSlots);
        this.iteration = iteration;
    }

    /** Runs every epoch; {@code val} may be empty (no validation loss, NaN). */
    public void train(CaptionBatches train, CaptionBatches val, Listener listener) {
        train(train, val, listener, 0);
    }

    /**
     * Runs epochs {@code done + 1} .. {@code epochs}, in the caption order an uninterrupted run
     * would have used (the first {@code done} epochs' shuffles are drawn and dropped).
     */
    public void train(CaptionBatches train, CaptionBatches val, Listener listener, int done) {
        int B = s.batch();
        int perEpoch = (train.size() + B - 1) / B;
        SplittableRandom rng = new SplittableRandom(s.seed());
        for (int e = 1; e <= done; e++) permutation(train.size(), rng);
        try (RnnState st = model.backend().newState(B)) {
            for (int e = done + 1; e <= s.epochs(); e++) {
                int[] order = permutation(train.size(), rng);
                double lossSum = 0;
                long counted = 0;
                for (int from = 0, k = 1; from < order.length; from += B, k++) {
                    int[] ks = new int[B];
                    int count = 0;
                    for (int b = 0; b < B; b++) {
                        ks[b] = order[(from + b) % order.length];
                        count += train.targets(ks[b]);
                    }
                    double loss = step(st, train, ks);
                    lossSum += loss * count;
                    counted += count;
                    listener.step(new Step(iteration, e - 1 + (double) k / perEpoch, loss, lastNorm));
                }
                listener.epoch(new Epoch(e, iteration, lossSum / counted, val.size() == 0 ? Double.NaN : loss(val)));
            }
        }
    }

    /** One update on captions {@code ks}; returns the batch's mean loss per counted character. */
    double step(RnnState st, CaptionBatches data, int[] ks) {
        iteration++;
        int[] imgs = new int[ks.length];
        for (int b = 0; b < ks.length; b++) imgs[b] = data.image(ks[b]);
        double loss = model.forwardBackward(st, data.window(ks, iteration), features.rows(imgs));
        clipJointly();
        model.backend().step(s.lr(), iteration);
        double[] g = model.projection().gradients();
        if (Double.isFinite(lastNorm))
            ReferenceOptimizers.update(optimizer, model.projection().parameters(), g, projSlots, s.lr(), iteration);
        return loss;
    }

    /** Pre-clip L2 norm of the model's and the projection's gradients together, of the last step. */
    public double gradNorm() {
        return lastNorm;
    }

    /**
     * One global-norm clip over the model's and the projection's gradients: the backend reports its
     * norm (a clip with no limit scales nothing), then both parts are scaled by the same factor.
     */
    private void clipJointly() {
        Backend be = model.backend();
        be.clip(ClipMode.NORM, 1e30);
        double nm = be.gradNorm();
        double[] g = model.projection().gradients();
        double np = 0;
        for (double v : g) np += v * v;
        double n = Math.sqrt(nm * nm + np);
        lastNorm = n;
        // not finite: the projection's update is skipped, and the backend skips its own when its norm is
        // the cause (the projection's gradients come from the backend's, so they are finite when its are)
        if (!Double.isFinite(n)) return;
        double scale = Math.min(1.0, s.clip() / (n + 1e-6));
        if (scale >= 1) return;
        // the backend's NORM clip scales by max / (its norm + 1e-6): pick max to give the joint scale
        be.clip(ClipMode.NORM, scale * (nm + 1e-6));
        for (int i = 0; i < g.length; i++) g[i] *= scale;
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
