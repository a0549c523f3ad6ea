package org.charrnn.bench;

import java.util.Locale;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;

/**
 * One benchmarked configuration: cell, L layers of width H, B streams, T steps per window. The
 * embedding width is H (as PyTorch's baseline, whose nn.Embedding has width H) and the vocabulary
 * is tiny-shakespeare's 65 symbols; no dropout.
 */
public record BenchSpec(CellType cell, int layers, int hidden, int batch, int seq) {
    /** tiny-shakespeare's vocabulary size, as torch-rnn's benchmark and bench/torch_baseline.py. */
    public static final int VOCAB = 65;

    public BenchSpec {
        if (cell == null) throw new IllegalArgumentException("cell type is required");
        if (layers < 1) throw new IllegalArgumentException("--layers must be >= 1, got " + layers);
        if (hidden < 1) throw new IllegalArgumentException("--hidden must be >= 1, got " + hidden);
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        if (seq < 1) throw new IllegalArgumentException("--seq must be >= 1, got " + seq);
    }

    public ModelConfig modelConfig() {
        return new ModelConfig(cell, VOCAB, hidden, hidden, layers, 0.0);
    }

    /** Characters consumed by one training step: B * T. */
    public long charsPerStep() {
        return (long) batch * seq;
    }

    /** "lstm L2 H256 B50 T50". */
    public String label() {
        return String.format(Locale.ROOT, "%s L%d H%d B%d T%d", cell.id(), layers, hidden, batch, seq);
    }
}
