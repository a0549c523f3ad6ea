package org.charrnn.backend.cuda;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.charrnn.backend.Precision;
import org.charrnn.backend.device.CellKernels;
import org.charrnn.backend.device.DecoderKernels;
import org.charrnn.backend.device.DeviceArray;
import org.charrnn.backend.device.DeviceOps;
import org.charrnn.backend.device.OptimizerKernels;
import org.charrnn.backend.device.Ref;
import org.charrnn.backend.device.TokenBytes;
import org.charrnn.backend.device.WeightRows;
import org.charrnn.backend.device.WindowKernels;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.ParamLayout;

/**
 * A {@link DeviceOps} that computes nothing and prices every operation the orchestration issues
 * (kernels/cuda as {@link CudaOps} launches them) with {@link StepCostModel}'s rates: the
 * operations of a training step, as {@link org.charrnn.backend.device.DeviceRnn} queues them, each
 * with its microseconds on the modelled device. The recurrence of a layer is one persistent launch
 * where {@link TracedWindows} chooses it (priced by {@link RnnCostModel}),
 * else the stepwise steps that follow: their cell kernels and the GEMMs against that layer's W_hh
 * count as recurrence, and the first other operation ends them. Downloads return zeros: nothing
 * here reads a value back.
 */
final class StepTrace implements DeviceOps {

    /**
     * One priced operation: its part, the kernel or transfer, µs on the modelled device, whether on
     * the side stream (not: the main stream, or the step values' copy beside it).
     */
    record Op(StepPart part, String name, double us, boolean side) {}

    private final StepCostModel.Rates rates;
    private final Precision precision;
    private final TracedRecurrence recurrence;
    private final CellKernels cells;
    private final TracedStepValues stepValues; // the window starts, lr and iteration: one block, one copy
    private final TracedWindows windows; // the persistent passes where the model chooses them
    private final TracedDecoder decoder; // the fused decoder where the model chooses it
    private final List<Op> ops = new ArrayList<>();
    private StepPart stepwise; // the recurrence part stepwise steps are running in, null outside one
    private long stepwiseWeights; // the offset of the W_hh those steps multiply by
    private double flops; // of the GEMMs and the persistent recurrent products since the last clear
    private final Set<GemmShape> gemmShapes = new HashSet<>(); // of the GEMMs since the last clear
    private final StepTimeline timeline;
    private boolean inSide; // onSide's work is being queued
    private final TraceMemory memory = TraceMemory.cudaBackend(); // what the CUDA backend would hold

    /** A trace at precision fp32 or tf32 (bf16's operand conversions are not modelled). */
    StepTrace(StepCostModel.Rates rates, Precision precision, TracedRecurrence recurrence) {
        if (precision != Precision.FP32 && precision != Precision.TF32)
            throw new IllegalArgumentException("the step cost model prices fp32 and tf32 steps, not " + precision.id());
        this.rates = Objects.requireNonNull(rates);
        this.timeline = new StepTimeline(rates.sideRate());
        this.precision = precision;
        this.recurrence = Objects.requireNonNull(recurrence);
        this.cells = new TracedCells(rates, (name, us) -> stepOp(StepPart.KERNELS, name, us));
        this.stepValues = new TracedStepValues(rates, this::add, this::beside, timeline::joinBeside);
        this.windows = new TracedWindows(this, recurrence, rates);
        this.decoder = new TracedDecoder(this, rates, precision);
    }

    /** The operations priced since the last {@link #clear}. */
    List<Op> ops() {
        return List.copyOf(ops);
    }

    void clear() {
        ops.clear();
        stepwise = null;
        flops = 0;
        gemmShapes.clear();
        timeline.clear();
    }

    /** The step's µs with the side stream's work and the step values' copy beside the main stream's ({@link StepTimeline}). */
    double criticalUs() {
        return timeline.criticalUs();
    }

    /** FLOPs of the matrix products since the last {@link #clear}: the GEMMs and the persistent recurrences'. */
    double flops() {
        return flops;
    }

    /** µs per part of the operations since the last {@link #clear}, and how many of each. */
    Map<StepPart, double[]> totals() {
        Map<StepPart, double[]> t = new EnumMap<>(StepPart.class);
        for (Op o : ops) {
            double[] v = t.computeIfAbsent(o.part(), p -> new double[2]);
            v[0] += o.us();
            v[1]++;
        }
        return t;
    }

    /** An operation that is no part of a stepwise step: it ends any such steps. */
    void add(StepPart part, String name, double us) {
        if (!inSide) stepwise = null;
        record(new Op(part, name, us, inSide));
    }

    /** An operation on a stream of its own beside the main one until {@link StepTimeline#joinBeside} (the step values' copy). */
    private void beside(StepPart part, String name, double us) {
        ops.add(new Op(part, name, us, false));
        timeline.beside(us);
    }

