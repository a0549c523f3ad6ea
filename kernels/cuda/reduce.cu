/*
 * reduce.cu: deterministic reductions (bias gradients, global gradient norm, loss sum) and
 * value clipping.
 *
 * column_sum           a [N,C], out [C]: out[c] = beta*out[c] + sum_n a[n,c]  (beta = 0: =, out not
 *                      read), in cr_column_total's fixed order. Launch ceil(C / CR_COL_WIDTH) blocks
 *                      of CR_COL_WIDTH x CR_COL_LANES threads.
 * sum_squares_partial  g [n], partial [P]: block k writes partial[k] = sum of g[i]^2 over
 *                      i = k*blockDim + tid + s*P*blockDim (grid-stride), fixed block tree.
 *                      Launch P = gridDim.x <= CR_MAX_PARTIALS blocks of CR_BLOCK threads.
 * sum_final            partial [P], out [1]: out[0] = sum (take_sqrt = 0) or sqrt(sum)  (=).
 *                      Launch one block of CR_BLOCK threads. Also sums row losses.
 * clip_value           g [n], norm [1]: g = clamp(g, -max, max) (in place), NaN stays NaN; nothing is
 *                      written when the pre-clip norm is not finite (the update is skipped then, and
 *                      the gradients stay as the reference leaves them).
 */
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(CR_COL_WIDTH * CR_COL_LANES)
column_sum(const float *a, float *out, int N, int C, float beta) {
  long long c = (long long)blockIdx.x * CR_COL_WIDTH + threadIdx.x;
  float s = cr_column_total(a, C, N, c, c < C, [](int) { return true; });
  if (threadIdx.y == 0 && c < C) out[c] = beta == 0.0f ? s : beta * out[c] + s;
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK) sum_squares_partial(const float *g, int n, float *partial) {
  __shared__ float scratch[CR_BLOCK];
  float s = 0.0f;
  long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    float v = g[i];
    s += v * v;
  }
  s = cr_block_sum(s, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK) sum_final(const float *partial, int P, float *out, int take_sqrt) {
  __shared__ float scratch[CR_BLOCK];
  float s = 0.0f;
  for (int i = threadIdx.x; i < P; i += blockDim.x) s += partial[i];
  s = cr_block_sum(s, scratch);
  if (threadIdx.x == 0) out[0] = take_sqrt ? sqrtf(s) : s;
}

extern "C" __global__ void clip_value(float *g, int n, float max, const float *norm) {
  long long i = cr_gid();
  if (i >= n || !isfinite(norm[0])) return;
  float v = g[i];
  g[i] = v > max ? max : (v < -max ? -max : v);
}
