package org.charrnn.backend.cuda;

import java.util.Objects;
import java.util.function.Supplier;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

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
 * The CUDA backend: the kernels of kernels/cuda (one fatbin module, cuModuleLoadData) and cuBLAS
 * through JCuda, everything queued on one stream.
 *
 * <p>Per window: the corpus lives on the device and the window is gathered there; each layer's
 * input projection for all T steps is one GEMM, the recurrent GEMM and one fused cell kernel run
 * per step, the decoder is one GEMM over all T*B rows, softmax + cross-entropy forward and
 * backward are one kernel, weight gradients are whole-window GEMMs, the loss is summed on the
 * device and the global gradient norm is a two-stage device reduction that the fused optimizer
 * kernels read (clip factor applied there; the update is skipped when the norm is not finite).
 * Nothing synchronizes with the host inside a training step.
 *
 * <p>bf16 ({@link Precision#BF16}): only GEMM operands are bf16 (see {@link Gemm}): a bf16 shadow of
 * the parameters, rewritten after setParameters and after every optimizer step, and per-GEMM bf16
 * copies of the activations in scratch that each workspace reserves when it is (re)allocated.
 * Parameters, gradients, optimizer state, cell state, saved activations and the loss stay fp32.
 *
 * <p>CUDA graphs: forward(training), backward, clip and step are deferred until {@link #step}
 * arrives; after {@link #WARMUP_STEPS} eager steps with the same shapes and buffers the whole
 * training step is captured once and replayed. Everything that varies per step is read from device
 * memory written by async copies just before the launch: window starts ({@code starts [B]}), the
 * dropout iteration and lr / Adam bias corrections ({@code scalars [4]}). Any other call flushes
 * the deferred work eagerly first, so the observable behaviour never depends on graphs.
 */
public final class CudaBackend implements Backend {
    static final int WARMUP_STEPS = 2;
    private static final int PENDING_NONE = 0, PENDING_FORWARD = 1, PENDING_BACKWARD = 2, PENDING_CLIP = 3;
    // scalars [4]: 0 lr, 1 Adam bias correction 1, 2 Adam bias correction 2, 3 dropout iteration (uint bits)
    private static final int S_LR = 0, S_ITER = 3;

    private final ModelConfig cfg;
    private final ParamLayout layout;
    private final Precision precision;
    private final boolean graphs;
    private final int seed32;
    private final String model;
    private final int L, V, E, H, G, S, P; // layers, vocab, embedding, hidden, gate width, state vectors, params

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private boolean contextRetained, streamCreated;   // what releaseAll may give back
    /**
     * Host sources of the per-step scalars (iteration; lr, bc1, bc2), reused every step: an async
     * copy from pageable memory is staged before it returns, so the arrays may change right after.
     */
    private final int[] iterationHost = new int[1];
    private final float[] hyperHost = new float[3];
    private final Pointer iterationArg = Pointer.to(iterationHost), hyperArg = Pointer.to(hyperHost);
    private final String deviceName;
    private Kernels kernels;
    private Gemm gemm;

    private DeviceBuffer params;   // [P] layout order
    private DeviceBuffer grads;    // [P] unclipped by NORM clipping (the factor is applied in step and getGradients)
    private DeviceBuffer partial;  // [MAX_PARTIALS] stage-1 sums of the global norm
    private DeviceBuffer norm;     // [1] pre-clip global L2 norm
    private DeviceBuffer scalars;  // [4] per-step scalars read by the kernels
    private DeviceBuffer[] slots = new DeviceBuffer[0]; // optimizer state, each [P]
    private OptimizerConfig optimizer;

    private Workspace train;       // saved activations of the last training forward
    private Workspace infer;       // evaluation forwards
    private Workspace sample;      // single-step sampling (T = 1), kept apart so eval and sampling do not reallocate each other
    private Workspace lastForward; // whose lossSum loss() reads
    private boolean haveTrainingForward;
    private ClipMode clipMode;     // of the last clip since the last backward (null: none)
    private double clipMax;
    private int generation;        // bumped whenever a buffer a captured graph may reference is replaced

    private int pending = PENDING_NONE;
    private State pendingState;
    private ClipMode pendingClip;
    private double pendingClipMax;

    private CUgraph graph;
    private boolean graphFailed;   // a capture failed once: whole steps run eagerly from then on
    private CUgraphExec graphExec;
    private GraphKey graphKey, warmKey;
    private int warmCount;
    private boolean closed;

    /** What a captured step depends on besides device-resident scalars. */
    private record GraphKey(int T, int B, State state, Tokens tokens, ClipMode clip, double clipMax,
                            OptimizerConfig optimizer, int generation, int gemmGeneration) {}

    /** Creates the backend on {@code options.device()} (-1 = 0); throws {@link UserError} when it cannot. */
    public CudaBackend(ModelConfig config, BackendOptions options) {
        this.cfg = Objects.requireNonNull(config);
        this.layout = new ParamLayout(config);
        this.precision = switch (options.precision()) {
            case FP32, TF32, BF16 -> options.precision();
            case FP64 -> throw new UserError("the cuda backend computes in fp32, tf32 or bf16; fp64 is the reference backend's");
        };
        this.graphs = options.cudaGraph();
        this.seed32 = Dropout.seed32(options.dropoutSeed());
        this.model = config.describe();
        this.L = config.layers();
        this.V = config.vocabSize();
        this.E = config.embedding();
        this.H = config.hidden();
        this.G = config.gateWidth();
        this.S = config.cell().stateVectors();
        this.P = layout.size();
        if (V > 65536) throw new UserError("the cuda backend supports vocabularies of up to 65536 symbols, got " + V);
        byte[] fatbin = CudaRuntime.fatbin();
        if (fatbin == null) throw new UserError(CudaRuntime.NOT_BUILT);
        String why = CudaRuntime.init();
        if (why != null) throw new UserError(why);
        boolean ok = false;
        try {
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            int index = options.device() < 0 ? 0 : options.device();
            if (index >= count[0])
                throw new UserError("--device " + index + " does not exist: " + count[0] + " CUDA device(s) found");
            JCudaDriver.cuDeviceGet(device, index);
            JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
            contextRetained = true;
            JCudaDriver.cuCtxSetCurrent(context);
            deviceName = CudaRuntime.deviceName(device);
            JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            streamCreated = true;
            try {
                kernels = new Kernels(fatbin, stream);
            } catch (CudaException e) {
                throw new UserError("cannot load the CUDA kernels on " + deviceName + " (sm_"
                        + CudaRuntime.computeCapability(device) + "): " + CudaRuntime.oneLine(e), e);
            }
            DeviceBuffer.resetPeak();
            gemm = Gemm.create(kernels, stream, precision, model);
            params = DeviceBuffer.floats(P, "parameters", model);
            grads = DeviceBuffer.floats(P, "gradients", model);
            partial = DeviceBuffer.floats(Kernels.MAX_PARTIALS, "norm partial sums", model);
            norm = DeviceBuffer.floats(1, "gradient norm", model);
            scalars = DeviceBuffer.floats(4, "step scalars", model);
            params.fill(0, P, stream);
            gemm.attachWeights(params, P);
            gemm.refreshWeights();
            grads.fill(0, P, stream);
            norm.fill(Float.floatToRawIntBits(Float.NaN), 1, stream);
            scalars.fill(0, 4, stream);
            train = new Workspace(true);
            infer = new Workspace(false);
            sample = new Workspace(false);
            setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM));
            JCudaDriver.cuStreamSynchronize(stream);
            ok = true;
        } catch (CudaException e) {
            throw new UserError("CUDA error while creating the cuda backend: " + CudaRuntime.oneLine(e), e);
        } finally {
            if (!ok) releaseAll();
        }
    }

    // ================================================================== identity

    @Override public String name() { return "cuda"; }
    @Override public String deviceName() { return deviceName + " (" + gemm.description() + ")"; }
    @Override public Precision precision() { return precision; }
    @Override public ModelConfig config() { return cfg; }
    @Override public ParamLayout layout() { return layout; }

    // ================================================================== error handling

    private <T> T guard(String op, Supplier<T> body) {
        if (closed) throw new IllegalStateException("cuda backend is closed");
        try {
            JCudaDriver.cuCtxSetCurrent(context);
            return body.get();
        } catch (CudaException e) {
            throw new UserError("CUDA error in " + op + ": " + CudaRuntime.oneLine(e) + " (model " + model + ")", e);
        }
    }

    private void run(String op, Runnable body) {
        guard(op, () -> {
            body.run();
            return null;
        });
    }

    // ================================================================== parameters and state

    @Override
    public void setParameters(double[] values) {
        if (values.length != P) throw new IllegalArgumentException("expected " + P + " parameters, got " + values.length);
        run("setParameters", () -> {
            flush();
            params.upload(HostFloats.toFloat(values), 0, stream);
            gemm.refreshWeights();
        });
    }

    @Override
    public double[] getParameters() {
        return guard("getParameters", () -> {
            flush();
            return HostFloats.toDouble(params.download(0, P, stream));
        });
    }

    @Override
    public double[] getGradients() {
        return guard("getGradients", () -> {
            flush();
            float[] g = grads.download(0, P, stream);
            if (clipMode == ClipMode.NORM) {
                float n = norm.download(0, 1, stream)[0];
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
        return guard("getInitialStateGradient", () -> {
            flush();
            if (!haveTrainingForward || train.stateGrad == null) return new double[0];
            return HostFloats.toDouble(train.stateGrad.download(0, L * S * train.B * H, stream));
        });
    }

    @Override
    public RnnState newState(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1");
        return guard("newState", () -> new State(batch));
    }

    @Override
    public TokenBuffer upload(TokenSequence tokens) {
        return guard("upload", () -> new Tokens(tokens));
    }

    // ================================================================== training

    @Override
    public void forward(RnnState state, Window window, boolean training) {
        State st = own(state);
        if (st.batch != window.batch())
            throw new IllegalArgumentException("state has batch " + st.batch + ", window " + window.batch());
        Tokens tokens = own(window.tokens());
        run("forward", () -> {
            flush();
            Workspace w = training ? train : infer;
            w.ensure(window.seqLen(), window.batch());
            w.tokens = tokens;
            JCudaDriver.cuMemcpyHtoDAsync(w.starts.ptr, Pointer.to(window.starts()), (long) w.B * Sizeof.LONG, stream);
            lastForward = w;
            if (training) {
                iterationHost[0] = (int) window.iteration();
                JCudaDriver.cuMemcpyHtoDAsync(scalars.at(S_ITER), iterationArg, Sizeof.INT, stream);
                haveTrainingForward = true;
                clipMode = null;
                if (graphs) {
                    pending = PENDING_FORWARD;
                    pendingState = st;
                } else {
                    runForward(train, st, true, true, true);
                }
            } else {
                runForward(infer, st, false, true, true);
            }
        });
    }

    @Override
    public double loss() {
        return guard("loss", () -> {
            flush();
            if (lastForward == null) return Double.NaN;
            return lastForward.lossSum.download(0, 1, stream)[0] / (double) lastForward.N;
        });
    }

    @Override
    public void backward() {
        if (!haveTrainingForward) throw new IllegalStateException("backward() requires a preceding forward(..., true)");
        run("backward", () -> {
            clipMode = null;
            if (pending == PENDING_FORWARD) {
                pending = PENDING_BACKWARD;
                return;
            }
            flush();
            runBackward(train);
        });
    }

    @Override
    public void clip(ClipMode mode, double max) {
        Objects.requireNonNull(mode);
        run("clip", () -> {
            if (pending == PENDING_BACKWARD) {
                pending = PENDING_CLIP;
                pendingClip = mode;
                pendingClipMax = max;
            } else {
                flush();
                runClip(mode, max);
            }
            clipMode = mode;
            clipMax = max;
        });
    }

    @Override
    public double gradNorm() {
        return guard("gradNorm", () -> {
            flush();
            return (double) norm.download(0, 1, stream)[0];
        });
    }

    @Override
    public void setOptimizer(OptimizerConfig optimizer) {
        Objects.requireNonNull(optimizer);
        run("setOptimizer", () -> {
            flush();
            // the new state first: if it does not fit, the backend keeps its old optimizer intact
            int n = optimizer.kind().slots().size();
            DeviceBuffer[] fresh = new DeviceBuffer[n];
            try {
                for (int i = 0; i < n; i++) {
                    fresh[i] = DeviceBuffer.floats(P, "optimizer state " + optimizer.kind().slots().get(i), model);
                    fresh[i].fill(0, P, stream);
                }
            } catch (RuntimeException e) {
                for (DeviceBuffer b : fresh) if (b != null) b.close();
                throw e;
            }
            JCudaDriver.cuStreamSynchronize(stream);
            for (DeviceBuffer s : slots) s.close();
            slots = fresh;
            this.optimizer = optimizer;
            generation++;
        });
    }

    @Override
    public void step(double lr, long t) {
        if (t < 1) throw new IllegalArgumentException("step count t must be >= 1, got " + t);
        run("step", () -> {
            float bc1 = (float) (1 - Math.pow(optimizer.beta1(), t)), bc2 = (float) (1 - Math.pow(optimizer.beta2(), t));
            hyperHost[0] = (float) lr;
            hyperHost[1] = bc1;
            hyperHost[2] = bc2;
            JCudaDriver.cuMemcpyHtoDAsync(scalars.at(S_LR), hyperArg, 3L * Sizeof.FLOAT, stream);
            if (pending == PENDING_CLIP) {
                pending = PENDING_NONE;
                wholeStep();
            } else {
                flush();
                runStep();
            }
        });
    }

    @Override
    public double[][] getOptimizerState() {
        return guard("getOptimizerState", () -> {
            flush();
            double[][] out = new double[slots.length][];
            for (int i = 0; i < slots.length; i++) out[i] = HostFloats.toDouble(slots[i].download(0, P, stream));
            return out;
        });
    }

    @Override
    public void setOptimizerState(double[][] values) {
        if (values.length != slots.length)
            throw new IllegalArgumentException("optimizer has " + slots.length + " state arrays, got " + values.length);
        for (double[] v : values)
            if (v.length != P) throw new IllegalArgumentException("optimizer state size mismatch");
        run("setOptimizerState", () -> {
            flush();
            for (int i = 0; i < slots.length; i++) slots[i].upload(HostFloats.toFloat(values[i]), 0, stream);
        });
    }

    // ================================================================== inference

    @Override
    public double[] stepLogits(RnnState state, int[] tokens) {
        State st = own(state);
        if (tokens.length != st.batch) throw new IllegalArgumentException("expected " + st.batch + " tokens");
        for (int tok : tokens)
            if (tok < 0 || tok >= V) throw new IllegalArgumentException("token out of range: " + tok);
        return guard("stepLogits", () -> {
            flush();
            sample.ensure(1, st.batch);
            JCudaDriver.cuMemcpyHtoDAsync(sample.x.ptr, Pointer.to(tokens), (long) tokens.length * Sizeof.INT, stream);
            runForward(sample, st, false, false, false);
            return HostFloats.toDouble(sample.logits.download(0, st.batch * V, stream));
        });
    }

    @Override
    public void synchronize() {
        run("synchronize", () -> {
            flush();
            JCudaDriver.cuStreamSynchronize(stream);
        });
    }

    /**
     * CUDA events recorded on the backend's stream around the timed work: device time only, no host
     * launch overhead after the start event. Deferred work is flushed before each record, so a step
     * deferred for graph replay lies between the two events.
     */
    @Override
    public Timer timer() {
        CUevent begin = new CUevent(), end = new CUevent();
        run("timer", () -> {
            JCudaDriver.cuEventCreate(begin, CUevent_flags.CU_EVENT_DEFAULT);
            try {
                JCudaDriver.cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT);
            } catch (CudaException e) {
                JCudaDriver.cuEventDestroy(begin);
                throw e;
            }
        });
        return new Timer() {
            private boolean started, released;

            @Override
            public void start() {
                run("timer start", () -> {
                    flush();
                    JCudaDriver.cuEventRecord(begin, stream);
                });
                started = true;
            }

            @Override
            public double stopMillis() {
                if (!started) throw new IllegalStateException("stopMillis() before start()");
                started = false;
                return guard("timer stop", () -> {
                    flush();
                    JCudaDriver.cuEventRecord(end, stream);
                    JCudaDriver.cuEventSynchronize(end);
                    float[] ms = new float[1];
                    JCudaDriver.cuEventElapsedTime(ms, begin, end);
                    return (double) ms[0];
                });
            }

            @Override
            public void close() {
                if (released || closed) return;   // closing the backend destroyed the context's events
                released = true;
                run("timer close", () -> {
                    JCudaDriver.cuEventDestroy(begin);
                    JCudaDriver.cuEventDestroy(end);
                });
            }
        };
    }

    @Override
    /** Device memory high-water mark since this backend was created (buffers of other live backends included). */
    public long peakMemoryBytes() { return DeviceBuffer.peakBytes(); }

    // ================================================================== deferred work and graphs

    /** Runs deferred forward / backward / clip eagerly. */
    private void flush() {
        if (pending == PENDING_NONE) return;
        int p = pending;
        pending = PENDING_NONE;
        runForward(train, pendingState, true, true, true);
        if (p >= PENDING_BACKWARD) runBackward(train);
        if (p >= PENDING_CLIP) runClip(pendingClip, pendingClipMax);
    }

    /** forward + backward + clip + step: replayed from a graph once warm, else launched eagerly. */
    private void wholeStep() {
        GraphKey key = new GraphKey(train.T, train.B, pendingState, train.tokens, pendingClip, pendingClipMax,
                optimizer, generation, gemm.generation());
        if (graphExec != null && key.equals(graphKey)) {
            JCudaDriver.cuGraphLaunch(graphExec, stream);
            return;
        }
        if (graphFailed) {
            eagerStep();
            return;
        }
        if (!key.equals(warmKey)) {
            warmKey = key;
            warmCount = 0;
        }
        if (warmCount < WARMUP_STEPS) {
            warmCount++;
            eagerStep();
            return;
        }
        destroyGraph();
        RuntimeException failure = capture(key);
        if (failure != null) {
            // The step's work did not run (capture only records it): run it eagerly, and keep
            // running steps eagerly rather than failing every later step on the same capture.
            graphFailed = true;
            System.err.println("charrnn: warning: CUDA-graph capture failed (" + CudaRuntime.oneLine(failure)
                    + "); training continues without graphs");
            eagerStep();
            return;
        }
        JCudaDriver.cuGraphLaunch(graphExec, stream);
    }

    /**
     * Captures one whole step into {@link #graph} / {@link #graphExec} for {@code key}; returns the
     * failure (with nothing left captured or allocated) or null.
     */
    private RuntimeException capture(GraphKey key) {
        CUgraph g = new CUgraph();
        JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        RuntimeException failure = null;
        try {
            eagerStep();
        } catch (RuntimeException e) {
            failure = e;
        }
        // The capture always ends (else the stream stays in capture mode); a graph it returns is owned
        // here at once so destroyGraph frees it whether or not the capture's work failed.
        try {
            JCudaDriver.cuStreamEndCapture(stream, g);
            graph = g;
            if (failure == null) {
                CUgraphExec exec = new CUgraphExec();
                JCudaDriver.cuGraphInstantiate(exec, g, 0);
                graphExec = exec;
                graphKey = key;
            }
        } catch (RuntimeException e) {
            if (failure == null) failure = e;
            else failure.addSuppressed(e);
        }
        if (failure != null) destroyGraph();
        return failure;
    }

    private void eagerStep() {
        runForward(train, pendingState, true, true, true);
        runBackward(train);
        runClip(pendingClip, pendingClipMax);
        runStep();
    }

    private void destroyGraph() {
        if (graphExec != null) JCudaDriver.cuGraphExecDestroy(graphExec);
        if (graph != null) JCudaDriver.cuGraphDestroy(graph);
        graphExec = null;
        graph = null;
        graphKey = null;
    }

    // ================================================================== the math

    /** Output of layer l as the next layer (or the decoder) reads it: [N,H]. */
    private CUdeviceptr layerOut(Workspace w, int l, boolean training) {
        return training && cfg.dropout() > 0 ? w.drop[l].at(0) : w.hs[l].at((long) w.B * H);
    }

    private CUdeviceptr layerIn(Workspace w, int l, boolean training) {
        return l == 0 ? w.emb.at(0) : layerOut(w, l - 1, training);
    }

    private CUdeviceptr param(ParamLayout.Tensor t) { return params.at(t.offset()); }
    private CUdeviceptr grad(ParamLayout.Tensor t) { return grads.at(t.offset()); }

    /**
     * Forward over w's window from st (updated to the final state). gather: x, y from the corpus
     * (else w.x was uploaded); softmax: loss (and, in training, dL/dlogits in place of the logits),
     * else logits + bias are left in w.logits.
     */
    private void runForward(Workspace w, State st, boolean training, boolean gather, boolean softmax) {
        final int T = w.T, B = w.B, N = w.N, BH = B * H;
        final Kernels k = kernels;
        if (gather) {
            k.gatherWindow(w.tokens.u16, w.tokens.buf.ptr, w.starts.ptr, T, B, w.x.ptr, w.y.ptr);
        }
        k.embeddingForward(w.x.ptr, param(layout.embedding()), w.emb.ptr, N, E);
        for (int l = 0; l < L; l++) {
            int in = cfg.inputSize(l);
            long wih = layout.weightIh(l).offset(), whh = layout.weightHh(l).offset(); // gemmWeight offsets
            CUdeviceptr bih = param(layout.biasIh(l)), bhh = param(layout.biasHh(l));
            // gx [N,G] = X [N,in] W_ih^T, all T steps in one GEMM
            gemm.gemmWeight(false, true, N, G, in, 1f, layerIn(w, l, training), in, wih, in, 0f, w.gx[l].ptr, G);
            copy(w.hs[l].at(0), st.buf.at((long) (l * S) * BH), BH);
            if (S == 2) copy(w.cs[l].at(0), st.buf.at((long) (l * S + 1) * BH), BH);
            for (int t = 0; t < T; t++) {
                long o = (long) t * BH, o1 = (long) (t + 1) * BH;
                // gh [B,G] = h_prev W_hh^T
                gemm.gemmWeight(false, true, B, G, H, 1f, w.hs[l].at(o), H, whh, H, 0f, w.gh.ptr, G);
                switch (cfg.cell()) {
                    case LSTM -> k.lstmForward(w.gx[l].at((long) t * B * G), w.gh.ptr, bih, bhh,
                            w.cs[l].at(o), w.gates[l].at((long) t * B * 4 * H), w.cs[l].at(o1), w.hs[l].at(o1), B, H);
                    case GRU -> k.gruForward(w.gx[l].at((long) t * B * G), w.gh.ptr, bih, bhh,
                            w.hs[l].at(o), w.gates[l].at((long) t * B * 4 * H), w.hs[l].at(o1), B, H);
                    case RNN -> k.rnnForward(w.gx[l].at((long) t * B * G), w.gh.ptr, bih, bhh, w.hs[l].at(o1), B, H);
                }
            }
            copy(st.buf.at((long) (l * S) * BH), w.hs[l].at((long) T * BH), BH);
            if (S == 2) copy(st.buf.at((long) (l * S + 1) * BH), w.cs[l].at((long) T * BH), BH);
            if (training && cfg.dropout() > 0) {
                k.dropoutForward(w.hs[l].at(BH), w.drop[l].ptr, N * H, seed32, scalars.at(S_ITER), l, (float) cfg.dropout());
            }
        }
        ParamLayout.Tensor dw = layout.decoderWeight(), db = layout.decoderBias();
        gemm.gemmWeight(false, true, N, V, H, 1f, layerOut(w, L - 1, training), H, dw.offset(), H, 0f, w.logits.ptr, V);
        if (softmax) {
            k.softmaxXent(w.logits.ptr, param(db), w.y.ptr, w.rowLoss.ptr, N, V, 1.0f / N, training);
            k.sumFinal(w.rowLoss.ptr, N, w.lossSum.ptr, false);
        } else {
            k.addBiasRows(w.logits.ptr, param(db), N, V);
        }
    }

    /** BPTT over the last training forward; w.logits holds dL/dlogits. grads and stateGrad are written (=). */
    private void runBackward(Workspace w) {
        final int T = w.T, B = w.B, N = w.N, BH = B * H;
        final Kernels k = kernels;
        CUdeviceptr top = layerOut(w, L - 1, true);
        ParamLayout.Tensor dw = layout.decoderWeight(), db = layout.decoderBias();
        gemm.gemm(true, false, V, H, N, 1f, w.logits.ptr, V, top, H, 0f, grad(dw), H);
        k.columnSum(w.logits.ptr, grad(db), N, V, 0f);
        DeviceBuffer dCur = w.dA, dNext = w.dB;
        gemm.gemmWeight(false, false, N, H, V, 1f, w.logits.ptr, V, dw.offset(), H, 0f, dCur.ptr, H);
        for (int l = L - 1; l >= 0; l--) {
            int in = cfg.inputSize(l);
            long wih = layout.weightIh(l).offset(), whh = layout.weightHh(l).offset(); // gemmWeight offsets
            if (cfg.dropout() > 0) {
                k.dropoutBackward(dCur.ptr, dCur.ptr, N * H, seed32, scalars.at(S_ITER), l, (float) cfg.dropout());
            }
            w.dhNext.fill(0, BH, stream);
            if (S == 2) w.dc.fill(0, BH, stream);
            DeviceBuffer dghBuf = cfg.cell() == CellType.GRU ? w.dgh : w.dgx;
            for (int t = T - 1; t >= 0; t--) {
                long o = (long) t * BH, o1 = (long) (t + 1) * BH, og = (long) t * B * G;
                switch (cfg.cell()) {
                    case LSTM -> k.lstmBackward(dCur.at(o), w.dhNext.ptr, w.dc.ptr,
                            w.gates[l].at((long) t * B * 4 * H), w.cs[l].at(o), w.cs[l].at(o1), w.dgx.at(og), B, H);
                    case GRU -> k.gruBackward(dCur.at(o), w.dhNext.ptr,
                            w.gates[l].at((long) t * B * 4 * H), w.hs[l].at(o), w.dgx.at(og), w.dgh.at(og), B, H);
                    case RNN -> k.rnnBackward(dCur.at(o), w.dhNext.ptr, w.hs[l].at(o1), w.dgx.at(og), B, H);
                }
                // dh_{t-1} += dgh_t W_hh
                gemm.gemmWeight(false, false, B, H, G, 1f, dghBuf.at(og), G, whh, H, 1f, w.dhNext.ptr, H);
            }
            copy(w.stateGrad.at((long) (l * S) * BH), w.dhNext.ptr, BH);
            if (S == 2) copy(w.stateGrad.at((long) (l * S + 1) * BH), w.dc.ptr, BH);
            CUdeviceptr x = layerIn(w, l, true);
            // whole-window weight gradients
            gemm.gemm(true, false, G, in, N, 1f, w.dgx.ptr, G, x, in, 0f, grad(layout.weightIh(l)), in);
            gemm.gemm(true, false, G, H, N, 1f, dghBuf.ptr, G, w.hs[l].ptr, H, 0f, grad(layout.weightHh(l)), H);
            k.columnSum(w.dgx.ptr, grad(layout.biasIh(l)), N, G, 0f);
            k.columnSum(dghBuf.ptr, grad(layout.biasHh(l)), N, G, 0f);
            // dL/d(layer input) [N,in] = dgx W_ih
            gemm.gemmWeight(false, false, N, in, G, 1f, w.dgx.ptr, G, wih, in, 0f, dNext.ptr, in);
            DeviceBuffer tmp = dCur;
            dCur = dNext;
            dNext = tmp;
        }
        k.embeddingBackward(w.x.ptr, dCur.ptr, grad(layout.embedding()), N, V, E);
    }

    private void runClip(ClipMode mode, double max) {
        final Kernels k = kernels;
        k.sumSquaresPartial(grads.ptr, P, partial.ptr);
        k.sumFinal(partial.ptr, Kernels.partials(P), norm.ptr, true);
        if (mode == ClipMode.VALUE) k.clipValue(grads.ptr, P, (float) max, norm.ptr);
    }

    /** The fused optimizer update; lr and bias corrections come from scalars. */
    private void runStep() {
        final Kernels k = kernels;
        OptimizerConfig o = optimizer;
        int mode = clipMode == ClipMode.NORM ? 1 : 0;
        float max = (float) clipMax, wd = (float) o.weightDecay(), eps = (float) o.eps();
        CUdeviceptr hyper = scalars.at(0);
        switch (o.kind()) {
            case ADAM -> k.adamStep(params.ptr, grads.ptr, slots[0].ptr, slots[1].ptr, P, norm.ptr,
                    mode, max, hyper, (float) o.beta1(), (float) o.beta2(), eps, wd);
            case RMSPROP -> k.rmspropStep(params.ptr, grads.ptr, slots[0].ptr, P, norm.ptr, mode, max, hyper, (float) o.decay(), eps, wd);
            case ADAGRAD -> k.adagradStep(params.ptr, grads.ptr, slots[0].ptr, P, norm.ptr, mode, max, hyper, eps, wd);
            case SGD -> k.sgdStep(params.ptr, grads.ptr, slots[0].ptr, P, norm.ptr, mode, max, hyper, (float) o.momentum(), wd);
        }
        gemm.refreshWeights(); // bf16: the GEMMs of the next step read the updated weights
    }

    private void copy(CUdeviceptr dst, CUdeviceptr src, long floats) {
        if (floats > 0) JCudaDriver.cuMemcpyDtoDAsync(dst, src, floats * Sizeof.FLOAT, stream);
    }

    // ================================================================== workspaces

    /** Device buffers of one window shape; reallocated (and graphs invalidated) when T or B change. */
    private final class Workspace implements AutoCloseable {
        final boolean training;
        int T = -1, B = -1, N;
        Tokens tokens;
        DeviceBuffer x, y;          // int [N]
        DeviceBuffer starts;        // long [B]
        DeviceBuffer emb;           // [N,E]
        DeviceBuffer[] gx;          // per layer [N,G]
        DeviceBuffer[] gates;       // per layer [N,4H] (LSTM i,f,g,o; GRU r,z,n,gh_n); RNN none
        DeviceBuffer[] hs, cs;      // per layer [T+1,B,H]; cs LSTM only
        DeviceBuffer[] drop;        // per layer [N,H] when training with dropout
        DeviceBuffer gh;            // [B,G]
        DeviceBuffer logits;        // [N,V]
        DeviceBuffer rowLoss;       // [N]
        DeviceBuffer lossSum;       // [1]
        DeviceBuffer dgx, dgh;      // [N,G] (dgh GRU only)
        DeviceBuffer dhNext, dc;    // [B,H]; dc LSTM only
        DeviceBuffer dA, dB;        // [N,max(E,H)]
        DeviceBuffer stateGrad;     // [L,S,B,H]

        Workspace(boolean training) { this.training = training; }

        void ensure(int T, int B) {
            if (T == this.T && B == this.B) return;
            close();
            if (training) generation++;
            long n = (long) T * B;
            if (n * Math.max(Math.max(G, V), 4 * H) > Integer.MAX_VALUE)
                throw new UserError("window too large for the cuda backend: T*B*max(V, 4H) exceeds 2^31 elements");
            int N = (int) n;
            String what = (training ? "training" : "evaluation") + " activations (T=" + T + ", B=" + B + ")";
            String m = model;
            x = DeviceBuffer.allocate((long) N * Sizeof.INT, what, m);
            y = DeviceBuffer.allocate((long) N * Sizeof.INT, what, m);
            starts = DeviceBuffer.allocate((long) B * Sizeof.LONG, what, m);
            emb = DeviceBuffer.floats((long) N * E, what, m);
            gx = new DeviceBuffer[L];
            gates = new DeviceBuffer[L];
            hs = new DeviceBuffer[L];
            cs = new DeviceBuffer[L];
            drop = new DeviceBuffer[L];
            for (int l = 0; l < L; l++) {
                gx[l] = DeviceBuffer.floats((long) N * G, what, m);
                // the RNN cell saves nothing but h (hs); only LSTM and GRU write gates
                if (cfg.cell() != CellType.RNN) gates[l] = DeviceBuffer.floats((long) N * 4 * H, what, m);
                hs[l] = DeviceBuffer.floats((long) (T + 1) * B * H, what, m);
                if (S == 2) cs[l] = DeviceBuffer.floats((long) (T + 1) * B * H, what, m);
                if (training && cfg.dropout() > 0) drop[l] = DeviceBuffer.floats((long) N * H, what, m);
            }
            gh = DeviceBuffer.floats((long) B * G, what, m);
            logits = DeviceBuffer.floats((long) N * V, what, m);
            rowLoss = DeviceBuffer.floats(N, what, m);
            lossSum = DeviceBuffer.floats(1, what, m);
            if (training) {
                String gw = "gradient scratch (T=" + T + ", B=" + B + ")";
                dgx = DeviceBuffer.floats((long) N * G, gw, m);
                if (cfg.cell() == CellType.GRU) dgh = DeviceBuffer.floats((long) N * G, gw, m);
                dhNext = DeviceBuffer.floats((long) B * H, gw, m);
                if (S == 2) dc = DeviceBuffer.floats((long) B * H, gw, m);
                dA = DeviceBuffer.floats((long) N * Math.max(E, H), gw, m);
                dB = DeviceBuffer.floats((long) N * Math.max(E, H), gw, m);
                stateGrad = DeviceBuffer.floats((long) L * S * B * H, gw, m);
                stateGrad.fill(0, (long) L * S * B * H, stream);
            }
            // bf16 operand scratch for every GEMM of this shape (see Gemm.span), so that no GEMM
            // allocates later, in particular not inside a CUDA-graph capture. Forward: op A is the
            // layer input [N,in], h_prev [B,H] or the top output [N,H]; backward adds dlogits [N,V]
            // and dgx / dgh [N,G] as op A, and the weight-gradient right operands [N,in] / [N,H].
            long inMax = Math.max(E, H);
            gemm.reserve(training ? n * Math.max(Math.max(V, G), inMax) : n * inMax, training ? n * inMax : 0);
            this.T = T;
            this.B = B;
            this.N = N;
        }

        @Override
        public void close() {
            if (T >= 0) JCudaDriver.cuStreamSynchronize(stream);
            for (DeviceBuffer b : new DeviceBuffer[] {x, y, starts, emb, gh, logits, rowLoss, lossSum,
                    dgx, dgh, dhNext, dc, dA, dB, stateGrad}) {
                if (b != null) b.close();
            }
            for (DeviceBuffer[] arr : new DeviceBuffer[][] {gx, gates, hs, cs, drop}) {
                if (arr != null) for (DeviceBuffer b : arr) if (b != null) b.close();
            }
            x = y = starts = emb = gh = logits = rowLoss = lossSum = dgx = dgh = dhNext = dc = dA = dB = stateGrad = null;
            gx = gates = hs = cs = drop = null;
            T = B = -1;
        }
    }

    // ================================================================== state and tokens

    private State own(RnnState s) {
        if (s instanceof State st && st.owner() == this) return st;
        throw new IllegalArgumentException("state does not belong to this cuda backend");
    }

    private Tokens own(TokenBuffer t) {
        if (t instanceof Tokens tk && tk.owner() == this) return tk;
        throw new IllegalArgumentException("token buffer does not belong to this cuda backend");
    }

    /** [L,S,B,H] on the device. */
    private final class State implements RnnState {
        final int batch;
        final DeviceBuffer buf;
        private boolean released;

        State(int batch) {
            this.batch = batch;
            long n = (long) L * S * batch * H;
            this.buf = DeviceBuffer.floats(n, "recurrent state (B=" + batch + ")", model);
            buf.fill(0, n, stream);
        }

        CudaBackend owner() { return CudaBackend.this; }

        private int size() { return L * S * batch * H; }

        @Override public int batch() { return batch; }

        @Override
        public void reset() {
            run("state reset", () -> {
                flush();
                buf.fill(0, size(), stream);
            });
        }

        @Override
        public double[] read() {
            return guard("state read", () -> {
                flush();
                return HostFloats.toDouble(buf.download(0, size(), stream));
            });
        }

        @Override
        public void write(double[] values) {
            if (values.length != size())
                throw new IllegalArgumentException("state has " + size() + " values, got " + values.length);
            run("state write", () -> {
                flush();
                buf.upload(HostFloats.toFloat(values), 0, stream);
            });
        }

        @Override
        public void copyFrom(RnnState other) {
            State o = own(other);
            if (o.batch != batch) throw new IllegalArgumentException("batch mismatch: " + o.batch + " vs " + batch);
            run("state copy", () -> {
                flush();
                copy(buf.ptr, o.buf.ptr, size());
            });
        }

        @Override
        public void close() {
            if (released || closed) return;
            released = true;
            run("state close", () -> {
                flush();
                JCudaDriver.cuStreamSynchronize(stream);
                buf.close();
            });
        }
    }

    /** The encoded corpus on the device: u8 when V <= 256, else u16. */
    private final class Tokens implements TokenBuffer {
        final long length;
        final boolean u16;
        final DeviceBuffer buf;
        private boolean released;

        Tokens(TokenSequence seq) {
            this.length = seq.length();
            this.u16 = V > 256;
            int width = u16 ? 2 : 1;
            this.buf = DeviceBuffer.allocate(Math.max(1, length * width), "corpus (" + length + " tokens)", model);
            try {
                upload(seq, width);
            } catch (RuntimeException e) {
                buf.close();
                throw e;
            }
        }

        /**
         * Copies the tokens in chunks on the backend's stream, so the kernels queued after it see them
         * (a synchronous copy runs on the legacy stream, which the non-blocking stream does not wait
         * for). An async copy from pageable memory is staged before it returns, so each chunk's array
         * may be reused at once.
         */
        private void upload(TokenSequence seq, int width) {
            int chunk = 1 << 22;
            int[] tmp = new int[(int) Math.min(chunk, Math.max(1, length))];
            for (long pos = 0; pos < length; pos += chunk) {
                int n = (int) Math.min(chunk, length - pos);
                seq.copyTo(pos, tmp, 0, n);
                Pointer src;
                if (u16) {
                    short[] s = new short[n];
                    for (int i = 0; i < n; i++) s[i] = (short) checkToken(tmp[i], pos + i);
                    src = Pointer.to(s);
                } else {
                    byte[] b = new byte[n];
                    for (int i = 0; i < n; i++) b[i] = (byte) checkToken(tmp[i], pos + i);
                    src = Pointer.to(b);
                }
                JCudaDriver.cuMemcpyHtoDAsync(buf.ptr.withByteOffset(pos * width), src, (long) n * width, stream);
            }
        }

        private int checkToken(int tok, long pos) {
            if (tok < 0 || tok >= V)
                throw new IllegalArgumentException("token " + tok + " at position " + pos + " outside vocabulary of " + V);
            return tok;
        }

        CudaBackend owner() { return CudaBackend.this; }

        @Override public long length() { return length; }

        @Override
        public void close() {
            if (released || closed) return;
            released = true;
            run("token buffer close", () -> {
                flush();
                JCudaDriver.cuStreamSynchronize(stream);
                buf.close();
            });
        }
    }

    // ================================================================== helpers

    @Override
    public void close() {
        if (closed) return;
        try {
            JCudaDriver.cuCtxSetCurrent(context);
            pending = PENDING_NONE;
            JCudaDriver.cuStreamSynchronize(stream);
        } catch (CudaException ignored) {
            // releasing below is all that is left to do
        }
        releaseAll();
        closed = true;
    }

    /** Frees everything allocated so far (also after a failed constructor), ignoring further errors. */
    private void releaseAll() {
        Runnable[] steps = {
            this::destroyGraph,
            () -> { if (train != null) train.close(); },
            () -> { if (infer != null) infer.close(); },
            () -> { if (sample != null) sample.close(); },
            () -> { for (DeviceBuffer s : slots) s.close(); },
            () -> { for (DeviceBuffer b : new DeviceBuffer[] {params, grads, partial, norm, scalars}) if (b != null) b.close(); },
            () -> { if (gemm != null) gemm.close(); },
            () -> { if (kernels != null) kernels.close(); },
            () -> { if (streamCreated) JCudaDriver.cuStreamDestroy(stream); },
            // only what this backend acquired: device 0's context may belong to another backend
            () -> { if (contextRetained) JCudaDriver.cuDevicePrimaryCtxRelease(device); },
        };
        for (Runnable r : steps) {
            try {
                r.run();
            } catch (Throwable ignored) {
                // best effort: the process may be tearing the context down
            }
        }
    }
}
