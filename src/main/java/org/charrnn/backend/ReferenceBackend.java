package org.charrnn.backend;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;

/**
 * The pure-Java reference backend: plain double-precision math, one method per operation, the
 * source of truth every other backend is tested against (its gradients are proven by
 * finite-difference checks in the tests).
 *
 * <p>Model: x0 = emb[tokens]; per layer l, gx = X W_ih^T + b_ih for the whole window (one GEMM),
 * then per step gh = h_prev W_hh^T + b_hh and the cell (LSTM i,f,g,o; GRU r,z,n; RNN tanh);
 * inverted dropout (training only) on every layer's output; logits = top W_dec^T + b_dec; mean
 * softmax cross-entropy over the T*B predictions.
 *
 * <p>Only the rows of GEMMs are split across threads (the batch rows of a step, the T*B rows of a
 * window); everything else is sequential and deterministic, so results do not depend on the
 * thread count.
 */
public final class ReferenceBackend implements Backend {

    private final ModelConfig cfg;
    private final ParamLayout layout;
    private final int seed32;
    private final ReferenceMut mut; // the MUT cells' math; null for the others
    private final ForkJoinPool pool; // null when single-threaded
    private final int threads;

    private final double[] params; // [P] flat, layout order
    private final double[] grads; // [P]
    private final double[] paramsT; // [P] params with every weight matrix transposed ([in,G], [H,G], [H,V]),
    // so the forward GEMMs run as row-times-matrix (vectorizable) loops
    private long paramsVersion, paramsTVersion = -1;
    private double[] stateGrad = new double[0]; // [L][S][B][H] dL/d(initial state)

    private OptimizerConfig optimizer;
    private double[][] slots = new double[0][]; // optimizer state, each [P]

    private double gradNorm = Double.NaN; // pre-clip global L2 norm of the last backward
    private double loss = Double.NaN; // mean CE of the last forward
    private final Workspace train = new Workspace(); // saved activations of the last training forward
    private final Workspace infer = new Workspace(); // scratch for eval forwards and sampling steps
    private boolean haveTrainingForward;

    public ReferenceBackend(ModelConfig config, BackendOptions options) {
        this.cfg = config;
        this.layout = new ParamLayout(config);
        this.params = new double[layout.size()];
        this.grads = new double[layout.size()];
        this.paramsT = new double[layout.size()];
        this.seed32 = Dropout.seed32(options.dropoutSeed());
        int t = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
        this.threads = Math.max(1, t);
        this.pool = threads > 1 ? new ForkJoinPool(threads) : null;
        this.mut = switch (config.cell()) {
            case MUT1, MUT2, MUT3 -> new ReferenceMut(config.cell(), config.hidden());
            case LSTM, GRU, RNN -> null;
        };
        setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String deviceName() {
        return "Java double precision (" + threads + " thread" + (threads > 1 ? "s" : "") + ")";
    }

    @Override
    public Precision precision() {
        return Precision.FP64;
    }

    @Override
    public ModelConfig config() {
        return cfg;
    }

    @Override
    public ParamLayout layout() {
        return layout;
    }

    // ====================================================================== parameters and state

    @Override
    public void setParameters(double[] values) {
        if (values.length != params.length)
            throw new IllegalArgumentException("expected " + params.length + " parameters, got " + values.length);
        System.arraycopy(values, 0, params, 0, params.length);
        paramsVersion++;
    }

    /** Refreshes {@link #paramsT} when the parameters changed since it was built. */
    private void refreshTransposed() {
        if (paramsTVersion == paramsVersion) return;
        for (ParamLayout.Tensor t : layout.tensors()) {
            int off = t.offset();
            if (t.shape().length == 2 && !t.name().equals("embedding.weight")) {
                int rows = t.shape()[0], cols = t.shape()[1];
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++) paramsT[off + c * rows + r] = params[off + r * cols + c];
            } else {
                System.arraycopy(params, off, paramsT, off, t.size());
            }
        }
        paramsTVersion = paramsVersion;
    }

    @Override
    public double[] getParameters() {
        return params.clone();
    }

    @Override
    public double[] getGradients() {
        return grads.clone();
    }

    @Override
    public double[] getInitialStateGradient() {
        return stateGrad.clone();
    }

    @Override
    public RnnState newState(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1");
        return new State(batch, cfg.stateSizePerRow() * batch);
    }

    @Override
    public TokenBuffer upload(TokenSequence tokens) {
        return new Tokens(tokens);
    }

    /** Host state [L][S][B][H]. */
    private static final class State implements RnnState {
        final int batch;
        final double[] v;

