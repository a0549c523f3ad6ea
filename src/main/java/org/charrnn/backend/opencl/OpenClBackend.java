package org.charrnn.backend.opencl;

import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.Dropout;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.HostFloats;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.util.UserError;

/**
 * The OpenCL backend: fp32 kernels of kernels/opencl on one device. Per window: the corpus
 * window is gathered on the device, each layer's input projection is one GEMM over the T*B rows,
 * the recurrent GEMM and one fused cell kernel run per step, the decoder is one GEMM and the loss a
 * fused softmax-cross-entropy; backward mirrors it with whole-window weight-gradient GEMMs. The
 * gradient norm is a deterministic two-stage reduction into a device scalar that the fused
 * optimizer kernels read (skipping non-finite steps), so a step has no host round trip; only
 * {@link #loss()}, {@link #gradNorm()} and host copies synchronize.
 */
public final class OpenClBackend implements Backend {

    private final ModelConfig cfg;
    private final ParamLayout layout;
    private final ClQueue q;
    private final int seed32;
    private final int P;          // number of parameters
    private final int S;          // state vectors per layer (2 for LSTM)
    private final int GS;         // width of the saved gates per row: 4H (LSTM, GRU) or 0 (RNN)

    private final ClBuffer params;     // [P] flat, ParamLayout order
    private final ClBuffer grads;      // [P]
    private final ClBuffer norm;       // [1] pre-clip global L2 norm of the last clip (NaN before any)
    private final ClBuffer partial;    // [NORM_GROUPS] stage-1 sums of squares
    /**
     * [P] where the GEMM kernel wants B untransposed (CPU devices): every weight matrix W [R,C] of
     * params stored transposed ([C,R]) at its own offset, so A W^T runs as A (W^T); refreshed
     * lazily when {@link #paramsVersion} moved. Null on GPUs (gemm_tiled reads W transposed).
     */
    private final ClBuffer weightsT;
    private long paramsVersion;        // bumped by every write of params
    private long weightsTVersion = -1; // paramsVersion that weightsT reflects
    private ClBuffer[] slots = new ClBuffer[0];  // optimizer state, each [P]
    private OptimizerConfig optimizer;

    private Workspace train, infer;
    private StepSpace stepSpace;
    private boolean haveTrainingForward;
    private Workspace lastForward;
    private ClBuffer stateGrad;        // [L][S][B][H]
    private int stateGradB;
    private ClipMode pendingClip;      // NORM clip deferred into step (scale applied on host copies)
    private float pendingClipMax;

    private static final int NORM_GROUPS = 64;

    public OpenClBackend(ModelConfig config, BackendOptions options) {
        if (options.precision() != Precision.FP32)
            throw new UserError("the opencl backend computes in fp32 only; --precision " + options.precision().id()
                    + " is not supported (use --precision fp32)");
        this.cfg = config;
        this.layout = new ParamLayout(config);
        this.seed32 = Dropout.seed32(options.dropoutSeed());
        this.P = layout.size();
        this.S = config.cell().stateVectors();
        this.GS = config.cell() == CellType.RNN ? 0 : 4 * config.hidden();
        ClDevice device = ClRuntime.select(options.device());
        ClProgram program = ClRuntime.program(device);
        this.q = new ClQueue(program, config::describe);
        try {
            params = q.alloc(P, "parameters");
            grads = q.alloc(P, "gradients");
            norm = q.alloc(1, "gradient norm");
            partial = q.alloc(NORM_GROUPS, "norm partial sums");
            weightsT = q.prefersTransposedWeights() ? q.alloc(P, "transposed weights") : null;
            q.fill(norm, Float.NaN);
            stateGrad = q.alloc(0, "initial-state gradient");
            setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
        } catch (RuntimeException e) {
            q.close();
            throw e;
        }
    }

    @Override public String name() { return "opencl"; }
    @Override public String deviceName() { return q.device().name() + " (" + q.device().platformName() + ")"; }
    @Override public Precision precision() { return Precision.FP32; }
    @Override public ModelConfig config() { return cfg; }
    @Override public ParamLayout layout() { return layout; }

