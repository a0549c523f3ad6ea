package org.charrnn.backend;

import java.util.Locale;
import org.charrnn.model.CellType;

/**
 * How a device backend runs the recurrence of a layer over a window, forward and backward: one
 * launch per layer and pass for all T steps (CUDA's persistent kernels; OpenCL's window kernels on CPU
 * devices), or a recurrent GEMM and a cell kernel per step.
 */
public enum RnnKernel {
    /**
     * The backend's default: CUDA runs each pass persistent where it fits and a per-step cost model
     * of the device predicts it faster (RnnCostModel), else stepwise; OpenCL on a CPU device the
     * window kernels (LSTM, GRU, RNN), else stepwise.
     */
    AUTO,
    /**
     * One launch per layer and pass for all T steps. CUDA: a cooperative launch with W_hh held on
     * chip (LSTM, GRU or RNN, fp32, when every block of the launch fits on the device at once).
     * OpenCL: the window kernels, each work-item running all T steps for its block of batch rows
     * (LSTM, GRU, RNN; CPU devices only). The reference has none. Where it cannot run, an error says why.
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
