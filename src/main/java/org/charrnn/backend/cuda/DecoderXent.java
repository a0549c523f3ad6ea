package org.charrnn.backend.cuda;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import jcuda.Pointer;
import jcuda.driver.CUdevice;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Precision;
import org.charrnn.backend.device.DecoderKernels;
import org.charrnn.backend.device.DeviceArray;
import org.charrnn.backend.device.Ref;
import org.charrnn.backend.device.WeightRows;
import org.charrnn.util.UserError;

/**
 * The fused decoder (kernels/cuda/decoder.cu, {@code decoder_xent}): the decoder GEMM, the softmax
 * cross-entropy and the GEMM of dL/dtop of a training window in one launch, where it fits in shared
 * memory and the step cost model predicts it faster than the three launches it replaces (a GEMM,
 * softmax_xent, a GEMM); {@link #PROPERTY} forces it on or off. The CUDA backend's {@link
 * DecoderKernels}: the host's copy of the kernel's tile shape and shared memory, its price, and
 * its launch.
 *
 * <p>Price (assumed, to be checked with {@code charrnn bench --predict --profile}): a kernel's floor;
 * + every block's copy of W_dec [V,H] from L2 at {@link RnnRates#l2BytesPerUs}, or a thread's
 * rounds of {@link #LOADS} loads in flight, an L2 hit each, where longer; + per SM its share
 * of the row tiles ({@link #groups}: as few rounds as the tile size allows), each {@link
 * #FMAS_PER_CLOCK} FMAs a clock and {@link #TILE_CLOCKS} for the tile's loads, barriers and
 * exponentials, or the rows' bytes through HBM where more; + the loss sum of the last block.
 */
final class DecoderXent implements DecoderKernels {
    /** {@code -Dcharrnn.cuda.fusedDecoder=auto|on|off}: on fuses wherever the block fits. */
    static final String PROPERTY = "charrnn.cuda.fusedDecoder";

    static final int MAX_GROUPS = 8; // CR_DEC_MAX_GROUPS: the most row groups of 4 rows a tile
    static final int LOADS = 8; // CR_DEC_LOADS: loads a thread has in flight while it stages w and the rows
    /**
     * FMAs per SM and clock of the kernel's products, shared-memory bound: a warp's 32 FMA
     * instructions (4 rows by 2 columns by 4 k, or 4 rows by 8 columns of dtop) take 12 wavefronts of
     * shared memory at one a clock (two 16-byte loads of w, 4 each, and 4 broadcasts of the rows),
     * so 32 x 32 / 12 lanes of the 128.
     */
    static final double FMAS_PER_CLOCK = 32.0 * 32 / 12;
    /** Clocks of a row tile besides its products: its rows from memory, 10 barriers, the exponentials. */
    static final double TILE_CLOCKS = 1000;

    /** auto, on, off. */
    enum Mode {
        AUTO,
        ON,
        OFF
    }

    private final CUfunction fn;
    private final CUstream stream;
    private final Precision precision;
    private final Function<WeightRows, Pointer> weights; // a weight matrix's rows in the flat parameters
    private final Pointer ticket; // [1] the loss sum's last-block counter, 0 between launches
    private final int sms;
    private final int limit; // dynamic shared memory a block may use: the opt-in limit less the kernel's own
    private final Mode mode;
    private final StepCostModel.Rates rates;
    private final Consumer<String> log;
    private final Set<Long> logged = new HashSet<>(); // the (N, writeGrad) whose choice the log has

    /**
     * The fused decoder of {@code device} on {@code stream}, priced at its SMs, clock and shared
     * memory with the rates of {@link StepCostModel.Rates#fromProperty}; on a device without a clock
     * rate (the emulated one) at the H200 model's, as {@code charrnn bench --predict} prices it;
     * {@code log} gets one line for each size of window, the first time its decoder runs.
     */
    DecoderXent(
            Kernels kernels,
            CUdevice device,
            CUstream stream,
            Precision precision,
            Function<WeightRows, Pointer> weights,
            Pointer ticket,
            Consumer<String> log) {
        this.fn = kernels.fn("decoder_xent");
        this.stream = stream;
        this.precision = precision;
        this.weights = weights;
        this.ticket = ticket;
        this.log = log;
        this.mode = mode();
        PersistentLimits.Numbers numbers = PersistentLimits.Numbers.of(device);
        this.sms = numbers.sms();
        // the kernel's own __shared__ arrays (its reduction trees) count against the block's limit too
        int[] fixed = new int[1];
        JCudaDriver.cuFuncGetAttribute(fixed, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, fn);
        this.limit = numbers.limit() - fixed[0];
        RnnCostModel.Device model = numbers.model(RnnRates.fromProperty());
        this.rates = StepCostModel.Rates.fromProperty(model != null ? model : StepCostModel.h200());
        if (limit + fixed[0] > PersistentRnn.DEFAULT_SHARED)
            JCudaDriver.cuFuncSetAttribute(
                    fn, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, limit);
    }

