package org.charrnn.backend;

import java.util.Locale;
import org.charrnn.model.CellType;

/** How a GPU backend runs the recurrence of a layer over a window, forward and backward. */
public enum RnnKernel {
    /** Persistent where the device and the model allow it (see {@link #PERSISTENT}), else stepwise. */
    AUTO,
    /**
     * One cooperative launch per layer and pass for all T steps, W_hh held on chip (CUDA, LSTM,
     * GRU or RNN, fp32, when every block of the launch fits on the device at once).
     */
    PERSISTENT,
    /** A recurrent GEMM and a fused cell kernel per timestep. */
    STEPWISE;

    /** True when {@code cell} has persistent kernels, forward and backward (CUDA: kernels/cuda/persistent_*.cu). */
    public static boolean hasPersistent(CellType cell) {
        return switch (cell) {
            case LSTM, GRU, RNN -> true;
            case MUT1, MUT2, MUT3 -> false;
        };
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static RnnKernel parse(String s) {
        for (RnnKernel k : values()) if (k.id().equalsIgnoreCase(s.trim())) return k;
        throw new IllegalArgumentException("unknown rnn kernel '" + s + "' (expected auto, persistent or stepwise)");
    }
}
