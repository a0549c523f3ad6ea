package org.charrnn.backend.cuda;

import java.util.function.Consumer;
import jcuda.Pointer;
import jcuda.cudaDataType;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureStatus;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;
import org.charrnn.backend.Precision;

/**
 * Row-major GEMM, {@code C = alpha op(A) op(B) + beta C} with fp32 C, on the backend's stream:
 * cuBLAS when libcublas loads (fp32; TF32 tensor-op math with {@link Precision#TF32}; bf16
 * operands with fp32 accumulation with {@link Precision#BF16}), otherwise the {@code gemm_tiled}
 * kernel (always fp32).
 *
 * <p>cuBLAS is column-major: a row-major [M,N] matrix with leading dimension ldc is the
 * column-major [N,M] matrix C^T, so row-major C = op(A) op(B) is computed as the column-major
 * C^T = op(B)^T op(A)^T, i.e. cublasSgemm(opB, opA, N, M, K, B, ldb, A, lda, C, ldc), where a
 * row-major operand read without transposition is passed as CUBLAS_OP_N.
 *
 * <p>bf16: every operand is an fp32 buffer; cublasGemmEx reads bf16 copies made by the
 * {@code f32_to_bf16} kernel (round to nearest even) with the same layout and leading dimension.
 * Weights (operands given as an offset into the flat parameter buffer, {@link #gemmWeight}) are read
 * from a bf16 shadow of the whole parameter buffer, which {@link #refreshWeights} rewrites; the
 * backend calls it after every change of the parameters (upload, optimizer step). Activations are
 * converted per GEMM into two scratch buffers owned here (one per operand), reused by every GEMM:
 * they are on one stream, so a conversion never overtakes the GEMM that read the previous copy.
 * Scratch is sized by {@link #reserve} when a workspace is (re)allocated, before any CUDA-graph
 * capture; a GEMM that would still need more grows it only outside capture (inside capture that
 * is a bug and throws), and every growth bumps {@link #generation()}, which the backend's graph key
 * includes, so no captured graph keeps a freed pointer.
 */
final class Gemm implements AutoCloseable {
    /** System property that skips cuBLAS (tests of the fallback path). */
    static final String FORCE_TILED = "charrnn.cuda.tiledGemm";

    private static final int BF16_BYTES = 2;
    private static final int CONVERT_CHUNK = 1 << 30; // elements per f32_to_bf16 launch (int n)
    // host alpha / beta of the values the backend uses (cuBLAS reads host scalars before returning)
    private static final Pointer ZERO = Pointer.to(new float[] {0f}), ONE = Pointer.to(new float[] {1f});

    private final Kernels kernels;
    private final CUstream stream;
    private final cublasHandle handle; // null: tiled fallback
    private final DeviceBuffer workspace;
    private final boolean bf16; // cuBLAS with bf16 operands
    private final Precision arithmetic; // what the GEMMs multiply: FP32, TF32 or BF16
    private final String description;
    private final String model;

    // bf16 only
    private DeviceBuffer weights; // the backend's fp32 flat parameter buffer (not owned)
    private long weightCount;
    private DeviceBuffer weightShadow; // bf16 [weightCount]
    private Gemm weightSource = this; // whose weights gemmWeight reads: its own, or the main stream's (readWeightsOf)
    private final DeviceBuffer[] scratch = new DeviceBuffer[2]; // bf16 copies of op A, op B
    private int generation;

    private Gemm(
            Kernels kernels,
            CUstream stream,
            cublasHandle handle,
            DeviceBuffer workspace,
            Precision arithmetic,
            String description,
            String model) {
        this.kernels = kernels;
        this.stream = stream;
        this.handle = handle;
        this.workspace = workspace;
        this.arithmetic = arithmetic;
        this.bf16 = arithmetic == Precision.BF16;
        this.description = description;
        this.model = model;
    }

    /** cuBLAS's workspace: 32 MiB, what NVIDIA recommends for Hopper. */
    static final long WORKSPACE = 32L << 20;