    /** The mode {@link #PROPERTY} sets: AUTO unset; a {@link UserError} for another value. */
    static Mode mode() {
        String v = System.getProperty(PROPERTY, "auto");
        return switch (v) {
            case "auto" -> Mode.AUTO;
            case "on" -> Mode.ON;
            case "off" -> Mode.OFF;
            default -> throw new UserError(PROPERTY + " must be auto, on or off, not '" + v + "'");
        };
    }

    /**
     * Whether the decoder of N rows, V symbols and H units runs fused in mode m: never off, where the
     * block fits in {@code limit} bytes on, and where it fits and is priced below the three
     * launches it replaces auto.
     */
    static boolean fuses(
            Mode m, StepCostModel.Rates r, int limit, Precision p, int N, int V, int H, boolean writeGrad) {
        if (m == Mode.OFF || !fits(V, H, limit)) return false;
        return m == Mode.ON || fusedUs(r, limit, N, V, H, writeGrad) < unfusedUs(r, p, N, V, H, writeGrad);
    }

    /** Whether a block of the fewest groups, one, fits in {@code limit} bytes (a launch takes as many as fit). */
    private static boolean fits(int V, int H, long limit) {
        return sharedBytes(V, H, 1) <= limit;
    }

    /**
     * "decoder of 2500 rows (training): fused, decoder_xent (cost model: 5.6 µs vs 10.8 µs as a GEMM,
     * softmax_xent and a GEMM)" (evaluation: "... as a GEMM and softmax_xent", which has no dL/dtop
     * GEMM), or "... apart ...", or "... forced" where the knob decided.
     */
    private String line(int N, int V, int H, boolean writeGrad, boolean fused) {
        String head =
                "decoder of " + N + (N == 1 ? " row (" : " rows (") + (writeGrad ? "training" : "evaluation") + "): ";
        if (!fits(V, H, limit))
            return head + "apart (its block needs " + (sharedBytes(V, H, 1) >> 10) + " KiB of shared memory, more "
                    + "than the " + (limit >> 10) + " KiB a block may use)";
        String how = fused ? "fused, decoder_xent" : "apart";
        if (mode != Mode.AUTO)
            return head + how + ", forced (" + PROPERTY + "=" + mode.name().toLowerCase(Locale.ROOT) + ")";
        return head
                + how
                + String.format(
                        Locale.ROOT,
                        " (cost model: %.1f µs vs %.1f µs as %s)",
                        fusedUs(rates, limit, N, V, H, writeGrad),
                        unfusedUs(rates, precision, N, V, H, writeGrad),
                        writeGrad ? "a GEMM, softmax_xent and a GEMM" : "a GEMM and softmax_xent");
    }

    /**
     * cr_decoder_groups: row groups of 4 rows a tile for N rows on {@code sms} SMs, a block each: of 1
     * to MAX_GROUPS the one whose rounds of tiles times its groups plus one (a tile's own work) is
     * least, the larger on a tie.
     */
    static int groups(int N, int sms) {
        int best = 1;
        long bestCost = -1;
        for (int g = 1; g <= MAX_GROUPS; g++) {
            long tiles = ((long) N + 4 * g - 1) / (4 * g), rounds = (tiles + Math.max(1, sms) - 1) / Math.max(1, sms);
            long cost = rounds * (g + 1);
            if (bestCost < 0 || cost <= bestCost) {
                best = g;
                bestCost = cost;
            }
        }
        return best;
    }

    /** The groups a launch takes: {@link #groups(int, int)}, fewer where its block would not fit in {@code limit} bytes. */
    static int groups(int N, int V, int H, int sms, long limit) {
        int g = groups(N, sms);
        while (g > 1 && sharedBytes(V, H, g) > limit) g--;
        return g;
    }

    /** cr_decoder_rows: rows of a tile of G groups. */
    static int rows(int groups) {
        return 4 * groups;
    }

    /** cr_decoder_stride: w's and the rows' stride in floats. */
    static int stride(int H) {
        return (H + 3) / 4 * 4 + 4;
    }

    /** cr_decoder_shared_bytes: w [V][WS], the tile's rows [RT][WS] and logits [RT][V + 1], at G groups. */
    static long sharedBytes(int V, int H, int groups) {
        long ws = stride(H), rt = rows(groups);
        return 4L * ((long) V * ws + rt * ws + rt * (V + 1));
    }

