/*
 * cublas.cpp: libcublas.so.12 for the emulated CUDA device (see driver.cpp). Column-major GEMMs
 * in plain C++ on the emulator's block pool, in stream order through the emulated driver, so a
 * cuBLAS call on a capturing stream is recorded into the graph (host-mode alpha and beta read at
 * the call, as cuBLAS does) and replayed by cuGraphLaunch.
 *
 *   cublasSgemm_v2   fp32; with CUBLAS_TF32_TENSOR_OP_MATH the A and B elements are first rounded
 *                    to TF32 (10 mantissa bits, to nearest even), as tensor cores read them
 *   cublasGemmEx     A, B in CUDA_R_32F or CUDA_R_16BF, C in CUDA_R_32F; compute type 32F (or
 *                    32F_FAST_TF32: TF32 rounding as above)
 * Products are accumulated in fp32 in ascending k. Create/destroy, stream, workspace, math and
 * pointer mode and version are kept per handle; every other cuBLAS symbol JCublas links against
 * answers CUBLAS_STATUS_NOT_SUPPORTED (stubs generated from cublas-symbols.txt).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <functional>
#include <vector>

#include "emu.h"

#define EXPORT extern "C" __attribute__((visibility("default")))

typedef enum {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
} cublasStatus_t;
enum { OP_N = 0, OP_T = 1 };
enum { MATH_DEFAULT = 0, MATH_TF32 = 3 };
enum { R_32F = 0, R_16BF = 14 };
enum { COMPUTE_32F = 68, COMPUTE_32F_PEDANTIC = 69, COMPUTE_32F_FAST_TF32 = 77 };
enum { POINTER_HOST = 0, POINTER_DEVICE = 1 };

struct cublasContext {
  CUstream stream = nullptr;
  int math = MATH_DEFAULT;
  int pointer_mode = POINTER_HOST;
};
typedef cublasContext *cublasHandle_t;

namespace {

float tf32(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu;
  memcpy(&x, &u, 4);
  return x;
}

float bf16(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float x;
  memcpy(&x, &u, 4);
  return x;
}

/* One column-major operand: element (r, c) of op(X) for the stored matrix X with leading dim ld. */
struct Operand {
  const void *p;
  int type, ld;
  bool trans, round_tf32;
  std::vector<float> copy; /* converted elements when X is bf16 or rounded to TF32 */
  long stored_rows, stored_cols;

  void prepare() {
    if (type == R_32F && !round_tf32) return;
    long n = stored_cols == 0 ? 0 : (stored_cols - 1) * (long)ld + stored_rows;
    copy.resize((size_t)n);
    for (long i = 0; i < n; i++) {
      float v = type == R_16BF ? bf16(((const uint16_t *)p)[i]) : ((const float *)p)[i];
      copy[(size_t)i] = round_tf32 ? tf32(v) : v;
    }
  }
  const float *data() const { return copy.empty() ? (const float *)p : copy.data(); }
};

struct Gemm {
  int m, n, k;
  Operand a, b;
  float *c;
  int ldc;
  float alpha, beta;

  void column(long j) const {
    const float *A = a.data(), *B = b.data();
    float *C = c + j * (long)ldc;
    std::vector<float> acc((size_t)m, 0.0f);
    for (int kk = 0; kk < k; kk++) {
      float bv = b.trans ? B[j + (long)kk * b.ld] : B[kk + j * (long)b.ld];
      if (!a.trans) {
        const float *col = A + (long)kk * a.ld;
        for (int i = 0; i < m; i++) acc[(size_t)i] += col[i] * bv;
      } else {
        for (int i = 0; i < m; i++) acc[(size_t)i] += A[kk + (long)i * a.ld] * bv;
      }
    }
    for (int i = 0; i < m; i++) C[i] = beta == 0.0f ? alpha * acc[(size_t)i] : alpha * acc[(size_t)i] + beta * C[i];
  }
};

bool in_device(const void *p, long rows, long cols, int ld, int elem, const char *what) {
  if (rows == 0 || cols == 0) return true;
  size_t bytes = (size_t)((cols - 1) * (long)ld + rows) * (size_t)elem;
  return cremu_device_range(p, bytes, what);
}

