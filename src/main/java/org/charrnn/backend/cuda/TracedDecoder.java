package org.charrnn.backend.cuda;

import org.charrnn.backend.Precision;
import org.charrnn.backend.device.DecoderKernels;
import org.charrnn.backend.device.DeviceArray;
import org.charrnn.backend.device.Ref;
import org.charrnn.backend.device.WeightRows;

/**
 * {@link StepTrace}'s fused decoder: where the CUDA backend would fuse it on the modelled device
 * ({@link DecoderXent#fuses}, with the same knob), one decoder_xent priced by {@link
 * DecoderXent#fusedUs}, its FLOPs those of the two GEMMs it replaces; else the trace prices the
 * three operations that follow.
 */
final class TracedDecoder implements DecoderKernels {
    private final StepTrace trace;
    private final StepCostModel.Rates rates;
    private final Precision precision;

    TracedDecoder(StepTrace trace, StepCostModel.Rates rates, Precision precision) {
        this.trace = trace;
        this.rates = rates;
        this.precision = precision;
    }

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
        int limit = rates.device().sharedBytes();
        if (!DecoderXent.fuses(DecoderXent.mode(), rates, limit, precision, N, V, H, writeGrad)) return false;
        trace.addFlops(2.0 * N * V * H * (writeGrad ? 2 : 1));
        trace.add(StepPart.KERNELS, "decoder_xent + loss sum", DecoderXent.fusedUs(rates, limit, N, V, H, writeGrad));
        return true;
    }
}
