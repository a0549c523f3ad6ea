/*
 * gemm.cl: row-major C [M,N] = alpha op(A) op(B) + beta C, op(A) [M,K], op(B) [K,N].
 *   transA: op(A)[i,k] = A[k*lda + i] (A stored [K,M]), else A[i*lda + k] (A stored [M,K])
 *   transB: op(B)[k,j] = B[j*ldb + k] (B stored [N,K]), else B[k*ldb + j] (B stored [K,N])
 *   beta == 0 writes C without reading it (BLAS semantics: NaN in C does not propagate).
 * A, B, C are (base, element offset) so they can address tensors in the flat parameter and
 * gradient buffers and timestep slices of window buffers.
 *
 * Tiling: a work-group of GEMM_WX x GEMM_WY (16 x 16) work-items computes a
 * (GEMM_WY*GEMM_R) x (GEMM_WX*GEMM_R) = 64 x 64 block of C; each work-item a GEMM_R x GEMM_R
 * (4 x 4) register block at rows ly + 16*r, cols lx + 16*c. K is walked in steps of GEMM_TK (16)
 * through local-memory tiles of op(A) and op(B), zero-padded at the edges.
 * Launch: local (16, 16), global (ceil(N/64)*16, ceil(M/64)*16).
 * This is the variant for GPUs; CPU devices use gemm_rows8/gemm_rows16 below.
 */
#define GEMM_WX 16
#define GEMM_WY 16
#define GEMM_R 4
#define GEMM_TM (GEMM_WY * GEMM_R)
#define GEMM_TN (GEMM_WX * GEMM_R)
#define GEMM_TK 16

