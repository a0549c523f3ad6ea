package org.charrnn.backend.cuda;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.charrnn.backend.device.DeviceArray;
import org.charrnn.backend.device.Ref;
import org.charrnn.backend.device.WeightRows;
import org.charrnn.backend.device.WindowKernels;
import org.charrnn.model.CellType;

/**
 * The CUDA backend's {@link WindowKernels}: the cells' dispatch onto the persistent kernels ({@link
 * PersistentRnn}), where they run at the window's batch size, with the exchange buffers the
 * row-stationary backward needs. Shapes and aliasing as WindowKernels states them. Persistent passes
 * launch on the main stream: work queued on the side stream runs stepwise.
 */
final class PersistentWindows implements WindowKernels {
    private final PersistentRnn persistent;
    private final BiFunction<Long, String, DeviceArray> alloc; // CudaOps.alloc: freed with the backend
    private final Function<WeightRows, Pointer> weights; // W_hh's rows in the attached parameters
    private final BooleanSupplier onSide; // work is being queued on the side stream
    private final Map<Integer, DeviceArray> exchanges = new HashMap<>(); // by batch size

    PersistentWindows(
            PersistentRnn persistent,
            BiFunction<Long, String, DeviceArray> alloc,
            Function<WeightRows, Pointer> weights,
            BooleanSupplier onSide) {
        this.persistent = persistent;
        this.alloc = alloc;
        this.weights = weights;
        this.onSide = onSide;
    }

    private static CUdeviceptr p(Ref r) {
        return CudaCellKernels.p(r);
    }

    @Override
    public boolean forward(
            CellType cell,
            WeightRows whh,
            Ref bih,
            Ref bhh,
            Ref gx,
            Ref tokens,
            Ref hs,
            Ref cs,
            Ref gates,
            int T,
            int B,
            int H) {
        if (onSide.getAsBoolean()) return false;
        if (tokens != null && !forwardByToken(cell, B, H))
            throw new IllegalStateException("a " + cell.id() + " forward by token at B " + B + " that runs stepwise");
        if (!persistent.forwardPersistent(B)) return false;
        Pointer w = weights.apply(whh), ids = tokens == null ? Kernels.NONE : p(tokens);
        return switch (cell) {
            case LSTM -> {
                persistent.lstmForward(p(gx), ids, w, p(bih), p(bhh), p(hs), p(cs), p(gates), T, B, H);
                yield true;
            }
            case GRU -> {
                persistent.gruForward(p(gx), ids, w, p(bih), p(bhh), p(hs), p(gates), T, B, H);
                yield true;
            }
            case RNN -> {
                persistent.rnnForward(p(gx), ids, w, p(bih), p(bhh), p(hs), T, B, H);
                yield true;
            }
            case MUT1, MUT2, MUT3 -> false;
        };
    }

    /** Every persistent forward reads by token where asked. */
    @Override
    public boolean forwardByToken(CellType cell, int B, int H) {
        return switch (cell) {
            case LSTM, GRU, RNN -> persistent.forwardPersistent(B);
            case MUT1, MUT2, MUT3 -> false;
        };
    }

    @Override
    public boolean backward(
            CellType cell,
            WeightRows whh,
            Ref dhOut,
            Ref dhNext,
            Ref dc,
            Ref gates,
            Ref hs,
            Ref cs,
            Ref dgx,
            Ref dgh,
            int T,
            int B,
            int H) {
        if (onSide.getAsBoolean() || !persistent.backwardPersistent(B)) return false;
        Pointer w = weights.apply(whh), part = exchange(B);
        return switch (cell) {
            case LSTM -> {
                persistent.lstmBackward(p(dhOut), p(dhNext), p(dc), p(gates), p(cs), w, p(dgx), part, T, B, H);
                yield true;
            }
            case GRU -> {
                persistent.gruBackward(p(dhOut), p(dhNext), p(gates), p(hs), w, p(dgx), p(dgh), part, T, B, H);
                yield true;
            }
            case RNN -> {
                persistent.rnnBackward(p(dhOut), p(dhNext), p(hs), w, p(dgx), T, B, H);
                yield true;
            }
            case MUT1, MUT2, MUT3 -> false;
        };
    }

    /**
     * The exchange buffer of the row-stationary persistent backward at batch size B (allocated on
     * its first window, which runs eagerly before any graph capture, and kept while the backend
     * lives, since captured steps refer to it), or null where that backward does not run.
     */
    private Pointer exchange(int B) {
        long bytes = persistent.exchangeBytes(B);
        if (bytes == 0) return null;
        DeviceArray a =
                exchanges.computeIfAbsent(B, b -> alloc.apply(bytes, "persistent backward exchange (B " + b + ")"));
        return CudaCellKernels.buf(a).ptr;
    }
}
