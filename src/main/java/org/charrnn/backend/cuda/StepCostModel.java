package org.charrnn.backend.cuda;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.OptimizerConfig;
import org.charrnn.backend.OptimizerKind;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.Window;
import org.charrnn.backend.device.DeviceRnn;
import org.charrnn.data.TokenSequence;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * Milliseconds per training step of the CUDA backend on an H200, predicted without a GPU: one
 * step as {@code charrnn bench} times it (forward with the loss, backward, global-norm clip, Adam;
 * a whole-step CUDA graph), traced through the backend's own orchestration ({@link DeviceRnn} over
 * a {@link StepTrace}), each operation priced by the rates below and the recurrence by {@link
 * RnnCostModel} as auto (or a forced {@code --rnn-kernel}) would run it. What the bench's bar needs
 * from a GPU run is its measurement; this says where the time of a step is expected to go, and
 * which rows the design can reach the bar on at all.
 */
public final class StepCostModel {

    /**
     * The rates of everything but the recurrence (which {@link RnnCostModel} prices with {@link
     * RnnRates}), assumed for an H200 SXM, or those {@code charrnn bench --probe} measured on a GPU
     * ({@link StepRatesProbe}; its JSON names in brackets), read from the rates file of {@link
     * RnnRates#PROPERTY} where it has them ({@link #fromProperty}).
     *
     * <pre>
     * rate             assumed   what it is
     * kernelUs         2.0 µs    a kernel, memset or device copy as a node of a whole-step graph,
     *                            dependent on the one before: launch and drain with nothing to do
     *                            [kernel_us]
     * gemmUs           3.0 µs    a cuBLAS GEMM's floor (with kernelUs: RnnCostModel's 5 µs
     *                            stepwise layer-step, a recurrent GEMM and a cell kernel) [gemm_us]
     * hbmBytesPerUs    4.0e6     HBM3e, 4.8 TB/s peak at about 83% [hbm_bytes_per_us]
     * gemmEfficiency   0.6       of the fp32 FMA peak (67 TFLOP/s) that a GEMM of a window's size
     *                            reaches [gemm_efficiency_fp32]
     * gemmEfficiencyTf32  0.6    of the TF32 tensor-core peak (495 TFLOP/s), and of bf16's (twice
     *                            that) [gemm_efficiency_tf32]
     * l2LatencyClocks  270       an L2 hit: what a thread that sums a column waits for per load
     * hostCopyUs       3.0 µs    a small host-to-device copy queued before the step's graph
     *                            (window starts, dropout iteration, Adam's scalars) [host_copy_us]
     * graphLaunchUs    5.0 µs    launching the step's graph until its first node runs
     *                            [graph_launch_us]
     * sideRate         0.5       the share of its time by which the side stream's work progresses
     *                            beside a main-stream operation (StepTrace; a cluster-layout pass
     *                            leaves its idle SMs' share instead) [side_rate]
     * gemms            none      a GEMM of each shape the probe timed (GemmShape: precision,
     *                            transpositions, M x N x K, = or +=), µs as a node of a graph,
     *                            dependent on the one before: priced at that time instead of
     *                            gemmUs and the efficiency [gemm_us_by_shape]
     * </pre>
     *
     * @param device the multiprocessors, clock and {@link RnnRates} of the recurrence's model
     * @param source "assumed", or "measured on DEVICE" where the rates file had any of them
     */
    record Rates(
            RnnCostModel.Device device,
            double kernelUs,
            double gemmUs,
            double hbmBytesPerUs,
            double gemmEfficiency,
            double gemmEfficiencyTf32,
            double l2LatencyClocks,
            double hostCopyUs,
            double graphLaunchUs,
            double sideRate,
            Map<GemmShape, Double> gemms,
            String source) {

        /** TF32 tensor-core FMAs per SM and clock of cuBLAS's GEMMs (dense: 495 TFLOP/s at 132 SMs, 1.98 GHz). */
        static final double TF32_GEMM_FMAS = 946;
        /** Loads of a column-sum lane in flight at once (kernels/cuda/common.cuh, cr_column_total's unroll). */
        static final int COLUMN_LOADS_IN_FLIGHT = 8;

        /** The JSON name of {@link #gemms}: an object of {@link GemmShape#key}s and µs. */
        static final String GEMMS = "gemm_us_by_shape";

        /** The JSON names of the rates a probe measures, in the table's order ({@link StepRatesProbe}). */
        static final String[] MEASURED = {
            "kernel_us",
            "gemm_us",
            "hbm_bytes_per_us",
            "gemm_efficiency_fp32",
            "gemm_efficiency_tf32",
            "host_copy_us",
            "graph_launch_us",
            "side_rate"
        };

        Rates {
            double[] positive = {kernelUs, gemmUs, hbmBytesPerUs, gemmEfficiency, gemmEfficiencyTf32, l2LatencyClocks};
            for (double v : positive)
                if (!(v > 0) || Double.isInfinite(v))
                    throw new IllegalArgumentException(
                            "step rates must be positive and finite: " + Arrays.toString(positive));
            if (!(hostCopyUs >= 0) || !(graphLaunchUs >= 0) || Double.isInfinite(hostCopyUs + graphLaunchUs))
                throw new IllegalArgumentException("host copy and graph launch must be finite and not negative");
            if (!(sideRate >= 0 && sideRate <= 1))
                throw new IllegalArgumentException("the side stream's rate must be within [0, 1], not " + sideRate);
            gemms = Map.copyOf(gemms);
            for (var e : gemms.entrySet())
                if (!(e.getValue() > 0) || Double.isInfinite(e.getValue()))
                    throw new IllegalArgumentException("a GEMM's time must be positive and finite: "
                            + e.getKey().key() + " " + e.getValue());
        }

        /** The assumed rates on {@code device}. */
        static Rates assumed(RnnCostModel.Device device) {
            return new Rates(device, 2.0, 3.0, 4.0e6, 0.6, 0.6, 270, 3.0, 5.0, 0.5, Map.of(), "assumed");
        }

        /**
         * The rates on {@code device}: those of {@link #MEASURED} that the file {@link
         * RnnRates#PROPERTY} names has, the others {@link #assumed}; a {@link UserError} naming the file
         * where it cannot be read or a value is out of range (positive; 0 allowed for the copy and the
         * launch; the side rate within [0, 1]).
         */
        static Rates fromProperty(RnnCostModel.Device device) {
            String file = System.getProperty(RnnRates.PROPERTY);
            Rates a = assumed(device);
            if (file == null || file.isBlank()) return a;
            Path path = Path.of(file);
            JsonObject o = RnnRates.readObject(path);
            double[] v = {
                a.kernelUs,
                a.gemmUs,
                a.hbmBytesPerUs,
                a.gemmEfficiency,
                a.gemmEfficiencyTf32,
                a.hostCopyUs,
                a.graphLaunchUs,
                a.sideRate
            };
            boolean any = false;
            for (int i = 0; i < MEASURED.length; i++) {
                if (!o.has(MEASURED[i])) continue;
                v[i] = RnnRates.number(o, path, MEASURED[i]);
                any = true;
            }
            if (!any && !o.has(GEMMS)) return a;
            try {
                Map<GemmShape, Double> gemms = RnnRates.gemmTimes(o, path);
                return new Rates(
                        device,
                        v[0],
                        v[1],
                        v[2],
                        v[3],
                        v[4],
                        a.l2LatencyClocks,
                        v[5],
                        v[6],
                        v[7],
                        gemms,
                        "measured on " + RnnRates.device(o));
            } catch (IllegalArgumentException e) {
                throw new UserError(RnnRates.PROPERTY + ": " + path + ": " + e.getMessage(), e);
            }
        }

        /** A kernel that moves {@code bytes}: its floor plus its bytes at HBM's rate. */
        double kernelUs(double bytes) {
            return kernelUs + bytes / hbmBytesPerUs;
        }

        /**
         * A column sum over N rows (column_sum, embedding_backward): its floor plus its bytes, or the
         * latency of a lane's N / CR_COL_LANES loads, {@link #COLUMN_LOADS_IN_FLIGHT} at a time, where more
         * (one round below 256 rows, where the block has fewer lanes of at most 8 rows each).
         */
        double columnSumUs(int N, double bytes) {
            double rounds = Math.ceil((double) N / (LaunchShapes.COL_LANES * COLUMN_LOADS_IN_FLIGHT));
            return kernelUs + Math.max(bytes / hbmBytesPerUs, rounds * l2LatencyClocks / device.clocksPerUs());
        }

        /** sum_final over n values: one block of CR_BLOCK threads, each waiting for its n / CR_BLOCK loads. */
        double blockSumUs(long n) {
            return kernelUs + Math.ceil((double) n / (Kernels.BLOCK * 4)) * l2LatencyClocks / device.clocksPerUs();
        }

        /** A kernel's sum of n values by its last block (cr_last_block): sum_final's time without its floor. */
        double lastBlockSumUs(long n) {
            return blockSumUs(n) - kernelUs;
        }

        /**
         * FLOPs per µs of the device's matrix products at precision p, at their peak: the FMA lanes
         * in fp32, the tensor cores in TF32 and at twice TF32's rate in bf16 (cuBLAS's bf16 GEMMs,
         * which only the fused decoder's choice prices: --predict takes fp32 and TF32).
         */
        double peakFlopsPerUs(Precision p) {
            double fmasPerClock = switch (p) {
                case TF32 -> TF32_GEMM_FMAS;
                case BF16 -> 2 * TF32_GEMM_FMAS;
                case FP32, FP64 -> RnnCostModel.FMA_LANES;
            };
            return 2 * fmasPerClock * device.sms() * device.clocksPerUs();
        }

        /**
         * A GEMM of shape s: its measured time where {@link #gemms} has one (a side stream's shape
         * the file timed only on the main handle at that time), else {@link #gemmUs(int, int, int,
         * Precision)}.
         */
        double gemmUs(GemmShape s) {
            Double measured = gemms.get(s);
            if (measured == null && s.side()) measured = gemms.get(s.onMain());
            return measured != null ? measured : gemmUs(s.m(), s.n(), s.k(), s.precision());
        }

        /**
         * C [M,N] = A [M,K] B [K,N] of no measured shape: the floor plus the FLOPs at {@link
         * #gemmEfficiency} of the peak ({@link #gemmEfficiencyTf32} on tensor cores, TF32 and bf16),
         * or the bytes where more.
         */
        double gemmUs(int M, int N, int K, Precision p) {
            boolean tensorCores = p == Precision.TF32 || p == Precision.BF16;
            double flopsPerUs = peakFlopsPerUs(p) * (tensorCores ? gemmEfficiencyTf32 : gemmEfficiency);
            double flops = 2.0 * M * N * K;
            double bytes = 4.0 * ((double) M * K + (double) K * N + (double) M * N);
            return gemmUs + Math.max(flops / flopsPerUs, bytes / hbmBytesPerUs);
        }
    }

