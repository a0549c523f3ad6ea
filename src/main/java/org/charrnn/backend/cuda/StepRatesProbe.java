package org.charrnn.backend.cuda;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.AtomicFile;
import org.charrnn.util.IoErrors;
import org.charrnn.util.UserError;

/**
 * Measures on a CUDA device the rates the step cost model assumes ({@link StepCostModel.Rates}),
 * with this backend's own launches on its stream (side_rate: two), as a training step queues them:
 *
 * <pre>
 * kernel_us             a kernel as a node of a captured graph, dependent on the one before
 *                       (copy_rows of one float): graphs of few and many such nodes, the
 *                       difference over the difference in nodes
 * gemm_us               a cuBLAS GEMM's floor, the same way (64 x 64 x 64, fp32)
 * hbm_bytes_per_us      a device-to-device copy of {@link Sizes#copyFloats} floats, both ways' bytes
 * gemm_efficiency_fp32  a window-sized GEMM's FLOPs per µs over the model's fp32 peak
 * gemm_efficiency_tf32  the same GEMM on TF32 tensor cores over the model's TF32 peak
 * host_copy_us          the step values' copy (64 bytes from a Java array, cuMemcpyHtoDAsync)
 *                       queued before each launch of a one-node graph, less those launches alone
 * graph_launch_us       that one-node graph launched back to back, less kernel_us
 * side_rate             how far a second stream's work gets beside the first's: graphs of
 *                       stepwise steps of the large bench row L3 H512 B128 (its recurrent GEMM
 *                       and a kernel over the gates) on two streams at once against one alone,
 *                       2 - both / alone (1: they overlap fully, 0: not at all)
 * gemm_us_by_shape      each GEMM shape of the given rows' steps (fp32 and TF32, as the step
 *                       cost model traces them with --rnn-kernel auto and stepwise; {@link
 *                       GemmShape}): µs of one as a node of a captured graph, dependent on the
 *                       one before, as kernel_us (its graphs as long as about {@link
 *                       #GEMM_GRAPH_US} µs, within the sizes' node counts); the side stream's
 *                       shapes on a handle with its workspace ({@link SideStream#WORKSPACE})
 * </pre>
 *
 * Each time is the best of {@link Sizes#bestOf} timings of {@link Sizes#repeats} back-to-back
 * launches after a warm-up, between two events. {@code charrnn bench --probe} writes them into the
 * rates file native-test/probe_rates writes (-Dcharrnn.persistent.rates), which {@code charrnn
 * bench --predict} then reads for both models.
 */
public final class StepRatesProbe {
    /** The floor's GEMM: SMALL x SMALL x SMALL. */
    private static final int SMALL = 64;
    /** About how long the longer graph of a GEMM shape's timing runs, µs (fewer nodes for slower shapes). */
    static final double GEMM_GRAPH_US = 2000;

    private StepRatesProbe() {}

    /**
     * How much the probe launches: graphs of {@code fewNodes} and {@code manyNodes} nodes; {@code
     * repeats} launches a timing, the best of {@code bestOf}; the window-sized GEMM [side, depth] x
     * [depth, side]; the copy's floats; the stepwise-like steps of side_rate at batch {@code
     * stepBatch} and hidden size {@code stepHidden} (an LSTM's recurrent GEMM [B,H] x [H,4H] and a
     * kernel over its [B,4H] result).
     */
    public record Sizes(
            int fewNodes,
            int manyNodes,
            int repeats,
            int bestOf,
            int gemmSide,
            int gemmDepth,
            long copyFloats,
            int stepBatch,
            int stepHidden) {
        /**
         * A GPU's: 20 and 220 nodes, 10 launches, best of 5, a 4096 x 1024 x 4096 GEMM, 256 MiB
         * copied, steps of the large bench row L3 H512 B128.
         */
        public static final Sizes GPU = new Sizes(20, 220, 10, 5, 4096, 1024, 64L << 20, 128, 512);

        public Sizes {
            if (fewNodes < 1
                    || manyNodes <= fewNodes
                    || repeats < 1
                    || bestOf < 1
                    || gemmSide < 1
                    || gemmDepth < 1
                    || copyFloats < 1
                    || stepBatch < 1
                    || stepHidden < 1) throw new IllegalArgumentException("bad probe sizes: " + this);
        }
    }

