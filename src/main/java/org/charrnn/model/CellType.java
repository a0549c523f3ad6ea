package org.charrnn.model;

import java.util.Locale;

/** The recurrent cell of every layer. {@link #gates()} is the number of H-sized blocks in W_ih/W_hh. */
public enum CellType {
    /** Vanilla tanh RNN, PyTorch nn.RNN(nonlinearity='tanh'): one block. */
    RNN(1, 1),
    /** LSTM, PyTorch nn.LSTM: gate order i, f, g, o along the 4H axis. */
    LSTM(4, 2),
    /** GRU, PyTorch nn.GRU: gate order r, z, n along the 3H axis. */
    GRU(3, 1);

    private final int gates;
    private final int stateVectors;

    CellType(int gates, int stateVectors) {
        this.gates = gates;
        this.stateVectors = stateVectors;
    }

    /** Number of H-sized gate blocks: 1 (rnn), 4 (lstm), 3 (gru). */
    public int gates() { return gates; }

    /** Number of H-sized state vectors per layer: 2 for LSTM (h, c), else 1 (h). */
    public int stateVectors() { return stateVectors; }

    /** Lower-case name used on the command line and in checkpoints. */
    public String id() { return name().toLowerCase(Locale.ROOT); }

    /** Parses "lstm", "gru" or "rnn" (any case). */
    public static CellType parse(String s) {
        for (CellType c : values()) if (c.id().equalsIgnoreCase(s.trim())) return c;
        throw new IllegalArgumentException("unknown model '" + s + "' (expected lstm, gru or rnn)");
    }
}
