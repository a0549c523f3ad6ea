package org.charrnn.caption;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.charrnn.model.ModelConfig;

/**
 * The learned map from an image's feature vector (width F) into a caption model: W [rows, F] and
 * b [rows], one flat parameter array (W row-major, then b), trained with the model.
 */
public sealed interface FeatureProjection permits StateProjection, InputProjection {

    /** Where the projection's output enters the model. */
    Condition condition();

    /** F, the feature width. */
    int features();

    /** Output units: L*H for {@link Condition#STATE}, E for {@link Condition#INPUT}. */
    int rows();

    /** The parameters (the array itself: optimizers update it in place). */
    double[] parameters();

    /** dL/dparams of the last backward (the array itself). */
    double[] gradients();

    /** Copies {@code values} into the parameters. */
    default void setParameters(double[] values) {
        double[] params = parameters();
        if (values.length != params.length)
            throw new IllegalArgumentException("projection has " + params.length + " parameters, got " + values.length);
        System.arraycopy(values, 0, params, 0, params.length);
    }

    /** Uniform(-1/sqrt(F), 1/sqrt(F)) weights and zero biases, from {@code seed}. */
    default void initialize(long seed) {
        double[] params = parameters();
        SplittableRandom rng = new SplittableRandom(seed);
        double a = 1.0 / Math.sqrt(features());
        int nw = rows() * features();
        for (int i = 0; i < params.length; i++) params[i] = i < nw ? a * (2 * rng.nextDouble() - 1) : 0.0;
    }

    /** y [B,rows] (=) W f + b for the B feature rows of {@code feats} [B,F]; {@code params} W [rows,F] then b. */
    static double[] affine(double[] params, int rows, int F, double[] feats, int B) {
        if (feats.length != B * F) throw new IllegalArgumentException("expected " + B + "x" + F + " features");
        int nw = rows * F;
        double[] y = new double[B * rows];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < rows; j++) {
                double s = params[nw + j];
                for (int k = 0; k < F; k++) s += params[j * F + k] * feats[b * F + k];
                y[b * rows + j] = s;
            }
        return y;
    }

    /** grads (=) dL/d(W, b) of {@link #affine} from dy [B,rows] and the same {@code feats} [B,F]. */
    static void affineBackward(double[] grads, int rows, int F, double[] feats, double[] dy) {
        int B = feats.length / F, nw = rows * F;
        if (dy.length != B * rows) throw new IllegalArgumentException("gradient has " + dy.length + " elements");
        Arrays.fill(grads, 0.0);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < rows; j++) {
                double d = dy[b * rows + j];
                if (d == 0) continue;
                grads[nw + j] += d;
                for (int k = 0; k < F; k++) grads[j * F + k] += d * feats[b * F + k];
            }
    }

    /** The projection of {@code condition} for model {@code cfg} and {@code features} per image. */
    static FeatureProjection of(Condition condition, ModelConfig cfg, int features) {
        return switch (condition) {
            case STATE -> new StateProjection(cfg.layers(), cfg.cell().stateVectors(), cfg.hidden(), features);
            case INPUT -> new InputProjection(cfg.embedding(), features);
        };
    }

    /** Number of parameters of a projection with {@code rows} outputs from {@code features} inputs. */
    static int size(int rows, int features) {
        return Math.multiplyExact(rows, Math.addExact(features, 1));
    }
}