    /**
     * The rates by their JSON names, in the order of the table above ({@link
     * StepCostModel.Rates#MEASURED}); the µs of each GEMM shape by its {@link GemmShape#key}; the
     * device's name.
     */
    public record Measured(String device, Map<String, Double> rates, Map<String, Double> gemms) {}

    /** A training step whose GEMMs the probe times: a bench row. */
    public record Row(ModelConfig config, int batch, int seq) {}

    /**
     * Writes {@code m}'s rates into the rates file {@code file}: added to (or replacing the same
     * fields of) the JSON object a probe_rates run left there, else one of their own with the device;
     * one line, written atomically. A {@link UserError} where the file is not such an object or
     * cannot be written.
     */
    public static void writeInto(Path file, Measured m) {
        JsonObject o = Files.exists(file) ? RnnRates.readObject(file) : new JsonObject();
        if (!o.has("device")) o.addProperty("device", m.device());
        for (var e : m.rates().entrySet()) o.addProperty(e.getKey(), e.getValue());
        JsonObject gemms = new JsonObject();
        for (var e : m.gemms().entrySet()) gemms.addProperty(e.getKey(), e.getValue());
        if (!m.gemms().isEmpty()) o.add(StepCostModel.Rates.GEMMS, gemms);
        try {
            AtomicFile.writeString(file, o + "\n");
        } catch (IOException e) {
            throw new UserError("cannot write " + file + ": " + IoErrors.reason(e), e);
        }
    }

    /**
     * A {@link UserError} where {@code file} is a regular file but not the JSON object {@link
     * #writeInto} adds to: what it would find only after the measurement.
     */
    public static void checkExisting(Path file) {
        if (Files.isRegularFile(file)) RnnRates.readObject(file);
    }

    /**
     * Measures device {@code index}, the GEMMs at the shapes of {@code rows}' steps (a {@link
     * UserError} where it cannot be opened or a rate comes out non-positive).
     */
    public static Measured measure(int index, Sizes s, List<Row> rows, Consumer<String> log) {
        return measure(index, s, shapes(rows), log, null);
    }

    /**
     * The GEMM shapes of {@code rows}' training steps in fp32 and TF32, as the step cost model
     * traces them with the recurrence auto and stepwise, cheapest first.
     */
    static List<GemmShape> shapes(List<Row> rows) {
        Set<GemmShape> all = new TreeSet<>(GemmShape.BY_SIZE);
        for (Row r : rows)
            for (Precision p : new Precision[] {Precision.FP32, Precision.TF32})
                for (RnnKernel k : new RnnKernel[] {RnnKernel.AUTO, RnnKernel.STEPWISE})
                    all.addAll(StepCostModel.trace(r.config(), r.batch(), r.seq(), p, k)
                            .gemmShapes());
        return List.copyOf(all);
    }

    /**
     * As {@link #measure(int, Sizes, List, Consumer)} at the GEMM {@code shapes} (fp32 and TF32), the
     * GEMM efficiencies against the peaks of {@code peaks} (null: of the device itself, its SMs and
     * reported clock).
     */
    static Measured measure(
            int index, Sizes s, List<GemmShape> shapes, Consumer<String> log, RnnCostModel.Device peaks) {
        byte[] fatbin = CudaRuntime.fatbin();
        if (fatbin == null) throw new UserError(CudaRuntime.NOT_BUILT);
        String why = CudaRuntime.init();
        if (why != null) throw new UserError(why);
        try (CudaContext ctx = new CudaContext(index)) {
            return new Run(ctx, index, fatbin, s, shapes, log, peaks).measure();
        } catch (CudaException e) {
            throw new UserError("CUDA error while probing device " + index + ": " + CudaRuntime.oneLine(e), e);
        }
    }

    /** One probe's device state: the kernels, both GEMMs and the buffers, freed with the context. */
    private static final class Run {
        private final List<GemmShape> shapes;
        private final DeviceBuffer shapeA, shapeB, shapeC; // the largest of the shapes' operands
        private final CudaContext ctx;
        private final int index;
        private final RnnCostModel.Device peaks; // null: the device's own
        private final CUstream stream;
        private final Kernels kernels;
        private final Gemm fp32, tf32;
        private final Gemm fp32Side, tf32Side; // as the side stream's handle: its smaller workspace
        private final DeviceBuffer one, a, b, c, copyFrom, copyTo;
        private final DeviceBuffer stepH, stepW; // [B,H], [H,4H]
        private final DeviceBuffer[] stepOut = new DeviceBuffer[2], cellOut = new DeviceBuffer[2]; // [B,4H] a stream
        private final Sizes s;
        private final CudaTimer timer;

