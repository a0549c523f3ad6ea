package org.charrnn.backend.device;

import java.util.Arrays;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;

/**
 * The model's math over {@link DeviceOps}, written once for every device backend.
 *
 * <p>Forward over a [T,B] window: the window is gathered from the device-resident corpus, each
 * layer's input projection for all T steps is one GEMM ([N,Gi] = X [N,in] W_ih^T, N = T*B; layer 0
 * where the workspace projects by token, {@link TokenProjection}: the rows of Emb W_ih^T, which a
 * persistent forward reads through the window's ids), then
 * per step the cell's recurrent GEMM and fused pointwise kernel (or, where the device has one, a
 * persistent kernel for the whole window: {@link WindowKernels#forward}); the decoder ({@link DecoderPass})
 * is one GEMM over all N rows and softmax + cross-entropy one fused kernel whose loss is summed on
 * the device, or all of it and dL/dtop one launch where the device fuses them. Backward
 * mirrors it (BPTT within the window, stepwise or {@link WindowKernels#backward}) with
 * whole-window weight-gradient GEMMs. Where the workspace pipelines a pass's layers ({@link
 * LayerPipeline}) that pass runs by chunks of the window, every other layer on the side queue.
 * Nothing here synchronizes with the host.
 */
final class RnnPasses {
    private final DeviceOps ops;
    private final ModelConfig cfg;
    private final ParamLayout layout;
    private final DeviceCell cell;
    private final DeviceArray params, grads; // [P] each, layout order
    private final DecoderPass decoder;
    private final LayerPairs pairs; // two layers a launch, where the device runs them so
    private final int L, V, E, H, Gi, Gh, S, saved;
    /** A pipelined tick's two passes over its layers: the side queue's chunks, then the main queue's. */
    private static final boolean[] SIDE_FIRST = {true, false};
    // the pipelined passes' side queue marks after each side layer's chunk, this tick's and the last's
    private final long[] mark, before;

    RnnPasses(
            DeviceOps ops,
            ModelConfig cfg,
            ParamLayout layout,
            DeviceCell cell,
            DeviceArray params,
            DeviceArray grads) {
        this.ops = ops;
        this.cfg = cfg;
        this.layout = layout;
        this.cell = cell;
        this.params = params;
        this.grads = grads;
        this.L = cfg.layers();
        this.V = cfg.vocabSize();
        this.E = cfg.embedding();
        this.H = cfg.hidden();
        this.Gi = cfg.inputGateWidth();
        this.Gh = cfg.recurrentGateWidth();
        this.S = cfg.cell().stateVectors();
        this.saved = cell.savedWidth(H);
        this.decoder = new DecoderPass(ops, layout, params, grads, V, H);
        this.pairs = new LayerPairs(ops, cfg, this::weights);
        this.mark = new long[L];
        this.before = new long[L];
    }

    private Ref param(ParamLayout.Tensor t) {
        return new Ref(params, t.offset());
    }

    private Ref grad(ParamLayout.Tensor t) {
        return new Ref(grads, t.offset());
    }

    DeviceCell.LayerWeights weights(int l) {
        return new DeviceCell.LayerWeights(
                l,
                cfg.inputSize(l),
                WeightRows.of(layout.weightIh(l)),
                WeightRows.of(layout.weightHh(l)),
                param(layout.biasIh(l)),
                param(layout.biasHh(l)),
                grad(layout.weightIh(l)),
                grad(layout.weightHh(l)),
                grad(layout.biasIh(l)),
                grad(layout.biasHh(l)));
    }

    /** Element offset of vector s (0 = h, 1 = c) of layer l in a state [L,S,B,H]. */
    private long stateOffset(int l, int s, int B) {
        return (long) (l * S + s) * B * H;
    }

    /**
     * Forward over w's window from {@code state} [L,S,B,H] (=: the state after step T-1). gather:
     * x, y from the corpus (else w.x was uploaded); softmax: loss into w.lossSum (and, training,
     * dL/dlogits in place of the logits), else w.logits (=) logits + bias. Training applies dropout.
     * Nothing is left on the side queue.
     */
    void forward(Workspace w, DeviceArray state, boolean training, boolean gather, boolean softmax) {
        forward(w, state, training, gather, softmax, false);
    }

