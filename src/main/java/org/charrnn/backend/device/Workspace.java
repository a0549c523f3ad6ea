package org.charrnn.backend.device;

import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * Device buffers of one window shape (T, B), reallocated when the shape changes. The training
 * workspace also holds the activations backward reads and the gradient scratch.
 */
final class Workspace {
    private static final int INT = 4, LONG = 8, FLOAT = 4;

    final boolean training;
    private final DeviceOps ops;
    private final ModelConfig cfg;
    private final DeviceCell cell;
    int T = -1, B = -1, N;
    DeviceTokens tokens; // corpus of the last gathered window
    DeviceArray x, y; // int [N] inputs and targets, row t*B + b
    DeviceArray starts; // int64 [B]
    // [N,E] layer-0 input; with a token table allocated only once a window brings a first input
    // (embeddingRows), as token-projected windows never read it (unless the cell's step kernels
    // take it: DeviceCell.stepsTakeInput)
    DeviceArray emb;
    DeviceArray firstInput; // [B,E] layer-0 input of step 0 when firstInputOn (see Window#firstInput)
    boolean firstInputOn; // of the last forward: its rows 0..B-1 of emb are firstInput's
    DeviceArray firstInputGrad; // [B,E] dL/d(firstInput) of the last backward (training)
    // [V,Gi] layer 0's input projection of every token (forward: gx gathers its rows), then dgx
    // summed per token (backward); null where the workspace does not project by token (TokenProjection)
    DeviceArray tokenTable;
    // [N,Gi] input projection (no bias) of the layer the forward is in: a layer reads it only during
    // its own forward, so one buffer serves every layer (pipelined: a chunk's rows, once the layer
    // below is done with them), and backward reuses it as dgx
    DeviceArray gx;
    DeviceArray[] gates; // per layer [N,savedWidth] saved activations; null when the cell saves none
    // [L,S,T+1,B,H]: every layer's h (s = 0) and c (s = 1, cells with a cell state), slot 0 the
    // initial state, 1..T the outputs; hs[l] and cs[l] [T+1,B,H] are views into it. The slots 0 of
    // all layers (and the slots T) lie (T+1) B H apart, so the state [L,S,B,H] moves in or out in one
    // strided copy
    DeviceArray states;
    Ref[] hs, cs;
    DeviceArray[] drop; // per layer [N,H] dropped output (training with dropout)
    DeviceArray gh; // [B,Gh] recurrent projection of one step
    // each pass's layers pipelined by chunks of this many steps (LayerPipeline), 0 where that pass
    // runs them one after another; where either pass is pipelined, ghSide [B,Gh] is the side queue's gh
    int forwardChunk, backwardChunk;
    DeviceArray ghSide;
    DeviceArray logits; // [N,V]; dL/dlogits after a training forward
    DeviceArray rowLoss; // [N]
    DeviceArray lossSum; // [1]
    DeviceArray targetWeight; // [N] 1 for a counted target, 0 for an ignored one (masked windows)
    DeviceArray counted; // [1] number of counted targets (masked windows)
    int ignoreTarget = -1; // of the last forward (see Window)
    boolean topGradReady; // the last forward's fused decoder wrote dL/dtop into dA (DecoderPass)
    DeviceArray dgx,
            dgh; // [N,Gi] (the gx buffer: no projection is read after the forward), [N,Gh]; dgh only when the cell
    // separates it
    // with the weight gradients on a side queue (overlap): a second dgx / dgh, so that the layer below
    // writes its gradients while the side queue still reads the layer above's; null otherwise
    boolean overlap;
    // two stacked layers' backward as one launch (WindowKernels.pairs): the two write dgx and dgxAlt
    boolean pairs;
    DeviceArray dgxAlt, dghAlt;
    DeviceArray dx; // [N,H] dL/d(layer input) that bypasses W_ih (cells that feed their input directly)
    DeviceArray scratch; // [B,scratchWidth] per-step scratch of the cell's backward
    DeviceArray dA, dB; // [N,max(E,H)] gradient w.r.t. a layer's output / input, swapped per layer
    // [L,S,B,H] dL/d(initial state); during backward, layer l's slices carry dL/dh_t and dL/dc_t
    // from step to step (the cells' dhNext and dc)
    DeviceArray stateGrad;

    Workspace(DeviceOps ops, ModelConfig cfg, DeviceCell cell, boolean training) {
        this.ops = ops;
        this.cfg = cfg;
        this.cell = cell;
        this.training = training;
    }

    /** Makes the buffers fit (T, B); returns true when they were reallocated. */
    boolean ensure(int T, int B) {
        if (T == this.T && B == this.B) return false;
        release();
        long n = (long) T * B;
        checkAddressable(n, B);
        allocateActivations(T, B);
        if (training) allocateGradients(T, B);
        reserveGemmScratch(n);
        this.T = T;
        this.B = B;
        this.N = (int) n;
        return true;
    }