    /**
     * One configuration's predicted step, in ms.
     *
     * @param forwardRecurrence the layers' forward recurrence (persistent launches, or the stepwise GEMMs and cells)
     * @param backwardRecurrence the layers' backward recurrence
     * @param gemms the other GEMMs (input projections, decoder, weight and input gradients)
     * @param gemmCount how many
     * @param kernels the other kernels, memsets and copies (embedding, softmax, bias sums, state copies)
     * @param kernelCount how many
     * @param update the global norm and the fused Adam update
     * @param host the step's small uploads and its graph launch
     * @param overlapped the part of the above that runs on the side stream beside the main stream's
     *     work ({@link StepTrace#criticalUs}), not adding to the step
     * @param flopFloor the step's matrix-product FLOPs (GEMMs and recurrences) at the precision's peak: no
     *     step at this precision on this device is faster, whatever the kernels
     * @param peakMib the most device memory the CUDA backend holds at once over bench's calls (its
     *     own buffers and the orchestration's, a window's corpus; {@link StepTrace#peakBytes}), MiB
     * @param recurrence the recurrence's kernels: "stepwise", or which passes run persistent in which layout
     * @param device what the model assumes
     */
    public record Prediction(
            double forwardRecurrence,
            double backwardRecurrence,
            double gemms,
            int gemmCount,
            double kernels,
            int kernelCount,
            double update,
            double host,
            double overlapped,
            double flopFloor,
            double peakMib,
            String recurrence,
            String device) {
        /** The whole step, ms. */
        public double total() {
            return forwardRecurrence + backwardRecurrence + gemms + kernels + update + host - overlapped;
        }
    }