    // ================================================================== parameters and state

    @Override
    public void setParameters(double[] values) {
        if (values.length != P) throw new IllegalArgumentException("expected " + P + " parameters, got " + values.length);
        q.write(params, 0, HostFloats.toFloat(values));
        paramsVersion++;
    }

    @Override public double[] getParameters() { return HostFloats.toDouble(q.read(params, 0, P)); }

    @Override
    public double[] getGradients() {
        float[] g = q.read(grads, 0, P);
        if (pendingClip == ClipMode.NORM) {
            float n = q.read(norm, 0, 1)[0];
            if (Float.isFinite(n)) {
                float scale = HostFloats.normClipScale(n, pendingClipMax);
                if (scale < 1.0f) for (int i = 0; i < g.length; i++) g[i] *= scale;
            }
        }
        return HostFloats.toDouble(g);
    }

    @Override
    public double[] getInitialStateGradient() {
        return HostFloats.toDouble(q.read(stateGrad, 0, cfg.layers() * S * stateGradB * cfg.hidden()));
    }

    @Override
    public RnnState newState(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1");
        return new OpenClState(this, batch, q.alloc((long) cfg.stateSizePerRow() * batch, "recurrent state"));
    }

    @Override
    public TokenBuffer upload(TokenSequence tokens) {
        return OpenClTokens.upload(q, tokens, cfg.vocabSize());
    }

    ClQueue queue() { return q; }

    // ================================================================== workspaces

    /** Device buffers of one window shape (T, B); separate for training and inference. */
    private final class Workspace {
        final int T, B, N;
        final ClBuffer x, y;           // [T,B] int inputs / targets
        final ClBuffer starts;         // [B] long
        final ClBuffer emb;            // [N,E] layer-0 input
        final ClBuffer[] hs;           // per layer [T+1,B,H]: slot 0 initial h, 1..T outputs
        final ClBuffer[] cs;           // per layer [T+1,B,H] (LSTM)
        final ClBuffer[] gates;        // per layer [T,B,4H] saved activations (LSTM, GRU)
        final ClBuffer[] drop;         // per layer [N,H] dropped output (training with p > 0)
        final ClBuffer gx;             // [N,G*H] input projection of the current layer
        final ClBuffer gh;             // [B,G*H] recurrent projection of one step
        final ClBuffer logits;         // [N,V]; dL/dlogits after a training forward
        final ClBuffer rowLoss;        // [N]
        final ClBuffer lossSum;        // [1]
        int iteration;

        Workspace(int T, int B, boolean training) {
            this.T = T;
            this.B = B;
            this.N = T * B;
            int L = cfg.layers(), H = cfg.hidden(), G = cfg.gateWidth();
            long n = N;
            x = q.alloc(n, "window inputs");
            y = q.alloc(n, "window targets");
            starts = q.allocBytes(8L * B, "window starts");
            emb = q.alloc(n * cfg.embedding(), "embeddings");
            hs = new ClBuffer[L];
            cs = new ClBuffer[L];
            gates = new ClBuffer[L];
            drop = new ClBuffer[L];
            for (int l = 0; l < L; l++) {
                hs[l] = q.alloc((n + B) * H, "hidden states");
                if (S == 2) cs[l] = q.alloc((n + B) * H, "cell states");
                if (GS > 0) gates[l] = q.alloc(n * GS, "gate activations");
                if (training && cfg.dropout() > 0) drop[l] = q.alloc(n * H, "dropout outputs");
            }
            gx = q.alloc(n * G, "input projections");
            gh = q.alloc((long) B * G, "recurrent projections");
            logits = q.alloc(n * cfg.vocabSize(), "logits");
            rowLoss = q.alloc(n, "row losses");
            lossSum = q.alloc(1, "loss");
        }