    /** A {@link UserError} where a buffer of {@code n} = T*B rows would not be addressable by int elements. */
    private void checkAddressable(long n, int B) {
        int L = cfg.layers(), E = cfg.embedding(), H = cfg.hidden(), V = cfg.vocabSize();
        int G = Math.max(cfg.inputGateWidth(), cfg.recurrentGateWidth());
        int S = cfg.cell().stateVectors(), saved = cell.savedWidth(H);
        if (n * Math.max(Math.max(G, V), Math.max(saved, Math.max(E, H))) > Integer.MAX_VALUE)
            throw new UserError(
                    "window too large for the " + ops.name() + " backend: T*B*max(V, E, 4H) exceeds 2^31 elements");
        // the states buffer, addressed by element offsets
        if ((long) L * S * (n + B) * H > Integer.MAX_VALUE)
            throw new UserError("window too large for the " + ops.name()
                    + " backend: the layers' states, L*S*(T+1)*B*H, exceed 2^31 elements");
    }

    /** The forward's buffers (inputs, projections, saved gates, states, logits, loss) and the pipeline's chunks. */
    private void allocateActivations(int T, int B) {
        int L = cfg.layers(), E = cfg.embedding(), H = cfg.hidden(), V = cfg.vocabSize();
        int Gi = cfg.inputGateWidth(), Gh = cfg.recurrentGateWidth();
        int S = cfg.cell().stateVectors(), saved = cell.savedWidth(H);
        long n = (long) T * B;
        String what = activations(T, B);
        x = ops.alloc(n * INT, what);
        y = ops.alloc(n * INT, what);
        starts = training ? ops.allocStepStarts(B, what) : ops.alloc((long) B * LONG, what);
        if (TokenProjection.applies(cfg, n)) tokenTable = floats((long) V * Gi, what);
        if (tokenTable == null || cell.stepsTakeInput()) emb = floats(n * E, what);
        firstInput = floats((long) B * E, what);
        gx = floats(n * Gi, what);
        gates = new DeviceArray[L];
        long slots = n * H + (long) B * H; // [T+1,B,H]
        states = floats(L * S * slots, what);
        hs = new Ref[L];
        cs = new Ref[L];
        drop = new DeviceArray[L];
        for (int l = 0; l < L; l++) {
            if (saved > 0) gates[l] = floats(n * saved, what);
            hs[l] = new Ref(states, (long) l * S * slots);
            if (S == 2) cs[l] = new Ref(states, (long) (l * S + 1) * slots);
            if (training && cfg.dropout() > 0) drop[l] = floats(n * H, what);
        }
        gh = floats((long) B * Gh, what);
        forwardChunk = LayerPipeline.chunk(cfg, ops, T, B, true);
        backwardChunk = training ? LayerPipeline.chunk(cfg, ops, T, B, false) : 0;
        if (forwardChunk > 0 || backwardChunk > 0) ghSide = floats((long) B * Gh, what);
        logits = floats(n * V, what);
        rowLoss = floats(n, what);
        lossSum = floats(1, what);
        targetWeight = floats(n, what);
        counted = floats(1, what);
    }

    /** The training workspace's gradient scratch; after {@link #allocateActivations} (it reads the chunks). */
    private void allocateGradients(int T, int B) {
        int L = cfg.layers(), E = cfg.embedding(), H = cfg.hidden();
        int Gi = cfg.inputGateWidth(),
                Gh = cfg.recurrentGateWidth(),
                S = cfg.cell().stateVectors();
        long n = (long) T * B, inMax = Math.max(E, H);
        String gw = "gradient scratch (T=" + T + ", B=" + B + ")";
        dgx = gx;
        if (cell.separateRecurrentGrad()) dgh = floats(n * Gh, gw);
        // a pipeline takes the side queue
        overlap = forwardChunk == 0 && backwardChunk == 0 && ops.overlapWeightGradients(B);
        pairs = L > 1
                && cfg.dropout() == 0
                && backwardChunk == 0
                && ops.windows().pairs(cfg.cell(), B, H);
        if ((overlap || pairs) && L > 1) {
            dgxAlt = floats(n * Gi, gw);
            if (dgh != null) dghAlt = floats(n * Gh, gw);
        }
        if (cfg.cell().feedsInputDirectly()) dx = floats(n * H, gw);
        if (cell.scratchWidth(H) > 0) scratch = floats((long) B * cell.scratchWidth(H), gw);
        dA = floats(n * inMax, gw);
        dB = floats(n * inMax, gw);
        stateGrad = floats((long) L * S * B * H, gw);
        firstInputGrad = floats((long) B * E, gw);
    }

