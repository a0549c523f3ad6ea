package org.charrnn.backend.cuda;

import org.charrnn.backend.Precision;

/**
 * What the persistent kernels' products compute: their {@code prec} argument (CR_PREC_FP32, _TF32,
 * _BF16, or'ed with CR_PREC_MMA for tensor cores; kernels/cuda/persistent_common.cuh). TF32 and bf16
 * round W_hh and the right-hand side as the stepwise path's tensor-core GEMMs do; from compute
 * capability 8.0 on they multiply on tensor cores (mma.sync), before it in fp32 FMAs.
 */
enum ProductArithmetic {
    FP32(0, 4, false, "fp32"),
    TF32(1, 4, false, "tf32"),
    BF16(2, 2, false, "bf16"),
    TF32_MMA(5, 4, true, "tf32 tensor-core"),
    BF16_MMA(6, 2, true, "bf16 tensor-core");

    /** The kernels' prec argument. */
    final int code;
    /** Bytes of one element of the W_hh slice in shared memory. */
    final int elemBytes;
    /** Tensor cores: the plan of cr_persistent_plan_mma. */
    final boolean mma;
    /** "bf16 tensor-core", for the description of a run. */
    final String label;

    ProductArithmetic(int code, int elemBytes, boolean mma, String label) {
        this.code = code;
        this.elemBytes = elemBytes;
        this.mma = mma;
        this.label = label;
    }

    /** The products of a run at precision {@code p} (the GEMMs'), on tensor cores where the device has them. */
    static ProductArithmetic of(Precision p, boolean tensorCores) {
        return switch (p) {
            case FP32, FP64 -> FP32;
            case TF32 -> tensorCores ? TF32_MMA : TF32;
            case BF16 -> tensorCores ? BF16_MMA : BF16;
        };
    }

    /** The precision of the stepwise path's GEMMs that round as these products do. */
    Precision precision() {
        return switch (this) {
            case FP32 -> Precision.FP32;
            case TF32, TF32_MMA -> Precision.TF32;
            case BF16, BF16_MMA -> Precision.BF16;
        };
    }

    /** True from compute capability 8.0 (mma.sync with TF32 and bf16 operands). */
    static boolean tensorCores(int major) {
        return major >= 8;
    }
}
