package org.charrnn.backend;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import org.charrnn.data.TokenSequence;
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
 * softmax cross-entropy over the T*B predictions (over the counted ones, see {@link Window}).
 *
 * <p>Only the rows of GEMMs are split across threads (the batch rows of a step, the T*B rows of a
 * window); everything else is sequential and deterministic, so results do not depend on the
 * thread count. GEMMs and the cells' activations run through {@link ReferenceMath}: plain loops,
 * or the Java Vector API where the JVM has its module (same math, rounding aside).
 */
public final class ReferenceBackend implements Backend {

    private final ModelConfig cfg;
    private final ParamLayout layout;
    private final int seed32;
    private final ReferenceCell cell; // the cell's math (ReferenceCell.of: the one switch on the cell type)
    private final ForkJoinPool pool; // null when single-threaded
    private final int threads;
    // GEMMs and activations: on the Vector API where its module is loaded (ReferenceMath.select)
    private final ReferenceMath math;

    private final double[] params; // [P] flat, layout order
    private final double[] grads; // [P]
    private final double[] paramsT; // [P] params with every weight matrix transposed ([in,G], [H,G], [H,V]),
    // so the forward GEMMs run as row-times-matrix (vectorizable) loops
    private long paramsVersion, paramsTVersion = -1;
    private double[] stateGrad = new double[0]; // [L][S][B][H] dL/d(initial state)
    private double[] firstInputGrad = new double[0]; // [B,E] dL/d(first input), when the window had one

    private OptimizerConfig optimizer;
    private double[][] slots = new double[0][]; // optimizer state, each [P]

    private double gradNorm = Double.NaN; // pre-clip global L2 norm of the last backward
    private double loss = Double.NaN; // mean CE of the last forward
    private final ReferenceWorkspace train; // saved activations of the last training forward
    private final ReferenceWorkspace infer; // scratch for eval forwards and sampling steps
    private boolean haveTrainingForward;

    public ReferenceBackend(ModelConfig config, BackendOptions options) {
        this(config, options, ReferenceMath.select());
    }