        State(int batch, int size) {
            this.batch = batch;
            this.v = new double[size];
        }

        @Override
        public int batch() {
            return batch;
        }

        @Override
        public void reset() {
            Arrays.fill(v, 0.0);
        }

        @Override
        public double[] read() {
            return v.clone();
        }

        @Override
        public void write(double[] values) {
            if (values.length != v.length)
                throw new IllegalArgumentException("state has " + v.length + " elements, got " + values.length);
            System.arraycopy(values, 0, v, 0, v.length);
        }

        @Override
        public void copyFrom(RnnState other) {
            State o = (State) other;
            if (o.v.length != v.length) throw new IllegalArgumentException("state shapes differ");
            System.arraycopy(o.v, 0, v, 0, v.length);
        }

        @Override
        public void close() {}
    }

    private record Tokens(TokenSequence seq) implements TokenBuffer {
        @Override
        public long length() {
            return seq.length();
        }

        @Override
        public void close() {}
    }

    // ====================================================================== forward

    /**
     * Activations of one forward over [T,B]; sized on demand and reused (no per-step allocation).
     * N = T*B rows; GS = the per-step saved-gate width (4H LSTM: i,f,g,o; 4H GRU: r,z,n,gh_n; 0 RNN).
     */
    private final class Workspace {
        int T, B, N;
        boolean training;
        int iteration;
        int[] x = new int[0], y = new int[0]; // [N] inputs and targets
        double[][] in; // per layer: input X [N, in_l] (layer 0: embeddings; l>0: dropped output of l-1)
        double[][] gx; // per layer: [N, Gi*H] = X W_ih^T + b_ih
        double[][] hs; // per layer: [(T+1), B, H], slot 0 = initial h
        double[][] cs; // per layer (LSTM): [(T+1), B, H], slot 0 = initial c
        double[][] gates; // per layer: [N, 4H] activated gates (LSTM, GRU); [N, 5H] MUT (see ReferenceMut)
        double[][] out; // per layer: [N, H] output after dropout (aliases hs[l] + B*H when no dropout)
        int[] outOff; // per layer: offset of the output within out[l]
        double[] gh; // [B, Gh*H] scratch for the recurrent GEMM
        double[] logits; // [N, V] logits (decoder output + bias)
        double[] probs; // [N, V] softmax(logits); backward turns it into dL/dlogits
        double[] rowLoss; // [N]
        // backward scratch (training workspace only), sized with the window
        double[] dOut; // [N, H] dL/d(output of the current layer)
        double[] dX; // [N, max(E, H)] dL/d(input of the current layer)
        double[] dgx, dgh; // [N, Gi], [N, Gh] dL/d(gx), dL/d(gh) (dgh for GRU and MUT; LSTM and RNN share dgx)
        double[] dxDirect; // [N, H] dL/dX not through W_ih (MUT1 tanh(x), MUT2 x)
        double[] dhNext; // [B, H] dL/dh_{t-1} through the recurrence
        double[] dc; // [B, H] LSTM dL/dc carried backwards

        void ensureBackward() {
            int H = cfg.hidden();
            dOut = grow(dOut, N * H);
            dX = grow(dX, N * Math.max(cfg.embedding(), H));
            dgx = grow(dgx, N * cfg.inputGateWidth());
            if (separateRecurrentGrad()) dgh = grow(dgh, N * cfg.recurrentGateWidth());
            if (cfg.cell().feedsInputDirectly()) dxDirect = grow(dxDirect, N * H);
            dhNext = grow(dhNext, B * H);
            dc = grow(dc, B * H);
        }

        void ensure(int T, int B, boolean training) {
            this.T = T;
            this.B = B;
            this.N = T * B;
            this.training = training;
            int L = cfg.layers(), H = cfg.hidden(), V = cfg.vocabSize();
            if (in == null) {
                in = new double[L][];
                gx = new double[L][];
                hs = new double[L][];
                cs = new double[L][];
                gates = new double[L][];
                out = new double[L][];
                outOff = new int[L];
            }
            x = grow(x, N);
            y = grow(y, N);
            for (int l = 0; l < L; l++) {
                in[l] = grow(in[l], N * cfg.inputSize(l));
                gx[l] = grow(gx[l], N * cfg.inputGateWidth());
                hs[l] = grow(hs[l], (T + 1) * B * H);
                if (cfg.cell() == CellType.LSTM) cs[l] = grow(cs[l], (T + 1) * B * H);
                if (savedWidth() > 0) gates[l] = grow(gates[l], N * savedWidth());
            }
            gh = grow(gh, B * cfg.recurrentGateWidth());
            logits = grow(logits, N * V);
            probs = grow(probs, N * V);
            rowLoss = grow(rowLoss, N);
        }
    }