    /** cuBLAS on {@code stream}, or the tiled kernel with one warning line when libcublas cannot be used. */
    static Gemm create(Kernels kernels, CUstream stream, Precision precision, String model, Consumer<String> log) {
        return create(kernels, stream, precision, model, log, WORKSPACE);
    }

    /** As above, with a cuBLAS workspace of {@code workspaceBytes}. */
    static Gemm create(
            Kernels kernels,
            CUstream stream,
            Precision precision,
            String model,
            Consumer<String> log,
            long workspaceBytes) {
        if (Boolean.getBoolean(FORCE_TILED)) return tiled(kernels, stream, precision, model, log);
        String missing = Cublas.unavailableReason();
        if (missing != null) {
            warnOnce(log, missing);
            return tiled(kernels, stream, precision, model, log);
        }
        cublasHandle h = new cublasHandle();
        boolean created = false;
        DeviceBuffer ws = null;
        try {
            JCublas2.setExceptionsEnabled(true);
            JCublas2.cublasCreate(h);
            created = true;
            JCublas2.cublasSetStream(h, new cudaStream_t(stream));
            // A fixed workspace keeps cuBLAS from allocating during CUDA-graph capture.
            ws = DeviceBuffer.allocate(workspaceBytes, "cuBLAS workspace", model);
            JCublas2.cublasSetWorkspace(h, ws.ptr, ws.bytes);
            JCublas2.cublasSetMathMode(
                    h,
                    precision == Precision.TF32
                            ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH
                            : cublasMath.CUBLAS_DEFAULT_MATH);
            String what = switch (precision) {
                case TF32 -> "cuBLAS TF32";
                case BF16 -> "cuBLAS BF16";
                default -> "cuBLAS";
            };
            Precision arithmetic =
                    precision == Precision.TF32 || precision == Precision.BF16 ? precision : Precision.FP32;
            return new Gemm(kernels, stream, h, ws, arithmetic, what, model);
        } catch (org.charrnn.util.UserError e) {
            if (created) JCublas2.cublasDestroy(h);
            throw e;
        } catch (Throwable t) {
            if (ws != null) ws.close();
            if (created) {
                try {
                    JCublas2.cublasDestroy(h);
                } catch (Throwable ignored) {
                    /* already failing */
                }
            }
            warnOnce(log, CudaRuntime.oneLine(t));
            return tiled(kernels, stream, precision, model, log);
        }
    }

    private static final java.util.concurrent.atomic.AtomicBoolean WARNED =
            new java.util.concurrent.atomic.AtomicBoolean();

    /** The first fallback of the process says why and what to do; the device name shows gemm_tiled after that. */
    private static void warnOnce(Consumer<String> log, String why) {
        if (WARNED.compareAndSet(false, true))
            log.accept("WARNING: cuBLAS unavailable, the GEMMs run on the gemm_tiled kernel, several times slower: "
                    + why);
    }

    private static Gemm tiled(
            Kernels kernels, CUstream stream, Precision precision, String model, Consumer<String> log) {
        if (precision == Precision.BF16)
            log.accept("warning: --precision bf16 needs cuBLAS; gemm_tiled computes the GEMMs in fp32");
        return new Gemm(kernels, stream, null, null, Precision.FP32, "gemm_tiled", model);
    }

    String description() {
        return description;
    }

    /**
     * What the GEMMs multiply: TF32 or bf16 operands with cuBLAS at that precision, else fp32
     * (gemm_tiled computes every precision in fp32). The persistent kernels round to the same.
     */
    Precision arithmetic() {
        return arithmetic;
    }

    /** Whether GEMM operands are converted to bf16 (bf16 precision with cuBLAS). */
    boolean bf16() {
        return bf16;
    }

    /** Bumped whenever a scratch buffer is replaced: graphs captured before reference the freed one. */
    int generation() {
        return generation;
    }

