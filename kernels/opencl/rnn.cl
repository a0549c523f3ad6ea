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

/*
 * rnn_forward_row16: the pointwise forward step of units [j0, j1) of one batch row, 16 at a time
 * as a float16 and the rest through cr_rnn_forward. Pointers address unit 0 of the row:
 *   gx [H] = x W_ih^T, gh [H] = h_prev W_hh^T (both without bias), b_ih [H], b_hh [H]
 *   writes (=): h [H] = tanh(gx + b_ih + gh + b_hh); gh may alias h.
 * Used by rnn_forward_vec16 and the window kernels of window_cpu.cl, so both sum in this order.
 */
inline void rnn_forward_row16(__global const float* gx, __global const float* gh, __global const float* bih,
                              __global const float* bhh, __global float* h, int j0, int j1) {
  int j = j0;
  for (; j + 16 <= j1; j += 16)
    crv_store16(crv_tanh(crv_load16(gx + j) + crv_load16(bih + j) + crv_load16(gh + j) + crv_load16(bhh + j)), h + j);
  for (; j < j1; j++) h[j] = cr_rnn_forward(gx[j] + bih[j] + gh[j] + bhh[j]);
}

/*
 * rnn_backward_row16: units [j0, j1) of one batch row, 16 at a time as a float16 and the rest
 * through cr_rnn_backward: dgates [H] (=) (dh_out [H] + dh_next [H])(1 - h^2), h [H] this step's
 * output. dh_next is only read (the callers clear or overwrite it).
 * Used by rnn_backward_vec16 and the window kernels of window_cpu.cl.
 */
inline void rnn_backward_row16(__global const float* dhout, __global const float* dhnext, __global const float* h,
                               __global float* dgates, int j0, int j1) {
  int j = j0;
  for (; j + 16 <= j1; j += 16) {
    float16 hv = crv_load16(h + j);
    crv_store16((crv_load16(dhout + j) + crv_load16(dhnext + j)) * (1.0f - hv * hv), dgates + j);
  }
  for (; j < j1; j++) dgates[j] = cr_rnn_backward(dhout[j] + dhnext[j], h[j]);
}

/*
 * rnn_forward_vec16 / rnn_backward_vec16: rnn_forward_step / rnn_backward_step for CPU devices,
 * same arguments and results (tanh to ~1e-7); a 2-D launch, one work-item per 16 consecutive
 * units j of one row b (the float16 helpers are in embedding.cl, cell_clear_units in lstm.cl).
 * Launch: global (>= ceil(H/16), >= B), any local size.
 */
__kernel void rnn_forward_vec16(__global const float* gx_base, int gx_off,
                                __global const float* gh_base, int gh_off,
                                __global const float* bih_base, int bih_off,
                                __global const float* bhh_base, int bhh_off,
                                __global float* h_base, int h_off,
                                int B, int H) {
  int j = get_global_id(0) * 16, b = get_global_id(1);
  if (j >= H || b >= B) return;
  int row = b * H;
  rnn_forward_row16(gx_base + gx_off + row, gh_base + gh_off + row, bih_base + bih_off, bhh_base + bhh_off,
                    h_base + h_off + row, j, min(j + 16, H));
}

__kernel void rnn_backward_vec16(__global const float* dhout_base, int dhout_off,
                                 __global float* dhnext_base, int dhnext_off,
                                 __global const float* h_base, int h_off,
                                 __global float* dgates_base, int dgates_off,
                                 int B, int H) {
  int j = get_global_id(0) * 16, b = get_global_id(1);
  if (j >= H || b >= B) return;
  int row = b * H;
  __global float* dhnext = dhnext_base + dhnext_off + row;
  rnn_backward_row16(dhout_base + dhout_off + row, dhnext, h_base + h_off + row, dgates_base + dgates_off + row, j,
                     min(j + 16, H));
  cell_clear_units(dhnext, j, min(j + 16, H));
}
