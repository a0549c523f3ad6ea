package org.charrnn.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Precision;
import org.charrnn.backend.device.DeviceOps;
import org.charrnn.util.UserError;

/**
 * A second stream for work that may run beside the backend's stream: the weight gradients of a
 * layer beside the next layer's backward recurrence, which leaves SMs idle (the cluster layout
 * holds 13 clusters of 8 SMs of an H200's 132), and a whole step's state copies and
 * state-gradient zeroing beside the gather, the input projection and the decoder; or, where the
 * recurrence runs stepwise, every other layer's chunks of the window (device.LayerPipeline), whose
 * GEMMs against W_ih and W_hh read the main GEMM's weights ({@link Gemm#readWeightsOf}); persistent
 * passes stay on the main stream. {@link #run} forks (an event on the main stream
 * that the side stream waits on), queues the work on the side stream with its own {@link Gemm}
 * (cuBLAS handle, a 4 MiB workspace and bf16 scratch: two streams must not share them) and {@link
 * #join} makes the main stream wait for an event recorded after it. Both are plain stream
 * operations, so a whole-step CUDA graph captures the fork and the join as graph edges.
 *
 * <p>Whether it is used: {@code -Dcharrnn.overlap=auto|on|off} ({@link #PROPERTY}); auto where
 * the backward recurrence runs persistent in the cluster layout. Its stream, events and GEMM are
 * created the first time a window shape asks for it ({@link #open}, outside any capture).
 */
final class SideStream implements AutoCloseable {
    static final String PROPERTY = "charrnn.overlap";
    /** The side GEMM's cuBLAS workspace: 4 MiB, not the main one's 32 (the bar counts peak memory). */
    static final long WORKSPACE = 4L << 20;

    private final Kernels kernels;
    private final CUstream main;
    private final Precision precision;
    private final String model;
    private final Consumer<String> log;
    private final String knob; // auto, on or off
    private CUstream stream;
    private CUevent fork, joined;
    private final List<CUevent> marks = new ArrayList<>(); // recorded by mark(), reused after a join
    private int marked; // marks recorded since the last join
    private long generation; // joins so far: a mark of an earlier one is stale
    private Gemm gemm;
    private boolean inside, pending;
    private final java.util.EnumSet<Purpose> purposes = java.util.EnumSet.noneOf(Purpose.class);

    SideStream(Kernels kernels, CUstream main, Precision precision, String model, Consumer<String> log) {
        this.kernels = kernels;
        this.main = main;
        this.precision = precision;
        this.model = model;
        this.log = log;
        this.knob = knob();
    }

    /** The knob's value: auto, on or off (anything else is a one-line UserError). */
    static String knob() {
        String v = System.getProperty(PROPERTY, "auto").toLowerCase(Locale.ROOT);
        if (!v.equals("auto") && !v.equals("on") && !v.equals("off"))
            throw new UserError(
                    "-D" + PROPERTY + " must be auto, on or off, not '" + System.getProperty(PROPERTY) + "'");
        return v;
    }

    /** Whether a window whose backward runs persistent in the cluster layout ({@code cluster}) overlaps. */
    boolean wanted(boolean cluster) {
        return knob.equals("on") || (knob.equals("auto") && cluster);
    }

    /**
     * Creates the stream, events and GEMM if not yet there (its weight GEMMs read {@code weights}'
     * parameters); outside any capture. {@code purpose} says in the device line what uses it.
     */
    void open(Gemm weights, Purpose purpose) {
        if (purposes.add(purpose)) log.accept("cuda: " + purpose.line);
        if (stream != null) return;
        CUstream s = new CUstream();
        JCudaDriver.cuStreamCreate(s, CUstream_flags.CU_STREAM_NON_BLOCKING);
        stream = s;
        fork = event();
        joined = event();
        // the main GEMM already said why where cuBLAS is missing. The weight gradients' products are
        // large in M and N, where cuBLAS seldom splits K (what its workspace is mostly for): a small
        // one should cost them little; the GPU run's bench-rnn measures the side stream as a whole
        gemm = Gemm.create(kernels, stream, precision, model, line -> {}, WORKSPACE);
        gemm.readWeightsOf(weights);
    }

