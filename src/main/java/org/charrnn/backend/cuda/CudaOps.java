package org.charrnn.backend.cuda;

import static org.charrnn.backend.cuda.CudaCellKernels.buf;
import static org.charrnn.backend.cuda.CudaCellKernels.p;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.Dropout;
import org.charrnn.backend.Precision;
import org.charrnn.backend.device.CellKernels;
import org.charrnn.backend.device.DecoderKernels;
import org.charrnn.backend.device.DeviceArray;
import org.charrnn.backend.device.DeviceOps;
import org.charrnn.backend.device.OptimizerKernels;
import org.charrnn.backend.device.Ref;
import org.charrnn.backend.device.WeightRows;
import org.charrnn.backend.device.WindowKernels;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.ModelConfig;
import org.charrnn.model.ParamLayout;
import org.charrnn.util.UserError;

/**
 * {@link DeviceOps} on one CUDA device: the kernels of kernels/cuda ({@link Kernels}) and cuBLAS
 * ({@link Gemm}) queued on one non-blocking stream of the device's primary context. The per-step
 * values (the training window's starts, dropout iteration, lr, Adam bias corrections) live in one
 * device block ({@link StepBlock}) copied once before the launches that read it, so a captured
 * step ({@link CudaGraphs}) reads each step's values when replayed.
 */
final class CudaOps implements DeviceOps {
    private final Precision precision;
    private final boolean graphsEnabled;
    private final int seed32;
    private final String model;
    private final CudaContext ctx;
    private final CUstream stream; // ctx.stream
    private final Set<DeviceBuffer> live = new LinkedHashSet<>();
    private Kernels kernels;
    private CudaCellKernels cells;
    private PersistentRnn persistent;
    private DecoderXent decoder; // the fused decoder where it is predicted faster
    private PersistentWindows windows; // the persistent launches of the whole-window recurrences
    private DeviceBuffer params; // the flat parameters (attachWeights)
    private CudaOptimizers optimizers;
    private Gemm gemm;
    private SideStream side; // the weight gradients' stream (overlapWeightGradients)
    private CudaGraphs graphs;
    private DeviceBuffer partial; // [MAX_PARTIALS] stage-1 sums of the global norm
    private DeviceBuffer tickets; // [2] the last-block counters of the loss sum and the norm, 0 between launches
    private StepBlock stepValues; // the training window's starts, lr, bias corrections and dropout iteration
    private boolean closed;