    /**
     * A training forward and its backward, as in a whole step: the side queue (where w overlaps)
     * zeroes w.stateGrad beside the forward's start, and copies the state out beside the decoder
     * and the backward's start, joined where the backward joins its first side work.
     */
    void forwardBackward(Workspace w, DeviceArray state) {
        forward(w, state, true, true, true, true);
        backward(w, true);
    }

    /**
     * The forward; the copies of the state in and out go to the side queue where w overlaps
     * ({@link #side}): in beside the gather and the first input projection (joined before the
     * first recurrence), out beside the decoder, joined at the end unless {@code backwardFollows}
     * (then w.stateGrad is zeroed beside the copy in, and the backward joins the copy out).
     */
    private void forward(
            Workspace w,
            DeviceArray state,
            boolean training,
            boolean gather,
            boolean softmax,
            boolean backwardFollows) {
        final int T = w.T, B = w.B, N = w.N, BH = B * H;
        // every layer's initial state into slot 0 of its hs (and cs): L*S rows of B*H, (T+1) B H apart;
        // queued first, so that on the side queue it runs beside the projection and gather below
        long slots = (long) (T + 1) * BH;
        side(w, () -> {
            ops.copyRows(Ref.of(w.states), slots, Ref.of(state), BH, L * S, BH);
            // no gradient from beyond the window (the backward's recurrences carry it from zero)
            if (backwardFollows) ops.fill(Ref.of(w.stateGrad), (long) L * S * BH, 0f);
        });
        Ref table = param(layout.embedding());
        if (w.tokenProjected()) {
            // layer 0's input projection by token (TokenProjection): P [V,Gi] (=) Emb W_ih^T, gx its rows;
            // a forward that reads P by token (forwardSteps) needs only the window's ids, no copy of the rows
            Ref p = Ref.of(w.tokenTable), gx = Ref.of(w.gx);
            ops.gemmWeight(true, V, Gi, E, 1f, table, E, weights(0).wih(), 0f, p, Gi);
            if (byToken(w)) {
                if (gather) ops.gatherWindow(w.tokens.array(), w.tokens.u16(), w.starts, T, B, w.x, w.y);
            } else if (gather)
                ops.gatherEmbedding(w.tokens.array(), w.tokens.u16(), w.starts, T, B, w.x, w.y, p, gx, Gi);
            else ops.embeddingForward(w.x, p, gx, N, Gi);
        } else {
            if (gather)
                ops.gatherEmbedding(
                        w.tokens.array(), w.tokens.u16(), w.starts, T, B, w.x, w.y, table, Ref.of(w.emb), E);
            else ops.embeddingForward(w.x, table, Ref.of(w.emb), N, E);
            if (w.firstInputOn) ops.copy(Ref.of(w.emb), Ref.of(w.firstInput), (long) B * E);
        }
        boolean dropout = training && cfg.dropout() > 0;
        if (w.forwardChunk > 0) forwardPipelined(w, dropout);
        else
            for (int l = 0; l < L; l++) {
                // gx [N,Gi] = X [N,in] W_ih^T, all T steps in one GEMM (layer 0 projected by token: gathered)
                if (l > 0 || !w.tokenProjected()) project(w, l, 0, T);
                if (l == 0 && w.overlap) ops.joinSide(); // the recurrence reads slot 0
                if (l + 1 < L && !dropout && pairs.forward(w, l, l == 0 && byToken(w))) {
                    l++; // layer l + 1 ran beside it, its input projection inside the launch
                    continue;
                }
                forwardSteps(w, l, 0, T, false);
                if (dropout)
                    ops.dropoutForward(w.hs[l].plus(BH), Ref.of(w.drop[l]), N * H, 0, l, (float) cfg.dropout());
            }
        // and every layer's slot T back out as the state after the window
        side(w, () -> ops.copyRows(Ref.of(state), BH, new Ref(w.states, (long) T * BH), slots, L * S, BH));
        decoder.forward(w, w.layerOut(L - 1), training ? Ref.of(dOut(w, L - 1)) : null, training, softmax);
        if (!backwardFollows && w.overlap) ops.joinSide(); // the state after the window is copied out
    }