        void release() {
            for (ClBuffer b : new ClBuffer[] {x, y, starts, emb, gx, gh, logits, rowLoss, lossSum}) q.release(b);
            for (ClBuffer[] arr : new ClBuffer[][] {hs, cs, gates, drop}) for (ClBuffer b : arr) q.release(b);
        }

        /** The layer output fed upward: [N,H] buffer and element offset. */
        ClBuffer outBuf(int l) { return drop[l] != null ? drop[l] : hs[l]; }
        int outOff(int l) { return drop[l] != null ? 0 : B * cfg.hidden(); }
    }

    /** Backward scratch for one (T, B). */
    private final class BackSpace {
        final int T, B;
        final ClBuffer dY;       // [N,H] dL/d layer output
        final ClBuffer dIn;      // [N,max(E,H)] dL/d layer input
        final ClBuffer dgx;      // [N,G*H]
        final ClBuffer dgh;      // [N,G*H] (GRU; else aliases dgx)
        final ClBuffer dhNext;   // [B,H]
        final ClBuffer dc;       // [B,H]

        BackSpace(int T, int B) {
            this.T = T;
            this.B = B;
            long n = (long) T * B;
            int H = cfg.hidden(), G = cfg.gateWidth();
            dY = q.alloc(n * H, "output gradients");
            dIn = q.alloc(n * Math.max(cfg.embedding(), H), "input gradients");
            dgx = q.alloc(n * G, "gate gradients");
            dgh = cfg.cell() == CellType.GRU ? q.alloc(n * G, "recurrent gate gradients") : dgx;
            dhNext = q.alloc((long) B * H, "hidden gradient");
            dc = q.alloc((long) B * H, "cell gradient");
        }

        void release() {
            q.release(dY);
            q.release(dIn);
            q.release(dgx);
            if (dgh != dgx) q.release(dgh);
            q.release(dhNext);
            q.release(dc);
        }
    }

    private BackSpace back;

    /** Scratch of {@link #stepLogits} for B streams. */
    private final class StepSpace {
        final int B;
        final ClBuffer x, emb, gx, gh, gates, logits;

        StepSpace(int B) {
            this.B = B;
            x = q.alloc(B, "step tokens");
            emb = q.alloc((long) B * cfg.embedding(), "step embeddings");
            gx = q.alloc((long) B * cfg.gateWidth(), "step projections");
            gh = q.alloc((long) B * cfg.gateWidth(), "step projections");
            gates = q.alloc((long) B * Math.max(GS, 1), "step gates");
            logits = q.alloc((long) B * cfg.vocabSize(), "step logits");
        }

        void release() {
            for (ClBuffer b : new ClBuffer[] {x, emb, gx, gh, gates, logits}) q.release(b);
        }
    }

    private Workspace workspace(boolean training, int T, int B) {
        Workspace w = training ? train : infer;
        if (w != null && w.T == T && w.B == B) return w;
        if (w != null) {
            w.release();
            if (training) {
                train = null;
                haveTrainingForward = false;
            } else {
                infer = null;
            }
        }
        w = new Workspace(T, B, training);
        if (training) train = w;
        else infer = w;
        return w;
    }

    // ================================================================== forward

    @Override
    public void forward(RnnState state, Window window, boolean training) {
        OpenClState st = state(state);
        if (st.batch() != window.batch())
            throw new IllegalArgumentException("state has batch " + st.batch() + ", window " + window.batch());
        if (!(window.tokens() instanceof OpenClTokens tok) || tok.queue() != q)
            throw new IllegalArgumentException("window tokens were not uploaded to this backend");
        int T = window.seqLen(), B = window.batch();
        if (training) haveTrainingForward = false;
        Workspace w = workspace(training, T, B);
        w.iteration = (int) window.iteration();
        q.writeLongs(w.starts, window.starts());
        q.launch1(tok.u16() ? "gather_window_u16" : "gather_window_u8", w.N,
                tok.buffer(), w.starts, T, B, w.x, w.y);
        runForward(w, st, training);
        lastForward = w;
        if (training) haveTrainingForward = true;
    }

