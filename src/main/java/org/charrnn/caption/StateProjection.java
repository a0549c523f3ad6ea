package org.charrnn.caption;

/**
 * {@code --condition state}: the initial hidden state of every layer from an image's feature
 * vector, h0_l = tanh(W_l f + b_l), with W_l [H,F] and b_l [H] learned. The LSTM cell state starts
 * at zero: the image enters through h, which every gate reads, and c then starts from the same
 * place for every caption as in an unconditioned model (Karpathy's neuraltalk does the same).
 *
 * <p>It is host-side math over {@link org.charrnn.backend.RnnState#write} and
 * {@link org.charrnn.backend.Backend#getInitialStateGradient()}, so it runs unchanged with every
 * backend. Parameters are one flat array, W_0..W_{L-1} (row-major [H,F] each) then b_0..b_{L-1}.
 */
public final class StateProjection implements FeatureProjection {
    private final int layers, stateVectors, hidden, features;
    private final double[] params;
    private final double[] grads;
    private double[] lastFeatures = new double[0]; // [B,F] of the last forward
    private double[] lastH = new double[0]; // [L,B,H] tanh outputs of the last forward
    private int lastBatch;

    /**
     * @param stateVectors 2 for LSTM (h, c), else 1
     */
    public StateProjection(int layers, int stateVectors, int hidden, int features) {
        if (layers < 1 || hidden < 1 || features < 1 || stateVectors < 1 || stateVectors > 2)
            throw new IllegalArgumentException("bad projection shape");
        this.layers = layers;
        this.stateVectors = stateVectors;
        this.hidden = hidden;
        this.features = features;
        this.params = new double[size(layers, hidden, features)];
        this.grads = new double[params.length];
    }

    /** Number of parameters: L*H*F weights and L*H biases. */
    public static int size(int layers, int hidden, int features) {
        return Math.multiplyExact(Math.multiplyExact(layers, hidden), features + 1);
    }

    @Override
    public Condition condition() {
        return Condition.STATE;
    }

    @Override
    public int rows() {
        return layers * hidden;
    }

    @Override
    public int features() {
        return features;
    }

    public int layers() {
        return layers;
    }

    public int hidden() {
        return hidden;
    }

    @Override
    public double[] parameters() {
        return params;
    }

    @Override
    public double[] gradients() {
        return grads;
    }

    /**
     * The initial state [L][S][B][H] (as {@link org.charrnn.backend.RnnState#read()}) for B streams
     * whose feature vectors are the rows of {@code feats} [B,F]; remembered for {@link #backward}.
     */
    public double[] forward(double[] feats, int batch) {
        int H = hidden, B = batch, LH = layers * H;
        double[] y = FeatureProjection.affine(params, LH, features, feats, B); // [B, L*H]
        double[] state = new double[layers * stateVectors * B * H];
        double[] h = new double[layers * B * H];
        for (int l = 0; l < layers; l++)
            for (int b = 0; b < B; b++)
                for (int j = 0; j < H; j++) {
                    double v = Math.tanh(y[b * LH + l * H + j]);
                    h[(l * B + b) * H + j] = v;
                    state[((l * stateVectors) * B + b) * H + j] = v;
                }
        lastFeatures = feats.clone();
        lastH = h;
        lastBatch = B;
        return state;
    }

    /**
     * Gradients (=) of the loss from dL/d(initial state) [L][S][B][H] of the batch of the last
     * {@link #forward}; the cell-state part (LSTM) does not depend on the projection.
     */
    public void backward(double[] stateGrad) {
        int H = hidden, B = lastBatch, LH = layers * H;
        if (stateGrad.length != layers * stateVectors * B * H)
            throw new IllegalArgumentException("state gradient has " + stateGrad.length + " elements");
        double[] dy = new double[B * LH]; // dL/d(W f + b) through the tanh
        for (int l = 0; l < layers; l++)
            for (int b = 0; b < B; b++)
                for (int j = 0; j < H; j++) {
                    double h = lastH[(l * B + b) * H + j];
                    dy[b * LH + l * H + j] = stateGrad[((l * stateVectors) * B + b) * H + j] * (1 - h * h);
                }
        FeatureProjection.affineBackward(grads, LH, features, lastFeatures, dy);
    }
}
