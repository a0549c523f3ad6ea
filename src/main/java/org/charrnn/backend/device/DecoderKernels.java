package org.charrnn.backend.device;

/**
 * A device's fused decoder ({@link DeviceOps#decoders}): the decoder of a window, its softmax
 * cross-entropy and dL/dtop as one launch, where the device has one and chose it. Returns true
 * once queued; false (the default, {@link #NONE}'s) and the caller runs the decoder GEMM, {@link
 * DeviceOps#softmaxXentSum} and, in the backward, the GEMM of dL/dtop. Conventions as {@link
 * DeviceOps}.
 */
public interface DecoderKernels {
    /** No fused decoder: every decoder runs as its three operations. */
    DecoderKernels NONE = new DecoderKernels() {};

    /**
     * logits [N,V] (=) top [N,H] dec^T + bias, then as {@link DeviceOps#softmaxXentSum} in place:
     * rowLoss [N], lossSum [1] (=), with {@code writeGrad} logits (=) gradScale * (softmax -
     * onehot(y)); and with writeGrad dTop [N,H] (=) logits dec (dL/dtop; null without). No aliasing
     * among top, logits and dTop.
     */
    default boolean decoderXent(
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
        return false;
    }
}
