package org.charrnn.caption;

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

    /** The first inputs [B,E] of B streams whose feature vectors are the rows of {@code feats} [B,F]. */
    public double[] forward(double[] feats, int batch) {
        double[] x = FeatureProjection.affine(params, embedding, features, feats, batch);
        lastFeatures = feats.clone();
        return x;
    }

    /** Gradients (=) from dL/d(first input) [B,E] of the batch of the last {@link #forward}. */
    public void backward(double[] inputGrad) {
        FeatureProjection.affineBackward(grads, embedding, features, lastFeatures, inputGrad);
    }
}
