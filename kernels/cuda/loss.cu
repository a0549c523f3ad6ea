/*
 * loss.cu: decoder bias + softmax + cross-entropy, forward and backward in one kernel.
 *
 * softmax_xent
 *   logits [N,V] (decoder GEMM output without bias), bias [V], y [N] targets, row_loss [N]
 *   Launch: N blocks of cr_row_block(V) threads, one block per row (any power-of-two block up to
 *   CR_ROW_BLOCK computes the loss; the sums' order, hence their last bits, follow the block).
 *   writes (=) row_loss[n] = logsumexp(logits[n]+bias) - (logits[n,y[n]]+bias[y[n]]);
 *   if write_grad != 0, overwrites logits (in place) with grad_scale * (softmax - onehot(y)),
 *   i.e. dL/dlogits of the mean loss when grad_scale = 1/N; otherwise leaves logits + bias there.
 *   loss_sum [1] (=) the sum of row_loss, added as sum_final adds it, by the last block to finish
 *   (cr_last_block on ticket [1], 0 before and after), or null: no sum (ticket unused). The loss
 *   of a window in one launch instead of two.
 *   Max and sum are fixed-shape block trees: deterministic.
 */
#include "common.cuh"

/* Row n of softmax_xent: its loss (valid in every thread), the gradient in place with write_grad. */
static __device__ __forceinline__ float cr_softmax_row(float *logits, const float *bias, const int *y, int n, int V,
                                                       float grad_scale, int write_grad, float *scratch) {
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
  if (write_grad) {
    float inv = 1.0f / s;
    for (int c = threadIdx.x; c < V; c += blockDim.x) {
      float p = expf(row[c] - mx) * inv;
      row[c] = grad_scale * (p - (c == target ? 1.0f : 0.0f));
    }
  }
  return (logf(s) + mx) - ly;
}

extern "C" __global__ void __launch_bounds__(CR_ROW_BLOCK)
softmax_xent(float *logits, const float *bias, const int *y, float *row_loss, int N, int V, float grad_scale,
             int write_grad, float *loss_sum, unsigned *ticket) {
  __shared__ float scratch[CR_ROW_BLOCK];
  int n = blockIdx.x;
  if (n < N) { /* uniform over the block; every block still takes its ticket below */
    float loss = cr_softmax_row(logits, bias, y, n, V, grad_scale, write_grad, scratch);
    if (threadIdx.x == 0) row_loss[n] = loss;
  }
  if (loss_sum && cr_last_block(ticket)) {
    float total = cr_block_total(row_loss, N, scratch);
    if (threadIdx.x == 0) loss_sum[0] = total;
  }
}

/*
 * target_weights
 *   y [N] targets, w [N] (=): w[n] = 0 when y[n] == ignore, else 1. One thread per row.
 * mask_xent
 *   after softmax_xent with grad_scale = 1 over a window with uncounted targets: grad [N,V] (the
 *   unscaled dL/dlogits in place of the logits, read only with write_grad), row_loss [N], w [N]
 *   from target_weights, count [1] = sum of w. row_loss[n] (=) 0 where w[n] = 0; with write_grad,
 *   grad[n,:] (=) 0 there and grad[n,:] / max(count, 1) elsewhere, i.e. dL/dlogits of the mean
 *   over the counted targets. One thread per element of grad; no aliasing.
 */
extern "C" __global__ void target_weights(const int *y, int N, int ignore, float *w) {
  long long n = cr_gid();
  if (n >= N) return;
  w[n] = y[n] == ignore ? 0.0f : 1.0f;
}

extern "C" __global__ void mask_xent(float *grad, float *row_loss, const float *w, const float *count, int N, int V,
                                     int write_grad) {
  long long k = cr_gid();
  if (k >= (long long)N * V) return;
  int n = (int)(k / V);
  int keep = w[n] != 0.0f;
  if (write_grad) grad[k] = keep ? grad[k] / fmaxf(count[0], 1.0f) : 0.0f;
  if (k % V == 0 && !keep) row_loss[n] = 0.0f;
}
