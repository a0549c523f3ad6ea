/*
 * persistent_common.cuh: what the persistent recurrent kernels (persistent_lstm.cu, persistent_gru.cu,
 * persistent_rnn.cu) share: the units a block owns, the staging of its slice of W_hh into dynamic
 * shared memory, and the fixed-order dot product every timestep runs.
 *
 * A cell with G gate rows per hidden unit (LSTM 4, GRU 3, RNN 1) has W_hh [G*H, H], row q*H + j the
 * gate q of unit j. A launch has ceil(H / U) blocks of CR_BLOCK threads; block k owns the units j in
 * [k*U, min(H, (k+1)*U)) and G * U * H floats of dynamic shared memory (persistent_shared_bytes):
 *   forward: the G rows of each of its units, [G][U][H] (cr_persistent_stage_rows);
 *   backward: the columns of its units over all G*H rows, [U][G*H] (cr_persistent_stage_cols).
 * Slots of units past H (the last block's) hold zeros. Between timesteps the blocks meet at one
 * grid barrier (cooperative_groups::this_grid().sync()), which needs a cooperative launch.
 */
#ifndef CHARRNN_CUDA_PERSISTENT_COMMON_CUH
#define CHARRNN_CUDA_PERSISTENT_COMMON_CUH

#include <cooperative_groups.h>

#include "common.cuh"

/* Dynamic shared memory of one block: its W_hh slice of G gate rows x U units x H, fp32. */
static inline unsigned long long persistent_shared_bytes(int G, int U, int H) {
  return (unsigned long long)G * (unsigned long long)U * (unsigned long long)H * sizeof(float);
}

/* The units this block owns: U, fewer in the last block (0 if U * blocks overshoots H by a block). */
static __device__ __forceinline__ int cr_persistent_units(int H, int U) {
  int left = H - (int)blockIdx.x * U;
  return left < 0 ? 0 : left < U ? left : U;
}

/* w [G][U][H] (=) the G gate rows of units j0 .. j0+U-1 of w_hh [G*H,H]; then a block barrier. */
static __device__ __forceinline__ void cr_persistent_stage_rows(float *w, const float *w_hh, int G, int H, int U,
                                                                int units) {
  int j0 = (int)blockIdx.x * U;
  long long rows = (long long)G * U;
  for (long long e = threadIdx.x; e < rows * H; e += blockDim.x) {
    int lr = (int)(e / H), k = (int)(e % H), q = lr / U, u = lr % U;
    w[e] = u < units ? w_hh[((long long)q * H + j0 + u) * H + k] : 0.0f;
  }
  __syncthreads();
}

/* w [U][G*H] (=) the columns j0 .. j0+U-1 of w_hh [G*H,H], each over all G*H rows; then a block barrier. */
static __device__ __forceinline__ void cr_persistent_stage_cols(float *w, const float *w_hh, int G, int H, int U,
                                                                int units) {
  int j0 = (int)blockIdx.x * U;
  long long GH = (long long)G * H;
  for (long long e = threadIdx.x; e < (long long)U * GH; e += blockDim.x) {
    int u = (int)(e / GH);
    long long r = e % GH;
    w[e] = u < units ? w_hh[r * H + j0 + u] : 0.0f;
  }
  __syncthreads();
}

/* a . b over n floats in fp32, index ascending (fmaf), the same order in every kernel and run. */
static __device__ __forceinline__ float cr_persistent_dot(const float *a, const float *b, int n) {
  float acc = 0.0f;
  for (int k = 0; k < n; k++) acc = fmaf(a[k], b[k], acc);
  return acc;
}

#endif
