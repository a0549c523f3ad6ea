package org.charrnn.backend.device;

import java.util.function.Consumer;
import org.charrnn.model.ParamLayout;

/**
 * The decoder of a window and its loss, {@link RnnPasses}' last forward operations and first
 * backward ones: logits [N,V] = top [N,H] W_dec^T + b_dec, the softmax cross-entropy summed on
 * the device and dL/dlogits in place of the logits; backward dL/dtop [N,H] = dlogits W_dec, and
 * dW_dec, db_dec on the side queue. Where the device fuses the decoder ({@link DecoderKernels}) the
 * training forward writes dL/dtop as well, and the backward starts from it.
 */
final class DecoderPass {
    private final DeviceOps ops;
    private final Ref bias, gradWeight, gradBias; // b_dec [V], dW_dec [V,H], db_dec [V]
    private final WeightRows weight; // W_dec [V,H]
    private final int V, H;

    DecoderPass(DeviceOps ops, ParamLayout layout, DeviceArray params, DeviceArray grads, int V, int H) {
        this.ops = ops;
        this.weight = WeightRows.of(layout.decoderWeight());
        this.bias = new Ref(params, layout.decoderBias().offset());
        this.gradWeight = new Ref(grads, layout.decoderWeight().offset());
        this.gradBias = new Ref(grads, layout.decoderBias().offset());
        this.V = V;
        this.H = H;
    }

    /**
     * The decoder over w's top output {@code top} [N,H]; softmax: the loss into w.lossSum (training:
     * dL/dlogits in w.logits, and dTop [N,H] (=) dL/dtop where the device fused the decoder:
     * w.topGradReady), else w.logits (=) logits + bias.
     */
    void forward(Workspace w, Ref top, Ref dTop, boolean training, boolean softmax) {
        final int N = w.N;
        Ref logits = Ref.of(w.logits), rowLoss = Ref.of(w.rowLoss), lossSum = Ref.of(w.lossSum);
        boolean fused = softmax
                && w.ignoreTarget < 0
                && ops.decoders()
                        .decoderXent(
                                top,
                                weight,
                                bias,
                                w.y,
                                logits,
                                rowLoss,
                                lossSum,
                                training ? dTop : null,
                                N,
                                V,
                                H,
                                1.0f / N,
                                training);
        w.topGradReady = fused && training;
        if (fused) return;
        ops.gemmWeight(true, N, V, H, 1f, top, H, weight, 0f, logits, V);
        if (softmax && w.ignoreTarget >= 0) {
            // uncounted targets: unscaled gradient, then rows left out and the rest scaled by 1/count
            ops.softmaxXent(logits, bias, w.y, rowLoss, N, V, 1.0f, training);
            ops.maskTargets(w.y, w.ignoreTarget, logits, rowLoss, w.targetWeight, w.counted, N, V, training);
            ops.sum(rowLoss, N, lossSum);
        } else if (softmax) {
            ops.softmaxXentSum(logits, bias, w.y, rowLoss, lossSum, N, V, 1.0f / N, training);
        } else {
            ops.addBiasRows(logits, bias, N, V);
        }
    }

    /**
     * The decoder's backward over the last training forward (w.logits holds dL/dlogits): dW_dec,
     * db_dec (=) through {@code side} (the side queue where w overlaps), dTop [N,H] (=) dL/dtop
     * unless the forward's fused decoder wrote it.
     */
    void backward(Workspace w, Ref top, Ref dTop, Consumer<Runnable> side) {
        final int N = w.N;
        Ref dlogits = Ref.of(w.logits);
        side.accept(() -> {
            ops.gemm(true, false, V, H, N, 1f, dlogits, V, top, H, 0f, gradWeight, H);
            ops.columnSum(dlogits, gradBias, N, V, 0f);
        });
        if (!w.topGradReady) ops.gemmWeight(false, N, H, V, 1f, dlogits, V, weight, 0f, dTop, H);
        w.topGradReady = false;
    }
}
