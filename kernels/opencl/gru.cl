/*
 * gru.cl: fused GRU cell, one timestep, one work-item per (b, j): a 2-D launch of global size
 * (>= H, >= B), dimension 0 along j (a 1-D index split by an integer division kept PoCL from
 * vectorizing across work-items: 2x slower on the CPU).
 * Gate order along the 3H axis: r, z, n (PyTorch). Math from common/cell_math.h.
 * Every float* is passed as (base, element offset).
 */

/*
 * gru_forward_step
 *   gx [B,3H] = x W_ih^T (no bias), gh [B,3H] = h_prev W_hh^T (no bias), b_ih [3H], b_hh [3H],
 *   h_prev [B,H]
 *   writes (=): gates [B,4H] = r, z, n, gh_n + b_hn (4 blocks of H, saved for backward), h [B,H]
 *   h may alias h_prev (same work-item reads then writes).
 */
__kernel void gru_forward_step(__global const float* gx_base, int gx_off,
                               __global const float* gh_base, int gh_off,
                               __global const float* bih_base, int bih_off,
                               __global const float* bhh_base, int bhh_off,
                               __global const float* hprev_base, int hprev_off,
                               __global float* gates_base, int gates_off,
                               __global float* h_base, int h_off,
                               int B, int H) {
  int j = get_global_id(0), b = get_global_id(1);
  if (j >= H || b >= B) return;
  int idx = b * H + j;
  __global const float* gx = gx_base + gx_off + b * 3 * H;
  __global const float* gh = gh_base + gh_off + b * 3 * H;
  __global const float* bih = bih_base + bih_off;
  __global const float* bhh = bhh_base + bhh_off;
  float ghn = gh[2 * H + j] + bhh[2 * H + j];
  float r, z, n, h;
  cr_gru_forward(gx[j] + bih[j], gx[H + j] + bih[H + j], gx[2 * H + j] + bih[2 * H + j],
                 gh[j] + bhh[j], gh[H + j] + bhh[H + j], ghn,
                 hprev_base[hprev_off + idx], &r, &z, &n, &h);
  __global float* gates = gates_base + gates_off + b * 4 * H;
  gates[j] = r; gates[H + j] = z; gates[2 * H + j] = n; gates[3 * H + j] = ghn;
  h_base[h_off + idx] = h;
}

/*
 * gru_backward_step
 *   dh_out [B,H], dh_next [B,H] (in: dL/dh_t through time), gates [B,4H] saved r,z,n,gh_n+b_hn,
 *   h_prev [B,H]
 *   writes (=): dgx [B,3H] = dL/d(x W_ih^T + b_ih), dgh [B,3H] = dL/d(h W_hh^T + b_hh),
 *   dh_next = dh * z (the caller then accumulates dgh W_hh into it with beta = 1).
 */
__kernel void gru_backward_step(__global const float* dhout_base, int dhout_off,
                                __global float* dhnext_base, int dhnext_off,
                                __global const float* gates_base, int gates_off,
                                __global const float* hprev_base, int hprev_off,
                                __global float* dgx_base, int dgx_off,
                                __global float* dgh_base, int dgh_off,
                                int B, int H) {
  int j = get_global_id(0), b = get_global_id(1);
  if (j >= H || b >= B) return;
  int idx = b * H + j;
  float dh = dhout_base[dhout_off + idx] + dhnext_base[dhnext_off + idx];
  __global const float* gates = gates_base + gates_off + b * 4 * H;
  float dxr, dxz, dxn, dhr, dhz, dhn, dprev;
  cr_gru_backward(dh, gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j],
                  hprev_base[hprev_off + idx], &dxr, &dxz, &dxn, &dhr, &dhz, &dhn, &dprev);
  __global float* dgx = dgx_base + dgx_off + b * 3 * H;
  __global float* dgh = dgh_base + dgh_off + b * 3 * H;
  dgx[j] = dxr; dgx[H + j] = dxz; dgx[2 * H + j] = dxn;
  dgh[j] = dhr; dgh[H + j] = dhz; dgh[2 * H + j] = dhn;
  dhnext_base[dhnext_off + idx] = dprev;
}

/*
 * gru_forward_vec16 / gru_backward_vec16: gru_forward_step / gru_backward_step for CPU devices,
 * same arguments and results (the activations to ~1e-7); one work-item per 16 consecutive units j
 * of one row b (helpers in embedding.cl). Launch: global (>= ceil(H/16), >= B), any local size.
 */