    /** Floats saved per row and step for backward: 4H (LSTM i,f,g,o; GRU r,z,n,hn), 5H (MUT), 0 (RNN). */
    private int savedWidth() {
        return switch (cfg.cell()) {
            case LSTM, GRU -> 4 * cfg.hidden();
            case MUT1, MUT2, MUT3 -> ReferenceMut.SAVED * cfg.hidden();
            case RNN -> 0;
        };
    }

    /** Whether dL/d(gh) needs its own buffer: GRU (r multiplies hn) and the MUT cells (other W_hh blocks). */
    private boolean separateRecurrentGrad() {
        return switch (cfg.cell()) {
            case GRU, MUT1, MUT2, MUT3 -> true;
            case LSTM, RNN -> false;
        };
    }

    private static double[] grow(double[] a, int n) {
        return a != null && a.length >= n ? a : new double[n];
    }

    private static int[] grow(int[] a, int n) {
        return a.length >= n ? a : new int[n];
    }

    @Override
    public void forward(RnnState state, Window window, boolean training) {
        State st = (State) state;
        if (st.batch != window.batch())
            throw new IllegalArgumentException("state has batch " + st.batch + ", window " + window.batch());
        Workspace w = training ? train : infer;
        int T = window.seqLen(), B = window.batch();
        w.ensure(T, B, training);
        w.iteration = (int) window.iteration();
        TokenSequence seq = ((Tokens) window.tokens()).seq();
        // x[t,b] = tokens[start_b + t], y[t,b] = tokens[start_b + t + 1]
        for (int b = 0; b < B; b++) {
            long s = window.starts()[b];
            for (int t = 0; t < T; t++) {
                w.x[t * B + b] = seq.get(s + t);
                w.y[t * B + b] = seq.get(s + t + 1);
            }
        }
        runForward(w, st.v);
        if (training) haveTrainingForward = true;
    }

    /** Forward over w.x from state (updated in place to the final state); sets {@link #loss}. */
    private void runForward(Workspace w, double[] state) {
        int T = w.T, B = w.B, N = w.N, H = cfg.hidden(), L = cfg.layers();
        int S = cfg.cell().stateVectors();
        refreshTransposed();
        embeddingForward(w);
        for (int l = 0; l < L; l++) {
            // initial state -> slot 0 of hs / cs
            System.arraycopy(state, (l * S) * B * H, w.hs[l], 0, B * H);
            if (S == 2) System.arraycopy(state, (l * S + 1) * B * H, w.cs[l], 0, B * H);
            layerForward(w, l);
            // final state -> carried state
            System.arraycopy(w.hs[l], T * B * H, state, (l * S) * B * H, B * H);
            if (S == 2) System.arraycopy(w.cs[l], T * B * H, state, (l * S + 1) * B * H, B * H);
            dropoutForward(w, l);
            if (l + 1 < L) System.arraycopy(w.out[l], w.outOff[l], w.in[l + 1], 0, N * H);
        }
        decoderForward(w);
        double sum = 0;
        for (int n = 0; n < N; n++) sum += w.rowLoss[n];
        loss = sum / N;
    }

    /** in[0] [N,E] = emb[x[n]] (=). */
    private void embeddingForward(Workspace w) {
        int E = cfg.embedding(), off = layout.embedding().offset();
        for (int n = 0; n < w.N; n++) System.arraycopy(params, off + w.x[n] * E, w.in[0], n * E, E);
    }