    /** With the GEMMs and activations of {@code math} (tests compare the implementations). */
    ReferenceBackend(ModelConfig config, BackendOptions options, ReferenceMath math) {
        this.cfg = config;
        this.math = math;
        this.layout = new ParamLayout(config);
        this.params = new double[layout.size()];
        this.grads = new double[layout.size()];
        this.paramsT = new double[layout.size()];
        this.seed32 = Dropout.seed32(options.dropoutSeed());
        int t = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
        this.threads = Math.max(1, t);
        this.pool = threads > 1 ? new ForkJoinPool(threads) : null;
        this.cell = ReferenceCell.of(config.cell(), config.hidden());
        this.train = new ReferenceWorkspace(config, cell);
        this.infer = new ReferenceWorkspace(config, cell);
        setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String deviceName() {
        String simd = math.description().isEmpty() ? "" : ", " + math.description();
        return "Java double precision (" + threads + " thread" + (threads > 1 ? "s" : "") + simd + ")";
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
    public double[] getFirstInputGradient() {
        return firstInputGrad.clone();
    }

    @Override
    public RnnState newState(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1");
        return new ReferenceState(batch, cfg.stateSizePerRow() * batch);
    }

    @Override
    public TokenBuffer upload(TokenSequence tokens) {
        return new ReferenceState.Tokens(tokens);
    }

    /** Host state [L][S][B][H]. */

    // ====================================================================== forward

    @Override
    public void forward(RnnState state, Window window, boolean training) {
        ReferenceState st = (ReferenceState) state;
        if (st.batch != window.batch())
            throw new IllegalArgumentException("state has batch " + st.batch + ", window " + window.batch());
        ReferenceWorkspace w = training ? train : infer;
        int T = window.seqLen(), B = window.batch();
        w.ensure(T, B, training);
        w.iteration = (int) window.iteration();
        w.ignoreTarget = window.ignoreTarget();
        w.firstInput = checkedFirstInput(window);
        w.gather(((ReferenceState.Tokens) window.tokens()).seq(), window.starts());
        runForward(w, st.v);
        if (training) haveTrainingForward = true;
    }

    private double[] checkedFirstInput(Window window) {
        double[] f = window.firstInput();
        if (f != null && f.length != window.batch() * cfg.embedding())
            throw new IllegalArgumentException(
                    "first input has " + f.length + " values, expected " + window.batch() + "x" + cfg.embedding());
        return f;
    }

    /** Forward over w.x from state (updated in place to the final state); sets {@link #loss}. */
    private void runForward(ReferenceWorkspace w, double[] state) {
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
        int counted = 0;
        for (int n = 0; n < N; n++) {
            if (w.y[n] == w.ignoreTarget) {
                w.rowLoss[n] = 0;
            } else {
                sum += w.rowLoss[n];
                counted++;
            }
        }
        w.counted = counted;
        loss = counted == 0 ? 0 : sum / counted;
    }

    /** in[0] [N,E] = emb[x[n]] (=), the rows of step 0 = the first input where the window has one. */
    private void embeddingForward(ReferenceWorkspace w) {
        int E = cfg.embedding(), off = layout.embedding().offset();
        for (int n = 0; n < w.N; n++) System.arraycopy(params, off + w.x[n] * E, w.in[0], n * E, E);
        if (w.firstInput != null) System.arraycopy(w.firstInput, 0, w.in[0], 0, w.B * E);
    }

    /** Layer l over the window: gx = X W_ih^T + b_ih (one GEMM, as X times the transposed weight), then the cell per step. */
    private void layerForward(ReferenceWorkspace w, int l) {
        int N = w.N, G = cfg.inputGateWidth(), in = cfg.inputSize(l);
        int wih = layout.weightIh(l).offset(), bih = layout.biasIh(l).offset();
        double[] X = w.in[l], gx = w.gx[l];
        parallelRows(N, (r0, r1) -> math.ab(X, 0, paramsT, wih, gx, 0, r0, r1, G, in, false));
        for (int n = 0; n < N; n++) for (int g = 0; g < G; g++) gx[n * G + g] += params[bih + g];
        ReferenceCell.Layer layer = layer(w, l);
        for (int t = 0; t < w.T; t++) cell.forward(layer, t);
    }

    /** The arrays of layer l in w, as the cell steps read them. */
    private ReferenceCell.Layer layer(ReferenceWorkspace w, int l) {
        return new ReferenceCell.Layer(
                w.B,
                cfg.inputSize(l),
                cfg.inputGateWidth(),
                cfg.recurrentGateWidth(),
                params,
                paramsT,
                layout.weightHh(l).offset(),
                layout.biasHh(l).offset(),
                w.in[l],
                w.gx[l],
                w.gh,
                w.hs[l],
                w.cs[l],
                w.gates[l],
                this::parallelRows,
                math);
    }

    /** out[l] [N,H] = dropout(hs[l][1..T]) in training with p > 0; otherwise out[l] aliases hs[l] + B*H. */
    private void dropoutForward(ReferenceWorkspace w, int l) {
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
    private void decoderForward(ReferenceWorkspace w) {
        int N = w.N, H = cfg.hidden(), V = cfg.vocabSize(), top = cfg.layers() - 1;
        int wd = layout.decoderWeight().offset(), bd = layout.decoderBias().offset();
        double[] o = w.out[top], logits = w.logits;
        int oOff = w.outOff[top];
        parallelRows(N, (r0, r1) -> math.ab(o, oOff, paramsT, wd, logits, 0, r0, r1, V, H, false));
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
        ReferenceWorkspace w = train;
        int B = w.B, N = w.N, H = cfg.hidden(), L = cfg.layers(), V = cfg.vocabSize();
        int S = cfg.cell().stateVectors();
        if (stateGrad.length != L * S * B * H) stateGrad = new double[L * S * B * H];

        // dlogits [N,V] = (softmax - onehot(y)) / counted, in place over the probabilities; rows of
        // uncounted targets are zero
        double[] dlog = w.probs;
        for (int n = 0; n < N; n++) {
            int row = n * V;
            if (w.y[n] == w.ignoreTarget) {
                Arrays.fill(dlog, row, row + V, 0.0);
                continue;
            }
            dlog[row + w.y[n]] -= 1.0;
            for (int v = 0; v < V; v++) dlog[row + v] /= w.counted;
        }
        // decoder: dW_dec [V,H] = dlogits^T top, db_dec = colsum(dlogits), dtop [N,H] = dlogits W_dec
        int top = L - 1;
        double[] o = w.out[top];
        int oOff = w.outOff[top];
        int wd = layout.decoderWeight().offset();
        parallelRows(V, (r0, r1) -> math.aTb(dlog, 0, o, oOff, grads, wd, r0, r1, V, H, N));
        DenseMath.columnSum(dlog, 0, N, V, grads, layout.decoderBias().offset());
        w.ensureBackward();
        double[] dOut = w.dOut; // dL/d(output of layer l) before its dropout
        parallelRows(N, (r0, r1) -> math.ab(dlog, 0, params, wd, dOut, 0, r0, r1, H, V, false));

        for (int l = L - 1; l >= 0; l--) {
            dropoutBackward(w, l, dOut);
            layerBackward(w, l, S);
            if (l > 0) System.arraycopy(w.dX, 0, dOut, 0, N * H);
            else embeddingBackward(w, w.dX);
        }
    }

    /** dOut (= dL/d dropped output) becomes dL/d(h output): dOut *= mask (same mask as forward). */
    private void dropoutBackward(ReferenceWorkspace w, int l, double[] dOut) {
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
    private void layerBackward(ReferenceWorkspace w, int l, int S) {
        int T = w.T, B = w.B, N = w.N, H = cfg.hidden(), in = cfg.inputSize(l);
        int Gi = cfg.inputGateWidth(), Gh = cfg.recurrentGateWidth();
        int whh = layout.weightHh(l).offset(), wih = layout.weightIh(l).offset();
        double[] dgx = w.dgx, dhNext = w.dhNext, dc = w.dc;
        double[] dgh = cell.separateRecurrentGrad() ? w.dgh : dgx; // dL/d(gh) equals dL/d(gx) for LSTM and RNN
        Arrays.fill(dhNext, 0, B * H, 0.0);
        Arrays.fill(dc, 0, B * H, 0.0);
        double[] X = w.in[l];
        ReferenceCell.Layer layer = layer(w, l);
        ReferenceCell.Grads d = new ReferenceCell.Grads(w.dOut, dhNext, dc, dgx, dgh, w.dxDirect, w.scratch);
        for (int t = T - 1; t >= 0; t--) cell.backward(layer, d, t);
        // initial-state gradient of this layer
        System.arraycopy(dhNext, 0, stateGrad, (l * S) * B * H, B * H);
        if (S == 2) System.arraycopy(dc, 0, stateGrad, (l * S + 1) * B * H, B * H);
        // whole-window weight gradients: dW_ih = dgx^T X, dW_hh = dgh^T Hprev (Hprev = hs[0..T-1]; MUT: per block)
        parallelRows(Gi, (r0, r1) -> math.aTb(dgx, 0, X, 0, grads, wih, r0, r1, Gi, in, N));
        cell.recurrentWeightGradients(layer, dgh, grads, whh, N);
        DenseMath.columnSum(dgx, 0, N, Gi, grads, layout.biasIh(l).offset());
        DenseMath.columnSum(dgh, 0, N, Gh, grads, layout.biasHh(l).offset());
        // dX [N,in] = dgx W_ih (+ the direct path of MUT1's tanh(x) and MUT2's x)
        double[] dX = w.dX;
        parallelRows(N, (r0, r1) -> math.ab(dgx, 0, params, wih, dX, 0, r0, r1, in, Gi, false));
        if (cfg.cell().feedsInputDirectly()) for (int i = 0; i < N * H; i++) dX[i] += w.dxDirect[i];
    }

    /**
     * dEmb [V,E] = sum over n with x[n] = v of dX[n] (=); with a first input, the rows of step 0 go
     * to {@link #firstInputGrad} instead.
     */
    private void embeddingBackward(ReferenceWorkspace w, double[] dX) {
        int E = cfg.embedding(), off = layout.embedding().offset();
        Arrays.fill(grads, off, off + layout.embedding().size(), 0.0);
        firstInputGrad = w.firstInput == null ? new double[0] : Arrays.copyOf(dX, w.B * E);
        for (int n = w.firstInput == null ? 0 : w.B; n < w.N; n++) {
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
        ReferenceOptimizers.update(optimizer, params, grads, slots, lr, t);
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
        ReferenceState st = (ReferenceState) state;
        if (tokens.length != st.batch) throw new IllegalArgumentException("expected " + st.batch + " tokens");
        ReferenceWorkspace w = infer;
        w.ensure(1, st.batch, false);
        w.ignoreTarget = Window.COUNT_ALL;
        w.firstInput = null;
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

    /** Runs task over [0, rows) split into contiguous chunks, one per thread, when it is worth it. */
    private void parallelRows(int rows, ReferenceCell.RowTask task) {
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