        Run(
                CudaContext ctx,
                int index,
                byte[] fatbin,
                Sizes s,
                List<GemmShape> shapes,
                Consumer<String> log,
                RnnCostModel.Device peaks) {
            this.ctx = ctx;
            this.shapes = List.copyOf(shapes);
            for (GemmShape g : shapes)
                if (g.precision() == Precision.BF16)
                    throw new IllegalArgumentException("the probe times fp32 and tf32 GEMMs, not " + g.key());
            this.index = index;
            this.peaks = peaks;
            this.stream = ctx.stream;
            this.s = s;
            kernels = new Kernels(fatbin, stream);
            ctx.onClose(kernels::close);
            fp32 = Gemm.create(kernels, stream, Precision.FP32, "probe", log);
            ctx.onClose(fp32::close);
            tf32 = Gemm.create(kernels, stream, Precision.TF32, "probe", log);
            ctx.onClose(tf32::close);
            fp32Side = Gemm.create(kernels, stream, Precision.FP32, "probe", line -> {}, SideStream.WORKSPACE);
            ctx.onClose(fp32Side::close);
            tf32Side = Gemm.create(kernels, stream, Precision.TF32, "probe", line -> {}, SideStream.WORKSPACE);
            ctx.onClose(tf32Side::close);
            long operand = Math.max((long) s.gemmSide() * s.gemmDepth(), SMALL * SMALL);
            one = buffer(4L * 16);
            a = buffer(4L * operand);
            b = buffer(4L * operand);
            c = buffer(4L * Math.max((long) s.gemmSide() * s.gemmSide(), SMALL * SMALL));
            copyFrom = buffer(4L * s.copyFloats());
            copyTo = buffer(4L * s.copyFloats());
            long h = s.stepHidden(), gates = 4L * s.stepBatch() * h;
            stepH = buffer(4L * s.stepBatch() * h);
            stepW = buffer(4L * h * 4 * h);
            for (int i = 0; i < 2; i++) {
                stepOut[i] = buffer(4L * gates);
                cellOut[i] = buffer(4L * gates);
            }
            long[] most = {1, 1, 1};
            for (GemmShape g : shapes) for (int i = 0; i < 3; i++) most[i] = Math.max(most[i], g.operandFloats()[i]);
            shapeA = buffer(4L * most[0]);
            shapeB = buffer(4L * most[1]);
            shapeC = buffer(4L * most[2]);
            timer = new CudaTimer(stream);
            ctx.onClose(timer::close);
        }

        private DeviceBuffer buffer(long bytes) {
            DeviceBuffer d = DeviceBuffer.allocate(bytes, "rates probe", "probe");
            ctx.onClose(d::close);
            JCudaDriver.cuMemsetD32Async(d.ptr, 0, d.bytes / 4, stream);
            return d;
        }