    /**
     * Registers the flat fp32 parameter buffer ({@code count} floats) that {@link #gemmWeight}
     * offsets index; in bf16 allocates its bf16 shadow (written by {@link #refreshWeights}).
     */
    void attachWeights(DeviceBuffer params, long count) {
        this.weights = params;
        this.weightCount = count;
        if (!bf16) return;
        if (weightShadow != null) weightShadow.close();
        weightShadow = null;
        weightShadow = DeviceBuffer.allocate(count * BF16_BYTES, "bf16 copy of the parameters", model);
    }

    /**
     * {@link #gemmWeight} reads {@code owner}'s attached weights (and bf16 shadow) from now on: a
     * second stream's GEMM multiplies the same parameters, converted once, by the stream that owns
     * them (its work forks from that stream after the conversion).
     */
    void readWeightsOf(Gemm owner) {
        this.weightSource = owner;
    }

    /** bf16: queues the conversion of the whole parameter buffer into its shadow (no-op otherwise). */
    void refreshWeights() {
        if (bf16) convert(weights.ptr, weightShadow.ptr, weightCount);
    }

    /**
     * Makes the activation scratch hold operands of up to {@code aElements} (op A) and
     * {@code bElements} (op B) floats, spans including leading-dimension gaps (see {@link #span}).
     * Only grows; no-op unless bf16. Call outside CUDA-graph capture.
     */
    void reserve(long aElements, long bElements) {
        if (!bf16) return;
        ensureScratch(0, aElements);
        ensureScratch(1, bElements);
    }

