package org.charrnn.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Precision;
import org.charrnn.util.UserError;

/**
 * The fused decoder (kernels/cuda/decoder.cu, {@code decoder_xent}): the decoder GEMM, the softmax
 * cross-entropy and the GEMM of dL/dtop of a training window in one launch, where it fits in shared
 * memory and the step cost model predicts it faster than the three launches it replaces (a GEMM,
 * softmax_xent, a GEMM); {@link #PROPERTY} forces it on or off. The host's copy of the kernel's
 * tile shape and shared memory, its price, and its launcher.
 *
 * <p>Price (assumed, to be checked with {@code charrnn bench --predict --profile}): a kernel's floor;
 * + every block's copy of W_dec [V,H] from L2 at {@link RnnRates#l2BytesPerUs}; + per SM its share
 * of the row tiles, each {@link #FMAS_PER_CLOCK} FMAs a clock (a warp's 16-byte loads of w and the
 * broadcast rows: half the FMA lanes) and {@link #TILE_CLOCKS} for the tile's loads, barriers and
 * exponentials, or the rows' bytes through HBM where more; + the loss sum of the last block.
 */
final class DecoderXent {
    /** {@code -Dcharrnn.cuda.fusedDecoder=auto|on|off}: on fuses wherever the block fits. */
    static final String PROPERTY = "charrnn.cuda.fusedDecoder";

    static final int LANES = 16; // CR_DEC_LANES: softmax lanes a row
    static final int MAX_GROUPS = 4; // CR_DEC_MAX_GROUPS: the most row groups of 4 rows a tile
    /** FMAs per SM and clock of the kernel's products: shared-memory bound at half the FMA lanes. */
    static final double FMAS_PER_CLOCK = RnnCostModel.FMA_LANES / 2.0;
    /** Clocks of a row tile besides its products: its rows from memory, 12 barriers, the exponentials. */
    static final double TILE_CLOCKS = 1000;

    /** auto, on, off. */
    enum Mode {
        AUTO,
        ON,
        OFF
    }

    private final CUfunction fn;
    private final int sms;
    private final int limit; // shared memory a block may use
    private final Mode mode;
    private final StepCostModel.Rates rates;

    /**
     * The launcher on a device of {@code sms} SMs whose blocks may use {@code limit} bytes of shared
     * memory (raised for the kernel where above the default), priced at {@code rates}.
     */
    DecoderXent(Kernels kernels, int sms, int limit, StepCostModel.Rates rates) {
        this.fn = kernels.fn("decoder_xent");
        this.sms = Math.max(1, sms);
        this.limit = limit;
        this.mode = mode();
        this.rates = rates;
        if (limit > PersistentRnn.DEFAULT_SHARED)
            JCudaDriver.cuFuncSetAttribute(
                    fn, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, limit);
    }

