package org.charrnn.backend;

import java.util.Locale;

/** Arithmetic a backend computes in. */
public enum Precision {
    /** Double precision everywhere (the reference backend). */
    FP64,
    /** IEEE float32 GEMMs and pointwise math. */
    FP32,
    /** TF32 tensor-core GEMMs, fp32 accumulation and pointwise math. */
    TF32,
    /** bf16 GEMM operands, fp32 accumulation, fp32 master weights and cell state. */
    BF16;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Precision parse(String s) {
        for (Precision p : values()) if (p.id().equalsIgnoreCase(s.trim())) return p;
        throw new IllegalArgumentException("unknown precision '" + s + "' (expected fp32, tf32, bf16 or fp64)");
    }
}