        Measured measure() {
            Runnable node = () -> kernels.copyRows(one.ptr, 1, one.ptr.withByteOffset(4), 1, 1, 1);
            Runnable smallGemm = () ->
                    fp32.gemm(false, false, SMALL, SMALL, SMALL, 1f, a.ptr, SMALL, b.ptr, SMALL, 0f, c.ptr, SMALL);
            double kernelUs = perNode(node), gemmUs = perNode(smallGemm);
            CUgraphExec single = capture(1, node);
            try {
                double launch = best(() -> JCudaDriver.cuGraphLaunch(single, stream));
                int[] words = new int[16];
                double copied = best(() -> {
                    JCudaDriver.cuMemcpyHtoDAsync(one.ptr, Pointer.to(words), 64, stream);
                    JCudaDriver.cuGraphLaunch(single, stream);
                });
                double copyUs =
                        best(() -> JCudaDriver.cuMemcpyDtoDAsync(copyTo.ptr, copyFrom.ptr, copyFrom.bytes, stream));
                Map<String, Double> r = new LinkedHashMap<>();
                r.put("kernel_us", kernelUs);
                r.put("gemm_us", gemmUs);
                r.put("hbm_bytes_per_us", 2.0 * copyFrom.bytes / copyUs);
                r.put("gemm_efficiency_fp32", efficiency(fp32, Precision.FP32));
                r.put("gemm_efficiency_tf32", efficiency(tf32, Precision.TF32));
                r.put("host_copy_us", Math.max(0, copied - launch));
                r.put("graph_launch_us", Math.max(0, launch - kernelUs));
                r.put("side_rate", sideRate());
                Map<String, Double> gemms = new LinkedHashMap<>();
                for (GemmShape g : shapes) gemms.put(g.key(), gemmUs(g));
                for (var e : r.entrySet()) { // the launch and the copy may hide entirely: 0 is a rate there
                    boolean mayBeZero = e.getKey().equals("graph_launch_us")
                            || e.getKey().equals("host_copy_us")
                            || e.getKey().equals("side_rate");
                    double v = e.getValue();
                    if (!(v > 0 || (mayBeZero && v == 0)) || Double.isInfinite(v))
                        throw new UserError("the rates probe measured " + e.getKey() + " = " + v + " on "
                                + ctx.deviceName() + ": rerun it on an idle device");
                }
                for (var e : gemms.entrySet())
                    if (!(e.getValue() > 0) || Double.isInfinite(e.getValue()))
                        throw new UserError("the rates probe measured the GEMM " + e.getKey() + " at " + e.getValue()
                                + " µs on " + ctx.deviceName() + ": rerun it on an idle device");
                return new Measured(ctx.deviceName(), r, gemms);
            } finally {
                JCudaDriver.cuGraphExecDestroy(single);
            }
        }

        /** µs of one of {@code node}'s launches inside a graph: graphs of few and many, the difference over the nodes'. */
        private double perNode(Runnable node) {
            return perNode(node, s.fewNodes(), s.manyNodes());
        }

        /** As {@link #perNode(Runnable)} with graphs of {@code fewNodes} and {@code manyNodes} nodes. */
        private double perNode(Runnable node, int fewNodes, int manyNodes) {
            CUgraphExec few = capture(fewNodes, node), many = capture(manyNodes, node);
            try {
                double tFew = best(() -> JCudaDriver.cuGraphLaunch(few, stream));
                double tMany = best(() -> JCudaDriver.cuGraphLaunch(many, stream));
                return (tMany - tFew) / (manyNodes - fewNodes);
            } finally {
                JCudaDriver.cuGraphExecDestroy(few);
                JCudaDriver.cuGraphExecDestroy(many);
            }
        }

        /**
         * µs of a GEMM of shape g as a dependent graph node ({@link #perNode}), its operands dense in
         * the largest buffers (zeros: an accumulating GEMM stays finite): the longer graph about
         * {@link #GEMM_GRAPH_US} at the assumed rates' price, at most the sizes' many nodes, the
         * shorter a quarter of it (at most their few, at least one).
         */
        private double gemmUs(GemmShape g) {
            double assumed = StepCostModel.Rates.assumed(device()).gemmUs(g.m(), g.n(), g.k(), g.precision());
            int many = (int) Math.min(s.manyNodes(), Math.max(2, Math.ceil(GEMM_GRAPH_US / assumed)));
            int few = Math.max(1, Math.min(s.fewNodes(), many / 4));
            Gemm gemm = g.precision() == Precision.TF32 ? (g.side() ? tf32Side : tf32) : (g.side() ? fp32Side : fp32);
            int[] ld = g.leadingDimensions();
            float beta = g.accumulate() ? 1f : 0f;
            Runnable node = () -> gemm.gemm(
                    g.transA(),
                    g.transB(),
                    g.m(),
                    g.n(),
                    g.k(),
                    1f,
                    shapeA.ptr,
                    ld[0],
                    shapeB.ptr,
                    ld[1],
                    beta,
                    shapeC.ptr,
                    ld[2]);
            return perNode(node, few, many);
        }