    /** The clip and learning rate of the priced step, as charrnn bench's (neither changes its cost). */
    private static final double CLIP = 5.0, LR = 2e-3;

    private StepCostModel() {}

    /** The modelled device: an H200 SXM with the recurrence's rates of {@link RnnRates#fromProperty}. */
    static RnnCostModel.Device h200() {
        RnnCostModel.Device d = RnnCostModel.Device.h200();
        return new RnnCostModel.Device(d.sms(), d.clockGhz(), d.sharedBytes(), RnnRates.fromProperty());
    }

    /**
     * The predicted training step of {@code config} at batch B and T steps a window, precision fp32
     * or tf32 (else a {@link UserError}), the recurrence as {@code kernel} runs it on an H200.
     */
    public static Prediction predict(ModelConfig config, int B, int T, Precision p, RnnKernel kernel) {
        if (p != Precision.FP32 && p != Precision.TF32)
            throw new UserError("the step cost model prices fp32 and tf32 steps, not " + p.id());
        Rates rates = Rates.fromProperty(h200());
        Recurrences r = new Recurrences(rates.device(), p, kernel, config.cell(), config.hidden());
        StepTrace trace = trace(config, B, T, p, rates, r);
        Map<StepPart, double[]> t = trace.totals();
        return new Prediction(
                ms(t, StepPart.FORWARD_RECURRENCE),
                ms(t, StepPart.BACKWARD_RECURRENCE),
                ms(t, StepPart.GEMM),
                count(t, StepPart.GEMM),
                ms(t, StepPart.KERNELS),
                count(t, StepPart.KERNELS),
                ms(t, StepPart.UPDATE),
                ms(t, StepPart.HOST) + rates.graphLaunchUs() / 1e3,
                Math.max(0, sum(t) - trace.criticalUs()) / 1e3,
                trace.flops() / rates.peakFlopsPerUs(p) / 1e3,
                trace.peakBytes() / (double) (1 << 20),
                r.describe(config.cell(), config.hidden(), B, TracedWindows.ranPairs(trace)),
                "H200 SXM model (" + rates.device()
                        + (rates.source().equals("assumed") ? "" : "; step rates " + rates.source()) + ")");
    }

