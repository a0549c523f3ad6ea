/*
 * rnn.cu: fused tanh-RNN cell. One thread per (b, j).
 *
 * rnn_forward_step
 *   gx [B,H] = x W_ih^T, gh [B,H] = h_prev W_hh^T (no biases), b_ih [H], b_hh [H]
 *   writes (=) h [B,H] = tanh(gx + b_ih + gh + b_hh); h may alias the h_prev that produced gh.
 * rnn_backward_step
 *   dh_out [B,H], dh_next [B,H] (read, then set to 0), h [B,H] the saved output at t
 *   writes (=) dgates [B,H] = (dh_out + dh_next)(1 - h^2).
 */
#include "common.cuh"

extern "C" __global__ void rnn_forward_step(const float *gx, const float *gh, const float *b_ih,
                                            const float *b_hh, float *h, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int j = (int)(k % H);
  h[k] = cr_rnn_forward((gx[k] + b_ih[j]) + (gh[k] + b_hh[j]));
}

extern "C" __global__ void rnn_backward_step(const float *dh_out, float *dh_next, const float *h,
                                             float *dgates, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  dgates[k] = cr_rnn_backward(dh_out[k] + dh_next[k], h[k]);
  dh_next[k] = 0.0f;
}