    /** Layer l over the window: gx = X W_ih^T + b_ih (one GEMM, as X times the transposed weight), then the cell per step. */
    private void layerForward(Workspace w, int l) {
        int T = w.T, B = w.B, N = w.N, H = cfg.hidden(), G = cfg.inputGateWidth(), in = cfg.inputSize(l);
        int wih = layout.weightIh(l).offset(), whh = layout.weightHh(l).offset();
        int bih = layout.biasIh(l).offset(), bhh = layout.biasHh(l).offset();
        double[] X = w.in[l], gx = w.gx[l];
        parallelRows(N, (r0, r1) -> DenseMath.ab(X, 0, paramsT, wih, gx, 0, r0, r1, G, in, false));
        for (int n = 0; n < N; n++) for (int g = 0; g < G; g++) gx[n * G + g] += params[bih + g];
        double[] hs = w.hs[l];
        for (int t = 0; t < T; t++) {
            int step = t, hPrev = t * B * H;
            Runnable cell = switch (cfg.cell()) { // an expression: a cell without a step does not compile
                case LSTM ->
                    () -> {
                        recurrentProjection(w, l, hPrev);
                        lstmStep(w, l, step);
                    };
                case GRU ->
                    () -> {
                        recurrentProjection(w, l, hPrev);
                        gruStep(w, l, step);
                    };
                case RNN ->
                    () -> {
                        recurrentProjection(w, l, hPrev);
                        rnnStep(w, l, step);
                    };
                case MUT1, MUT2, MUT3 ->
                    () -> mut.forward(
                            params,
                            whh,
                            bhh,
                            gx,
                            step * B * G,
                            X,
                            step * B * in,
                            hs,
                            hPrev,
                            hPrev + B * H,
                            w.gates[l],
                            step * B * ReferenceMut.SAVED * H,
                            B);
            };
            cell.run();
        }
    }

    /** gh [B,Gh] = h_prev W_hh^T + b_hh, h_prev at hs[l][hPrev]. */
    private void recurrentProjection(Workspace w, int l, int hPrev) {
        int B = w.B, H = cfg.hidden(), G = cfg.recurrentGateWidth();
        int whh = layout.weightHh(l).offset(), bhh = layout.biasHh(l).offset();
        double[] hs = w.hs[l], gh = w.gh;
        parallelRows(B, (r0, r1) -> DenseMath.ab(hs, hPrev, paramsT, whh, gh, 0, r0, r1, G, H, false));
        for (int b = 0; b < B; b++) for (int g = 0; g < G; g++) gh[b * G + g] += params[bhh + g];
    }

    /** LSTM step t: gates [B,4H] = (i,f,g,o) activated; c_t = f c_prev + i g; h_t = o tanh(c_t). */
    private void lstmStep(Workspace w, int l, int t) {
        int B = w.B, H = cfg.hidden(), G = 4 * H;
        double[] gx = w.gx[l], gh = w.gh, gates = w.gates[l], hs = w.hs[l], cs = w.cs[l];
        for (int b = 0; b < B; b++) {
            int row = (t * B + b) * G, ghRow = b * G;
            int prev = (t * B + b) * H, cur = ((t + 1) * B + b) * H;
            for (int j = 0; j < H; j++) {
                double i = sigmoid(gx[row + j] + gh[ghRow + j]);
                double f = sigmoid(gx[row + H + j] + gh[ghRow + H + j]);
                double g = Math.tanh(gx[row + 2 * H + j] + gh[ghRow + 2 * H + j]);
                double o = sigmoid(gx[row + 3 * H + j] + gh[ghRow + 3 * H + j]);
                double c = f * cs[prev + j] + i * g;
                gates[row + j] = i;
                gates[row + H + j] = f;
                gates[row + 2 * H + j] = g;
                gates[row + 3 * H + j] = o;
                cs[cur + j] = c;
                hs[cur + j] = o * Math.tanh(c);
            }
        }
    }

    /** GRU step t: r, z, n = tanh(xn + r hn); h_t = (1-z) n + z h_prev; saves (r, z, n, hn) in gates [B,4H]. */
    private void gruStep(Workspace w, int l, int t) {
        int B = w.B, H = cfg.hidden(), G = 3 * H;
        double[] gx = w.gx[l], gh = w.gh, gates = w.gates[l], hs = w.hs[l];
        for (int b = 0; b < B; b++) {
            int row = (t * B + b) * G, ghRow = b * G, sRow = (t * B + b) * 4 * H;
            int prev = (t * B + b) * H, cur = ((t + 1) * B + b) * H;
            for (int j = 0; j < H; j++) {
                double r = sigmoid(gx[row + j] + gh[ghRow + j]);
                double z = sigmoid(gx[row + H + j] + gh[ghRow + H + j]);
                double hn = gh[ghRow + 2 * H + j];
                double n = Math.tanh(gx[row + 2 * H + j] + r * hn);
                gates[sRow + j] = r;
                gates[sRow + H + j] = z;
                gates[sRow + 2 * H + j] = n;
                gates[sRow + 3 * H + j] = hn;
                hs[cur + j] = (1 - z) * n + z * hs[prev + j];
            }
        }
    }