    /** {@link #trace} at the rates of {@link Rates#fromProperty}, the recurrence as {@code kernel} runs it on an H200. */
    static StepTrace trace(ModelConfig config, int B, int T, Precision p, RnnKernel kernel) {
        Rates rates = Rates.fromProperty(h200());
        return trace(
                config, B, T, p, rates, new Recurrences(rates.device(), p, kernel, config.cell(), config.hidden()));
    }

    /**
     * The operations of one training step of {@code config} at batch B and T steps a window, as the
     * device orchestration queues them (the second step: the first allocates the workspace),
     * priced at {@code rates} with the recurrence's kernels as {@code r} chooses them; its memory
     * ({@link StepTrace#peakBytes}) that of bench's calls: Adam set, a window's corpus, two steps.
     */
    static StepTrace trace(ModelConfig config, int B, int T, Precision p, Rates rates, TracedRecurrence r) {
        StepTrace trace = new StepTrace(rates, p, r);
        try (Traced b = new Traced(config, trace)) {
            b.setOptimizer(OptimizerConfig.defaults(OptimizerKind.ADAM)); // as bench: its state made anew
            long perStream = T + 1L;
            int[] tokens = new int[(int) (B * perStream + 1)];
            for (int i = 0; i < tokens.length; i++) tokens[i] = i % config.vocabSize();
            try (var buf = b.upload(TokenSequence.of(tokens));
                    var state = b.newState(B)) {
                long[] starts = new long[B];
                for (int i = 0; i < B; i++) starts[i] = i * perStream;
                for (int step = 1; step <= 2; step++) { // the first allocates the workspace; the second is priced
                    trace.clear();
                    b.forward(state, new Window(buf, starts.clone(), T, step), true);
                    b.backward();
                    b.clip(ClipMode.NORM, CLIP);
                    b.step(LR, step);
                }
            }
        }
        return trace;
    }

