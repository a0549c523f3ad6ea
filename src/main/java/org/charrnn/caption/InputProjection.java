package org.charrnn.caption;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * {@code --condition input}: Show and Tell's "image as the first input". x_0 = W f + b, with W
 * [E,F] and b [E] learned, is the layer-0 input of step 0 in place of a character embedding
 * ({@link org.charrnn.backend.Window#firstInput()}); the state starts at zero, the target of that
 * step is not counted, and the caption's characters follow. Its gradients come from the backend's
 * {@link org.charrnn.backend.Backend#getFirstInputGradient()}. Parameters: W row-major, then b.
 */
public final class InputProjection implements FeatureProjection {
    private final int embedding, features;
    private final double[] params;
    private final double[] grads;
    private double[] lastFeatures = new double[0]; // [B,F] of the last forward

    public InputProjection(int embedding, int features) {
        if (embedding < 1 || features < 1) throw new IllegalArgumentException("bad projection shape");
        this.embedding = embedding;
        this.features = features;
        this.params = new double[FeatureProjection.size(embedding, features)];
        this.grads = new double[params.length];
    }

    @Override
    public Condition condition() {
        return Condition.INPUT;
    }

    @Override
    public int features() {
        return features;
    }

    @Override
    public int rows() {
        return embedding;
    }

    @Override
    public double[] parameters() {
        return params;
    }

    @Override
    public double[] gradients() {
        return grads;
    }

    @Override
    public void setParameters(double[] values) {
        if (values.length != params.length)
            throw new IllegalArgumentException("projection has " + params.length + " parameters, got " + values.length);
        System.arraycopy(values, 0, params, 0, params.length);
    }

    @Override
    public void initialize(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double a = 1.0 / Math.sqrt(features);
        int nw = embedding * features;
        for (int i = 0; i < params.length; i++) params[i] = i < nw ? a * (2 * rng.nextDouble() - 1) : 0.0;
    }

    /** The first inputs [B,E] of B streams whose feature vectors are the rows of {@code feats} [B,F]. */
    public double[] forward(double[] feats, int batch) {
        if (feats.length != batch * features)
            throw new IllegalArgumentException("expected " + batch + "x" + features + " features");
        int E = embedding, F = features, nw = E * F;
        double[] x = new double[batch * E];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < E; j++) {
                double s = params[nw + j];
                for (int k = 0; k < F; k++) s += params[j * F + k] * feats[b * F + k];
                x[b * E + j] = s;
            }
        lastFeatures = feats.clone();
        return x;
    }

    /** Gradients (=) from dL/d(first input) [B,E] of the batch of the last {@link #forward}. */
    public void backward(double[] inputGrad) {
        int E = embedding, F = features, nw = E * F, B = lastFeatures.length / F;
        if (inputGrad.length != B * E)
            throw new IllegalArgumentException("first-input gradient has " + inputGrad.length + " elements");
        Arrays.fill(grads, 0.0);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < E; j++) {
                double d = inputGrad[b * E + j];
                if (d == 0) continue;
                grads[nw + j] += d;
                for (int k = 0; k < F; k++) grads[j * F + k] += d * lastFeatures[b * F + k];
            }
    }
}
