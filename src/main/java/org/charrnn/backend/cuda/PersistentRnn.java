package org.charrnn.backend.cuda;

import static org.charrnn.backend.cuda.Kernels.arg;

import jcuda.Pointer;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * The choice between the persistent passes of an LSTM, GRU or RNN (kernels/cuda/persistent_*.cu:
 * one cooperative launch per layer for all T steps, forward and backward, each block's slice of
 * W_hh in dynamic shared memory) and the stepwise ones, made once per backend from
 * {@link RnnKernel}, the model and the device, and the launches themselves. One block of
 * {@link Kernels#BLOCK} threads per multiprocessor, U = ceil(H / SMs) hidden units each, so every
 * block is resident at once as a cooperative launch requires; a block's slice is the G = Gh / H gate
 * rows of each of its units (4 LSTM, 3 GRU, 1 RNN), G U H floats, next to an h (or dgates) tile and
 * the products ({@link PersistentPlan}), so a launch's shared memory depends on the batch size B.
 */
final class PersistentRnn {
    private static final int DEFAULT_SHARED = 48 << 10; // per block without cuFuncSetAttribute

    /** Why auto runs stepwise where the persistent kernel could run. */
    static final String AUTO_STEPWISE = "auto: persistent not yet measured faster on a GPU; --rnn-kernel persistent";

    private final CUfunction forward, backward;
    private final CUstream stream;
    private final int units; // U; 0 = stepwise
    private final int gates, limit; // G; shared memory a block may use
    private final String description;

    /** Decides; {@link RnnKernel#PERSISTENT} that cannot run is a {@link UserError} saying why. */
    PersistentRnn(Kernels kernels, CUstream stream, CUdevice device, ModelConfig config, Precision p, RnnKernel k) {
        this.stream = stream;
        CellType cell = config.cell();
        int H = config.hidden();
        int sms = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        int optin = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        int u = units(H, sms);
        long bytes = RnnKernel.hasPersistent(cell) ? sharedBytes(cell, H, sms) : 0;
        String why = null;
        if (!RnnKernel.hasPersistent(cell))
            why = "only the lstm, gru and rnn cells have a persistent kernel, not " + cell.id();
        else if (p != Precision.FP32) why = "the persistent kernel computes in fp32, not " + p.id();
        else if (attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH) == 0)
            why = "the device does not support cooperative launches";
        else if (bytes > Math.max(optin, DEFAULT_SHARED))
            why = "a slice of W_hh (" + gates(cell) + " rows x " + u + " units x " + H + ", " + (bytes >> 10)
                    + " KiB) exceeds the " + (Math.max(optin, DEFAULT_SHARED) >> 10)
                    + " KiB of shared memory per block";
        if (k == RnnKernel.PERSISTENT && why != null) throw new UserError("--rnn-kernel persistent: " + why);
        // auto stays stepwise until a GPU measurement shows the persistent kernels faster: the cost
        // model (bench/results/persistent-cost-model-2026-12-02.md) expects the present mapping slower
        if (k == RnnKernel.AUTO && why == null) why = AUTO_STEPWISE;
        boolean persistent = k == RnnKernel.PERSISTENT || (k != RnnKernel.STEPWISE && why == null);
        this.units = persistent ? u : 0;
        this.gates = persistent ? gates(cell) : 0;
        this.limit = Math.max(optin, DEFAULT_SHARED);
        this.forward = persistent ? kernels.fn("persistent_" + cell.id() + "_forward") : null;
        this.backward = persistent ? kernels.fn("persistent_" + cell.id() + "_backward") : null;
        if (persistent && limit > DEFAULT_SHARED)
            for (CUfunction f : new CUfunction[] {forward, backward})
                JCudaDriver.cuFuncSetAttribute(
                        f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, limit);
        this.description = persistent
                ? "rnn persistent (" + ((H + u - 1) / u) + " blocks x " + u + " units)"
                : "rnn stepwise" + (k == RnnKernel.STEPWISE || why == null ? "" : " (" + why + ")");
    }

    /** Gate rows of W_hh per hidden unit, G = Gh / H, of a cell with a persistent kernel. */
    private static int gates(CellType cell) {
        return cell.recurrentGates();
    }

    /** Hidden units per block: one block per multiprocessor. */
    private static int units(int H, int sms) {
        return (H + Math.max(1, sms) - 1) / Math.max(1, sms);
    }

    /** Dynamic shared memory of a block: its units' G gate rows of W_hh in fp32. */
    private static long sharedBytes(CellType cell, int H, int sms) {
        return 4L * gates(cell) * units(H, sms) * H;
    }

    /**
     * What {@code --rnn-kernel persistent} runs on device {@code index}, for {@code charrnn devices}:
     * the largest H of each fp32 cell that runs persistent, or why none does.
     */
    static String deviceNote(int index) {
        CUdevice d = new CUdevice();
        JCudaDriver.cuDeviceGet(d, index);
        if (attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH) == 0)
            return "device " + index + ": no cooperative launches: every cell runs stepwise";
        int sms = attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        int limit = Math.max(
                DEFAULT_SHARED, attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN));
        StringBuilder up = new StringBuilder();
        for (CellType cell : new CellType[] {CellType.LSTM, CellType.GRU, CellType.RNN}) {
            int h = 0;
            while (h < (1 << 16) && sharedBytes(cell, h + 1, sms) <= limit) h++;
            up.append(up.isEmpty() ? "" : ", ")
                    .append(cell.id())
                    .append(" H <= ")
                    .append(h);
        }
        return "device " + index + ": --rnn-kernel persistent runs fp32 " + up + " (a block on each of " + sms
                + " SMs, " + (limit >> 10)
                + " KiB of shared memory each); auto runs stepwise until the persistent kernel is measured faster";
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] v = new int[1];
        JCudaDriver.cuDeviceGetAttribute(v, attribute, device);
        return v[0];
    }

    /** True when the forward and the backward pass run as one persistent launch per layer each. */
    boolean enabled() {
        return units > 0;
    }

    /** "rnn persistent (...)" or "rnn stepwise (why)", for the device line of bench rows and logs. */
    String description() {
        return description;
    }

    /**
     * ceil(H / U) blocks of {@link Kernels#BLOCK} threads, cooperative, with the block's shared
     * memory at batch B ({@link PersistentPlan#sharedBytes}); a {@link UserError} where it does not fit.
     */
    private void launch(CUfunction f, int H, int B, Pointer args) {
        int blocks = (H + units - 1) / units;
        long bytes = PersistentPlan.sharedBytes(gates, units, H, B);
        if (bytes > limit)
            throw new UserError("--rnn-kernel persistent: at batch size " + B + " a block needs " + (bytes >> 10)
                    + " KiB of shared memory (its W_hh slice, an h tile and the products), more than the "
                    + (limit >> 10) + " KiB per block");
        JCudaDriver.cuLaunchCooperativeKernel(f, blocks, 1, 1, Kernels.BLOCK, 1, 1, (int) bytes, stream, args);
    }

    /** Byte offset of slot 1 of a [T+1,B,H] sequence. */
    private static long slot1(int B, int H) {
        return 4L * B * H;
    }

    /**
     * One LSTM layer's whole window (kernels/README.md, persistent_lstm_forward): hs, cs [T+1,B,H]
     * with the initial state in slot 0, written (=) in slots 1..T; gates [T,B,4H] (=); gx [T,B,4H].
     */
    void lstmForward(
            Pointer gx,
            Pointer whh,
            Pointer bih,
            Pointer bhh,
            Pointer hs,
            Pointer cs,
            Pointer gates,
            int T,
            int B,
            int H) {
        long s1 = slot1(B, H);
        launch(
                forward,
                H,
                B,
                Pointer.to(
                        arg(gx),
                        arg(whh),
                        arg(bih),
                        arg(bhh),
                        arg(hs),
                        arg(cs),
                        arg(hs.withByteOffset(s1)),
                        arg(cs.withByteOffset(s1)),
                        arg(gates),
                        arg(T),
                        arg(B),
                        arg(H),
                        arg(units)));
    }

    /**
     * BPTT through one LSTM layer's window (persistent_lstm_backward): dhOut [T,B,H]; dhNext, dc
     * [B,H] in/out; gates [T,B,4H], cs [T+1,B,H] as forward saved them; dgates [T,B,4H] (=).
     */
    void lstmBackward(
            Pointer dhOut,
            Pointer dhNext,
            Pointer dc,
            Pointer gates,
            Pointer cs,
            Pointer whh,
            Pointer dgates,
            int T,
            int B,
            int H) {
        launch(
                backward,
                H,
                B,
                Pointer.to(
                        arg(dhOut),
                        arg(dhNext),
                        arg(dc),
                        arg(gates),
                        arg(cs),
                        arg(whh),
                        arg(dgates),
                        arg(T),
                        arg(B),
                        arg(H),
                        arg(units)));
    }

    /**
     * One GRU layer's whole window (persistent_gru_forward): hs [T+1,B,H] with the initial state in
     * slot 0, written (=) in slots 1..T; gates [T,B,4H] (=) r, z, n, gh_n + b_hn; gx [T,B,3H].
     */
    void gruForward(Pointer gx, Pointer whh, Pointer bih, Pointer bhh, Pointer hs, Pointer gates, int T, int B, int H) {
        launch(
                forward,
                H,
                B,
                Pointer.to(
                        arg(gx),
                        arg(whh),
                        arg(bih),
                        arg(bhh),
                        arg(hs),
                        arg(hs.withByteOffset(slot1(B, H))),
                        arg(gates),
                        arg(T),
                        arg(B),
                        arg(H),
                        arg(units)));
    }

    /**
     * BPTT through one GRU layer's window (persistent_gru_backward): dhOut [T,B,H]; dhNext [B,H]
     * in/out; gates [T,B,4H], hs [T+1,B,H] as forward saved them; dgx, dgh [T,B,3H] (=).
     */
    void gruBackward(
            Pointer dhOut,
            Pointer dhNext,
            Pointer gates,
            Pointer hs,
            Pointer whh,
            Pointer dgx,
            Pointer dgh,
            int T,
            int B,
            int H) {
        launch(
                backward,
                H,
                B,
                Pointer.to(
                        arg(dhOut),
                        arg(dhNext),
                        arg(gates),
                        arg(hs),
                        arg(whh),
                        arg(dgx),
                        arg(dgh),
                        arg(T),
                        arg(B),
                        arg(H),
                        arg(units)));
    }

    /**
     * One tanh-RNN layer's whole window (persistent_rnn_forward): hs [T+1,B,H] with the initial
     * state in slot 0, written (=) in slots 1..T; gx [T,B,H].
     */
    void rnnForward(Pointer gx, Pointer whh, Pointer bih, Pointer bhh, Pointer hs, int T, int B, int H) {
        launch(
                forward,
                H,
                B,
                Pointer.to(
                        arg(gx),
                        arg(whh),
                        arg(bih),
                        arg(bhh),
                        arg(hs),
                        arg(hs.withByteOffset(slot1(B, H))),
                        arg(T),
                        arg(B),
                        arg(H),
                        arg(units)));
    }

    /**
     * BPTT through one tanh-RNN layer's window (persistent_rnn_backward): dhOut [T,B,H]; dhNext
     * [B,H] in/out; hs [T+1,B,H] as forward wrote it (the kernel reads slots 1..T); dgates [T,B,H] (=).
     */
    void rnnBackward(Pointer dhOut, Pointer dhNext, Pointer hs, Pointer whh, Pointer dgates, int T, int B, int H) {
        launch(
                backward,
                H,
                B,
                Pointer.to(
                        arg(dhOut),
                        arg(dhNext),
                        arg(hs.withByteOffset(slot1(B, H))),
                        arg(whh),
                        arg(dgates),
                        arg(T),
                        arg(B),
                        arg(H),
                        arg(units)));
    }
}