    /** Row-major C [M,N] = alpha op(A) op(B) + beta C; op(A) [M,K], op(B) [K,N]; A and B activations. */
    void gemm(
            boolean transA,
            boolean transB,
            int M,
            int N,
            int K,
            float alpha,
            Pointer A,
            int lda,
            Pointer B,
            int ldb,
            float beta,
            Pointer C,
            int ldc) {
        if (M == 0 || N == 0) return;
        if (!bf16) {
            fp32(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
            return;
        }
        long sa = span(transA, M, K, lda), sb = span(transB, K, N, ldb);
        ensureScratch(0, sa);
        ensureScratch(1, sb);
        convert(A, scratch[0].ptr, sa);
        convert(B, scratch[1].ptr, sb);
        gemmEx(transA, transB, M, N, K, alpha, scratch[0].ptr, lda, scratch[1].ptr, ldb, beta, C, ldc);
    }

    /**
     * As {@link #gemm}, with B the weight tensor at element {@code weightOffset} of the attached
     * parameter buffer (in bf16 read from the shadow, which must be current).
     */
    void gemmWeight(
            boolean transA,
            boolean transB,
            int M,
            int N,
            int K,
            float alpha,
            Pointer A,
            int lda,
            long weightOffset,
            int ldb,
            float beta,
            Pointer C,
            int ldc) {
        if (M == 0 || N == 0) return;
        Gemm src = weightSource;
        if (!bf16) {
            fp32(transA, transB, M, N, K, alpha, A, lda, src.weights.at(weightOffset), ldb, beta, C, ldc);
            return;
        }
        if (src.weightShadow == null)
            throw new IllegalStateException(
                    "bf16 GEMM against weights that have no bf16 copy (the owner's GEMM is not bf16)");
        long sa = span(transA, M, K, lda);
        ensureScratch(0, sa);
        convert(A, scratch[0].ptr, sa);
        Pointer shadow = src.weightShadow.ptr;
        Pointer w = weightOffset == 0 ? shadow : shadow.withByteOffset(weightOffset * BF16_BYTES);
        gemmEx(transA, transB, M, N, K, alpha, scratch[0].ptr, lda, w, ldb, beta, C, ldc);
    }

    /**
     * Elements from the first to the last element of a row-major operand op(X) [rows, cols] with
     * leading dimension ld (X stored [cols, rows] when transposed); 0 when it has none.
     */
    static long span(boolean trans, int rows, int cols, int ld) {
        long storedRows = trans ? cols : rows, storedCols = trans ? rows : cols;
        if (storedRows <= 0 || storedCols <= 0) return 0;
        return (storedRows - 1) * ld + storedCols;
    }

    private void fp32(
            boolean transA,
            boolean transB,
            int M,
            int N,
            int K,
            float alpha,
            Pointer A,
            int lda,
            Pointer B,
            int ldb,
            float beta,
            Pointer C,
            int ldc) {
        if (handle != null) {
            JCublas2.cublasSgemm(
                    handle, op(transB), op(transA), N, M, K, scalar(alpha), B, ldb, A, lda, scalar(beta), C, ldc);
        } else {
            kernels.gemmTiled(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        }
    }

    /**
     * bf16 A16, B16 (layouts and leading dimensions of the fp32 operands), fp32 C, fp32 accumulation.
     * JCublas 12.6's {@code cublasGemmEx} takes a legacy cudaDataType compute type and returns a
     * failed migration of any other as a status, unchecked even with exceptions enabled (and its
     * native entry point is not exported); {@code cublasGemmEx_new} takes the cublasComputeType and
     * checks the result.
     */
    private void gemmEx(
            boolean transA,
            boolean transB,
            int M,
            int N,
            int K,
            float alpha,
            Pointer A16,
            int lda,
            Pointer B16,
            int ldb,
            float beta,
            Pointer C,
            int ldc) {
        JCublas2.cublasGemmEx_new(
                handle,
                op(transB),
                op(transA),
                N,
                M,
                K,
                scalar(alpha),
                B16,
                cudaDataType.CUDA_R_16BF,
                ldb,
                A16,
                cudaDataType.CUDA_R_16BF,
                lda,
                scalar(beta),
                C,
                cudaDataType.CUDA_R_32F,
                ldc,
                cublasComputeType.CUBLAS_COMPUTE_32F,
                cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
    }

    /** A host pointer to {@code v}; 0 and 1 (every GEMM of the backend) without allocating per call. */
    private static Pointer scalar(float v) {
        if (Float.floatToRawIntBits(v) == 0) return ZERO;
        return v == 1f ? ONE : Pointer.to(new float[] {v});
    }

    private static int op(boolean trans) {
        return trans ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    }

    /** Queues dst[i] = bf16(src[i]) for i < n. */
    private void convert(Pointer src, CUdeviceptr dst, long n) {
        for (long i = 0; i < n; i += CONVERT_CHUNK) {
            int c = (int) Math.min(CONVERT_CHUNK, n - i);
            Pointer s = i == 0 ? src : src.withByteOffset(i * 4);
            Pointer d = i == 0 ? dst : dst.withByteOffset(i * BF16_BYTES);
            kernels.f32ToBf16(s, d, c);
        }
    }

    /** Grows scratch[i] to hold {@code elements} bf16 values; never while the stream is being captured. */
    private void ensureScratch(int i, long elements) {
        long bytes = Math.max(1, elements) * BF16_BYTES;
        if (scratch[i] != null && scratch[i].bytes >= bytes) return;
        int[] status = new int[1];
        JCudaDriver.cuStreamIsCapturing(stream, status);
        if (status[0] != CUstreamCaptureStatus.CU_STREAM_CAPTURE_STATUS_NONE)
            throw new IllegalStateException("bf16 GEMM scratch must grow to " + bytes
                    + " bytes during CUDA-graph capture; it is reserved before capture");
        if (scratch[i] != null) {
            JCudaDriver.cuStreamSynchronize(stream); // queued work may still read the old copy
            scratch[i].close();
            scratch[i] = null;
        }
        scratch[i] = DeviceBuffer.allocate(bytes, "bf16 GEMM operand scratch", model);
        generation++;
    }

    @Override
    public void close() {
        if (handle != null) JCublas2.cublasDestroy(handle);
        if (workspace != null) workspace.close();
        if (weightShadow != null) weightShadow.close();
        for (DeviceBuffer b : scratch) if (b != null) b.close();
    }
}