        /**
         * 2 - (two streams' graphs of steps at once) / (one alone), within [0, 1]: each graph
         * {@link Sizes#fewNodes} stepwise-like steps of its own (the recurrent GEMM and a kernel over
         * its result); the second stream forks from the first before its launches and the first
         * joins it after them.
         */
        private double sideRate() {
            CUgraphExec mine = capture(s.fewNodes(), step(0)), theirs = capture(s.fewNodes(), step(1));
            CUstream side = new CUstream();
            CUevent fork = new CUevent(), join = new CUevent();
            JCudaDriver.cuStreamCreate(side, CUstream_flags.CU_STREAM_NON_BLOCKING);
            try {
                JCudaDriver.cuEventCreate(fork, CUevent_flags.CU_EVENT_DISABLE_TIMING);
                JCudaDriver.cuEventCreate(join, CUevent_flags.CU_EVENT_DISABLE_TIMING);
                double alone = best(() -> JCudaDriver.cuGraphLaunch(mine, stream));
                double both = best(
                        () -> {
                            JCudaDriver.cuEventRecord(fork, stream);
                            JCudaDriver.cuStreamWaitEvent(side, fork, 0);
                        },
                        () -> {
                            JCudaDriver.cuGraphLaunch(mine, stream);
                            JCudaDriver.cuGraphLaunch(theirs, side);
                        },
                        () -> {
                            JCudaDriver.cuEventRecord(join, side);
                            JCudaDriver.cuStreamWaitEvent(stream, join, 0);
                        });
                return Math.min(1, Math.max(0, 2 - both / alone));
            } finally {
                ctx.synchronize();
                JCudaDriver.cuStreamSynchronize(side);
                JCudaDriver.cuEventDestroy(fork);
                JCudaDriver.cuEventDestroy(join);
                JCudaDriver.cuStreamDestroy(side);
                JCudaDriver.cuGraphExecDestroy(mine);
                JCudaDriver.cuGraphExecDestroy(theirs);
            }
        }

        /** Stream i's stepwise-like step: gates [B,4H] (=) h [B,H] W [H,4H], then a kernel copies them. */
        private Runnable step(int i) {
            int B = s.stepBatch(), H = s.stepHidden(), G = 4 * H;
            return () -> {
                fp32.gemm(false, false, B, G, H, 1f, stepH.ptr, H, stepW.ptr, G, 0f, stepOut[i].ptr, G);
                kernels.copyRows(cellOut[i].ptr, G, stepOut[i].ptr, G, B, G);
            };
        }

        /** The window-sized GEMM's FLOPs per µs over the model's peak at precision p on this device. */
        private double efficiency(Gemm g, Precision p) {
            int m = s.gemmSide(), k = s.gemmDepth();
            double us = best(() -> g.gemm(false, false, m, m, k, 1f, a.ptr, k, b.ptr, m, 0f, c.ptr, m));
            return 2.0 * m * m * k / us / StepCostModel.Rates.assumed(device()).peakFlopsPerUs(p);
        }

        /** This device as the model describes it: its SMs, clock and shared memory, the assumed recurrence rates. */
        private RnnCostModel.Device device() {
            if (peaks != null) return peaks;
            int[] sl = PersistentLimits.multiprocessorsAndSharedLimit(index);
            int khz = PersistentRnn.attribute(ctx.device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
            if (khz <= 0)
                throw new UserError("the rates probe needs the device's clock rate, which it does not report");
            return new RnnCostModel.Device(sl[0], khz / 1e6, sl[1], RnnRates.ASSUMED);
        }

        /** {@code count} launches of {@code node} captured as one graph, instantiated. */
        private CUgraphExec capture(int count, Runnable node) {
            CUgraph g = new CUgraph();
            JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
            try {
                for (int i = 0; i < count; i++) node.run();
            } finally {
                JCudaDriver.cuStreamEndCapture(stream, g);
            }
            try {
                CUgraphExec e = new CUgraphExec();
                JCudaDriver.cuGraphInstantiate(e, g, 0);
                return e;
            } finally {
                JCudaDriver.cuGraphDestroy(g);
            }
        }

        /** µs of one {@code launch}: the best of bestOf timings of repeats launches, after one untimed. */
        private double best(Runnable launch) {
            return best(() -> {}, launch, () -> {});
        }

        /** As {@link #best(Runnable)}, each timing's launches between {@code before} and {@code after}. */
        private double best(Runnable before, Runnable launch, Runnable after) {
            before.run();
            launch.run();
            after.run();
            ctx.synchronize();
            double best = Double.POSITIVE_INFINITY;
            for (int i = 0; i < s.bestOf(); i++) {
                timer.start();
                before.run();
                for (int r = 0; r < s.repeats(); r++) launch.run();
                after.run();
                best = Math.min(best, timer.stopMillis() * 1e3 / s.repeats());
            }
            return best;
        }
    }
}