    private static double ms(Map<StepPart, double[]> t, StepPart p) {
        double[] v = t.get(p);
        return v == null ? 0 : v[0] / 1e3;
    }

    private static double sum(Map<StepPart, double[]> t) {
        double s = 0;
        for (double[] v : t.values()) s += v[0];
        return s;
    }

    private static int count(Map<StepPart, double[]> t, StepPart p) {
        double[] v = t.get(p);
        return v == null ? 0 : (int) v[1];
    }

    /** The backend the trace drives: the device orchestration over a {@link StepTrace}. */
    private static final class Traced extends DeviceRnn {
        Traced(ModelConfig config, StepTrace trace) {
            super(config, trace);
        }
    }

    /** The recurrence's kernel as {@link PersistentRnn} picks it on a device of the model's numbers. */
    private static final class Recurrences implements TracedRecurrence {
        private final RnnCostModel.Device d;
        private final ProductArithmetic a;
        private final RnnKernel kernel;
        private final CellType cell;
        private final int H;
        private final String overlap = SideStream.knob();
        private final PersistentPairs.Wavefront wavefront = PersistentPairs.wanted();

        Recurrences(RnnCostModel.Device d, Precision p, RnnKernel kernel, CellType cell, int H) {
            this.d = d;
            this.a = ProductArithmetic.of(p, true);
            this.kernel = kernel;
            this.cell = cell;
            this.H = H;
        }

        /** As {@link SideStream#wanted}: on, off, or auto where the backward runs in the cluster layout. */
        @Override
        public boolean overlapsWeightGradients(int B) {
            if (!overlap.equals("auto")) return overlap.equals("on");
            PersistentChoice c = choose(cell, H, B);
            return c != null && c.backward() && c.clusters() > 0;
        }

        /** As {@link CudaOps#pipelinesLayers}: where the pass runs stepwise. */
        @Override
        public boolean pipelinesLayers(int B, boolean forwardPass) {
            PersistentChoice c = choose(cell, H, B);
            return c == null || !(forwardPass ? c.forward() : c.backward());
        }