__kernel void gru_forward_vec16(__global const float* gx_base, int gx_off,
                                __global const float* gh_base, int gh_off,
                                __global const float* bih_base, int bih_off,
                                __global const float* bhh_base, int bhh_off,
                                __global const float* hprev_base, int hprev_off,
                                __global float* gates_base, int gates_off,
                                __global float* h_base, int h_off,
                                int B, int H) {
  int j = get_global_id(0) * 16, b = get_global_id(1);
  if (j >= H || b >= B) return;
  int idx = b * H + j;
  __global const float* gx = gx_base + gx_off + b * 3 * H + j;
  __global const float* gh = gh_base + gh_off + b * 3 * H + j;
  __global const float* bih = bih_base + bih_off + j;
  __global const float* bhh = bhh_base + bhh_off + j;
  __global const float* hprev = hprev_base + hprev_off + idx;
  __global float* gates = gates_base + gates_off + b * 4 * H + j;
  __global float* h = h_base + h_off + idx;
  if (j + 16 <= H) {
    /* cr_gru_forward */
    float16 r = crv_sigmoid((crv_load16(gx) + crv_load16(bih)) + (crv_load16(gh) + crv_load16(bhh)));
    float16 z = crv_sigmoid((crv_load16(gx + H) + crv_load16(bih + H)) + (crv_load16(gh + H) + crv_load16(bhh + H)));
    float16 ghn = crv_load16(gh + 2 * H) + crv_load16(bhh + 2 * H);
    float16 n = crv_tanh((crv_load16(gx + 2 * H) + crv_load16(bih + 2 * H)) + r * ghn);
    float16 hn = (1.0f - z) * n + z * crv_load16(hprev);
    crv_store16(r, gates);
    crv_store16(z, gates + H);
    crv_store16(n, gates + 2 * H);
    crv_store16(ghn, gates + 3 * H);
    crv_store16(hn, h);
  } else {
    for (int u = 0; u < H - j; u++) {
      float ghn = gh[2 * H + u] + bhh[2 * H + u];
      float r, z, n, hn;
      cr_gru_forward(gx[u] + bih[u], gx[H + u] + bih[H + u], gx[2 * H + u] + bih[2 * H + u],
                     gh[u] + bhh[u], gh[H + u] + bhh[H + u], ghn, hprev[u], &r, &z, &n, &hn);
      gates[u] = r; gates[H + u] = z; gates[2 * H + u] = n; gates[3 * H + u] = ghn;
      h[u] = hn;
    }
  }
}

__kernel void gru_backward_vec16(__global const float* dhout_base, int dhout_off,
                                 __global float* dhnext_base, int dhnext_off,
                                 __global const float* gates_base, int gates_off,
                                 __global const float* hprev_base, int hprev_off,
                                 __global float* dgx_base, int dgx_off,
                                 __global float* dgh_base, int dgh_off,
                                 int B, int H) {
  int j = get_global_id(0) * 16, b = get_global_id(1);
  if (j >= H || b >= B) return;
  int idx = b * H + j;
  __global const float* dhout = dhout_base + dhout_off + idx;
  __global float* dhnext = dhnext_base + dhnext_off + idx;
  __global const float* gates = gates_base + gates_off + b * 4 * H + j;
  __global const float* hprev = hprev_base + hprev_off + idx;
  __global float* dgx = dgx_base + dgx_off + b * 3 * H + j;
  __global float* dgh = dgh_base + dgh_off + b * 3 * H + j;
  if (j + 16 <= H) {
    /* cr_gru_backward */
    float16 dh = crv_load16(dhout) + crv_load16(dhnext);
    float16 r = crv_load16(gates), z = crv_load16(gates + H), n = crv_load16(gates + 2 * H),
            ghn = crv_load16(gates + 3 * H);
    float16 dn = dh * (1.0f - z) * (1.0f - n * n);
    float16 dz = dh * (crv_load16(hprev) - n) * z * (1.0f - z);
    float16 dr = dn * ghn * r * (1.0f - r);
    crv_store16(dr, dgx);
    crv_store16(dz, dgx + H);
    crv_store16(dn, dgx + 2 * H);
    crv_store16(dr, dgh);
    crv_store16(dz, dgh + H);
    crv_store16(dn * r, dgh + 2 * H);
    crv_store16(dh * z, dhnext);
  } else {
    for (int u = 0; u < H - j; u++) {
      float dxr, dxz, dxn, dhr, dhz, dhn, dprev;
      cr_gru_backward(dhout[u] + dhnext[u], gates[u], gates[H + u], gates[2 * H + u], gates[3 * H + u], hprev[u],
                      &dxr, &dxz, &dxn, &dhr, &dhz, &dhn, &dprev);
      dgx[u] = dxr; dgx[H + u] = dxz; dgx[2 * H + u] = dxn;
      dgh[u] = dhr; dgh[H + u] = dhz; dgh[2 * H + u] = dhn;
      dhnext[u] = dprev;
    }
  }
}
