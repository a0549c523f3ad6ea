/*
 * loss.cu: decoder bias + softmax + cross-entropy, forward and backward in one kernel.
 *
 * softmax_xent
 *   logits [N,V] (decoder GEMM output without bias), bias [V], y [N] targets, row_loss [N]
 *   Launch: N blocks of CR_ROW_BLOCK threads (a power of two), one block per row.
 *   writes (=) row_loss[n] = logsumexp(logits[n]+bias) - (logits[n,y[n]]+bias[y[n]]);
 *   if write_grad != 0, overwrites logits (in place) with grad_scale * (softmax - onehot(y)),
 *   i.e. dL/dlogits of the mean loss when grad_scale = 1/N; otherwise leaves logits + bias there.
 *   Max and sum are fixed-shape block trees: deterministic.
 */
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(CR_ROW_BLOCK)
softmax_xent(float *logits, const float *bias, const int *y, float *row_loss, int N, int V, float grad_scale, int write_grad) {
  __shared__ float scratch[CR_ROW_BLOCK];
  int n = blockIdx.x;
  if (n >= N) return; /* uniform over the block */
  float *row = logits + (long long)n * V;
  float mx = -INFINITY;
  for (int c = threadIdx.x; c < V; c += blockDim.x) {
    float v = row[c] + bias[c];
    row[c] = v;
    mx = fmaxf(mx, v);
  }
  mx = cr_block_max(mx, scratch); /* synchronizes: every biased logit is visible */
  int target = y[n];
  float ly = row[target];
  float s = 0.0f;
  for (int c = threadIdx.x; c < V; c += blockDim.x) s += expf(row[c] - mx);
  s = cr_block_sum(s, scratch); /* synchronizes: every read of row[target] happened */
  if (threadIdx.x == 0) row_loss[n] = (logf(s) + mx) - ly;
  if (write_grad) {
    float inv = 1.0f / s;
    for (int c = threadIdx.x; c < V; c += blockDim.x) {
      float p = expf(row[c] - mx) * inv;
      row[c] = grad_scale * (p - (c == target ? 1.0f : 0.0f));
    }
  }
}