    /**
     * GEMM operand scratch (bf16) for every GEMM of {@code n} rows, so that none allocates later, in
     * particular not inside a recorded step. Forward: op A is the layer input [N,in], h_prev [B,H] or
     * the top output [N,H]; backward adds dlogits [N,V] and dgx / dgh [N,G] as op A, and the
     * weight-gradient right operands [N,in] / [N,H] (or saved activations [N,savedWidth]). With the
     * token table: P = Emb W_ih^T and backward's S W_ih and S^T Emb read [V,max(E,Gi)].
     */
    private void reserveGemmScratch(long n) {
        int E = cfg.embedding(), H = cfg.hidden(), V = cfg.vocabSize(), Gi = cfg.inputGateWidth();
        int G = Math.max(Gi, cfg.recurrentGateWidth()), saved = cell.savedWidth(H);
        long inMax = Math.max(E, H);
        long table = tokenTable != null ? (long) V * Math.max(E, Gi) : 0;
        long operand = Math.max(Math.max(n * inMax, n * saved), table); // both operands' largest but dlogits, dgx, dgh
        ops.reserveGemmScratch(training ? Math.max(n * Math.max(V, G), operand) : operand, training ? operand : 0);
    }

    /**
     * Makes {@link #emb} exist for a window that reads it (one with a first input, where the
     * workspace projects by token); true when it was allocated now.
     */
    boolean embeddingRows() {
        if (emb != null) return false;
        emb = floats((long) N * cfg.embedding(), activations(T, B));
        return true;
    }

    /** What the activation buffers of a (T, B) workspace are, for allocation errors. */
    private String activations(int T, int B) {
        return (training ? "training" : "evaluation") + " activations (T=" + T + ", B=" + B + ")";
    }

    private DeviceArray floats(long count, String what) {
        return ops.alloc(count * FLOAT, what);
    }

    /** Whether the last forward took layer 0's gx from {@link #tokenTable} (a first input keeps the row path). */
    boolean tokenProjected() {
        return tokenTable != null && !firstInputOn;
    }

    /** The [B,Gh] gh of the main queue's steps, or ({@code side}) of the side queue's layers in a pipeline. */
    Ref gh(boolean side) {
        return Ref.of(side ? ghSide : gh);
    }

    /** The output of layer l as the next layer (or the decoder) reads it: [N,H]. */
    Ref layerOut(int l) {
        return drop[l] != null ? Ref.of(drop[l]) : hs[l].plus((long) B * cfg.hidden());
    }

    /**
     * The input of layer l: the embeddings [N,E] or the output of layer l-1 [N,H]; null for layer 0
     * of a workspace without the embedding rows (projected by token: no cell that reads them runs).
     */
    Ref layerIn(int l) {
        if (l > 0) return layerOut(l - 1);
        return emb == null ? null : Ref.of(emb);
    }

    /** dL/d(input projection) [N,Gi] of layer l: dgx, or with overlap every other layer dgxAlt. */
    DeviceArray dgx(int l) {
        return alternate(l) ? dgxAlt : dgx;
    }

    /** dL/d(recurrent projection) [N,Gh] of layer l: its own buffer, or dgx(l) when the cell does not separate them. */
    DeviceArray recurrentGrad(int l) {
        if (dgh == null) return dgx(l);
        return alternate(l) ? dghAlt : dgh;
    }

    private boolean alternate(int l) {
        return dgxAlt != null && ((cfg.layers() - 1 - l) & 1) == 1;
    }

    /** Frees every buffer (the caller synchronizes first). */
    void release() {
        for (DeviceArray a : new DeviceArray[] {
            x,
            y,
            starts,
            emb,
            firstInput,
            firstInputGrad,
            tokenTable,
            gh,
            ghSide,
            logits,
            rowLoss,
            lossSum,
            targetWeight,
            counted,
            gx, // dgx is the same buffer
            dgh,
            dgxAlt,
            dghAlt,
            dx,
            scratch,
            dA,
            dB,
            stateGrad,
            states
        }) {
            ops.free(a);
        }
        for (DeviceArray[] arr : new DeviceArray[][] {gates, drop}) {
            if (arr != null) for (DeviceArray a : arr) ops.free(a);
        }
        x = y = starts = emb =
                gh = ghSide = logits = rowLoss = lossSum = dgx = dgh = dgxAlt = dghAlt = dx = scratch = dA = dB = null;
        overlap = pairs = false;
        forwardChunk = backwardChunk = 0;
        stateGrad = targetWeight = counted = firstInput = firstInputGrad = states = tokenTable = null;
        gx = null;
        gates = drop = null;
        hs = cs = null;
        tokens = null;
        T = B = -1;
    }
}