    /**
     * BPTT over the last training forward (w.logits holds dL/dlogits): grads and w.stateGrad (=).
     * With w.overlap the weight gradients (the decoder's, then each layer's) go to the device's side
     * queue and run beside the layer's input gradient and the next layer's recurrence: layer l writes
     * dgates into w.dgx(l), which
     * alternates between two buffers, and the side work of layer l+1 (reading the other one) is
     * joined before layer l's is queued, so before layer l-1 writes that buffer again.
     */
    void backward(Workspace w) {
        backward(w, false);
    }

    /** The backward; {@code stateGradZeroed}: its forward zeroed w.stateGrad ({@link #forwardBackward}). */
    private void backward(Workspace w, boolean stateGradZeroed) {
        final int T = w.T, B = w.B, N = w.N, BH = B * H;
        decoder.backward(w, w.layerOut(L - 1), Ref.of(dOut(w, L - 1)), work -> side(w, work));
        if (!stateGradZeroed) ops.fill(Ref.of(w.stateGrad), (long) L * S * BH, 0f); // none from beyond the window
        if (w.backwardChunk > 0) {
            backwardPipelined(w); // every layer's recurrence; the gradients of those above layer 0
            layerGradients(w, 0, false);
        } else {
            for (int l = L - 1; l >= 0; l--) {
                if (cfg.dropout() > 0) {
                    Ref d = Ref.of(dOut(w, l));
                    ops.dropoutBackward(d, d, N * H, 0, l, (float) cfg.dropout());
                }
                if (l > 0 && cfg.dropout() == 0 && pairs.backward(w, l - 1, Ref.of(dOut(w, l)))) {
                    // layer l's weight gradients (its input gradient ran inside the launch), then layer
                    // l-1's, shared by the streams: no recurrence is left to hide them (layerGradients)
                    if (w.overlap) ops.joinSide();
                    DeviceCell.LayerWeights p = weights(l);
                    DeviceCell.LayerGrads g = grads(w, l, 0, T, 0f);
                    side(w, () -> cell.inputWeightGradients(ops, p, g)); // dW_ih, the biases
                    cell.recurrentWeightProduct(ops, p, g);
                    layerGradients(w, --l, true);
                    continue;
                }
                backwardSteps(w, l, 0, T);
                layerGradients(w, l, false);
            }
        }
        Ref dCur = Ref.of(dOut(w, -1)); // dL/d(layer 0's input)
        if (!w.tokenProjected()) {
            if (w.firstInputOn) { // step 0 read the first input, not an embedding row: its gradient goes there
                ops.copy(Ref.of(w.firstInputGrad), dCur, (long) B * E);
                ops.fill(dCur, (long) B * E, 0f);
            }
            ops.embeddingBackward(w.x, dCur, grad(layout.embedding()), N, V, E);
        }
        if (w.overlap) ops.joinSide(); // the clip reads every gradient
    }

    /**
     * Whether layer 0 reads its input projection by token ({@link TokenProjection}) in a launch that
     * reads the table's rows by the window's ids ({@link WindowKernels#forwardByToken}): no copy.
     */
    private boolean byToken(Workspace w) {
        return w.tokenProjected() && ops.windows().forwardByToken(cfg.cell(), w.B, H);
    }

    /** gx rows of steps [t0, t1) (=) layer l's input rows W_ih^T: [R,Gi] = [R,in] [in,Gi], R = (t1 - t0) B. */
    private void project(Workspace w, int l, int t0, int t1) {
        DeviceCell.LayerWeights p = weights(l);
        int in = p.in(), rows = (t1 - t0) * w.B;
        Ref x = w.layerIn(l).plus((long) t0 * w.B * in), gx = new Ref(w.gx, (long) t0 * w.B * Gi);
        ops.gemmWeight(true, rows, Gi, in, 1f, x, in, p.wih(), 0f, gx, Gi);
    }