    /** Opens {@code options.device()} (-1 = 0); throws {@link UserError} when it cannot. */
    CudaOps(ModelConfig config, BackendOptions options) {
        this.precision = switch (options.precision()) {
            case FP32, TF32, BF16 -> options.precision();
            case FP64 ->
                throw new UserError("the cuda backend computes in fp32, tf32 or bf16; fp64 is the reference backend's");
        };
        this.graphsEnabled = options.cudaGraph();
        this.seed32 = Dropout.seed32(options.dropoutSeed());
        this.model = config.describe();
        if (config.vocabSize() > 65536)
            throw new UserError(
                    "the cuda backend supports vocabularies of up to 65536 symbols, got " + config.vocabSize());
        byte[] fatbin = CudaRuntime.fatbin();
        if (fatbin == null) throw new UserError(CudaRuntime.NOT_BUILT);
        String why = CudaRuntime.init();
        if (why != null) throw new UserError(why);
        int index = options.device() < 0 ? 0 : options.device();
        try {
            ctx = new CudaContext(index);
        } catch (CudaException e) {
            throw new UserError("CUDA error while opening device " + index + ": " + CudaRuntime.oneLine(e), e);
        }
        stream = ctx.stream;
        boolean ok = false;
        try {
            try {
                kernels = new Kernels(fatbin, stream);
                cells = new CudaCellKernels(kernels);
            } catch (CudaException e) {
                throw new UserError(
                        "cannot load the CUDA kernels on " + ctx.deviceName() + " (sm_"
                                + CudaRuntime.computeCapability(ctx.device) + "): " + CudaRuntime.oneLine(e),
                        e);
            }
            ctx.onClose(kernels::close);
            DeviceBuffer.resetPeak();
            gemm = Gemm.create(kernels, stream, precision, model, options.log());
            ctx.onClose(gemm::close);
            side = new SideStream(kernels, stream, precision, model, options.log());
            ctx.onClose(side::close);
            graphs = new CudaGraphs(stream, () -> gemm.generation() + side.generation(), options.log());
            ctx.onClose(graphs::close);
            ctx.onClose(() -> {
                for (DeviceBuffer b : live) b.close();
                live.clear();
            });
            persistent = new PersistentRnn(
                    kernels, stream, ctx.device, config, gemm.arithmetic(), options.rnnKernel(), options.log());
            windows = new PersistentWindows(persistent, this::alloc, w -> params.at(w.rowOffset()), side::inside);
            partial = (DeviceBuffer) alloc(LaunchShapes.PARTIALS_BYTES, "norm partial sums");
            tickets = (DeviceBuffer) alloc(LaunchShapes.TICKETS_BYTES, "reduction tickets"); // zeroed by alloc
            decoder = new DecoderXent(
                    kernels,
                    ctx.device,
                    stream,
                    precision,
                    w -> params.at(w.rowOffset()),
                    tickets.at(0),
                    options.log());
            stepValues = new StepBlock(stream, side::current, model, ctx::synchronize);
            ctx.onClose(stepValues::close);
            optimizers = new CudaOptimizers(kernels, stepValues);
            ok = true;
        } catch (CudaException e) {
            throw new UserError("CUDA error while creating the cuda backend: " + CudaRuntime.oneLine(e), e);
        } finally {
            if (!ok) close();
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String deviceName() {
        return ctx.deviceName() + " (" + gemm.description() + ", " + persistent.description() + side.description()
                + ")";
    }

    @Override
    public Precision precision() {
        return precision;
    }

    @Override
    public <T> T guard(String op, Supplier<T> body) {
        if (closed) throw new IllegalStateException("cuda backend is closed");
        try {
            ctx.makeCurrent();
            return body.get();
        } catch (CudaException e) {
            throw new UserError("CUDA error in " + op + ": " + CudaRuntime.oneLine(e) + " (model " + model + ")", e);
        }
    }

    // ================================================================== memory

    @Override
    public DeviceArray alloc(long bytes, String what) {
        DeviceBuffer b = DeviceBuffer.allocate(bytes, what, model);
        live.add(b);
        JCudaDriver.cuMemsetD32Async(b.ptr, 0, b.bytes / 4, stream);
        return b;
    }

    @Override
    public void free(DeviceArray a) {
        if (a == null) return;
        DeviceBuffer b = buf(a);
        if (live.remove(b)) b.close();
    }

    /** The corpus on the device, copied on the stream ({@link DeviceBuffer#tokens}). */
    @Override
    public DeviceArray uploadTokens(TokenSequence seq, int vocab) {
        DeviceBuffer b = DeviceBuffer.tokens(seq, vocab, model, stream);
        live.add(b);
        return b;
    }

    @Override
    public void fill(Ref dst, long n, float value) {
        if (n > 0) JCudaDriver.cuMemsetD32Async(p(dst), Float.floatToRawIntBits(value), n, side.current());
    }

    @Override
    public void copy(Ref dst, Ref src, long n) {
        if (n > 0) JCudaDriver.cuMemcpyDtoDAsync(p(dst), p(src), n * Sizeof.FLOAT, side.current());
    }

    @Override
    public void copyRows(Ref dst, long dstPitch, Ref src, long srcPitch, int rows, long cols) {
        kernels.copyRows(p(dst), dstPitch, p(src), srcPitch, rows, cols);
    }

    @Override
    public void upload(Ref dst, float[] src) {
        if (src.length > 0)
            JCudaDriver.cuMemcpyHtoDAsync(p(dst), Pointer.to(src), (long) src.length * Sizeof.FLOAT, stream);
    }

    @Override
    public void uploadInts(Ref dst, int[] src) {
        if (src.length > 0)
            JCudaDriver.cuMemcpyHtoDAsync(p(dst), Pointer.to(src), (long) src.length * Sizeof.INT, stream);
    }

    /** The training workspace's starts are the step block's: one copy with the step's scalars. */
    @Override
    public DeviceArray allocStepStarts(int B, String what) {
        return stepValues.starts(B);
    }

    @Override
    public void uploadLongs(DeviceArray dst, long[] src) {
        if (stepValues.holds(dst)) stepValues.values.starts(src); // copied by the first launch that reads them
        else if (src.length > 0)
            JCudaDriver.cuMemcpyHtoDAsync(buf(dst).ptr, Pointer.to(src), (long) src.length * Sizeof.LONG, stream);
    }

    @Override
    public float[] download(Ref src, int n) {
        return buf(src.array()).download(src.offset(), n, stream);
    }

    @Override
    public void synchronize() {
        ctx.synchronize();
    }

    /** Device memory high-water mark since this device was opened (buffers of other live backends included). */
    @Override
    public long peakBytes() {
        return DeviceBuffer.peakBytes();
    }

    /** CUDA events recorded on the stream: device time only, no host launch overhead after the start event. */
    @Override
    public Backend.Timer timer() {
        return new CudaTimer(stream);
    }

    // ================================================================== whole steps and per-step scalars

    @Override
    public boolean defersSteps() {
        return graphsEnabled;
    }

    /** The step's values are staged before the graph and copied as its first work (StepBlock). */
    @Override
    public void runWholeStep(Object key, Runnable step) {
        stepValues.stage();
        graphs.run(key, stepValues.copiedIn(step));
    }

    @Override
    public void setIteration(int iteration) {
        stepValues.values.iteration(iteration);
    }

    // ================================================================== GEMM

    @Override
    public void attachWeights(DeviceArray params, int P, List<ParamLayout.Tensor> matrices) {
        this.params = buf(params);
        gemm.attachWeights(this.params, P);
    }

    /** bf16: the GEMMs that follow read the updated weights. */
    @Override
    public void weightsChanged() {
        gemm.refreshWeights();
    }

    @Override
    public boolean overlapWeightGradients(int B) {
        return side.openIf(side.wanted(persistent.backwardInClusters(B)), gemm, SideStream.Purpose.WEIGHT_GRADIENTS);
    }

    /** Auto: where the pass runs stepwise (a persistent pass holds its SMs for the whole window). */
    @Override
    public boolean pipelinesLayers(int B, boolean forced, boolean forwardPass) {
        boolean stepwise = !(forwardPass ? persistent.forwardPersistent(B) : persistent.backwardPersistent(B));
        return side.openIf(forced || stepwise, gemm, SideStream.Purpose.LAYER_PIPELINE);
    }

    @Override
    public void onSide(Runnable work) {
        side.run(work);
    }

    @Override
    public void joinSide() {
        side.join();
    }

    @Override
    public long sideMark() {
        return side.mark();
    }

    @Override
    public void joinSide(long mark) {
        side.join(mark);
    }

    @Override
    public void reserveGemmScratch(long a, long b) {
        gemm.reserve(a, b);
        side.reserve(a, b);
    }

    @Override
    public void gemm(
            boolean transA,
            boolean transB,
            int M,
            int N,
            int K,
            float alpha,
            Ref A,
            int lda,
            Ref B,
            int ldb,
            float beta,
            Ref C,
            int ldc) {
        (side.inside() ? side.gemm() : gemm)
                .gemm(transA, transB, M, N, K, alpha, p(A), lda, p(B), ldb, beta, p(C), ldc);
    }

    @Override
    public void gemmWeight(
            boolean transW,
            int M,
            int N,
            int K,
            float alpha,
            Ref A,
            int lda,
            WeightRows w,
            float beta,
            Ref C,
            int ldc) {
        // the side stream's GEMM reads the main one's weights (and bf16 copy: SideStream.open)
        (side.inside() ? side.gemm() : gemm)
                .gemmWeight(false, transW, M, N, K, alpha, p(A), lda, w.rowOffset(), w.cols(), beta, p(C), ldc);
    }

    // ================================================================== kernels

    @Override
    public WindowKernels windows() {
        return windows;
    }

    @Override
    public DecoderKernels decoders() {
        return decoder;
    }

    @Override
    public CellKernels cells() {
        return cells;
    }

    @Override
    public void gatherWindow(
            DeviceArray corpus, boolean u16, DeviceArray starts, int T, int B, DeviceArray x, DeviceArray y) {
        stepValues.flush();
        kernels.gatherWindow(u16, buf(corpus).ptr, buf(starts).ptr, T, B, buf(x).ptr, buf(y).ptr);
    }

    @Override
    public void gatherEmbedding(
            DeviceArray corpus,
            boolean u16,
            DeviceArray starts,
            int T,
            int B,
            DeviceArray x,
            DeviceArray y,
            Ref table,
            Ref out,
            int E) {
        stepValues.flush();
        kernels.gatherEmbed(u16, buf(corpus).ptr, buf(starts).ptr, T, B, buf(x).ptr, buf(y).ptr, p(table), p(out), E);
    }

    @Override
    public void embeddingForward(DeviceArray x, Ref table, Ref out, int N, int E) {
        kernels.embeddingForward(buf(x).ptr, p(table), p(out), N, E);
    }

    @Override
    public void embeddingBackward(DeviceArray x, Ref dOut, Ref dTable, int N, int V, int E) {
        kernels.embeddingBackward(buf(x).ptr, p(dOut), p(dTable), N, V, E);
    }

    @Override
    public void softmaxXent(
            Ref logits, Ref bias, DeviceArray y, Ref rowLoss, int N, int V, float gradScale, boolean writeGrad) {
        kernels.softmaxXent(
                p(logits), p(bias), buf(y).ptr, p(rowLoss), N, V, gradScale, writeGrad, Kernels.NONE, Kernels.NONE);
    }

    @Override
    public void softmaxXentSum(
            Ref logits,
            Ref bias,
            DeviceArray y,
            Ref rowLoss,
            Ref lossSum,
            int N,
            int V,
            float gradScale,
            boolean writeGrad) {
        kernels.softmaxXent(
                p(logits), p(bias), buf(y).ptr, p(rowLoss), N, V, gradScale, writeGrad, p(lossSum), tickets.at(0));
    }

    @Override
    public void maskTargets(
            DeviceArray y,
            int ignore,
            Ref grad,
            Ref rowLoss,
            DeviceArray weights,
            DeviceArray count,
            int N,
            int V,
            boolean writeGrad) {
        kernels.targetWeights(buf(y).ptr, N, ignore, buf(weights).ptr);
        kernels.sumFinal(buf(weights).ptr, N, buf(count).ptr, false);
        kernels.maskXent(p(grad), p(rowLoss), buf(weights).ptr, buf(count).ptr, N, V, writeGrad);
    }

    @Override
    public void addBiasRows(Ref y, Ref bias, int N, int C) {
        kernels.addBiasRows(p(y), p(bias), N, C);
    }

    @Override
    public void columnSum(Ref a, Ref out, int N, int C, float beta) {
        kernels.columnSum(p(a), p(out), Kernels.NONE, N, C, beta);
    }

    @Override
    public void columnSumTwice(Ref a, Ref out, Ref out2, int N, int C, float beta) {
        kernels.columnSum(p(a), p(out), p(out2), N, C, beta);
    }

    @Override
    public void sum(Ref a, int n, Ref out) {
        kernels.sumFinal(p(a), n, p(out), false);
    }

    @Override
    public void globalNorm(Ref g, int n, Ref norm) {
        kernels.globalNorm(p(g), n, partial.ptr, p(norm), tickets.at(1));
    }

    @Override
    public void clipValue(Ref g, int n, float max, Ref norm) {
        kernels.clipValue(p(g), n, max, p(norm));
    }

    @Override
    public void dropoutForward(Ref x, Ref y, int n, int first, int layer, float prob) {
        stepValues.flush();
        kernels.dropoutForward(p(x), p(y), n, first, seed32, stepValues.iteration(), layer, prob);
    }

    @Override
    public void dropoutBackward(Ref dy, Ref dx, int n, int first, int layer, float prob) {
        stepValues.flush();
        kernels.dropoutBackward(p(dy), p(dx), n, first, seed32, stepValues.iteration(), layer, prob);
    }

    @Override
    public OptimizerKernels optimizers() {
        return optimizers;
    }

    // ================================================================== teardown

    /** Frees everything acquired so far (also after a failed constructor). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ctx.close();
    }
}
