/*
 * reduce.cu: deterministic reductions (bias gradients, global gradient norm, loss sum) and
 * value clipping.
 *
 * column_sum           a [N,C], out [C]: out[c] = beta*out[c] + sum_n a[n,c]  (beta = 0: =, out not
 *                      read), in cr_column_total's fixed order; out2 [C] (=) the same values as out,
 *                      or null (a layer whose two bias gradients are the same sums: one launch, no
 *                      copy). out2 must not alias out or a. Launch ceil(C / w) blocks of w x l threads,
 *                      w = cr_col_width(C), l = cr_col_lanes(N).
 * global_norm          g [n], partial [P] (=), norm [1] (=), ticket [1]: block k writes partial[k] =
 *                      sum of g[i]^2 over i = k*blockDim + tid + s*P*blockDim (grid-stride), fixed
 *                      block tree; the last block to finish (cr_last_block) writes norm[0] =
 *                      sqrt(sum of partial), summed as sum_final sums: one launch, the result of
 *                      the two-stage reduction it replaced. ticket 0 before and after. Launch P =
 *                      gridDim.x <= CR_MAX_PARTIALS blocks of CR_BLOCK threads (the host's P:
 *                      cr_norm_partials(n); any P computes the norm, its last bits follow P).
 * sum_final            partial [P], out [1]: out[0] = sum (take_sqrt = 0) or sqrt(sum)  (=).
 *                      Launch one block of CR_BLOCK threads. Sums row losses where the loss kernel
 *                      does not (windows with uncounted targets) and counts targets.
 * clip_value           g [n], norm [1]: g = clamp(g, -max, max) (in place), NaN stays NaN; nothing is
 *                      written when the pre-clip norm is not finite (the update is skipped then, and
 *                      the gradients stay as the reference leaves them).
 */
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(CR_COL_WIDTH * CR_COL_LANES)
column_sum(const float *a, float *out, float *out2, int N, int C, float beta) {
  long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  float s = cr_column_total(a, C, N, c, c < C, [](int) { return true; });
  if (threadIdx.y == 0 && c < C) {
    float v = beta == 0.0f ? s : beta * out[c] + s;
    out[c] = v;
    if (out2) out2[c] = v;
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK)
global_norm(const float *g, int n, float *partial, float *norm, unsigned *ticket) {
  __shared__ float scratch[CR_BLOCK];
  float s = 0.0f;
  long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    float v = g[i];
    s += v * v;
  }
  s = cr_block_sum(s, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
  if (cr_last_block(ticket)) {
    float total = cr_block_total(partial, gridDim.x, scratch);
    if (threadIdx.x == 0) norm[0] = sqrtf(total);
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK) sum_final(const float *partial, int P, float *out, int take_sqrt) {
  __shared__ float scratch[CR_BLOCK];
  float s = cr_block_total(partial, P, scratch);
  if (threadIdx.x == 0) out[0] = take_sqrt ? sqrtf(s) : s;
}

extern "C" __global__ void clip_value(float *g, int n, float max, const float *norm) {
  long long i = cr_gid();
  if (i >= n || !isfinite(norm[0])) return;
  float v = g[i];
  g[i] = v > max ? max : (v < -max ? -max : v);
}
