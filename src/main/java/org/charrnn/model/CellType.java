package org.charrnn.model;

import java.util.Locale;

/**
 * The recurrent cell of every layer. W_ih has {@link #inputGates()} H-row blocks and W_hh
 * {@link #recurrentGates()}; each has a bias of its height (as PyTorch gives every linear map one).
 */
public enum CellType {
    /** Vanilla tanh RNN, PyTorch nn.RNN(nonlinearity='tanh'): one block. */
    RNN(1, 1, 1, false),
    /** LSTM, PyTorch nn.LSTM: gate order i, f, g, o along the 4H axis. */
    LSTM(4, 4, 2, false),
    /** GRU, PyTorch nn.GRU: gate order r, z, n along the 3H axis. */
    GRU(3, 3, 1, false),
    /**
     * MUT1 of Jozefowicz, Zaremba, Sutskever (2015): z = sig(W_xz x + b_z), r = sig(W_xr x + W_hr h + b_r),
     * h' = tanh(W_hh (r h) + tanh(x) + b_h) z + h (1 - z). W_ih rows z, r; W_hh rows r, n.
     */
    MUT1(2, 2, 1, true),
    /**
     * MUT2: z = sig(W_xz x + W_hz h + b_z), r = sig(x + W_hr h + b_r),
     * h' = tanh(W_hh (r h) + W_xh x + b_h) z + h (1 - z). W_ih rows z, n; W_hh rows z, r, n.
     */
    MUT2(2, 3, 1, true),
    /**
     * MUT3: z = sig(W_xz x + W_hz tanh(h) + b_z), r = sig(W_xr x + W_hr h + b_r),
     * h' = tanh(W_hh (r h) + W_xh x + b_h) z + h (1 - z). W_ih rows z, r, n; W_hh rows z, r, n.
     */
    MUT3(3, 3, 1, false);
    private final int inputGates, recurrentGates, stateVectors;
    private final boolean feedsInput;

    CellType(int inputGates, int recurrentGates, int stateVectors, boolean feedsInput) {
        this.inputGates = inputGates;
        this.recurrentGates = recurrentGates;
        this.stateVectors = stateVectors;
        this.feedsInput = feedsInput;
    }

    /** H-row blocks of W_ih and b_ih: 1 (rnn), 4 (lstm), 3 (gru), 2 (mut1, mut2), 3 (mut3). */
    public int inputGates() {
        return inputGates;
    }

    /** H-row blocks of W_hh and b_hh: 1 (rnn), 4 (lstm), 3 (gru), 2 (mut1), 3 (mut2, mut3). */
    public int recurrentGates() {
        return recurrentGates;
    }

    /** Number of H-sized state vectors per layer: 2 for LSTM (h, c), else 1 (h). */
    public int stateVectors() {
        return stateVectors;
    }

    /**
     * True when the layer input itself (not a projection of it) enters the cell (MUT1's tanh(x),
     * MUT2's x + ...): the input width must then equal H, so --embedding must equal --hidden.
     */
    public boolean feedsInputDirectly() {
        return feedsInput;
    }

    /** Lower-case name used on the command line and in checkpoints. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "lstm", "gru", "rnn", "mut1", "mut2" or "mut3" (any case). */
    public static CellType parse(String s) {
        for (CellType c : values()) if (c.id().equalsIgnoreCase(s.trim())) return c;
        throw new IllegalArgumentException("unknown model '" + s + "' (expected lstm, gru, rnn, mut1, mut2 or mut3)");
    }
}
