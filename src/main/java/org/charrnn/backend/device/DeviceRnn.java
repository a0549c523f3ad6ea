package org.charrnn.backend.device;

import java.util.Objects;
import java.util.function.Supplier;
import org.charrnn.backend.Backend;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.HostFloats;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.TokenBuffer;
import org.charrnn.backend.Window;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;

/**
 * A {@link Backend} on any device that implements {@link DeviceOps}: the CUDA and OpenCL
 * backends are this class over their operations. It holds the parameters, gradients and
 * optimizer state on the device, the window workspaces, and the order of a training step; the
 * math is in {@link RnnPasses}, cell dispatch in {@link DeviceCell}.
 *
 * <p>Deferred steps: when {@link DeviceOps#defersSteps()} (CUDA graphs), forward(training),
 * backward and clip are held until {@link #step} arrives and the whole step goes to
 * {@link DeviceOps#runWholeStep} with a key naming every buffer and setting it depends on.
 * Everything that varies per step (window starts, the dropout iteration where the model has
 * dropout, lr and bias corrections) lives in device memory written just before. Any other call
 * runs the deferred work first, so what a caller observes never depends on deferral.
 *
 * <p>NORM clipping only computes the norm; the scale min(1, max/(norm + 1e-6)) is applied inside
 * the fused optimizer kernel (and to host copies of the gradients), so a step needs no host round
 * trip. The update is skipped on the device when the norm is not finite.
 */
public class DeviceRnn implements Backend {
    private final ModelConfig cfg;
    private final ParamLayout layout;
    private final DeviceOps ops;
    private final DeviceCell cell;
    private final int P;

    private DeviceArray params; // [P] layout order
    private DeviceArray grads; // [P] before NORM clipping (its scale is applied in the update)
    private DeviceArray norm; // [1] pre-clip global L2 norm of the last clip (NaN before any)
    private DeviceOptimizer optimizer;
    private RnnPasses passes;

    private Workspace train; // the last training forward's activations
    private Workspace infer; // evaluation forwards
    private Workspace sample; // single steps (T = 1), apart so that eval and sampling do not reallocate each other
    private Workspace lastForward; // whose lossSum loss() reads
    private boolean haveTrainingForward;
    private ClipMode clipMode; // of the last clip since the last backward (null: none)
    private double clipMax;
    private int generation; // bumped whenever a buffer a recorded step may reference is replaced

    private DeferredStep deferred; // training work held back for a whole step (devices that record steps)
    private boolean closed;

    /** A backend of {@code config} over {@code ops}, which it owns from now on (closed on failure too). */
    protected DeviceRnn(ModelConfig config, DeviceOps ops) {
        this.cfg = Objects.requireNonNull(config);
        this.ops = Objects.requireNonNull(ops);
        this.layout = new ParamLayout(config);
        this.cell = DeviceCell.of(config.cell());
        this.P = layout.size();
        boolean ok = false;
        try {
            ops.guard("backend setup", () -> {
                params = ops.alloc(4L * P, "parameters");
                grads = ops.alloc(4L * P, "gradients");
                norm = ops.alloc(4, "gradient norm");
                ops.fill(Ref.of(norm), 1, Float.NaN);
                ops.attachWeights(params, P, layout.weightMatrices());
                ops.weightsChanged();
                passes = new RnnPasses(ops, cfg, layout, cell, params, grads);
                optimizer = new DeviceOptimizer(ops, P, params, grads);
                train = new Workspace(ops, cfg, cell, true);
                infer = new Workspace(ops, cfg, cell, false);
                sample = new Workspace(ops, cfg, cell, false);
                deferred = new DeferredStep(passes, optimizer, train, norm);
                return null;
            });
            setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
            ok = true;
        } finally {
            if (!ok) ops.close();
        }
    }

    // ================================================================== identity

    @Override
    public String name() {
        return ops.name();
    }

    @Override
    public String deviceName() {
        return ops.deviceName();
    }

    @Override
    public Precision precision() {
        return ops.precision();
    }

    @Override
    public ModelConfig config() {
        return cfg;
    }

    @Override
    public ParamLayout layout() {
        return layout;
    }

    DeviceOps ops() {
        return ops;
    }

    boolean isClosed() {
        return closed;
    }

    // ================================================================== guards