    /**
     * Layer l's forward recurrence over steps [t0, t1), whose gx rows hold its input projection, from
     * slot t0 of its states: one persistent window, else per step the cell with the gh of its queue
     * ({@code side}: the side queue's, {@link Workspace#gh}). Writes slots t0 + 1 .. t1 and the steps' gates.
     */
    private void forwardSteps(Workspace w, int l, int t0, int t1, boolean side) {
        final int B = w.B;
        final long BH = (long) B * H;
        DeviceCell.LayerWeights p = weights(l);
        WindowKernels windows = ops.windows();
        Ref hs = w.hs[l].plus(t0 * BH), cs = at(w.cs[l], t0 * BH), gates = at(w.gates[l], (long) t0 * B * saved);
        if (l == 0 && byToken(w)) { // P [V,Gi] and the steps' token ids (on this queue: layer 0 is never the side's)
            Ref table = Ref.of(w.tokenTable), tokens = Ref.of(w.x).plus((long) t0 * B);
            if (!windows.forward(cfg.cell(), p.whh(), p.bih(), p.bhh(), table, tokens, hs, cs, gates, t1 - t0, B, H))
                throw new IllegalStateException("the forward by token ran stepwise");
            return;
        }
        Ref gx = new Ref(w.gx, (long) t0 * B * Gi);
        if (windows.forward(cfg.cell(), p.whh(), p.bih(), p.bhh(), gx, null, hs, cs, gates, t1 - t0, B, H)) return;
        Ref x = w.layerIn(l);
        for (int t = t0; t < t1; t++) {
            long o = t * BH, o1 = o + BH;
            cell.forward(
                    ops,
                    p,
                    new DeviceCell.ForwardStep(
                            B,
                            H,
                            Gi,
                            Gh,
                            at(x, (long) t * B * p.in()),
                            new Ref(w.gx, (long) t * B * Gi),
                            w.gh(side),
                            w.hs[l].plus(o),
                            w.hs[l].plus(o1),
                            at(w.cs[l], o),
                            at(w.cs[l], o1),
                            at(w.gates[l], (long) t * B * saved)));
        }
    }

    /**
     * Layer l's backward recurrence over steps t1 - 1 down to t0: reads dOut(l)'s rows of those steps
     * and carries dL/dh (and dL/dc) in layer l's slices of w.stateGrad; writes the steps' dgx / dgh
     * rows (=). One persistent window, else per step the cell (on either queue: the cells that
     * pipeline need no per-step scratch).
     */
    private void backwardSteps(Workspace w, int l, int t0, int t1) {
        final int B = w.B;
        final long BH = (long) B * H;
        DeviceCell.LayerWeights p = weights(l);
        DeviceArray dCur = dOut(w, l), dgx = w.dgx(l), dgh = w.recurrentGrad(l);
        // layer l's slices of stateGrad carry dL/dh (and dL/dc) back through the window and end as
        // dL/d(initial state): no buffer of their own, nothing to copy out
        Ref dhNext = new Ref(w.stateGrad, stateOffset(l, 0, B));
        Ref dc = S == 2 ? new Ref(w.stateGrad, stateOffset(l, 1, B)) : null;
        WindowKernels windows = ops.windows();
        boolean window = windows.backward(
                cfg.cell(),
                p.whh(),
                new Ref(dCur, t0 * BH),
                dhNext,
                dc,
                at(w.gates[l], (long) t0 * B * saved),
                w.hs[l].plus(t0 * BH),
                at(w.cs[l], t0 * BH),
                new Ref(dgx, (long) t0 * B * Gi),
                dgh == dgx ? null : new Ref(dgh, (long) t0 * B * Gh),
                t1 - t0,
                B,
                H);
        Ref x = w.layerIn(l);
        for (int t = t1 - 1; t >= t0 && !window; t--) {
            long o = t * BH, o1 = o + BH;
            cell.backward(
                    ops,
                    p,
                    new DeviceCell.BackwardStep(
                            B,
                            H,
                            Gi,
                            Gh,
                            at(x, (long) t * B * p.in()),
                            new Ref(dCur, o),
                            dhNext,
                            dc,
                            at(w.gates[l], (long) t * B * saved),
                            w.hs[l].plus(o),
                            w.hs[l].plus(o1),
                            at(w.cs[l], o),
                            at(w.cs[l], o1),
                            new Ref(dgx, (long) t * B * Gi),
                            new Ref(dgh, (long) t * B * Gh),
                            at(w.dx, o),
                            at(w.scratch, 0)));
        }
    }