    /** A cell kernel or a GEMM against W_hh: recurrence while stepwise steps run, else {@code part}. */
    private void stepOp(StepPart part, String name, double us) {
        record(new Op(stepwise != null ? stepwise : part, name, us, inSide));
    }

    private void record(Op o) {
        ops.add(o);
        if (o.side()) timeline.side(o.us());
        else timeline.main(o.us());
    }

    /** As bench's CUDA steps: whole steps (a graph), so the orchestration's whole-step order is priced. */
    @Override
    public boolean defersSteps() {
        return true;
    }

    /** As {@link CudaOps#runWholeStep}: the step's values are staged, then copied beside the graph's first work. */
    @Override
    public void runWholeStep(Object key, Runnable step) {
        stepValues.stage();
        stepValues.copyInStep();
        step.run();
        stepValues.flush(); // as StepBlock.join at the step's end (nothing changed: no copy priced)
    }

    @Override
    public boolean overlapWeightGradients(int B) {
        return memory.sideStream(recurrence.overlapsWeightGradients(B));
    }

    @Override
    public boolean pipelinesLayers(int B, boolean forced, boolean forwardPass) {
        return memory.sideStream(forced || recurrence.pipelinesLayers(B, forwardPass));
    }

    /** Whether onSide's work is being queued (where the recurrence runs stepwise, as on CudaOps's side stream). */
    boolean inSide() {
        return inSide;
    }

    @Override
    public void onSide(Runnable work) {
        inSide = true;
        try {
            work.run();
        } finally {
            inSide = false;
        }
    }

    @Override
    public void joinSide() {
        timeline.joinSide();
    }

    /** The side work queued so far, µs (the timeline's mark, its bits). */
    @Override
    public long sideMark() {
        return Double.doubleToLongBits(timeline.sideMark());
    }

    @Override
    public void joinSide(long mark) {
        if (mark != NO_SIDE_MARK) timeline.joinSide(Double.longBitsToDouble(mark));
    }

    /** The next (persistent) operation leaves the side stream the SMs outside its clusters. */
    void besideClusters(int clusters) {
        int sms = rates.device().sms();
        if (clusters > 0) timeline.nextSideRate(Math.max(0, sms - clusters * Kernels.CLUSTER) / (double) sms);
    }

    void stepwise(StepPart part, WeightRows whh) {
        stepwise = part;
        stepwiseWeights = whh.offset();
    }

    private void kernel(String name, double bytes) {
        add(StepPart.KERNELS, name, rates.kernelUs(bytes));
    }

    // ================================================================== identity and memory

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String deviceName() {
        return "cost model: " + rates.device();
    }

    @Override
    public Precision precision() {
        return precision;
    }

    @Override
    public DeviceArray alloc(long bytes, String what) {
        return memory.alloc(bytes);
    }

    @Override
    public void free(DeviceArray a) {
        memory.free(a);
    }

    @Override
    public DeviceArray uploadTokens(TokenSequence tokens, int vocab) {
        return memory.alloc(Math.max(1, tokens.length() * TokenBytes.width(vocab)));
    }

    @Override
    public void fill(Ref dst, long n, float value) {
        if (n > 0) kernel("memset", 4.0 * n);
    }

    @Override
    public void copy(Ref dst, Ref src, long n) {
        if (n > 0) kernel("memcpy", 8.0 * n);
    }

    @Override
    public void copyRows(Ref dst, long dstPitch, Ref src, long srcPitch, int rows, long cols) {
        if (rows > 0 && cols > 0) kernel("copy_rows", 8.0 * rows * cols);
    }

    @Override
    public void upload(Ref dst, float[] src) {
        add(StepPart.HOST, "upload", rates.hostCopyUs());
    }

    @Override
    public void uploadInts(Ref dst, int[] src) {
        add(StepPart.HOST, "upload", rates.hostCopyUs());
    }

    @Override
    public DeviceArray allocStepStarts(int B, String what) {
        memory.stepValues(B);
        return stepValues.starts(B);
    }

    @Override
    public void uploadLongs(DeviceArray dst, long[] src) {
        if (!stepValues.uploadStarts(dst, src)) add(StepPart.HOST, "upload starts", rates.hostCopyUs());
    }

    @Override
    public float[] download(Ref src, int n) {
        return new float[n];
    }

    @Override
    public void synchronize() {}

    /** The most device memory the CUDA backend would hold at once so far ({@link TraceMemory}). */
    @Override
    public long peakBytes() {
        return memory.peakBytes();
    }

    /** The backend's buffer {@code what}, held from now on ({@link TraceMemory#hold}). */
    void hold(String what, long bytes) {
        memory.hold(what, bytes);
    }

    @Override
    public void setIteration(int iteration) {
        stepValues.iteration(iteration);
    }

    // ================================================================== GEMM

    @Override
    public void attachWeights(DeviceArray params, int P, List<ParamLayout.Tensor> matrices) {}