    /** Runs {@code body} as public operation {@code op} (device errors become one-line UserErrors). */
    <T> T guard(String op, Supplier<T> body) {
        if (closed) throw new IllegalStateException(ops.name() + " backend is closed");
        return ops.guard(op, body);
    }

    void run(String op, Runnable body) {
        guard(op, () -> {
            body.run();
            return null;
        });
    }

    /** As {@link #guard}, after running any deferred work. */
    <T> T flushed(String op, Supplier<T> body) {
        return guard(op, () -> {
            deferred.flush();
            return body.get();
        });
    }

    void flushedRun(String op, Runnable body) {
        flushed(op, () -> {
            body.run();
            return null;
        });
    }

    DeviceState own(RnnState s) {
        if (s instanceof DeviceState st && st.owner() == this) return st;
        throw new IllegalArgumentException("state does not belong to this " + ops.name() + " backend");
    }

    private DeviceTokens own(TokenBuffer t) {
        if (t instanceof DeviceTokens tk && tk.owner() == this) return tk;
        throw new IllegalArgumentException("window tokens were not uploaded to this " + ops.name() + " backend");
    }

    // ================================================================== parameters and state

    @Override
    public void setParameters(double[] values) {
        if (values.length != P)
            throw new IllegalArgumentException("expected " + P + " parameters, got " + values.length);
        flushedRun("setParameters", () -> {
            ops.upload(Ref.of(params), HostFloats.toFloat(values));
            ops.weightsChanged();
        });
    }

    @Override
    public double[] getParameters() {
        return flushed("getParameters", () -> HostFloats.toDouble(ops.download(Ref.of(params), P)));
    }

    @Override
    public double[] getGradients() {
        return flushed("getGradients", () -> {
            float[] g = ops.download(Ref.of(grads), P);
            if (clipMode == ClipMode.NORM) {
                float n = ops.download(Ref.of(norm), 1)[0];
                if (Float.isFinite(n)) {
                    float scale = HostFloats.normClipScale(n, (float) clipMax);
                    if (scale < 1.0f) for (int i = 0; i < g.length; i++) g[i] *= scale;
                }
            }
            return HostFloats.toDouble(g);
        });
    }

    @Override
    public double[] getInitialStateGradient() {
        return flushed("getInitialStateGradient", () -> {
            if (!haveTrainingForward) return new double[0];
            return HostFloats.toDouble(ops.download(Ref.of(train.stateGrad), cfg.stateSizePerRow() * train.B));
        });
    }

    @Override
    public double[] getFirstInputGradient() {
        return flushed("getFirstInputGradient", () -> {
            if (!haveTrainingForward || !train.firstInputOn) return new double[0];
            return HostFloats.toDouble(ops.download(Ref.of(train.firstInputGrad), train.B * cfg.embedding()));
        });
    }

    @Override
    public RnnState newState(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1");
        return guard("newState", () -> new DeviceState(this, batch));
    }

    @Override
    public TokenBuffer upload(TokenSequence tokens) {
        return guard("upload", () -> new DeviceTokens(this, tokens));
    }

    // ================================================================== training

    @Override
    public void forward(RnnState state, Window window, boolean training) {
        DeviceState st = own(state);
        if (st.batch() != window.batch())
            throw new IllegalArgumentException("state has batch " + st.batch() + ", window " + window.batch());
        DeviceTokens tokens = own(window.tokens());
        double[] first = window.firstInput();
        if (first != null && first.length != window.batch() * cfg.embedding())
            throw new IllegalArgumentException(
                    "first input has " + first.length + " values, expected " + window.batch() + "x" + cfg.embedding());
        flushedRun("forward", () -> {
            Workspace w = training ? train : infer;
            if (training) haveTrainingForward = false;
            if (ensure(w, window.seqLen(), window.batch()) && training) generation++;
            w.tokens = tokens;
            w.ignoreTarget = window.ignoreTarget();
            ops.uploadLongs(w.starts, window.starts());
            // written before any deferral, as the starts: a recorded step reads it from device memory
            w.firstInputOn = window.firstInput() != null;
            if (w.firstInputOn) {
                // allocated on the first such window of a token-projected workspace; no recorded step
                // references them before (a recorded step's key says whether it had a first input)
                w.embeddingRows();
                ops.upload(Ref.of(w.firstInput), HostFloats.toFloat(window.firstInput()));
            }
            lastForward = w;
            if (!training) {
                passes.forward(w, st.array, false, true, true);
                return;
            }
            // only the dropout kernels read it: without dropout the step has one upload less
            if (cfg.dropout() > 0) ops.setIteration((int) window.iteration());
            haveTrainingForward = true;
            clipMode = null;
            if (ops.defersSteps()) {
                deferred.forward(st);
            } else {
                passes.forward(w, st.array, true, true, true);
            }
        });
    }