    /** Layer l's gradients of steps [t0, t1) (its dgx / dgh rows written): beta 0 writes the weight gradients, 1 adds to them. */
    private DeviceCell.LayerGrads grads(Workspace w, int l, int t0, int t1, float beta) {
        final int B = w.B;
        final long BH = (long) B * H;
        int in = cfg.inputSize(l);
        return new DeviceCell.LayerGrads(
                (t1 - t0) * B,
                H,
                Gi,
                Gh,
                new Ref(w.dgx(l), (long) t0 * B * Gi),
                new Ref(w.recurrentGrad(l), (long) t0 * B * Gh),
                at(w.layerIn(l), (long) t0 * B * in),
                w.hs[l].plus(t0 * BH),
                at(w.gates[l], (long) t0 * B * saved),
                at(w.dx, t0 * BH),
                beta);
    }

    /**
     * Layer l's whole-window gradients once its recurrence is done: dL/d(its input) into dOut(l - 1)
     * (layer 0 projected by token: the token sums, dEmb and dW_ih instead) and its weight gradients,
     * on the side queue where w overlaps them; {@code afterPair} (no recurrence left to hide them, the
     * layer above's dW_hh just before on this queue): layer 0's dW_hh on this queue too, last.
     */
    private void layerGradients(Workspace w, int l, boolean afterPair) {
        DeviceCell.LayerWeights p = weights(l);
        DeviceCell.LayerGrads g = grads(w, l, 0, w.T, 0f);
        if (l == 0 && w.tokenProjected()) {
            // dW_hh beside the token sums (no layer below writes a dgx buffer: no join); S [V,Gi] (=)
            // dgx summed per token; the biases from S's V rows, dgx's column totals regrouped by token
            // (not its N rows again); dEmb [V,E] (=) S W_ih, dW_ih [Gi,E] (=) S^T Emb
            if (!afterPair) side(w, () -> cell.recurrentWeightProduct(ops, p, g));
            Ref sums = Ref.of(w.tokenTable);
            ops.embeddingBackward(w.x, g.dgx(), sums, w.N, V, Gi);
            side(w, () -> DeviceCell.biasGradients(ops, p, g, sums, V));
            ops.gemmWeight(false, V, E, Gi, 1f, sums, Gi, p.wih(), 0f, grad(layout.embedding()), E);
            ops.gemm(true, false, Gi, E, V, 1f, sums, Gi, param(layout.embedding()), E, 0f, p.dWih(), E);
            if (afterPair) cell.recurrentWeightProduct(ops, p, g);
        } else {
            if (w.overlap) ops.joinSide(); // layer l+1's side work read the buffer layer l-1 writes
            // queued before the input gradient (both only read dgx): side work forks where it is
            // queued, so the weight gradients run beside that GEMM as well as layer l-1's recurrence
            side(w, () -> cell.weightGradients(ops, p, g));
            cell.inputGradient(ops, p, g, Ref.of(dOut(w, l - 1)));
        }
    }

    /**
     * The layers' forward by chunks of w.forwardChunk steps ({@link LayerPipeline}): at tick k layer
     * l runs chunk k - l, the odd layers on the side queue. A tick queues its side chunks first, each
     * forking after the main queue's chunks of the tick before (the layer below's among them), and
     * marks the side queue after each; then its main chunks, each above layer 0 joining only the mark
     * of the layer below's chunk of the tick before, so that the side chunks of this tick run beside
     * them.
     */
    private void forwardPipelined(Workspace w, boolean dropout) {
        final int T = w.T, C = w.forwardChunk, K = (T + C - 1) / C;
        if (!w.tokenProjected()) project(w, 0, 0, T); // layer 0's: one GEMM over the window, as unpipelined
        Arrays.fill(mark, DeviceOps.NO_SIDE_MARK);
        for (int k = 0; k < K + L - 1; k++) {
            System.arraycopy(mark, 0, before, 0, L);
            for (boolean sidePass : SIDE_FIRST)
                for (int l = L - 1; l >= 0; l--) {
                    int c = k - l;
                    boolean side = (l & 1) == 1;
                    if (c < 0 || c >= K || side != sidePass) continue;
                    int layer = l, t0 = c * C, t1 = Math.min(T, t0 + C);
                    Runnable chunk = () -> {
                        // above layer 0 the chunk's rows of the projection, written over the gx rows the
                        // layer below has finished with
                        if (layer > 0) project(w, layer, t0, t1);
                        forwardSteps(w, layer, t0, t1, side);
                        if (dropout) { // the chunk's share of the layer's mask (element indices from t0 B H)
                            int first = t0 * w.B * H;
                            ops.dropoutForward(
                                    w.hs[layer].plus((long) (t0 + 1) * w.B * H),
                                    new Ref(w.drop[layer], first),
                                    (t1 - t0) * w.B * H,
                                    first,
                                    layer,
                                    (float) cfg.dropout());
                        }
                    };
                    if (side) {
                        ops.onSide(chunk);
                        mark[l] = ops.sideMark();
                    } else {
                        if (layer > 0) ops.joinSide(before[l - 1]); // the layer below (side) finished chunk c
                        chunk.run();
                    }
                }
        }
        ops.joinSide(); // the decoder reads the top layer
    }