    /** fp32 and tf32 GEMMs read the parameters themselves (bf16 would convert a copy here). */
    @Override
    public void weightsChanged() {}

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
        gemm(new GemmShape(precision, transA, transB, M, N, K, beta != 0, inSide));
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
        GemmShape s = new GemmShape(precision, false, transW, M, N, K, beta != 0, inSide); // as CudaOps calls Gemm
        if (stepwise != null && w.offset() == stepwiseWeights) {
            flops += s.flops();
            gemmShapes.add(s);
            stepOp(StepPart.GEMM, "gemm " + M + "x" + N + "x" + K, rates.gemmUs(s));
        } else gemm(s);
    }

    private void gemm(GemmShape s) {
        flops += s.flops();
        gemmShapes.add(s);
        add(StepPart.GEMM, "gemm " + s.m() + "x" + s.n() + "x" + s.k(), rates.gemmUs(s));
    }

    /** The shapes of the GEMMs priced since the last {@link #clear} (what {@code charrnn bench --probe} times). */
    Set<GemmShape> gemmShapes() {
        return Set.copyOf(gemmShapes);
    }

    /** A fused kernel's matrix products: {@code f} FLOPs. */
    void addFlops(double f) {
        flops += f;
    }

    /** A persistent pass's recurrent products: T steps of [B,H] x [H,G H] (forward) or its transpose (backward). */
    void recurrentFlops(CellType cell, int T, int B, int H) {
        flops += 2.0 * T * B * H * cell.recurrentGates() * H;
    }

    // ================================================================== embedding, loss, reductions

    @Override
    public void gatherWindow(
            DeviceArray corpus, boolean u16, DeviceArray starts, int T, int B, DeviceArray x, DeviceArray y) {
        stepValues.flush();
        kernel("gather_window", 12.0 * T * B);
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
        kernel("gather_embed", 12.0 * T * B + 8.0 * T * B * E);
    }

    @Override
    public void embeddingForward(DeviceArray x, Ref table, Ref out, int N, int E) {
        kernel("embedding_forward", 8.0 * N * E + 4.0 * N);
    }

    @Override
    public void embeddingBackward(DeviceArray x, Ref dOut, Ref dTable, int N, int V, int E) {
        add(StepPart.KERNELS, "embedding_backward", rates.columnSumUs(N, 4.0 * N * E + 4.0 * V * E + 4.0 * N));
    }

    @Override
    public void softmaxXent(
            Ref logits, Ref bias, DeviceArray y, Ref rowLoss, int N, int V, float gradScale, boolean writeGrad) {
        kernel("softmax_xent", (writeGrad ? 8.0 : 4.0) * N * V + 8.0 * N);
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
        add(StepPart.KERNELS, "softmax_xent + loss sum", DecoderXent.softmaxXentSumUs(rates, N, V, writeGrad));
    }

    /** The fused decoder where the CUDA backend fuses it on the modelled device ({@link TracedDecoder}). */
    @Override
    public DecoderKernels decoders() {
        return decoder;
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
        kernel("target_weights", 12.0 * N);
        kernel("mask_xent", (writeGrad ? 8.0 : 0.0) * N * V + 8.0 * N);
    }

    @Override
    public void addBiasRows(Ref y, Ref bias, int N, int C) {
        kernel("add_bias_rows", 8.0 * N * C);
    }

    @Override
    public void columnSum(Ref a, Ref out, int N, int C, float beta) {
        add(StepPart.KERNELS, "column_sum", rates.columnSumUs(N, 4.0 * N * C + 8.0 * C));
    }

    @Override
    public void columnSumTwice(Ref a, Ref out, Ref out2, int N, int C, float beta) {
        add(StepPart.KERNELS, "column_sum (two outputs)", rates.columnSumUs(N, 4.0 * N * C + 8.0 * C));
    }

    @Override
    public void sum(Ref a, int n, Ref out) {
        add(StepPart.KERNELS, "sum_final", rates.blockSumUs(n));
    }

    @Override
    public void globalNorm(Ref g, int n, Ref norm) {
        add(StepPart.UPDATE, "global_norm", rates.kernelUs(4.0 * n) + rates.lastBlockSumUs(LaunchShapes.partials(n)));
    }

    @Override
    public void clipValue(Ref g, int n, float max, Ref norm) {
        add(StepPart.UPDATE, "clip_value", rates.kernelUs(8.0 * n));
    }

    @Override
    public void dropoutForward(Ref x, Ref y, int n, int first, int layer, float p) {
        stepValues.flush();
        kernel("dropout_forward", 8.0 * n);
    }

    @Override
    public void dropoutBackward(Ref dy, Ref dx, int n, int first, int layer, float p) {
        stepValues.flush();
        kernel("dropout_backward", 8.0 * n);
    }

    @Override
    public WindowKernels windows() {
        return windows;
    }

    @Override
    public CellKernels cells() {
        return cells;
    }

    @Override
    public OptimizerKernels optimizers() {
        return stepValues;
    }

    @Override
    public void close() {}
}