    private void runForward(Workspace w, OpenClState st, boolean training) {
        int T = w.T, B = w.B, N = w.N, H = cfg.hidden(), G = cfg.gateWidth(), E = cfg.embedding(), V = cfg.vocabSize();
        int BH = B * H;
        q.launch1("embedding_forward", (long) N * E, w.x, params, layout.embedding().offset(), w.emb, 0, N, E);
        ClBuffer in = w.emb;
        int inOff = 0;
        boolean dropout = training && cfg.dropout() > 0;
        for (int l = 0; l < cfg.layers(); l++) {
            int inW = cfg.inputSize(l);
            int wih = layout.weightIh(l).offset(), whh = layout.weightHh(l).offset();
            int bih = layout.biasIh(l).offset(), bhh = layout.biasHh(l).offset();
            int hOff = st.offset(l, 0), cOff = S == 2 ? st.offset(l, 1) : 0;
            q.copy(st.buffer, hOff, w.hs[l], 0, BH);
            if (S == 2) q.copy(st.buffer, cOff, w.cs[l], 0, BH);
            // gx [N,G] = X [N,in] W_ih^T
            gemmWt(N, G, inW, in, inOff, inW, wih, w.gx, 0);
            for (int t = 0; t < T; t++) {
                gemmWt(B, G, H, w.hs[l], t * BH, H, whh, w.gh, 0);
                cellForward(w.gx, t * B * G, w.gh, 0, bih, bhh, w.hs[l], t * BH, w.cs[l], t * BH,
                        w.gates[l], t * B * GS, w.hs[l], (t + 1) * BH, w.cs[l], (t + 1) * BH, B);
            }
            q.copy(w.hs[l], (long) T * BH, st.buffer, hOff, BH);
            if (S == 2) q.copy(w.cs[l], (long) T * BH, st.buffer, cOff, BH);
            if (dropout) {
                q.launch1("dropout_forward", (long) N * H, w.hs[l], BH, w.drop[l], 0, N * H,
                        seed32, w.iteration, l, (float) cfg.dropout());
                in = w.drop[l];
                inOff = 0;
            } else {
                in = w.hs[l];
                inOff = BH;
            }
        }
        // logits [N,V] = top [N,H] W_dec^T; bias and loss in the fused kernel
        gemmWt(N, V, H, in, inOff, H, layout.decoderWeight().offset(), w.logits, 0);
        q.softmaxXent(w.logits, 0, params, layout.decoderBias().offset(), w.y, w.rowLoss, N, V, 1f / N, training);
        q.launch("sum_final", new long[] {q.reduceLocal}, new long[] {q.reduceLocal}, w.rowLoss, N, w.lossSum, 0);
    }

    /**
     * C [M,R] (ld R) = A [M,K] W^T for the weight matrix W [R,K] at parameter offset {@code wOff}:
     * from the transposed copy where the device's GEMM wants it, else transB on params.
     */
    private void gemmWt(int M, int R, int K, ClBuffer A, int aOff, int lda, int wOff, ClBuffer C, int cOff) {
        if (weightsT != null) {
            refreshTransposedWeights();
            q.gemm(false, false, M, R, K, 1f, A, aOff, lda, weightsT, wOff, R, 0f, C, cOff, R);
        } else {
            q.gemm(false, true, M, R, K, 1f, A, aOff, lda, params, wOff, K, 0f, C, cOff, R);
        }
    }

    /** Re-transposes every weight matrix into {@link #weightsT} if params changed since the last time. */
    private void refreshTransposedWeights() {
        if (weightsTVersion == paramsVersion) return;
        int G = cfg.gateWidth(), H = cfg.hidden();
        for (int l = 0; l < cfg.layers(); l++) {
            int wih = layout.weightIh(l).offset(), whh = layout.weightHh(l).offset();
            q.transpose(params, wih, G, cfg.inputSize(l), weightsT, wih);
            q.transpose(params, whh, G, H, weightsT, whh);
        }
        int dec = layout.decoderWeight().offset();
        q.transpose(params, dec, cfg.vocabSize(), H, weightsT, dec);
        weightsTVersion = paramsVersion;
    }

