package org.charrnn.model;

import static org.charrnn.util.ConfigError.require;

/**
 * The shape of a model as a user chooses it; the vocabulary comes from the data
 * ({@link #withVocabulary}). Used by training (TrainConfig) and by the model ({@link ModelConfig}).
 *
 * @param cell      the recurrent cell of every layer (--model) the recurrent cell of every layer
 * @param layers    --layers L (2)
 * @param hidden    --hidden H (128)
 * @param embedding --embedding E (64)
 * @param dropout   --dropout p (0): inverted dropout on every layer's output during training
 */
public record ModelSpec(CellType cell, int layers, int hidden, int embedding, double dropout) {

    public ModelSpec {
        require(cell != null, "{ModelSpec.cell} is required");
        require(layers >= 1, "{ModelSpec.layers} must be >= 1, got " + layers);
        require(hidden >= 1, "{ModelSpec.hidden} must be >= 1, got " + hidden);
        require(embedding >= 1, "{ModelSpec.embedding} must be >= 1, got " + embedding);
        require(dropout >= 0 && dropout < 1, "{ModelSpec.dropout} must be in [0, 1), got " + dropout);
        ModelConfig.checkInputWidth(cell, embedding, hidden);
    }

    public static ModelSpec defaults() {
        return new ModelSpec(CellType.LSTM, 2, 128, 64, 0.0);
    }

    /** The model of this shape over a vocabulary of {@code vocabSize} symbols. */
    public ModelConfig withVocabulary(int vocabSize) {
        return new ModelConfig(cell, vocabSize, embedding, hidden, layers, dropout);
    }
}