    /** w fits (T, B); a replaced workspace's buffers are freed once queued work is done. */
    private boolean ensure(Workspace w, int T, int B) {
        if (w.T == T && w.B == B) return false;
        if (w.T >= 0) ops.synchronize();
        return w.ensure(T, B);
    }

    @Override
    public double loss() {
        return flushed("loss", () -> {
            Workspace w = lastForward;
            if (w == null || w.T < 0) return Double.NaN;
            double sum = ops.download(Ref.of(w.lossSum), 1)[0];
            if (w.ignoreTarget < 0) return sum / w.N;
            double counted = ops.download(Ref.of(w.counted), 1)[0];
            return counted == 0 ? 0.0 : sum / counted;
        });
    }

    @Override
    public void backward() {
        if (!haveTrainingForward) throw new IllegalStateException("backward() needs a preceding forward(..., true)");
        run("backward", () -> {
            clipMode = null;
            if (deferred.backward()) return;
            deferred.flush();
            passes.backward(train);
        });
    }

    @Override
    public void clip(ClipMode mode, double max) {
        Objects.requireNonNull(mode);
        run("clip", () -> {
            if (!deferred.clip(mode, max)) {
                deferred.flush();
                optimizer.clip(mode, max, norm);
            }
            clipMode = mode;
            clipMax = max;
        });
    }

    @Override
    public double gradNorm() {
        return flushed("gradNorm", () -> (double) ops.download(Ref.of(norm), 1)[0]);
    }

    @Override
    public void setOptimizer(OptimizerConfig config) {
        Objects.requireNonNull(config);
        flushedRun("setOptimizer", () -> {
            optimizer.set(config);
            generation++;
        });
    }

    @Override
    public void step(double lr, long t) {
        if (t < 1) throw new IllegalArgumentException("step count t must be >= 1, got " + t);
        run("step", () -> {
            OptimizerConfig o = optimizer.config();
            ops.optimizers().setHyper((float) lr, (float) (1 - Math.pow(o.beta1(), (double) t)), (float)
                    (1 - Math.pow(o.beta2(), (double) t)));
            Runnable update = () -> optimizer.update(o, norm, clipMode, clipMax);
            if (deferred.complete()) {
                DeferredStep.Key key = deferred.key(o, generation);
                ops.runWholeStep(key, deferred.takeWhole(update));
            } else {
                deferred.flush();
                update.run();
            }
        });
    }

    @Override
    public double[][] getOptimizerState() {
        return flushed("getOptimizerState", optimizer::read);
    }

    @Override
    public void setOptimizerState(double[][] values) {
        optimizer.checkShape(values);
        flushedRun("setOptimizerState", () -> optimizer.write(values));
    }

    // ================================================================== inference

    @Override
    public double[] stepLogits(RnnState state, int[] tokens) {
        DeviceState st = own(state);
        int V = cfg.vocabSize();
        if (tokens.length != st.batch()) throw new IllegalArgumentException("expected " + st.batch() + " tokens");
        for (int tok : tokens)
            if (tok < 0 || tok >= V) throw new IllegalArgumentException("token out of range: " + tok);
        return flushed("stepLogits", () -> {
            ensure(sample, 1, st.batch());
            ops.uploadInts(Ref.of(sample.x), tokens);
            passes.forward(sample, st.array, false, false, false);
            return HostFloats.toDouble(ops.download(Ref.of(sample.logits), st.batch() * V));
        });
    }

    @Override
    public void synchronize() {
        flushedRun("synchronize", ops::synchronize);
    }

    /** The device's timer; deferred work is run before each mark, so a deferred step lies between them. */
    @Override
    public Timer timer() {
        return new DeviceTimer(this, guard("timer", ops::timer));
    }

    /** Device memory high-water mark of this model's buffers. */
    @Override
    public long peakMemoryBytes() {
        return ops.peakBytes();
    }

    @Override
    public void close() {
        if (closed) return;
        if (deferred != null) deferred.clear();
        closed = true;
        ops.close();
    }
}