    /** One cell step; hPrev/cPrev are the slot of step t, h/c the slot of t+1. */
    private void cellForward(ClBuffer gx, int gxOff, ClBuffer gh, int ghOff, int bih, int bhh,
                             ClBuffer hPrev, int hPrevOff, ClBuffer cPrev, int cPrevOff,
                             ClBuffer gates, int gatesOff, ClBuffer h, int hOff, ClBuffer c, int cOff, int B) {
        int H = cfg.hidden();
        long n = (long) B * H;
        switch (cfg.cell()) {
            case LSTM -> q.launchCell("lstm_forward_step", B, H, gx, gxOff, gh, ghOff, params, bih, params, bhh,
                    cPrev, cPrevOff, gates, gatesOff, c, cOff, h, hOff, B, H);
            case GRU -> q.launchCell("gru_forward_step", B, H, gx, gxOff, gh, ghOff, params, bih, params, bhh,
                    hPrev, hPrevOff, gates, gatesOff, h, hOff, B, H);
            case RNN -> q.launch1("rnn_forward_step", n, gx, gxOff, gh, ghOff, params, bih, params, bhh, h, hOff, B, H);
        }
    }

    @Override
    public double loss() {
        Workspace w = lastForward;
        if (w == null) return Double.NaN;
        return q.read(w.lossSum, 0, 1)[0] / (double) w.N;
    }

    // ================================================================== backward

    @Override
    public void backward() {
        if (!haveTrainingForward) throw new IllegalStateException("backward() needs a preceding training forward");
        Workspace w = train;
        int T = w.T, B = w.B, N = w.N, H = cfg.hidden(), G = cfg.gateWidth(), V = cfg.vocabSize(), L = cfg.layers();
        int BH = B * H;
        if (back == null || back.T != T || back.B != B) {
            if (back != null) back.release();
            back = new BackSpace(T, B);
        }
        BackSpace k = back;
        if (stateGradB != B) {
            q.release(stateGrad);
            stateGrad = q.alloc((long) L * S * BH, "initial-state gradient");
            stateGradB = B;
        }
        pendingClip = null;
        // decoder: dW_dec [V,H] = dlogits^T top, db_dec = colsum(dlogits), dtop [N,H] = dlogits W_dec
        int top = L - 1;
        q.gemm(true, false, V, H, N, 1f, w.logits, 0, V, w.outBuf(top), w.outOff(top), H, 0f,
                grads, layout.decoderWeight().offset(), H);
        q.columnSum(w.logits, 0, grads, layout.decoderBias().offset(), N, V, 0f);
        q.gemm(false, false, N, H, V, 1f, w.logits, 0, V, params, layout.decoderWeight().offset(), H, 0f, k.dY, 0, H);
        boolean dropout = cfg.dropout() > 0;
        for (int l = L - 1; l >= 0; l--) {
            if (dropout)
                q.launch1("dropout_backward", (long) N * H, k.dY, 0, k.dY, 0, N * H, seed32, w.iteration, l,
                        (float) cfg.dropout());
            int inW = cfg.inputSize(l);
            int wih = layout.weightIh(l).offset(), whh = layout.weightHh(l).offset();
            q.fill(k.dhNext, 0f);
            if (S == 2) q.fill(k.dc, 0f);
            for (int t = T - 1; t >= 0; t--) {
                int gOff = t * B * G;
                switch (cfg.cell()) {
                    case LSTM -> q.launchCell("lstm_backward_step", B, H, k.dY, t * BH, k.dhNext, 0, k.dc, 0,
                            w.gates[l], t * B * GS, w.cs[l], t * BH, w.cs[l], (t + 1) * BH, k.dgx, gOff, B, H);
                    case GRU -> q.launchCell("gru_backward_step", B, H, k.dY, t * BH, k.dhNext, 0, w.gates[l], t * B * GS,
                            w.hs[l], t * BH, k.dgx, gOff, k.dgh, gOff, B, H);
                    case RNN -> q.launch1("rnn_backward_step", BH, k.dY, t * BH, k.dhNext, 0, w.hs[l], (t + 1) * BH,
                            k.dgx, gOff, B, H);
                }
                // dhNext [B,H] += dgh_t [B,G] W_hh [G,H]
                q.gemm(false, false, B, H, G, 1f, k.dgh, gOff, G, params, whh, H, 1f, k.dhNext, 0, H);
            }
            q.copy(k.dhNext, 0, stateGrad, (long) (l * S) * BH, BH);
            if (S == 2) q.copy(k.dc, 0, stateGrad, (long) (l * S + 1) * BH, BH);
            ClBuffer in = l == 0 ? w.emb : w.outBuf(l - 1);
            int inOff = l == 0 ? 0 : w.outOff(l - 1);
            // dW_ih [G,in] = dgx^T X; dW_hh [G,H] = dgh^T Hprev (hs slots 0..T-1); bias sums
            q.gemm(true, false, G, inW, N, 1f, k.dgx, 0, G, in, inOff, inW, 0f, grads, wih, inW);
            q.gemm(true, false, G, H, N, 1f, k.dgh, 0, G, w.hs[l], 0, H, 0f, grads, whh, H);
            q.columnSum(k.dgx, 0, grads, layout.biasIh(l).offset(), N, G, 0f);
            q.columnSum(k.dgh, 0, grads, layout.biasHh(l).offset(), N, G, 0f);
            // dX [N,in] = dgx W_ih
            ClBuffer dX = l == 0 ? k.dIn : k.dY;
            q.gemm(false, false, N, inW, G, 1f, k.dgx, 0, G, params, wih, inW, 0f, dX, 0, inW);
            if (l == 0)
                q.embeddingBackward(w.x, k.dIn, 0, grads, layout.embedding().offset(), N, V, cfg.embedding());
        }
    }

