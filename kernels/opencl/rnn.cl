/*
 * rnn.cl: fused tanh-RNN cell, one timestep, one work-item per (b, j), global size >= B*H.
 * One gate block (H). Math from common/cell_math.h. Every float* is (base, element offset).
 */

/*
 * rnn_forward_step
 *   gx [B,H] = x W_ih^T (no bias), gh [B,H] = h_prev W_hh^T (no bias), b_ih [H], b_hh [H]
 *   writes (=): h [B,H] = tanh(gx + b_ih + gh + b_hh) (h is all backward needs)
 */
__kernel void rnn_forward_step(__global const float* gx_base, int gx_off,
                               __global const float* gh_base, int gh_off,
                               __global const float* bih_base, int bih_off,
                               __global const float* bhh_base, int bhh_off,
                               __global float* h_base, int h_off,
                               int B, int H) {
  int idx = get_global_id(0);
  if (idx >= B * H) return;
  int j = idx - (idx / H) * H;
  float pre = gx_base[gx_off + idx] + bih_base[bih_off + j] + gh_base[gh_off + idx] + bhh_base[bhh_off + j];
  h_base[h_off + idx] = cr_rnn_forward(pre);
}

/*
 * rnn_backward_step
 *   dh_out [B,H], dh_next [B,H], h [B,H] saved output of this step
 *   writes (=): dgates [B,H] = (dh_out + dh_next)(1 - h^2); dh_next = 0 (the caller then
 *   accumulates dgates W_hh into it with beta = 1).
 */
__kernel void rnn_backward_step(__global const float* dhout_base, int dhout_off,
                                __global float* dhnext_base, int dhnext_off,
                                __global const float* h_base, int h_off,
                                __global float* dgates_base, int dgates_off,
                                int B, int H) {
  int idx = get_global_id(0);
  if (idx >= B * H) return;
  float dh = dhout_base[dhout_off + idx] + dhnext_base[dhnext_off + idx];
  dgates_base[dgates_off + idx] = cr_rnn_backward(dh, h_base[h_off + idx]);
  dhnext_base[dhnext_off + idx] = 0.0f;
}
