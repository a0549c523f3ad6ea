package org.charrnn.backend.cuda;

import static org.charrnn.backend.cuda.Kernels.arg;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import jcuda.NativePointerObject;
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
                lstmForward(p(gx), ids, w, p(bih), p(bhh), p(hs), p(cs), p(gates), T, B, H);
                yield true;
            }
            case GRU -> {
                gruForward(p(gx), ids, w, p(bih), p(bhh), p(hs), p(gates), T, B, H);
                yield true;
            }
            case RNN -> {
                rnnForward(p(gx), ids, w, p(bih), p(bhh), p(hs), T, B, H);
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
                lstmBackward(p(dhOut), p(dhNext), p(dc), p(gates), p(cs), w, p(dgx), part, T, B, H);
                yield true;
            }
            case GRU -> {
                gruBackward(p(dhOut), p(dhNext), p(gates), p(hs), w, p(dgx), p(dgh), part, T, B, H);
                yield true;
            }
            case RNN -> {
                rnnBackward(p(dhOut), p(dhNext), p(hs), w, p(dgx), T, B, H);
                yield true;
            }
            case MUT1, MUT2, MUT3 -> false;
        };
    }

    /** Two RNN layers a wavefront where {@link PersistentRnn#pairChoice} says they run so. */
    @Override
    public boolean pairs(CellType cell, int B, int H) {
        return cell == CellType.RNN && persistent.pairChoice(B) != null;
    }

    @Override
    public boolean forwardPair(
            CellType cell,
            WeightRows whhA,
            Ref bihA,
            Ref bhhA,
            WeightRows wihB,
            WeightRows whhB,
            Ref bihB,
            Ref bhhB,
            Ref gx,
            Ref tokens,
            Ref hsA,
            Ref hsB,
            int T,
            int B,
            int H) {
        if (onSide.getAsBoolean() || !pairs(cell, B, H)) return false;
        persistent
                .pairs()
                .forward(
                        persistent.pairChoice(B),
                        p(gx),
                        tokens == null ? Kernels.NONE : p(tokens),
                        weights.apply(whhA),
                        weights.apply(wihB),
                        weights.apply(whhB),
                        p(bihA),
                        p(bhhA),
                        p(bihB),
                        p(bhhB),
                        p(hsA),
                        p(hsB),
                        T,
                        B,
                        H);
        return true;
    }

    @Override
    public boolean backwardPair(
            CellType cell,
            WeightRows whhA,
            WeightRows wihB,
            WeightRows whhB,
            Ref dhOutB,
            Ref dhNextA,
            Ref dhNextB,
            Ref hsA,
            Ref hsB,
            Ref dgA,
            Ref dgB,
            int T,
            int B,
            int H) {
        if (onSide.getAsBoolean() || !pairs(cell, B, H)) return false;
        persistent
                .pairs()
                .backward(
                        persistent.pairChoice(B),
                        p(dhOutB),
                        p(dhNextA),
                        p(dhNextB),
                        p(hsA),
                        p(hsB),
                        weights.apply(whhA),
                        weights.apply(wihB),
                        weights.apply(whhB),
                        p(dgA),
                        p(dgB),
                        T,
                        B,
                        H);
        return true;
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

    /** The kernel arguments of {@code pointers}, in order: a pass's arguments before T, B, H, U and prec. */
    private static NativePointerObject[] args(Pointer... pointers) {
        NativePointerObject[] a = new NativePointerObject[pointers.length];
        for (int i = 0; i < a.length; i++) a[i] = arg(pointers[i]);
        return a;
    }

    /** Byte offset of slot 1 of a [T+1,B,H] sequence. */
    private static long slot1(int B, int H) {
        return 4L * B * H;
    }

    /**
     * One LSTM layer's whole window (kernels/README.md, persistent_lstm_forward): hs, cs [T+1,B,H]
     * with the initial state in slot 0, written (=) in slots 1..T; gates [T,B,4H] (=); gx [T,B,4H], or
     * the token table [V,4H] that tokens (int32 [T,B]; {@link Kernels#NONE}: none) index.
     */
    private void lstmForward(
            Pointer gx,
            Pointer tokens,
            Pointer whh,
            Pointer bih,
            Pointer bhh,
            Pointer hs,
            Pointer cs,
            Pointer gates,
            int T,
            int B,
            int H) {
        long s1 = slot1(B, H);
        persistent
                .launches()
                .pass(
                        true,
                        persistent.choiceAt(B),
                        H,
                        B,
                        args(gx, tokens, whh, bih, bhh, hs, cs, hs.withByteOffset(s1), cs.withByteOffset(s1), gates),
                        T);
    }

    /**
     * BPTT through one LSTM layer's window (persistent_lstm_backward, or with {@code part} the
     * exchange of {@link #exchangeBytes} persistent_lstm_backward_rows): dhOut [T,B,H]; dhNext, dc
     * [B,H] in/out; gates [T,B,4H], cs [T+1,B,H] as forward saved them; dgates [T,B,4H] (=).
     */
    private void lstmBackward(
            Pointer dhOut,
            Pointer dhNext,
            Pointer dc,
            Pointer gates,
            Pointer cs,
            Pointer whh,
            Pointer dgates,
            Pointer part,
            int T,
            int B,
            int H) {
        persistent
                .launches()
                .backward(persistent.choiceAt(B), part, H, B, args(dhOut, dhNext, dc, gates, cs, whh, dgates), T);
    }

    /**
     * One GRU layer's whole window (persistent_gru_forward): hs [T+1,B,H] with the initial state in
     * slot 0, written (=) in slots 1..T; gates [T,B,4H] (=) r, z, n, gh_n + b_hn; gx [T,B,3H], or the
     * token table [V,3H] that tokens index (as {@link #lstmForward}).
     */
    private void gruForward(
            Pointer gx,
            Pointer tokens,
            Pointer whh,
            Pointer bih,
            Pointer bhh,
            Pointer hs,
            Pointer gates,
            int T,
            int B,
            int H) {
        persistent
                .launches()
                .pass(
                        true,
                        persistent.choiceAt(B),
                        H,
                        B,
                        args(gx, tokens, whh, bih, bhh, hs, hs.withByteOffset(slot1(B, H)), gates),
                        T);
    }

    /**
     * BPTT through one GRU layer's window (persistent_gru_backward, or with {@code part} the
     * exchange of {@link #exchangeBytes} persistent_gru_backward_rows): dhOut [T,B,H]; dhNext
     * [B,H] in/out; gates [T,B,4H], hs [T+1,B,H] as forward saved them; dgx, dgh [T,B,3H] (=).
     */
    private void gruBackward(
            Pointer dhOut,
            Pointer dhNext,
            Pointer gates,
            Pointer hs,
            Pointer whh,
            Pointer dgx,
            Pointer dgh,
            Pointer part,
            int T,
            int B,
            int H) {
        persistent
                .launches()
                .backward(persistent.choiceAt(B), part, H, B, args(dhOut, dhNext, gates, hs, whh, dgx, dgh), T);
    }

    /**
     * One tanh-RNN layer's whole window (persistent_rnn_forward): hs [T+1,B,H] with the initial
     * state in slot 0, written (=) in slots 1..T; gx [T,B,H], or the token table [V,H] that tokens
     * index (as {@link #lstmForward}).
     */
    private void rnnForward(
            Pointer gx, Pointer tokens, Pointer whh, Pointer bih, Pointer bhh, Pointer hs, int T, int B, int H) {
        persistent
                .launches()
                .pass(
                        true,
                        persistent.choiceAt(B),
                        H,
                        B,
                        args(gx, tokens, whh, bih, bhh, hs, hs.withByteOffset(slot1(B, H))),
                        T);
    }

    /**
     * BPTT through one tanh-RNN layer's window (persistent_rnn_backward): dhOut [T,B,H]; dhNext
     * [B,H] in/out; hs [T+1,B,H] as forward wrote it (the kernel reads slots 1..T); dgates [T,B,H] (=).
     */
    private void rnnBackward(
            Pointer dhOut, Pointer dhNext, Pointer hs, Pointer whh, Pointer dgates, int T, int B, int H) {
        persistent
                .launches()
                .pass(
                        false,
                        persistent.choiceAt(B),
                        H,
                        B,
                        args(dhOut, dhNext, hs.withByteOffset(slot1(B, H)), whh, dgates),
                        T);
    }
}
