package org.charrnn.backend.device;

import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.util.UserError;

/**
 * The layers pipelined by chunks of the window (issue #16's layer wavefront on the stepwise path):
 * the window's T steps are cut into chunks of C steps, and layer l + 1 runs chunk k while layer l
 * runs chunk k + 1, on the device's two queues (forward: layer l on the side queue where l is
 * odd; backward, top down: layer l there where L - 1 - l is odd). A tick queues its side chunks
 * first, marking the side queue after each, and its main chunks join only the marks they read
 * ({@link DeviceOps#sideMark}), so the two queues' chunks of a tick run side by side. Each chunk of a layer above 0
 * computes its own input projection (a GEMM over the chunk's rows, written over the rows of gx
 * that the layer below has finished with), and each chunk of a layer's backward above 0 its input
 * gradient and its rows' share of the weight gradients (+=), before the layer below overwrites
 * those dgates rows: one gx / dgx buffer still serves every layer. Layer 0 keeps its whole-window
 * projection and gradients. What it buys: the stepwise recurrence's small launches of two layers
 * overlap (at B 128 a step's GEMM fills a fraction of the SMs).
 *
 * <p>Where: {@code -Dcharrnn.layerPipeline=auto|on|forward|backward|off} ({@link #PROPERTY}): auto
 * in each pass where the device asks for it ({@link DeviceOps#pipelinesLayers}: the CUDA backend
 * where that pass runs stepwise; the other may run persistent, its layers one after another), on
 * wherever it may run (tests cover it at any shape), forward or backward in that pass only. It
 * needs two layers or more, a cell whose steps need no per-step scratch of their own and whose
 * input enters only through W_ih (LSTM, GRU, RNN). A chunk draws its share of the layer's dropout mask (its elements' indices in the whole
 * layer's output), so dropout is the same as unpipelined.
 * {@code -Dcharrnn.pipelineChunk} ({@link #CHUNK_PROPERTY}, default {@value #DEFAULT_CHUNK}) sets C;
 * auto also needs more steps than one chunk.
 */
final class LayerPipeline {
    static final String PROPERTY = "charrnn.layerPipeline";
    static final String CHUNK_PROPERTY = "charrnn.pipelineChunk";
    static final int DEFAULT_CHUNK = 10;

    private LayerPipeline() {}

    /**
     * Steps per chunk of the forward pass ({@code forwardPass}) or the backward for a window of T
     * steps and B rows of config cfg on ops (which sets its side queue up when it is used), or 0
     * where the pass runs its layers one after another.
     */
    static int chunk(ModelConfig cfg, DeviceOps ops, int T, int B, boolean forwardPass) {
        String v = System.getProperty(PROPERTY, "auto");
        int c = chunkSteps();
        boolean allowed = cfg.layers() > 1 && runsChunks(cfg.cell());
        boolean on = switch (v) {
            case "auto" -> allowed && T > c && ops.pipelinesLayers(B, false, forwardPass);
            case "on" -> allowed && ops.pipelinesLayers(B, true, forwardPass);
            case "forward", "backward" ->
                allowed && v.equals(forwardPass ? "forward" : "backward") && ops.pipelinesLayers(B, true, forwardPass);
            case "off" -> false;
            default -> throw new UserError(PROPERTY + " must be auto, on, forward, backward or off, not '" + v + "'");
        };
        return on ? c : 0;
    }

    /** The cells whose steps the pipeline may run on either queue: an exhaustive switch. */
    static boolean runsChunks(CellType cell) {
        return switch (cell) {
            case LSTM, GRU, RNN -> true;
            case MUT1, MUT2, MUT3 -> false; // per-step scratch and dx of one buffer; MUT1/2 feed x directly
        };
    }

    /** {@link #CHUNK_PROPERTY}'s steps per chunk (at least 1; anything else is a one-line UserError). */
    static int chunkSteps() {
        String v = System.getProperty(CHUNK_PROPERTY);
        if (v == null) return DEFAULT_CHUNK;
        try {
            int c = Integer.parseInt(v.trim());
            if (c >= 1) return c;
        } catch (NumberFormatException e) {
            // the message below says what is expected
        }
        throw new UserError(CHUNK_PROPERTY + " must be a whole number of steps of at least 1, not '" + v + "'");
    }
}
