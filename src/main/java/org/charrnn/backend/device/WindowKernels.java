package org.charrnn.backend.device;

import org.charrnn.model.CellType;

/**
 * A device's whole-window recurrences ({@link DeviceOps#windows}): one layer's forward or backward
 * over all T steps as one launch (a persistent kernel), where the device has one for the cell and
 * chose it. Each returns true once queued, false (the defaults, {@link #NONE}'s) where the caller
 * runs the steps. Conventions as {@link DeviceOps}.
 */
public interface WindowKernels {
    /** No whole-window recurrence: every layer runs stepwise. */
    WindowKernels NONE = new WindowKernels() {};

    /**
     * The recurrence of one layer's forward over all T steps at once, when this device has a
     * persistent kernel for {@code cell} and chose it: returns true once queued; false (the default)
     * and the caller runs the steps. gx [T,B,Gi] is the input projection without bias, or where
     * {@code tokens} is not null (only where {@link #forwardByToken} said so) the token table
     * [V,Gi] whose row tokens[t,b] (int32 [T,B]) is step t's row b of it; hs and cs [T+1,B,H] hold
     * the initial state in slot 0 and get slots 1..T (=); gates (=) as the cell's stepwise forward
     * saves them; cs and gates are null where the cell has none.
     */
    default boolean forward(
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
        return false;
    }

    /**
     * True when {@link #forward} of {@code cell} at batch size B and hidden size H, queued on
     * the main queue, runs as one launch that reads its input projection through token ids (layer 0
     * projected by token then gathers no [T,B,Gi] copy of the table's rows); false (the default)
     * where it would run stepwise or reads only gx's rows. Asked by every forward, a recorded step's
     * too: the same answer for every window of that shape.
     */
    default boolean forwardByToken(CellType cell, int B, int H) {
        return false;
    }

    /**
     * BPTT through one layer's recurrence over all T steps at once, when this device has a
     * persistent kernel for {@code cell} and chose it: returns true once queued; false (the default)
     * and the caller runs the steps. dhOut [T,B,H] is the gradient from above; dhNext and dc [B,H]
     * hold the gradients from beyond the window and get (=) dL/dh_{-1}, dL/dc_{-1}; gates, hs and cs
     * as {@link #forward} wrote them; dgx [T,B,Gi] (=) the pre-activation gradients of the
     * input projection; dgh [T,B,Gh] (=) those of the recurrent projection where the cell's differ
     * (a GRU), null where they are dgx's (LSTM, RNN).
     */
    default boolean backward(
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
        return false;
    }

    /**
     * True when two stacked layers of {@code cell} at batch size B and hidden size H run as one
     * wavefront ({@link #forwardPair}, {@link #backwardPair}); false (the default) where each layer
     * runs alone. The same answer for every window of that shape.
     */
    default boolean pairs(CellType cell, int B, int H) {
        return false;
    }

    /**
     * The forward recurrences of layer a and the layer b above it over all T steps as one launch, where
     * {@link #pairs}: layer b's input projection runs inside it (no gx of layer b), without dropout
     * between them. gx [T,B,Gi] is layer a's input projection, or with {@code tokens} the token
     * table as in {@link #forward}; hsA, hsB [T+1,B,H] hold the initial states in slot 0 and get
     * slots 1..T (=). Returns true once queued; false (the default) and the caller runs the layers.
     */
    default boolean forwardPair(
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
        return false;
    }

    /**
     * BPTT through layers a and b (b above a) over all T steps as one launch, where {@link #pairs}:
     * dhOutB [T,B,H] the gradient from above layer b (layer a's from above, dgB W_ih_b, runs inside
     * it); dhNextA, dhNextB [B,H] hold the gradients from beyond the window and get (=) dL/dh_{-1};
     * hsA, hsB as {@link #forwardPair} wrote them; dgA, dgB [T,B,Gi] (=) each layer's pre-activation
     * gradients. Returns true once queued; false (the default) and the caller runs the layers.
     */
    default boolean backwardPair(
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
        return false;
    }
}