    /** The launch's blocks over N rows in tiles of G groups on {@code sms} SMs: a block an SM, no more than the tiles. */
    static int blocks(int N, int groups, int sms) {
        int rt = rows(groups);
        return (int) Math.max(1, Math.min(sms, ((long) N + rt - 1) / rt));
    }

    /** The fused kernel's price, µs (class comment), its tiles as a block of {@code limit} bytes takes them. */
    static double fusedUs(StepCostModel.Rates r, long limit, int N, int V, int H, boolean writeGrad) {
        RnnCostModel.Device d = r.device();
        int g = groups(N, V, H, d.sms(), limit), rt = rows(g), blocks = blocks(N, g, d.sms());
        double tilesPerSm = Math.ceil(Math.ceil((double) N / rt) / d.sms());
        double fmas = (double) rt * V * (stride(H) - 4) * (writeGrad ? 2 : 1);
        double compute = tilesPerSm * (fmas / FMAS_PER_CLOCK + TILE_CLOCKS) / d.clocksPerUs();
        double bytes = 4.0 * N * ((writeGrad ? 2.0 : 1.0) * H + V + 2);
        double rounds = Math.ceil((double) V * (stride(H) - 4) / (Kernels.BLOCK * LOADS)); // a thread's loads of w
        double weights = Math.max(
                (double) blocks * 4 * V * H / d.rates().l2BytesPerUs(), rounds * r.l2LatencyClocks() / d.clocksPerUs());
        return r.kernelUs() + weights + Math.max(compute, bytes / r.hbmBytesPerUs()) + r.lastBlockSumUs(N);
    }

    /** The launches it replaces: the decoder GEMM, softmax_xent with the loss sum, the dtop GEMM with writeGrad. */
    static double unfusedUs(StepCostModel.Rates r, Precision p, int N, int V, int H, boolean writeGrad) {
        // DecoderPass's GEMMs as CudaOps.gemmWeight calls them: logits = top W_dec^T, dtop = dlogits W_dec
        double logits = r.gemmUs(new GemmShape(p, false, true, N, V, H, false));
        double dtop = writeGrad ? r.gemmUs(new GemmShape(p, false, false, N, H, V, false)) : 0;
        return logits + softmaxXentSumUs(r, N, V, writeGrad) + dtop;
    }

    /** softmax_xent over N rows of V with the loss sum by its last block. */
    static double softmaxXentSumUs(StepCostModel.Rates r, int N, int V, boolean writeGrad) {
        return r.kernelUs((writeGrad ? 8.0 : 4.0) * N * V + 12.0 * N) + r.lastBlockSumUs(N);
    }

    /** decoder_xent where {@link #fuses} (one block an SM, row tiles grid-stride); else false. */
    @Override
    public boolean decoderXent(
            Ref top,
            WeightRows dec,
            Ref bias,
            DeviceArray y,
            Ref logits,
            Ref rowLoss,
            Ref lossSum,
            Ref dTop,
            int N,
            int V,
            int H,
            float gradScale,
            boolean writeGrad) {
        boolean fused = fuses(mode, rates, limit, precision, N, V, H, writeGrad);
        if (logged.add(2L * N + (writeGrad ? 1 : 0))) log.accept(line(N, V, H, writeGrad, fused));
        if (!fused) return false;
        int groups = groups(N, V, H, sms, limit);
        Pointer args = Pointer.to(
                Pointer.to(CudaCellKernels.p(top)),
                Pointer.to(weights.apply(dec)),
                Pointer.to(CudaCellKernels.p(bias)),
                Pointer.to(CudaCellKernels.buf(y).ptr),
                Pointer.to(CudaCellKernels.p(logits)),
                Pointer.to(CudaCellKernels.p(rowLoss)),
                Pointer.to(writeGrad ? CudaCellKernels.p(dTop) : Kernels.NONE),
                Pointer.to(new int[] {N}),
                Pointer.to(new int[] {V}),
                Pointer.to(new int[] {H}),
                Pointer.to(new int[] {groups}),
                Pointer.to(new float[] {gradScale}),
                Pointer.to(new int[] {writeGrad ? 1 : 0}),
                Pointer.to(CudaCellKernels.p(lossSum)),
                Pointer.to(ticket));
        JCudaDriver.cuLaunchKernel(
                fn,
                blocks(N, groups, sms),
                1,
                1,
                Kernels.BLOCK,
                1,
                1,
                (int) sharedBytes(V, H, groups),
                stream,
                args,
                null);
        return true;
    }
}