    /**
     * The launcher on {@code device}, priced at its SMs, clock and shared memory with the rates of
     * {@link StepCostModel.Rates#fromProperty}; on a device without a clock rate (the emulated one) at
     * the H200 model's, as {@code charrnn bench --predict} prices it.
     */
    static DecoderXent open(Kernels kernels, CUdevice device) {
        int sms = PersistentRnn.attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        int limit = Math.max(
                PersistentRnn.DEFAULT_SHARED,
                PersistentRnn.attribute(
                        device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN));
        int clockKhz = PersistentRnn.attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
        RnnCostModel.Device d = clockKhz > 0 && sms > 0
                ? new RnnCostModel.Device(sms, clockKhz / 1e6, limit, RnnRates.fromProperty())
                : StepCostModel.h200();
        return new DecoderXent(kernels, sms, limit, StepCostModel.Rates.fromProperty(d));
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

    /** Whether this device runs the decoder of N rows, V symbols and H units fused. */
    boolean fuses(Precision p, int N, int V, int H, boolean writeGrad) {
        return fuses(mode, rates, limit, p, N, V, H, writeGrad);
    }

    /**
     * Whether the decoder of N rows, V symbols and H units runs fused in mode m: never off, where the
     * block fits in {@code limit} bytes on, and where it fits and is priced below the three
     * launches it replaces auto.
     */
    static boolean fuses(
            Mode m, StepCostModel.Rates r, int limit, Precision p, int N, int V, int H, boolean writeGrad) {
        if (m == Mode.OFF || sharedBytes(V, H) > limit) return false;
        return m == Mode.ON || fusedUs(r, N, V, H, writeGrad) < unfusedUs(r, p, N, V, H, writeGrad);
    }

    /** cr_decoder_groups: row groups of 4 rows a tile, one logits item a thread, 1 to MAX_GROUPS. */
    static int groups(int V) {
        int g = V > 0 ? Kernels.BLOCK / V : MAX_GROUPS;
        return Math.max(1, Math.min(MAX_GROUPS, g));
    }

    /** cr_decoder_rows: rows of a tile. */
    static int rows(int V) {
        return 4 * groups(V);
    }

    /** cr_decoder_stride: w's and the rows' stride in floats. */
    static int stride(int H) {
        return (H + 3) / 4 * 4 + 4;
    }

    /** cr_decoder_shared_bytes: w [V][WS], the tile's rows [RT][WS] and logits [RT][V + 1]. */
    static long sharedBytes(int V, int H) {
        long ws = stride(H), rt = rows(V);
        return 4L * ((long) V * ws + rt * ws + rt * (V + 1));
    }

    /** The launch's blocks over N rows on {@code sms} SMs: a block an SM, no more than the tiles. */
    static int blocks(int N, int V, int sms) {
        int rt = rows(V);
        return (int) Math.max(1, Math.min(sms, ((long) N + rt - 1) / rt));
    }

    /** The fused kernel's price, µs (class comment). */
    static double fusedUs(StepCostModel.Rates r, int N, int V, int H, boolean writeGrad) {
        RnnCostModel.Device d = r.device();
        int rt = rows(V), blocks = blocks(N, V, d.sms());
        double tilesPerSm = Math.ceil(Math.ceil((double) N / rt) / d.sms());
        double fmas = (double) rt * V * (stride(H) - 4) * (writeGrad ? 2 : 1);
        double compute = tilesPerSm * (fmas / FMAS_PER_CLOCK + TILE_CLOCKS) / d.clocksPerUs();
        double bytes = 4.0 * N * ((writeGrad ? 2.0 : 1.0) * H + V + 2);
        double weights = (double) blocks * 4 * V * H / d.rates().l2BytesPerUs();
        return r.kernelUs() + weights + Math.max(compute, bytes / r.hbmBytesPerUs()) + lastBlockSumUs(r, N);
    }

    /** The launches it replaces: the decoder GEMM, softmax_xent with the loss sum, the dtop GEMM with writeGrad. */
    static double unfusedUs(StepCostModel.Rates r, Precision p, int N, int V, int H, boolean writeGrad) {
        return r.gemmUs(N, V, H, p) + softmaxXentSumUs(r, N, V, writeGrad) + (writeGrad ? r.gemmUs(N, H, V, p) : 0);
    }

    /** softmax_xent over N rows of V with the loss sum by its last block. */
    static double softmaxXentSumUs(StepCostModel.Rates r, int N, int V, boolean writeGrad) {
        return r.kernelUs((writeGrad ? 8.0 : 4.0) * N * V + 12.0 * N) + lastBlockSumUs(r, N);
    }

    /** A kernel's sum of n values by its last block: sum_final's time without its floor. */
    static double lastBlockSumUs(StepCostModel.Rates r, long n) {
        return r.blockSumUs(n) - r.kernelUs();
    }

    /**
     * decoder_xent: logits [N,V] (=) gradScale (softmax(top W^T + bias) - onehot(y)) with writeGrad,
     * else top W^T + bias; rowLoss [N] (=); dTop [N,H] (=) the gradient W with writeGrad ({@link
     * Kernels#NONE} without); lossSum [1] (=) the sum of rowLoss by the last block (ticket [1]: 0
     * before and after), or NONE. top [N,H], w [V,H]; no aliasing among top, w, logits, dTop.
     */
    void launch(
            CUstream stream,
            Pointer top,
            Pointer w,
            Pointer bias,
            Pointer y,
            Pointer logits,
            Pointer rowLoss,
            Pointer dTop,
            int N,
            int V,
            int H,
            float gradScale,
            boolean writeGrad,
            Pointer lossSum,
            Pointer ticket) {
        Pointer args = Pointer.to(
                Pointer.to(top),
                Pointer.to(w),
                Pointer.to(bias),
                Pointer.to(y),
                Pointer.to(logits),
                Pointer.to(rowLoss),
                Pointer.to(dTop),
                Pointer.to(new int[] {N}),
                Pointer.to(new int[] {V}),
                Pointer.to(new int[] {H}),
                Pointer.to(new float[] {gradScale}),
                Pointer.to(new int[] {writeGrad ? 1 : 0}),
                Pointer.to(lossSum),
                Pointer.to(ticket));
        JCudaDriver.cuLaunchKernel(
                fn, blocks(N, V, sms), 1, 1, Kernels.BLOCK, 1, 1, (int) sharedBytes(V, H), stream, args, null);
    }
}