    /** RNN step t: h_t = tanh(gx + gh). */
    private void rnnStep(Workspace w, int l, int t) {
        int B = w.B, H = cfg.hidden();
        double[] gx = w.gx[l], gh = w.gh, hs = w.hs[l];
        for (int b = 0; b < B; b++) {
            int row = (t * B + b) * H, cur = ((t + 1) * B + b) * H;
            for (int j = 0; j < H; j++) hs[cur + j] = Math.tanh(gx[row + j] + gh[b * H + j]);
        }
    }

    /** out[l] [N,H] = dropout(hs[l][1..T]) in training with p > 0; otherwise out[l] aliases hs[l] + B*H. */
    private void dropoutForward(Workspace w, int l) {
        int N = w.N, H = cfg.hidden(), BH = w.B * H;
        double p = cfg.dropout();
        if (!w.training || p == 0) {
            w.out[l] = w.hs[l];
            w.outOff[l] = BH;
            return;
        }
        double[] o = w.out[l] == null || w.out[l] == w.hs[l] || w.out[l].length < N * H ? new double[N * H] : w.out[l];
        for (int i = 0; i < N * H; i++) o[i] = w.hs[l][BH + i] * Dropout.scale(seed32, w.iteration, l, i, p);
        w.out[l] = o;
        w.outOff[l] = 0;
    }