__kernel __attribute__((reqd_work_group_size(GEMM_WX, GEMM_WY, 1)))
void gemm_tiled(int transA, int transB, int M, int N, int K, float alpha,
                __global const float* A_base, int A_off, int lda,
                __global const float* B_base, int B_off, int ldb, float beta,
                __global float* C_base, int C_off, int ldc) {
  __local float As[GEMM_TK][GEMM_TM + 1];   /* As[k][i] = op(A)[row0 + i, k0 + k] */
  __local float Bs[GEMM_TK][GEMM_TN + 1];   /* Bs[k][j] = op(B)[k0 + k, col0 + j] */
  __global const float* A = A_base + A_off;
  __global const float* Bm = B_base + B_off;
  int lx = get_local_id(0), ly = get_local_id(1);
  int col0 = get_group_id(0) * GEMM_TN, row0 = get_group_id(1) * GEMM_TM;
  int tid = ly * GEMM_WX + lx;
  float acc[GEMM_R][GEMM_R];
  for (int r = 0; r < GEMM_R; r++)
    for (int c = 0; c < GEMM_R; c++) acc[r][c] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += GEMM_TK) {
    /* 256 work-items load the 16 x 64 tiles: 4 elements each. */
    for (int e = tid; e < GEMM_TK * GEMM_TM; e += GEMM_WX * GEMM_WY) {
      int k, i;
      if (transA) { i = e % GEMM_TM; k = e / GEMM_TM; }   /* contiguous along i */
      else        { k = e % GEMM_TK; i = e / GEMM_TK; }   /* contiguous along k */
      int gi = row0 + i, gk = k0 + k;
      float v = 0.0f;
      if (gi < M && gk < K) v = transA ? A[(long)gk * lda + gi] : A[(long)gi * lda + gk];
      As[k][i] = v;
    }
    for (int e = tid; e < GEMM_TK * GEMM_TN; e += GEMM_WX * GEMM_WY) {
      int k, j;
      if (transB) { k = e % GEMM_TK; j = e / GEMM_TK; }   /* contiguous along k */
      else        { j = e % GEMM_TN; k = e / GEMM_TN; }   /* contiguous along j */
      int gj = col0 + j, gk = k0 + k;
      float v = 0.0f;
      if (gj < N && gk < K) v = transB ? Bm[(long)gj * ldb + gk] : Bm[(long)gk * ldb + gj];
      Bs[k][j] = v;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = 0; k < GEMM_TK; k++) {
      float a[GEMM_R], b[GEMM_R];
      for (int r = 0; r < GEMM_R; r++) a[r] = As[k][ly + GEMM_WY * r];
      for (int c = 0; c < GEMM_R; c++) b[c] = Bs[k][lx + GEMM_WX * c];
      for (int r = 0; r < GEMM_R; r++)
        for (int c = 0; c < GEMM_R; c++) acc[r][c] = fma(a[r], b[c], acc[r][c]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }

  __global float* C = C_base + C_off;
  for (int r = 0; r < GEMM_R; r++) {
    int gi = row0 + ly + GEMM_WY * r;
    if (gi >= M) continue;
    for (int c = 0; c < GEMM_R; c++) {
      int gj = col0 + lx + GEMM_WX * c;
      if (gj >= N) continue;
      long ci = (long)gi * ldc + gj;
      C[ci] = beta == 0.0f ? alpha * acc[r][c] : alpha * acc[r][c] + beta * C[ci];
    }
  }
}

/*
 * gemm_rows8 / gemm_rows16: the CPU variant, C [M,N] = alpha op(A) B + beta C with B NOT
 * transposed (B stored [K,N], contiguous along j); transA as in gemm_tiled. Arguments as
 * gemm_tiled without transB (callers keep transposed copies of weight matrices for A W^T).
 *
 * CPU OpenCL runtimes (PoCL's pthread device) run a work-group as a loop over its work-items
 * on one core and emulate local memory and barriers, so these kernels use neither: each
 * work-item computes an RM x 16 block of C (RM = 8 or 16) in float16 registers, walking k with
 * one contiguous 16-wide load of a B row and RM broadcasts of op(A) per step (AVX-512: one
 * register per row). 16 rows halve the B traffic per output (10-18% faster for M >= 256 on
 * PoCL); 8 rows waste less of a small M such as the batch of one timestep (M = 50).
 * Rows past M read row M-1 and are not stored; a right-edge block (N - j0 < 16) loads through
 * a zero-padded private row.
 * Launch: global (ceil(N/16), ceil(M/RM)), any local size.
 */
inline void gemm_rows_block(const int RM, int transA, int M, int N, int K, float alpha,
                            __global const float* A, __global const float* B, int ldb, int lda,
                            float beta, __global float* C, int ldc) {
  int j0 = get_global_id(0) * 16;
  int i0 = get_global_id(1) * RM;
  if (j0 >= N || i0 >= M) return;
  __global const float* Bp = B + j0;
  long si = transA ? 1 : lda, sk = transA ? lda : 1;
  long arow[16];
  float16 acc[16];
  for (int r = 0; r < RM; r++) {
    arow[r] = (long)min(i0 + r, M - 1) * si;
    acc[r] = (float16)(0.0f);
  }
  int nc = min(16, N - j0);
  if (nc == 16) {
    for (int k = 0; k < K; k++) {
      float16 b = vload16(0, Bp + (long)k * ldb);
      long ak = (long)k * sk;
      for (int r = 0; r < RM; r++) acc[r] = fma((float16)(A[arow[r] + ak]), b, acc[r]);
    }
  } else {
    float bs[16];
    for (int k = 0; k < K; k++) {
      __global const float* brow = Bp + (long)k * ldb;
      for (int j = 0; j < 16; j++) bs[j] = j < nc ? brow[j] : 0.0f;
      float16 b = vload16(0, bs);
      long ak = (long)k * sk;
      for (int r = 0; r < RM; r++) acc[r] = fma((float16)(A[arow[r] + ak]), b, acc[r]);
    }
  }
  C += j0;
  for (int r = 0; r < RM; r++) {
    if (i0 + r >= M) break;
    __global float* crow = C + (long)(i0 + r) * ldc;
    float16 v = alpha * acc[r];
    if (nc == 16) {
      if (beta != 0.0f) v = fma((float16)(beta), vload16(0, crow), v);
      vstore16(v, 0, crow);
    } else {
      float vs[16];
      vstore16(v, 0, vs);
      for (int j = 0; j < nc; j++) crow[j] = beta == 0.0f ? vs[j] : vs[j] + beta * crow[j];
    }
  }
}

__kernel void gemm_rows8(int transA, int M, int N, int K, float alpha,
                         __global const float* A_base, int A_off, int lda,
                         __global const float* B_base, int B_off, int ldb, float beta,
                         __global float* C_base, int C_off, int ldc) {
  gemm_rows_block(8, transA, M, N, K, alpha, A_base + A_off, B_base + B_off, ldb, lda, beta, C_base + C_off, ldc);
}

__kernel void gemm_rows16(int transA, int M, int N, int K, float alpha,
                          __global const float* A_base, int A_off, int lda,
                          __global const float* B_base, int B_off, int ldb, float beta,
                          __global float* C_base, int C_off, int ldc) {
  gemm_rows_block(16, transA, M, N, K, alpha, A_base + A_off, B_base + B_off, ldb, lda, beta, C_base + C_off, ldc);
}

/*
 * transpose: dst [cols,rows] = src [rows,cols]^T, both contiguous (ld = cols, resp. rows).
 * Refreshes the transposed weight copies that gemm_rows* multiply by (A W^T = A (W^T)).
 * Launch: global (cols, rows), any local size.
 */
__kernel void transpose(__global const float* src_base, int src_off, int rows, int cols,
                        __global float* dst_base, int dst_off) {
  int c = get_global_id(0), r = get_global_id(1);
  if (c >= cols || r >= rows) return;
  dst_base[dst_off + (long)c * rows + r] = src_base[src_off + (long)r * cols + c];
}
