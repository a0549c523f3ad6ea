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
 * This is the variant for GPUs; CPU devices use gemm_cpu_r* below.
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
 * gemm_cpu_r1 .. gemm_cpu_r12: the CPU variant, C [M,N] = alpha op(A) B + beta C with B NOT
 * transposed (B stored [K,N], contiguous along j); transA as in gemm_tiled. Arguments as
 * gemm_tiled without transB (callers keep transposed copies of weight matrices for A W^T).
 * The caller guarantees M >= RM (the kernel's row count, ClGemm picks it).
 *
 * CPU OpenCL runtimes (PoCL's pthread device) run a work-group as a loop over its work-items on
 * one core and emulate local memory and barriers, so these kernels use neither. Each work-item
 * computes an RM x 32 block of C in 2*RM named float16 accumulators (not an array: PoCL keeps an
 * array of accumulators in memory, loading and storing it every k; named variables stay in
 * AVX-512 registers, 24 of the 32 for RM = 12), walking k with two contiguous 16-wide loads of a
 * B row and RM broadcasts of op(A). Edge blocks are moved back inside the matrix instead of
 * padded: the last block of rows starts at M - RM and the last block of columns at N - 32, so
 * every load is in bounds and full width; they store only the rows and columns that no other
 * block owns. Only N < 32 takes a slower path with zero-padded loads of B.
 * Launch: global (ceil(N/32), ceil(M/RM)), any local size.
 */
#define GEMM_ROWS1(X) X(0)
#define GEMM_ROWS2(X) X(0) X(1)
#define GEMM_ROWS4(X) GEMM_ROWS2(X) X(2) X(3)
#define GEMM_ROWS6(X) GEMM_ROWS4(X) X(4) X(5)
#define GEMM_ROWS8(X) GEMM_ROWS6(X) X(6) X(7)
#define GEMM_ROWS10(X) GEMM_ROWS8(X) X(8) X(9)
#define GEMM_ROWS12(X) GEMM_ROWS10(X) X(10) X(11)

/* Row r of the block: accumulators for columns 0-15 and 16-31; (A not transposed) its row of A. */
#define GEMM_ACC(r) float16 c##r##a = (float16)(0.0f), c##r##b = (float16)(0.0f);
#define GEMM_AROW(r) __global const float* a##r = A + (long)(ib + r) * lda;
/* One k step of row r: op(A)[ib + r, k] broadcast against the B row (b0, b1). */
#define GEMM_FMA_N(r) { float16 av = (float16)(a##r[k]); c##r##a = fma(av, b0, c##r##a); c##r##b = fma(av, b1, c##r##b); }
#define GEMM_FMA_T(r) { float16 av = (float16)(ak[r]); c##r##a = fma(av, b0, c##r##a); c##r##b = fma(av, b1, c##r##b); }
#define GEMM_STORE(r) if (r >= skip_rows) gemm_store32(C + (long)(ib + r) * ldc, c##r##a, c##r##b, alpha, beta, skip_cols, nc);

/* C row segment [0, nc) from column skip on: alpha acc + beta C (beta == 0: C is not read). */
inline void gemm_store32(__global float* c, float16 va, float16 vb, float alpha, float beta, int skip, int nc) {
  va *= alpha;
  vb *= alpha;
  if (skip == 0 && nc == 32) {
    if (beta != 0.0f) {
      va = fma((float16)(beta), vload16(0, c), va);
      vb = fma((float16)(beta), vload16(1, c), vb);
    }
    vstore16(va, 0, c);
    vstore16(vb, 1, c);
  } else {
    float t[32];
    vstore16(va, 0, t);
    vstore16(vb, 1, t);
    for (int j = skip; j < nc; j++) c[j] = beta == 0.0f ? t[j] : t[j] + beta * c[j];
  }
}

/* The B row k of the block as (b0, b1); columns at or past nc read as zero (N < 32 only). */
inline void gemm_load_b_padded(__global const float* brow, int nc, float16* b0, float16* b1) {
  float t[32];
  for (int j = 0; j < 32; j++) t[j] = j < nc ? brow[j] : 0.0f;
  *b0 = vload16(0, t);
  *b1 = vload16(1, t);
}

#define GEMM_CPU_KERNEL(RM) \
__kernel void gemm_cpu_r##RM(int transA, int M, int N, int K, float alpha, \
                             __global const float* A_base, int A_off, int lda, \
                             __global const float* B_base, int B_off, int ldb, float beta, \
                             __global float* C_base, int C_off, int ldc) { \
  int j0 = get_global_id(0) * 32, i0 = get_global_id(1) * RM; \
  if (j0 >= N || i0 >= M) return; \
  int ib = min(i0, M - RM), jb = max(0, min(j0, N - 32)); \
  int skip_rows = i0 - ib, skip_cols = j0 - jb, nc = min(32, N - jb); \
  __global const float* A = A_base + A_off; \
  __global const float* Bp = B_base + B_off + jb; \
  __global float* C = C_base + C_off + jb; \
  if (transA) { \
    /* op(A)[i, k] = A[k*lda + i]: the block's RM values of k are contiguous */ \
    GEMM_ROWS##RM(GEMM_ACC) \
    if (nc == 32) { \
      for (int k = 0; k < K; k++) { \
        __global const float* brow = Bp + (long)k * ldb; \
        float16 b0 = vload16(0, brow), b1 = vload16(1, brow); \
        __global const float* ak = A + (long)k * lda + ib; \
        GEMM_ROWS##RM(GEMM_FMA_T) \
      } \
    } else { \
      for (int k = 0; k < K; k++) { \
        float16 b0, b1; \
        gemm_load_b_padded(Bp + (long)k * ldb, nc, &b0, &b1); \
        __global const float* ak = A + (long)k * lda + ib; \
        GEMM_ROWS##RM(GEMM_FMA_T) \
      } \
    } \
    GEMM_ROWS##RM(GEMM_STORE) \
  } else { \
    GEMM_ROWS##RM(GEMM_ACC) \
    GEMM_ROWS##RM(GEMM_AROW) \
    if (nc == 32) { \
      for (int k = 0; k < K; k++) { \
        __global const float* brow = Bp + (long)k * ldb; \
        float16 b0 = vload16(0, brow), b1 = vload16(1, brow); \
        GEMM_ROWS##RM(GEMM_FMA_N) \
      } \
    } else { \
      for (int k = 0; k < K; k++) { \
        float16 b0, b1; \
        gemm_load_b_padded(Bp + (long)k * ldb, nc, &b0, &b1); \
        GEMM_ROWS##RM(GEMM_FMA_N) \
      } \
    } \
    GEMM_ROWS##RM(GEMM_STORE) \
  } \
}

GEMM_CPU_KERNEL(1)
GEMM_CPU_KERNEL(2)
GEMM_CPU_KERNEL(4)
GEMM_CPU_KERNEL(6)
GEMM_CPU_KERNEL(8)
GEMM_CPU_KERNEL(10)
GEMM_CPU_KERNEL(12)

/*
 * transpose: dst [cols,rows] = src [rows,cols]^T, both contiguous (ld = cols, resp. rows).
 * Refreshes the transposed weight copies that gemm_cpu_r* multiply by (A W^T = A (W^T)), so only
 * the CPU variant runs it: one work-item per 16 consecutive elements of a dst row (a column of src,
 * gathered), stored as one float16 (helpers in embedding.cl); the last rows % 16 one by one.
 * Launch: global (cols, ceil(rows/16)), any local size.
 */
__kernel void transpose(__global const float* src_base, int src_off, int rows, int cols,
                        __global float* dst_base, int dst_off) {
  int c = get_global_id(0), r0 = get_global_id(1) * 16;
  if (c >= cols || r0 >= rows) return;
  __global const float* src = src_base + src_off + (long)r0 * cols + c;
  __global float* dst = dst_base + dst_off + (long)c * rows + r0;
  if (r0 + 16 <= rows) {
    long s = cols;
    crv_store16((float16)(src[0], src[s], src[2 * s], src[3 * s], src[4 * s], src[5 * s], src[6 * s], src[7 * s],
                          src[8 * s], src[9 * s], src[10 * s], src[11 * s], src[12 * s], src[13 * s], src[14 * s],
                          src[15 * s]),
                dst);
  } else {
    for (int i = 0; i < rows - r0; i++) dst[i] = src[(long)i * cols];
  }
}