cublasStatus_t gemm(cublasHandle_t h, int ta, int tb, int m, int n, int k, const float *alpha, const void *A,
                    int atype, int lda, const void *B, int btype, int ldb, const float *beta, float *C, int ldc,
                    bool round_tf32, const char *what) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if ((ta != OP_N && ta != OP_T) || (tb != OP_N && tb != OP_T) || m < 0 || n < 0 || k < 0) return CUBLAS_STATUS_INVALID_VALUE;
  long ar = ta == OP_N ? m : k, ac = ta == OP_N ? k : m, br = tb == OP_N ? k : n, bc = tb == OP_N ? n : k;
  if (lda < (ar > 1 ? ar : 1) || ldb < (br > 1 ? br : 1) || ldc < (m > 1 ? m : 1)) {
    fprintf(stderr, "cuda emulator: %s: leading dimension too small (m=%d n=%d k=%d lda=%d ldb=%d ldc=%d)\n", what, m, n,
            k, lda, ldb, ldc);
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  int ea = atype == R_16BF ? 2 : 4, eb = btype == R_16BF ? 2 : 4;
  if ((k > 0 && (!in_device(A, ar, ac, lda, ea, "GEMM operand A") || !in_device(B, br, bc, ldb, eb, "GEMM operand B"))) ||
      !in_device(C, m, n, ldc, 4, "GEMM output C"))
    return CUBLAS_STATUS_EXECUTION_FAILED;
  Gemm g{m, n, k, Operand{A, atype, lda, ta == OP_T, round_tf32, {}, ar, ac},
         Operand{B, btype, ldb, tb == OP_T, round_tf32, {}, br, bc}, C, ldc, 0.0f, 0.0f};
  bool host_scalars = h->pointer_mode == POINTER_HOST;
  if (host_scalars) { g.alpha = *alpha; g.beta = *beta; }
  std::function<void()> op = [g, host_scalars, alpha, beta]() mutable {
    if (!host_scalars) { g.alpha = *alpha; g.beta = *beta; }
    g.a.prepare();
    g.b.prepare();
    cremu_parallel_for(g.n, [](void *ctx, long j) { ((const Gemm *)ctx)->column(j); }, &g);
  };
  char profiled[96]; /* the profiler's name: the call and its m x n x k */
  snprintf(profiled, sizeof profiled, "%s %dx%dx%d", what, m, n, k);
  return cremu_enqueue(h->stream, what, profiled, &op) == CUDA_SUCCESS ? CUBLAS_STATUS_SUCCESS
                                                                      : CUBLAS_STATUS_EXECUTION_FAILED;
}

}  // namespace

EXPORT cublasStatus_t cublasCreate_v2(cublasHandle_t *h) {
  if (!h) return CUBLAS_STATUS_INVALID_VALUE;
  CUcontext ctx = nullptr;
  if (cuCtxGetCurrent(&ctx) != CUDA_SUCCESS || !ctx) return CUBLAS_STATUS_NOT_INITIALIZED;
  *h = new cublasContext();
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasDestroy_v2(cublasHandle_t h) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete h;
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasGetVersion_v2(cublasHandle_t, int *v) {
  *v = 120604;
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasSetStream_v2(cublasHandle_t h, CUstream s) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  h->stream = s;
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasGetStream_v2(cublasHandle_t h, CUstream *s) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  *s = h->stream;
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t h, void *ws, size_t bytes) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (bytes && !cremu_device_range(ws, bytes, "cublasSetWorkspace")) return CUBLAS_STATUS_INVALID_VALUE;
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasSetMathMode(cublasHandle_t h, int mode) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  h->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasGetMathMode(cublasHandle_t h, int *mode) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  *mode = h->math;
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t h, int mode) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode != POINTER_HOST && mode != POINTER_DEVICE) return CUBLAS_STATUS_INVALID_VALUE;
  h->pointer_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t h, int *mode) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  *mode = h->pointer_mode;
  return CUBLAS_STATUS_SUCCESS;
}
EXPORT cublasStatus_t cublasSgemm_v2(cublasHandle_t h, int ta, int tb, int m, int n, int k, const float *alpha,
                                     const float *A, int lda, const float *B, int ldb, const float *beta, float *C,
                                     int ldc) {
  bool tf = h && (h->math & 0xf) == MATH_TF32;
  return gemm(h, ta, tb, m, n, k, alpha, A, R_32F, lda, B, R_32F, ldb, beta, C, ldc, tf, "cublasSgemm");
}
EXPORT cublasStatus_t cublasGemmEx(cublasHandle_t h, int ta, int tb, int m, int n, int k, const void *alpha,
                                   const void *A, int atype, int lda, const void *B, int btype, int ldb,
                                   const void *beta, void *C, int ctype, int ldc, int compute, int algo) {
  (void)algo;
  bool types_ok = (atype == R_32F || atype == R_16BF) && (btype == R_32F || btype == R_16BF) && ctype == R_32F;
  if (!types_ok || (compute != COMPUTE_32F && compute != COMPUTE_32F_PEDANTIC && compute != COMPUTE_32F_FAST_TF32)) {
    fprintf(stderr, "cuda emulator: cublasGemmEx with types A=%d B=%d C=%d compute=%d is not emulated\n", atype, btype,
            ctype, compute);
    return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  bool tf = compute == COMPUTE_32F_FAST_TF32 || (compute == COMPUTE_32F && h && (h->math & 0xf) == MATH_TF32 && atype == R_32F);
  return gemm(h, ta, tb, m, n, k, (const float *)alpha, A, atype, lda, B, btype, ldb, (const float *)beta, (float *)C,
              ldc, tf, "cublasGemmEx");
}
