package org.charrnn.model;

/**
 * Shape of a model: Embedding[V,E] -> L recurrent layers of width H -> Linear[V,H].
 *
 * @param cell      recurrent cell type
 * @param vocabSize V, number of symbols
 * @param embedding E, embedding width (input width of layer 0)
 * @param hidden    H, hidden width of every layer
 * @param layers    L, number of stacked layers
 * @param dropout   p, inverted dropout on every layer's output during training (0 = off)
 */
public record ModelConfig(CellType cell, int vocabSize, int embedding, int hidden, int layers, double dropout) {

    public ModelConfig {
        if (cell == null) throw new IllegalArgumentException("cell type is required");
        if (vocabSize < 1) throw new IllegalArgumentException("vocabulary size must be >= 1, got " + vocabSize);
        if (embedding < 1)
            throw org.charrnn.util.ConfigError.of("{ModelSpec.embedding} must be >= 1, got " + embedding);
        if (hidden < 1) throw org.charrnn.util.ConfigError.of("{ModelSpec.hidden} must be >= 1, got " + hidden);
        if (layers < 1) throw org.charrnn.util.ConfigError.of("{ModelSpec.layers} must be >= 1, got " + layers);
        if (!(dropout >= 0 && dropout < 1))
            throw org.charrnn.util.ConfigError.of("{ModelSpec.dropout} must be in [0, 1), got " + dropout);
        checkInputWidth(cell, embedding, hidden);
    }

    /** A cell that feeds its input directly needs E = H (layers above 1 have input width H anyway). */
    static void checkInputWidth(CellType cell, int embedding, int hidden) {
        org.charrnn.util.ConfigError.require(
                !cell.feedsInputDirectly() || embedding == hidden,
                "{ModelSpec.cell} " + cell.id()
                        + " adds the layer input itself into the cell, so {ModelSpec.embedding} (" + embedding
                        + ") must equal {ModelSpec.hidden} (" + hidden + ")");
    }

    /** The shape without the vocabulary. */
    public ModelSpec spec() {
        return new ModelSpec(cell, layers, hidden, embedding, dropout);
    }

    /** Input width of layer {@code l}: E for layer 0, H above. */
    public int inputSize(int l) {
        return l == 0 ? embedding : hidden;
    }

    /** Rows of W_ih (and b_ih) of one layer: inputGates * H (4H LSTM, 3H GRU, H RNN, 2H MUT1/2, 3H MUT3). */
    public int inputGateWidth() {
        return cell.inputGates() * hidden;
    }

    /** Rows of W_hh (and b_hh) of one layer: recurrentGates * H. */
    public int recurrentGateWidth() {
        return cell.recurrentGates() * hidden;
    }

    /** Floats in one batch row of the recurrent state: L * (1 or 2) * H. */
    public int stateSizePerRow() {
        return layers * cell.stateVectors() * hidden;
    }

    /** A copy with another dropout (for example 0 for inference). */
    public ModelConfig withDropout(double p) {
        return new ModelConfig(cell, vocabSize, embedding, hidden, layers, p);
    }

    /** Short description such as "lstm L2 H128 E64 V65". */
    public String describe() {
        return cell.id() + " L" + layers + " H" + hidden + " E" + embedding + " V" + vocabSize
                + (dropout > 0 ? " dropout " + dropout : "");
    }
}