    /** {@link #open} where {@code wanted}; returns {@code wanted}. */
    boolean openIf(boolean wanted, Gemm weights, Purpose purpose) {
        if (wanted) open(weights, purpose);
        return wanted;
    }

    private static CUevent event() {
        CUevent e = new CUevent();
        JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING);
        return e;
    }

    /** ", weight gradients on a second stream" (and what else used it) once a window did, for the device line; else "". */
    String description() {
        StringBuilder s = new StringBuilder();
        for (Purpose p : purposes) s.append(", ").append(p.description);
        return s.toString();
    }

    /** What a window uses the side stream for. */
    enum Purpose {
        WEIGHT_GRADIENTS(
                "weight gradients on a second stream, beside the next layer's recurrence",
                "weight gradients on a second stream"),
        LAYER_PIPELINE("layers pipelined by chunks of the window on two streams", "layers pipelined on two streams");
        final String line, description;

        Purpose(String line, String description) {
            this.line = line;
            this.description = description;
        }
    }

    /** True while {@link #run} queues work: the GEMMs and copies of that work go to {@link #stream()}. */
    boolean inside() {
        return inside;
    }

    /** The side stream's GEMM (only while {@link #inside}). */
    Gemm gemm() {
        return gemm;
    }

    /** The stream copies and memsets go to now: the side stream inside {@link #run}, else the main one. */
    CUstream current() {
        return inside ? stream : main;
    }

    /** Queues {@code work} on the side stream after everything queued on the main stream so far. */
    void run(Runnable work) {
        if (stream == null) throw new IllegalStateException("the side stream is used before it was opened");
        if (inside) throw new IllegalStateException("side work queues no side work of its own");
        JCudaDriver.cuEventRecord(fork, main);
        JCudaDriver.cuStreamWaitEvent(stream, fork, 0);
        CUstream before = kernels.use(stream);
        inside = true;
        try {
            work.run();
        } finally {
            inside = false;
            kernels.use(before);
        }
        pending = true;
    }

    /** The main stream's later work waits for all the side work queued so far. */
    void join() {
        generation++;
        marked = 0;
        if (!pending) return;
        JCudaDriver.cuEventRecord(joined, stream);
        JCudaDriver.cuStreamWaitEvent(main, joined, 0);
        pending = false;
    }

    /**
     * A mark of the side work queued so far (an event recorded on the side stream, one of a pool
     * reused after each {@link #join}), for {@link #join(long)}; {@link DeviceOps#NO_SIDE_MARK} where
     * there is none to wait for.
     */
    long mark() {
        if (!pending) return DeviceOps.NO_SIDE_MARK;
        if (marked == marks.size()) marks.add(event());
        JCudaDriver.cuEventRecord(marks.get(marked), stream);
        return generation << 32 | marked++;
    }

    /**
     * The main stream's later work waits for the side work queued before {@code mark} was taken, not
     * for what came after it; a mark from before the last {@link #join} is an IllegalStateException.
     */
    void join(long mark) {
        if (mark == DeviceOps.NO_SIDE_MARK) return;
        if (mark >>> 32 != generation)
            throw new IllegalStateException("a mark of the side stream joined after a join of all its work");
        JCudaDriver.cuStreamWaitEvent(main, marks.get((int) mark), 0);
    }

    /** Reserves the side GEMM's bf16 scratch as the main one's (outside any capture). */
    void reserve(long aElements, long bElements) {
        if (gemm != null) gemm.reserve(aElements, bElements);
    }

    /** How many times the side GEMM's scratch moved (a recorded graph that read it is stale). */
    int generation() {
        return gemm == null ? 0 : gemm.generation();
    }

    /** After the main stream drained (CudaContext.close runs this before destroying it). */
    @Override
    public void close() {
        if (stream == null) return;
        JCudaDriver.cuStreamSynchronize(stream);
        gemm.close();
        JCudaDriver.cuEventDestroy(fork);
        JCudaDriver.cuEventDestroy(joined);
        for (CUevent e : marks) JCudaDriver.cuEventDestroy(e);
        JCudaDriver.cuStreamDestroy(stream);
        stream = null;
    }
}
