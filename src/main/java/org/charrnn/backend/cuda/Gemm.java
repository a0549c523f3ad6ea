package org.charrnn.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUstream;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;

import org.charrnn.backend.Precision;

/**
 * Row-major single-precision GEMM, {@code C = alpha op(A) op(B) + beta C}, on the backend's stream:
 * cuBLAS when libcublas loads (fp32, or TF32 tensor-op math with {@link Precision#TF32}), otherwise
 * the {@code gemm_tiled} kernel.
 *
 * <p>cuBLAS is column-major: a row-major [M,N] matrix with leading dimension ldc is the
 * column-major [N,M] matrix C^T, so row-major C = op(A) op(B) is computed as the column-major
 * C^T = op(B)^T op(A)^T, i.e. cublasSgemm(opB, opA, N, M, K, B, ldb, A, lda, C, ldc), where a
 * row-major operand read without transposition is passed as CUBLAS_OP_N.
 */
final class Gemm implements AutoCloseable {
    /** System property that skips cuBLAS (tests of the fallback path). */
    static final String FORCE_TILED = "charrnn.cuda.tiledGemm";

    private final Kernels kernels;
    private final cublasHandle handle; // null: tiled fallback
    private final DeviceBuffer workspace;
    private final String description;

    private Gemm(Kernels kernels, cublasHandle handle, DeviceBuffer workspace, String description) {
        this.kernels = kernels;
        this.handle = handle;
        this.workspace = workspace;
        this.description = description;
    }

    /** cuBLAS on {@code stream}, or the tiled kernel with one warning line when libcublas cannot be used. */
    static Gemm create(Kernels kernels, CUstream stream, Precision precision, String model) {
        if (Boolean.getBoolean(FORCE_TILED)) return new Gemm(kernels, null, null, "gemm_tiled");
        cublasHandle h = new cublasHandle();
        boolean created = false;
        DeviceBuffer ws = null;
        try {
            JCublas2.setExceptionsEnabled(true);
            JCublas2.cublasCreate(h);
            created = true;
            JCublas2.cublasSetStream(h, new cudaStream_t(stream));
            // A fixed workspace keeps cuBLAS from allocating during CUDA-graph capture.
            ws = DeviceBuffer.allocate(32L << 20, "cuBLAS workspace", model);
            JCublas2.cublasSetWorkspace(h, ws.ptr, ws.bytes);
            JCublas2.cublasSetMathMode(h, precision == Precision.TF32
                    ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH);
            return new Gemm(kernels, h, ws, precision == Precision.TF32 ? "cuBLAS TF32" : "cuBLAS");
        } catch (org.charrnn.util.UserError e) {
            if (created) JCublas2.cublasDestroy(h);
            throw e;
        } catch (Throwable t) {
            if (ws != null) ws.close();
            if (created) {
                try { JCublas2.cublasDestroy(h); } catch (Throwable ignored) { /* already failing */ }
            }
            System.err.println("charrnn: warning: cuBLAS unavailable (" + CudaRuntime.oneLine(t)
                    + "); using the slower gemm_tiled kernel");
            return new Gemm(kernels, null, null, "gemm_tiled");
        }
    }

    String description() { return description; }

    /** Row-major C [M,N] = alpha op(A) op(B) + beta C; op(A) [M,K], op(B) [K,N]. */
    void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha,
              Pointer A, int lda, Pointer B, int ldb, float beta, Pointer C, int ldc) {
        if (M == 0 || N == 0) return;
        if (handle != null) {
            JCublas2.cublasSgemm(handle,
                    transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
                    transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
                    N, M, K, Pointer.to(new float[] {alpha}), B, ldb, A, lda,
                    Pointer.to(new float[] {beta}), C, ldc);
        } else {
            int gx = (N + Kernels.TILE - 1) / Kernels.TILE, gy = (M + Kernels.TILE - 1) / Kernels.TILE;
            kernels.launch(kernels.gemmTiled, gx, gy, Kernels.TILE, Kernels.TILE,
                    transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        }
    }

    @Override
    public void close() {
        if (handle != null) JCublas2.cublasDestroy(handle);
        if (workspace != null) workspace.close();
    }
}