    /**
     * The layers' backward by chunks, top down: at tick k layer l runs chunk K - 1 - (k - (L - 1 -
     * l)) (its steps last to first), on the side queue where L - 1 - l is odd. A chunk above layer 0
     * then writes its rows' dL/d(input) into dOut(l - 1) and adds its rows' weight gradients (the
     * layer's first chunk writes them), before the layer below overwrites those dgx rows. Each tick
     * queues as the forward's: its side chunks first, then its main chunks, each joining only the
     * mark of the layer above's chunk of the tick before.
     */
    private void backwardPipelined(Workspace w) {
        final int T = w.T, C = w.backwardChunk, K = (T + C - 1) / C;
        Arrays.fill(mark, DeviceOps.NO_SIDE_MARK);
        for (int k = 0; k < K + L - 1; k++) {
            System.arraycopy(mark, 0, before, 0, L);
            for (boolean sidePass : SIDE_FIRST)
                for (int l = 0; l < L; l++) {
                    int c = K - 1 - (k - (L - 1 - l));
                    boolean side = ((L - 1 - l) & 1) == 1;
                    if (c < 0 || c >= K || side != sidePass) continue;
                    int layer = l, t0 = c * C, t1 = Math.min(T, t0 + C);
                    float beta = c == K - 1 ? 0f : 1f;
                    Runnable chunk = () -> {
                        if (cfg.dropout() > 0) {
                            int first = t0 * w.B * H;
                            Ref d = new Ref(dOut(w, layer), first);
                            ops.dropoutBackward(d, d, (t1 - t0) * w.B * H, first, layer, (float) cfg.dropout());
                        }
                        backwardSteps(w, layer, t0, t1);
                        if (layer == 0) return; // layer 0's gradients take the whole window, after the pipeline
                        DeviceCell.LayerWeights p = weights(layer);
                        DeviceCell.LayerGrads g = grads(w, layer, t0, t1, beta);
                        cell.inputGradient(ops, p, g, new Ref(dOut(w, layer - 1), (long) t0 * w.B * H));
                        cell.weightGradients(ops, p, g);
                    };
                    if (side) {
                        ops.onSide(chunk);
                        mark[l] = ops.sideMark();
                    } else {
                        if (layer < L - 1) ops.joinSide(before[l + 1]); // the layer above (side) finished chunk c
                        chunk.run();
                    }
                }
        }
        ops.joinSide(); // layer 0's gradients read its dgx, the clip every gradient
    }

    /**
     * dL/d(output of layer l) [N,H] (dL/d(layer 0's input) [N,E] for l = -1): w.dA for the top
     * layer, then alternating with w.dB down the stack; layer l's input gradient writes dOut(l - 1).
     */
    private DeviceArray dOut(Workspace w, int l) {
        return ((L - 1 - l) & 1) == 0 ? w.dA : w.dB;
    }

    /** {@code work} on the side queue where w overlaps the weight gradients, else in order. */
    private void side(Workspace w, Runnable work) {
        if (w.overlap) ops.onSide(work);
        else work.run();
    }

    private static Ref at(DeviceArray a, long offset) {
        return a == null ? null : new Ref(a, offset);
    }

    private static Ref at(Ref r, long offset) {
        return r == null ? null : r.plus(offset);
    }
}
