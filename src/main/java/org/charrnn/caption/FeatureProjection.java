package org.charrnn.caption;

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

    void setParameters(double[] values);

    /** Uniform(-1/sqrt(F), 1/sqrt(F)) weights and zero biases, from {@code seed}. */
    void initialize(long seed);

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
