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
 * rnn_forward_vec16 / rnn_backward_vec16: rnn_forward_step / rnn_backward_step for CPU devices,
 * same arguments and results (tanh to ~1e-7); a 2-D launch, one work-item per 16 consecutive
 * units j of one row b (helpers in embedding.cl). Launch: global (>= ceil(H/16), >= B), any local size.
 */
__kernel void rnn_forward_vec16(__global const float* gx_base, int gx_off,
                                __global const float* gh_base, int gh_off,
                                __global const float* bih_base, int bih_off,
                                __global const float* bhh_base, int bhh_off,
                                __global float* h_base, int h_off,
                                int B, int H) {
  int j = get_global_id(0) * 16, b = get_global_id(1);
  if (j >= H || b >= B) return;
  int idx = b * H + j;
  __global const float* gx = gx_base + gx_off + idx;
  __global const float* gh = gh_base + gh_off + idx;
  __global const float* bih = bih_base + bih_off + j;
  __global const float* bhh = bhh_base + bhh_off + j;
  __global float* h = h_base + h_off + idx;
  if (j + 16 <= H) {
    crv_store16(crv_tanh(crv_load16(gx) + crv_load16(bih) + crv_load16(gh) + crv_load16(bhh)), h);
  } else {
    for (int u = 0; u < H - j; u++) h[u] = cr_rnn_forward(gx[u] + bih[u] + gh[u] + bhh[u]);
  }
}

__kernel void rnn_backward_vec16(__global const float* dhout_base, int dhout_off,
                                 __global float* dhnext_base, int dhnext_off,
                                 __global const float* h_base, int h_off,
                                 __global float* dgates_base, int dgates_off,
                                 int B, int H) {
  int j = get_global_id(0) * 16, b = get_global_id(1);
  if (j >= H || b >= B) return;
  int idx = b * H + j;
  __global const float* dhout = dhout_base + dhout_off + idx;
  __global float* dhnext = dhnext_base + dhnext_off + idx;
  __global const float* h = h_base + h_off + idx;
  __global float* dgates = dgates_base + dgates_off + idx;
  if (j + 16 <= H) {
    float16 hv = crv_load16(h);
    crv_store16((crv_load16(dhout) + crv_load16(dhnext)) * (1.0f - hv * hv), dgates);
    crv_store16((float16)(0.0f), dhnext);
  } else {
    for (int u = 0; u < H - j; u++) {
      dgates[u] = cr_rnn_backward(dhout[u] + dhnext[u], h[u]);
      dhnext[u] = 0.0f;
    }
  }
}
