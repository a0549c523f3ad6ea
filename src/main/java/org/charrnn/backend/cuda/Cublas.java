package org.charrnn.backend.cuda;

import jcuda.jcublas.JCublas2;

/**
 * Whether JCublas and the cuBLAS library it links load here. JCublas 12 links {@code
 * libcublas.so.12}; a machine with only a CUDA 13 toolkit or driver has {@code libcublas.so.13}, and
 * the backend then runs its GEMMs on the slower gemm_tiled kernel. This says what is missing and how
 * to get it, once.
 */
final class Cublas {
    private Cublas() {}

    private static boolean probed;
    private static String reason; // null: loads

    /** Null when cuBLAS loads, else a one-line reason that says what to install. */
    static synchronized String unavailableReason() {
        if (!probed) {
            probed = true;
            try {
                JCublas2.setExceptionsEnabled(true); // loads JCublas's native library, which links libcublas
            } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
                reason = explain(CudaRuntime.oneLine(e));
            }
        }
        return reason;
    }

    /** The reason for a failed load whose message is {@code linkError}. */
    static String explain(String linkError) {
        if (linkError.contains("libcublas.so.12") || linkError.contains("libcublasLt.so.12"))
            return "libcublas.so.12 (the CUDA 12 cuBLAS runtime, which JCublas 12 links) is not installed: install it"
                    + " (NVIDIA's apt repository: apt-get install libcublas-12-6; or pip install nvidia-cublas-cu12"
                    + " and add its nvidia/cublas/lib directory to LD_LIBRARY_PATH)";
        return "JCublas cannot load (" + linkError + ")";
    }
}