    /** logits [N,V] = top W_dec^T + b_dec; probs = softmax(logits); rowLoss[n] = logsumexp - logit[y]. */
    private void decoderForward(Workspace w) {
        int N = w.N, H = cfg.hidden(), V = cfg.vocabSize(), top = cfg.layers() - 1;
        int wd = layout.decoderWeight().offset(), bd = layout.decoderBias().offset();
        double[] o = w.out[top], logits = w.logits;
        int oOff = w.outOff[top];
        parallelRows(N, (r0, r1) -> DenseMath.ab(o, oOff, paramsT, wd, logits, 0, r0, r1, V, H, false));
        for (int n = 0; n < N; n++) {
            int row = n * V;
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                logits[row + v] += params[bd + v];
                max = Math.max(max, logits[row + v]);
            }
            double sum = 0;
            for (int v = 0; v < V; v++) sum += Math.exp(logits[row + v] - max);
            double lse = max + Math.log(sum);
            w.rowLoss[n] = lse - logits[row + w.y[n]];
            for (int v = 0; v < V; v++) w.probs[row + v] = Math.exp(logits[row + v] - lse);
        }
    }

    @Override
    public double loss() {
        return loss;
    }

    // ====================================================================== backward

    @Override
    public void backward() {
        if (!haveTrainingForward) throw new IllegalStateException("backward() needs a preceding training forward");
        Workspace w = train;
        int B = w.B, N = w.N, H = cfg.hidden(), L = cfg.layers(), V = cfg.vocabSize();
        int S = cfg.cell().stateVectors();
        if (stateGrad.length != L * S * B * H) stateGrad = new double[L * S * B * H];

        // dlogits [N,V] = (softmax - onehot(y)) / N, in place over the probabilities
        double[] dlog = w.probs;
        for (int n = 0; n < N; n++) {
            int row = n * V;
            dlog[row + w.y[n]] -= 1.0;
            for (int v = 0; v < V; v++) dlog[row + v] /= N;
        }
        // decoder: dW_dec [V,H] = dlogits^T top, db_dec = colsum(dlogits), dtop [N,H] = dlogits W_dec
        int top = L - 1;
        double[] o = w.out[top];
        int oOff = w.outOff[top];
        int wd = layout.decoderWeight().offset();
        parallelRows(V, (r0, r1) -> DenseMath.aTb(dlog, 0, o, oOff, grads, wd, r0, r1, V, H, N));
        DenseMath.columnSum(dlog, 0, N, V, grads, layout.decoderBias().offset());
        w.ensureBackward();
        double[] dOut = w.dOut; // dL/d(output of layer l) before its dropout
        parallelRows(N, (r0, r1) -> DenseMath.ab(dlog, 0, params, wd, dOut, 0, r0, r1, H, V, false));

        for (int l = L - 1; l >= 0; l--) {
            dropoutBackward(w, l, dOut);
            layerBackward(w, l, S);
            if (l > 0) System.arraycopy(w.dX, 0, dOut, 0, N * H);
            else embeddingBackward(w, w.dX);
        }
    }

    /** dOut (= dL/d dropped output) becomes dL/d(h output): dOut *= mask (same mask as forward). */
    private void dropoutBackward(Workspace w, int l, double[] dOut) {
        double p = cfg.dropout();
        if (!w.training || p == 0) return;
        int n = w.N * cfg.hidden();
        for (int i = 0; i < n; i++) dOut[i] *= Dropout.scale(seed32, w.iteration, l, i, p);
    }

    /**
     * BPTT through layer l. w.dOut [N,H] = dL/dh_t from above for t in [0,T). Writes the layer's
     * weight and bias gradients (=), its part of the initial-state gradient, and w.dX [N, in_l] =
     * dL/dX (=).
     */
    private void layerBackward(Workspace w, int l, int S) {
        int T = w.T, B = w.B, N = w.N, H = cfg.hidden(), in = cfg.inputSize(l);
        int Gi = cfg.inputGateWidth(), Gh = cfg.recurrentGateWidth();
        int whh = layout.weightHh(l).offset(), wih = layout.weightIh(l).offset();
        double[] dOut = w.dOut, dgx = w.dgx, dhNext = w.dhNext, dc = w.dc;
        double[] dgh = separateRecurrentGrad() ? w.dgh : dgx; // dL/d(gh) equals dL/d(gx) for LSTM and RNN
        Arrays.fill(dhNext, 0, B * H, 0.0);
        Arrays.fill(dc, 0, B * H, 0.0);
        double[] hs = w.hs[l], X = w.in[l];
        for (int t = T - 1; t >= 0; t--) {
            int step = t;
            Runnable cellStep = switch (cfg.cell()) {
                case LSTM ->
                    () -> {
                        lstmBackwardStep(w, l, step, dOut, dhNext, dc, dgx);
                        recurrentGradient(w, l, step, dgh);
                    };
                case GRU ->
                    () -> {
                        gruBackwardStep(w, l, step, dOut, dhNext, dgx, dgh);
                        recurrentGradient(w, l, step, dgh);
                    };
                case RNN ->
                    () -> {
                        rnnBackwardStep(w, l, step, dOut, dhNext, dgx);
                        recurrentGradient(w, l, step, dgh);
                    };
                case MUT1, MUT2, MUT3 ->
                    () -> mut.backward(
                            params,
                            whh,
                            dOut,
                            step * B * H,
                            dhNext,
                            w.gates[l],
                            step * B * ReferenceMut.SAVED * H,
                            hs,
                            step * B * H,
                            X,
                            step * B * in,
                            dgx,
                            step * B * Gi,
                            dgh,
                            step * B * Gh,
                            w.dxDirect,
                            step * B * H,
                            B);
            };
            cellStep.run();
        }
        // initial-state gradient of this layer
        System.arraycopy(dhNext, 0, stateGrad, (l * S) * B * H, B * H);
        if (S == 2) System.arraycopy(dc, 0, stateGrad, (l * S + 1) * B * H, B * H);
        // whole-window weight gradients: dW_ih = dgx^T X, dW_hh = dgh^T Hprev (Hprev = hs[0..T-1]; MUT: per block)
        parallelRows(Gi, (r0, r1) -> DenseMath.aTb(dgx, 0, X, 0, grads, wih, r0, r1, Gi, in, N));
        if (mut != null) mut.recurrentWeightGradients(grads, whh, dgh, hs, w.gates[l], N);
        else parallelRows(Gh, (r0, r1) -> DenseMath.aTb(dgh, 0, hs, 0, grads, whh, r0, r1, Gh, H, N));
        DenseMath.columnSum(dgx, 0, N, Gi, grads, layout.biasIh(l).offset());
        DenseMath.columnSum(dgh, 0, N, Gh, grads, layout.biasHh(l).offset());
        // dX [N,in] = dgx W_ih (+ the direct path of MUT1's tanh(x) and MUT2's x)
        double[] dX = w.dX;
        parallelRows(N, (r0, r1) -> DenseMath.ab(dgx, 0, params, wih, dX, 0, r0, r1, in, Gi, false));
        if (cfg.cell().feedsInputDirectly()) for (int i = 0; i < N * H; i++) dX[i] += w.dxDirect[i];
    }

    /** dhNext [B,H] += dgh_t [B,Gh] W_hh [Gh,H]. */
    private void recurrentGradient(Workspace w, int l, int t, double[] dgh) {
        int B = w.B,
                H = cfg.hidden(),
                G = cfg.recurrentGateWidth(),
                whh = layout.weightHh(l).offset(),
                rowOff = t * B * G;
        double[] dhNext = w.dhNext;
        parallelRows(B, (r0, r1) -> DenseMath.ab(dgh, rowOff, params, whh, dhNext, 0, r0, r1, H, G, true));
    }

    /**
     * LSTM backward step t: dh = dOut_t + dhNext; dc (in: from t+1, out: dL/dc_{t-1});
     * dgx_t [B,4H] = dL/d(pre-activations) (=); dhNext = 0 (the caller adds dgx_t W_hh).
     */
    private void lstmBackwardStep(
            Workspace w, int l, int t, double[] dOut, double[] dhNext, double[] dc, double[] dgx) {
        int B = w.B, H = cfg.hidden(), G = 4 * H;
        double[] cs = w.cs[l], gates = w.gates[l];
        for (int b = 0; b < B; b++) {
            int n = t * B + b, prev = n * H, cur = (n + B) * H, g0 = n * G;
            for (int j = 0; j < H; j++) {
                double dh = dOut[n * H + j] + dhNext[b * H + j];
                double i = gates[g0 + j], f = gates[g0 + H + j], g = gates[g0 + 2 * H + j], o = gates[g0 + 3 * H + j];
                double tc = Math.tanh(cs[cur + j]);
                double dcj = dc[b * H + j] + dh * o * (1 - tc * tc);
                dgx[g0 + j] = dcj * g * i * (1 - i);
                dgx[g0 + H + j] = dcj * cs[prev + j] * f * (1 - f);
                dgx[g0 + 2 * H + j] = dcj * i * (1 - g * g);
                dgx[g0 + 3 * H + j] = dh * tc * o * (1 - o);
                dc[b * H + j] = dcj * f;
                dhNext[b * H + j] = 0;
            }
        }
    }

    /**
     * GRU backward step t: dh = dOut_t + dhNext; dgx_t, dgh_t [B,3H] (=, they differ in the n block:
     * dgh_n = dgx_n r); dhNext = dh z (the caller adds dgh_t W_hh).
     */
    private void gruBackwardStep(
            Workspace w, int l, int t, double[] dOut, double[] dhNext, double[] dgx, double[] dgh) {
        int B = w.B, H = cfg.hidden(), G = 3 * H;
        double[] hs = w.hs[l], gates = w.gates[l];
        for (int b = 0; b < B; b++) {
            int n = t * B + b, prev = n * H, s0 = n * 4 * H, g0 = n * G;
            for (int j = 0; j < H; j++) {
                double dh = dOut[n * H + j] + dhNext[b * H + j];
                double r = gates[s0 + j], z = gates[s0 + H + j], nn = gates[s0 + 2 * H + j], hn = gates[s0 + 3 * H + j];
                double dn = dh * (1 - z) * (1 - nn * nn);
                double dz = dh * (hs[prev + j] - nn) * z * (1 - z);
                double dr = dn * hn * r * (1 - r);
                dgx[g0 + j] = dr;
                dgx[g0 + H + j] = dz;
                dgx[g0 + 2 * H + j] = dn;
                dgh[g0 + j] = dr;
                dgh[g0 + H + j] = dz;
                dgh[g0 + 2 * H + j] = dn * r;
                dhNext[b * H + j] = dh * z;
            }
        }
    }

    /** RNN backward step t: dgx_t [B,H] = (dOut_t + dhNext)(1 - h_t^2) (=); dhNext = 0. */
    private void rnnBackwardStep(Workspace w, int l, int t, double[] dOut, double[] dhNext, double[] dgx) {
        int B = w.B, H = cfg.hidden();
        double[] hs = w.hs[l];
        for (int b = 0; b < B; b++) {
            int n = t * B + b, cur = (n + B) * H;
            for (int j = 0; j < H; j++) {
                double h = hs[cur + j];
                dgx[n * H + j] = (dOut[n * H + j] + dhNext[b * H + j]) * (1 - h * h);
                dhNext[b * H + j] = 0;
            }
        }
    }

    /** dEmb [V,E] = sum over n with x[n] = v of dX[n] (=). */
    private void embeddingBackward(Workspace w, double[] dX) {
        int E = cfg.embedding(), off = layout.embedding().offset();
        Arrays.fill(grads, off, off + layout.embedding().size(), 0.0);
        for (int n = 0; n < w.N; n++) {
            int row = off + w.x[n] * E;
            for (int e = 0; e < E; e++) grads[row + e] += dX[n * E + e];
        }
    }

    // ====================================================================== clipping and optimizers

    @Override
    public void clip(ClipMode mode, double max) {
        double ss = 0;
        for (double g : grads) ss += g * g;
        gradNorm = Math.sqrt(ss);
        if (!Double.isFinite(gradNorm)) return;
        if (mode == ClipMode.NORM) {
            double scale = Math.min(1.0, max / (gradNorm + 1e-6));
            if (scale < 1.0) for (int i = 0; i < grads.length; i++) grads[i] *= scale;
        } else {
            for (int i = 0; i < grads.length; i++) grads[i] = Math.max(-max, Math.min(max, grads[i]));
        }
    }

    @Override
    public double gradNorm() {
        return gradNorm;
    }

    @Override
    public void setOptimizer(OptimizerConfig optimizer) {
        this.optimizer = optimizer;
        this.slots = new double[optimizer.kind().slots().size()][params.length];
    }

    @Override
    public void step(double lr, long t) {
        if (!Double.isFinite(gradNorm)) return; // divergence: leave parameters and state untouched
        paramsVersion++;
        OptimizerConfig o = optimizer;
        double wd = o.weightDecay();
        double[] p = params, g = grads;
        Runnable update = switch (o.kind()) { // an expression: every optimizer kind is handled
            case ADAM ->
                () -> {
                    double[] m = slots[0], v = slots[1];
                    double bc1 = 1 - Math.pow(o.beta1(), (double) t), bc2 = 1 - Math.pow(o.beta2(), (double) t);
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i] + wd * p[i];
                        m[i] = o.beta1() * m[i] + (1 - o.beta1()) * gi;
                        v[i] = o.beta2() * v[i] + (1 - o.beta2()) * gi * gi;
                        p[i] -= lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + o.eps());
                    }
                };
            case RMSPROP ->
                () -> {
                    double[] s = slots[0];
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i] + wd * p[i];
                        s[i] = o.decay() * s[i] + (1 - o.decay()) * gi * gi;
                        p[i] -= lr * gi / (Math.sqrt(s[i]) + o.eps());
                    }
                };
            case ADAGRAD ->
                () -> {
                    double[] s = slots[0];
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i] + wd * p[i];
                        s[i] += gi * gi;
                        p[i] -= lr * gi / Math.sqrt(s[i] + o.eps());
                    }
                };
            case SGD ->
                () -> {
                    double[] u = slots[0];
                    for (int i = 0; i < p.length; i++) {
                        double gi = g[i] + wd * p[i];
                        u[i] = o.momentum() * u[i] + gi;
                        p[i] -= lr * u[i];
                    }
                };
        };
        update.run();
    }

    @Override
    public double[][] getOptimizerState() {
        double[][] copy = new double[slots.length][];
        for (int i = 0; i < slots.length; i++) copy[i] = slots[i].clone();
        return copy;
    }

    @Override
    public void setOptimizerState(double[][] values) {
        if (values.length != slots.length)
            throw new IllegalArgumentException("optimizer has " + slots.length + " state arrays, got " + values.length);
        for (int i = 0; i < slots.length; i++) {
            if (values[i].length != params.length) throw new IllegalArgumentException("optimizer state size mismatch");
            System.arraycopy(values[i], 0, slots[i], 0, params.length);
        }
    }

    // ====================================================================== inference

    @Override
    public double[] stepLogits(RnnState state, int[] tokens) {
        State st = (State) state;
        if (tokens.length != st.batch) throw new IllegalArgumentException("expected " + st.batch + " tokens");
        Workspace w = infer;
        w.ensure(1, st.batch, false);
        for (int b = 0; b < st.batch; b++) {
            if (tokens[b] < 0 || tokens[b] >= cfg.vocabSize())
                throw new IllegalArgumentException("token out of range: " + tokens[b]);
            w.x[b] = tokens[b];
            w.y[b] = 0;
        }
        runForward(w, st.v);
        return Arrays.copyOf(w.logits, st.batch * cfg.vocabSize());
    }

    // ====================================================================== helpers

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    @FunctionalInterface
    private interface RowTask {
        void run(int from, int to);
    }

    /** Runs task over [0, rows) split into contiguous chunks, one per thread, when it is worth it. */
    private void parallelRows(int rows, RowTask task) {
        if (pool == null || rows < 2 * threads) {
            task.run(0, rows);
            return;
        }
        int chunks = Math.min(threads, rows);
        pool.invoke(new RecursiveAction() {
            @Override
            protected void compute() {
                RecursiveAction[] parts = new RecursiveAction[chunks];
                for (int c = 0; c < chunks; c++) {
                    int from = (int) ((long) rows * c / chunks), to = (int) ((long) rows * (c + 1) / chunks);
                    parts[c] = new RecursiveAction() {
                        @Override
                        protected void compute() {
                            task.run(from, to);
                        }
                    };
                }
                invokeAll(parts);
            }
        });
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdown();
    }
}