    // ================================================================== clipping and optimizers

    @Override
    public void clip(ClipMode mode, double max) {
        computeNorm();
        if (mode == ClipMode.VALUE) {
            q.launch1("clip_value", P, grads, 0, P, (float) max, norm);
            pendingClip = null;
        } else {
            pendingClip = ClipMode.NORM;
            pendingClipMax = (float) max;
        }
    }

    private void computeNorm() {
        q.launch("sum_squares_partial", new long[] {(long) NORM_GROUPS * q.reduceLocal}, new long[] {q.reduceLocal},
                grads, 0, P, partial);
        q.launch("sum_final", new long[] {q.reduceLocal}, new long[] {q.reduceLocal}, partial, NORM_GROUPS, norm, 1);
    }

    @Override
    public double gradNorm() { return q.read(norm, 0, 1)[0]; }

    @Override
    public void setOptimizer(OptimizerConfig optimizer) {
        for (ClBuffer s : slots) q.release(s);
        slots = new ClBuffer[optimizer.kind().slots().size()];
        for (int i = 0; i < slots.length; i++) slots[i] = q.alloc(P, "optimizer state");
        this.optimizer = optimizer;
    }

    @Override
    public void step(double lr, long t) {
        OptimizerConfig o = optimizer;
        int clipMode = pendingClip == ClipMode.NORM ? 1 : 0;
        float clipMax = pendingClip == ClipMode.NORM ? pendingClipMax : 0f;
        float wd = (float) o.weightDecay();
        paramsVersion++;
        switch (o.kind()) {
            case ADAM -> q.launch1("adam_step", P, params, 0, grads, 0, slots[0], 0, slots[1], 0, P, norm, clipMode,
                    clipMax, (float) lr, (float) o.beta1(), (float) o.beta2(), (float) o.eps(), wd,
                    (float) (1 - Math.pow(o.beta1(), t)), (float) (1 - Math.pow(o.beta2(), t)));
            case RMSPROP -> q.launch1("rmsprop_step", P, params, 0, grads, 0, slots[0], 0, P, norm, clipMode, clipMax,
                    (float) lr, (float) o.decay(), (float) o.eps(), wd);
            case ADAGRAD -> q.launch1("adagrad_step", P, params, 0, grads, 0, slots[0], 0, P, norm, clipMode, clipMax,
                    (float) lr, (float) o.eps(), wd);
            case SGD -> q.launch1("sgd_step", P, params, 0, grads, 0, slots[0], 0, P, norm, clipMode, clipMax,
                    (float) lr, (float) o.momentum(), wd);
        }
    }