        @Override
        public PersistentChoice choose(CellType cell, int H, int B) {
            if (kernel == RnnKernel.STEPWISE || !RnnKernel.hasPersistent(cell)) {
                if (kernel == RnnKernel.PERSISTENT)
                    throw UserError.naming(
                            "{BackendOptions.rnnKernel} persistent: only the lstm, gru and rnn cells have a persistent "
                                    + "kernel, not " + cell.id());
                return null;
            }
            if (kernel == RnnKernel.AUTO) return PersistentChoice.decide(d, cell, H, B, a, true);
            RnnCostModel.Device dp = PersistentChoice.forcedGrid(d, cell, H, B, a, 0);
            int cl = PersistentChoice.forcedClusters(d, cell, H, B, a, dp);
            if (cl > 0) {
                boolean rows =
                        RnnCostModel.backwardCluster(d, cell, H, B, a, cl).rows();
                Exchange x = PersistentChoice.forcedExchange(d, cell, H, B, a, cl);
                return new PersistentChoice(
                        true,
                        true,
                        rows,
                        RnnCostModel.clusterUnits(H),
                        cl,
                        new Exchange(x.forward(), x.backward() && !rows),
                        "");
            }
            if (!RnnCostModel.forward(dp, cell, H, B, a).fits())
                throw UserError.naming("{BackendOptions.rnnKernel} persistent: at batch size " + B
                        + " the persistent block does not fit in an H200's shared memory");
            return PersistentChoice.grid(
                    true,
                    true,
                    RnnCostModel.backward(dp, cell, H, B, a).rows(),
                    RnnCostModel.units(H, dp.maxBlocks()),
                    dp.groupsAt(B),
                    "");
        }

        /** As {@link PersistentRnn#pairChoice}, the pair's fit on the model's device. */
        @Override
        public PairCostModel.Estimate pair(CellType cell, int H, int B) {
            if (cell != CellType.RNN || wavefront == PersistentPairs.Wavefront.OFF) return null;
            PersistentChoice c = choose(cell, H, B);
            if (!PairCostModel.candidate(c)) return null;
            PairCostModel.Estimate e = PairCostModel.of(d, H, B, a, c.clusters());
            return e.fits() && PairCostModel.runs(wavefront, e) ? e : null;
        }

        @Override
        public long exchangeBytes(PersistentChoice c, CellType cell, int H, int B) {
            if (!c.backward() || !c.rows() || c.clusters() > 0) return 0;
            return RowsPlan.exchangeBytes(cell.recurrentGates(), c.units(), H, B, c.groups(), a);
        }

        @Override
        public double forwardUs(PersistentChoice c, CellType cell, int H, int B) {
            if (c.clusters() > 0)
                return RnnCostModel.forwardCluster(d, cell, H, B, a, c.clusters())
                        .persistentUs();
            return RnnCostModel.forward(c.gridOn(d, H), cell, H, B, a).persistentUs();
        }

        @Override
        public double backwardUs(PersistentChoice c, CellType cell, int H, int B) {
            if (c.clusters() > 0)
                return (c.rows()
                                ? RnnCostModel.backwardClusterRows(d, cell, H, B, a, c.clusters())
                                : RnnCostModel.backwardClusterColumns(d, cell, H, B, a, c.clusters()))
                        .persistentUs();
            RnnCostModel.Device dp = c.gridOn(d, H);
            return (c.rows()
                            ? RnnCostModel.backwardRows(dp, cell, H, B, a)
                            : RnnCostModel.backwardColumns(dp, cell, H, B, a))
                    .persistentUs();
        }

        /** "stepwise", "persistent" (forced) or auto's choice: which passes, in which layout, whether in {@code pairs}. */
        String describe(CellType cell, int H, int B, boolean pairs) {
            PersistentChoice c = choose(cell, H, B);
            if (c == null || !(c.forward() || c.backward())) return "stepwise";
            String passes = c.forward() && c.backward() ? "both passes" : c.forward() ? "forward" : "backward";
            String layout = c.clusters() > 0
                    ? PersistentChoice.layout(c.clusters(), c.units())
                    : PersistentChoice.gridLayout(c.groups(), H, c.units());
            layout += c.backward() && c.rows() ? ", rows backward" : "";
            layout += pairs ? ", layers two a launch" : "";
            return "persistent " + passes + " (" + layout + ")";
        }
    }
}
