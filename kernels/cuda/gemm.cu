/*
 * gemm.cu: gemm_tiled, the fallback GEMM used when cuBLAS cannot be loaded.
 *
 * Row-major C [M,N] = alpha * op(A) [M,K] * op(B) [K,N] + beta * C  (beta = 0: =, C not read).
 *   op(A)[m,k] = transA ? A[k*lda + m] : A[m*lda + k];  op(B)[k,n] = transB ? B[n*ldb + k] : B[k*ldb + n].
 * Launch: block (CR_TILE, CR_TILE), grid (ceil(N/CR_TILE), min(ceil(M/CR_TILE), 65535)); row tiles
 * beyond grid.y are strided. Each output element is a sum over k in ascending order: deterministic. C must not alias A or B.
 */
#include "common.cuh"

#define CR_TILE 16

extern "C" __global__ void gemm_tiled(int transA, int transB, int M, int N, int K, float alpha,
                                      const float *A, int lda, const float *B, int ldb, float beta,
                                      float *C, int ldc) {
  __shared__ float As[CR_TILE][CR_TILE + 1];
  __shared__ float Bs[CR_TILE][CR_TILE + 1];
  int tx = threadIdx.x, ty = threadIdx.y;
  int col = blockIdx.x * CR_TILE + tx; /* n */
  /* Row tiles stride by gridDim.y, so M may exceed the 65535-block limit of grid.y. The loop bound
   * is uniform across the block, so the __syncthreads() inside stay legal. */
  for (int rowTile = blockIdx.y * CR_TILE; rowTile < M; rowTile += gridDim.y * CR_TILE) {
    int row = rowTile + ty; /* m */
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += CR_TILE) {
      int ka = k0 + tx; /* As[ty][tx] = op(A)[row, ka] */
      As[ty][tx] = (row < M && ka < K)
          ? (transA ? A[(long long)ka * lda + row] : A[(long long)row * lda + ka]) : 0.0f;
      int kb = k0 + ty; /* Bs[ty][tx] = op(B)[kb, col] */
      Bs[ty][tx] = (kb < K && col < N)
          ? (transB ? B[(long long)col * ldb + kb] : B[(long long)kb * ldb + col]) : 0.0f;
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < CR_TILE; kk++) acc += As[ty][kk] * Bs[kk][tx];
      __syncthreads();
    }
    if (row < M && col < N) {
      long long idx = (long long)row * ldc + col;
      C[idx] = beta == 0.0f ? alpha * acc : alpha * acc + beta * C[idx];
    }
  }
}