    @Override
    public double[][] getOptimizerState() {
        double[][] out = new double[slots.length][];
        for (int i = 0; i < slots.length; i++) out[i] = HostFloats.toDouble(q.read(slots[i], 0, P));
        return out;
    }

    @Override
    public void setOptimizerState(double[][] values) {
        if (values.length != slots.length)
            throw new IllegalArgumentException("optimizer has " + slots.length + " state arrays, got " + values.length);
        for (int i = 0; i < slots.length; i++) {
            if (values[i].length != P) throw new IllegalArgumentException("optimizer state size mismatch");
            q.write(slots[i], 0, HostFloats.toFloat(values[i]));
        }
    }

    // ================================================================== inference

    @Override
    public double[] stepLogits(RnnState state, int[] tokens) {
        OpenClState st = state(state);
        int B = st.batch(), H = cfg.hidden(), G = cfg.gateWidth(), V = cfg.vocabSize();
        if (tokens.length != B) throw new IllegalArgumentException("expected " + B + " tokens");
        for (int tk : tokens)
            if (tk < 0 || tk >= V) throw new IllegalArgumentException("token out of range: " + tk);
        if (stepSpace == null || stepSpace.B != B) {
            if (stepSpace != null) stepSpace.release();
            stepSpace = new StepSpace(B);
        }
        StepSpace s = stepSpace;
        q.writeInts(s.x, tokens);
        q.launch1("embedding_forward", (long) B * cfg.embedding(), s.x, params, layout.embedding().offset(), s.emb, 0,
                B, cfg.embedding());
        ClBuffer in = s.emb;
        int inOff = 0;
        for (int l = 0; l < cfg.layers(); l++) {
            int inW = cfg.inputSize(l);
            int hOff = st.offset(l, 0), cOff = S == 2 ? st.offset(l, 1) : 0;
            gemmWt(B, G, inW, in, inOff, inW, layout.weightIh(l).offset(), s.gx, 0);
            gemmWt(B, G, H, st.buffer, hOff, H, layout.weightHh(l).offset(), s.gh, 0);
            // in place: the state's h (and c) slot is both the previous and the new value
            cellForward(s.gx, 0, s.gh, 0, layout.biasIh(l).offset(), layout.biasHh(l).offset(), st.buffer, hOff,
                    st.buffer, cOff, s.gates, 0, st.buffer, hOff, st.buffer, cOff, B);
            in = st.buffer;
            inOff = hOff;
        }
        gemmWt(B, V, H, in, inOff, H, layout.decoderWeight().offset(), s.logits, 0);
        q.launch1("add_bias_rows", (long) B * V, s.logits, 0, params, layout.decoderBias().offset(), B, V);
        return HostFloats.toDouble(q.read(s.logits, 0, B * V));
    }

    @Override
    public void synchronize() { q.finish(); }

    @Override
    public long peakMemoryBytes() { return q.peakBytes(); }

    // ================================================================== helpers

    private OpenClState state(RnnState s) {
        if (!(s instanceof OpenClState st) || st.owner() != this)
            throw new IllegalArgumentException("state does not belong to this backend");
        return st;
    }

    @Override
    public void close() {
        q.close();
    }
}
