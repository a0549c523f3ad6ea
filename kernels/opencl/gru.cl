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
 * gru_forward_row16: the pointwise forward step of units [j0, j1) of one batch row, 16 at a time
 * as a float16 and the rest through cr_gru_forward. Pointers address unit 0 of the row:
 *   gx [3H] = x W_ih^T (no bias); gh_rz [2H] = h_prev W_hr^T, h_prev W_hz^T and gh_n [H] =
 *   h_prev W_hn^T (no bias; two pointers so the n block may sit apart from r, z); b_ih [3H],
 *   b_hh [3H], h_prev [H]
 *   writes (=): gates [4H] = r, z, n, gh_n + b_hn, h [H]
 *   gh_rz may alias gates, gh_n may alias gates + 3H and h may alias h_prev (every unit is read
 *   before it is written).
 * Used by gru_forward_vec16 and the window kernels of window_cpu.cl, so both sum in the same order.
 */
inline void gru_forward_row16(__global const float* gx, __global const float* ghrz, __global const float* ghnp,
                              __global const float* bih, __global const float* bhh, __global const float* hprev,
                              __global float* gates, __global float* h, int j0, int j1, int H) {
  int j = j0;
  for (; j + 16 <= j1; j += 16) {
    /* cr_gru_forward */
    float16 r = crv_sigmoid((crv_load16(gx + j) + crv_load16(bih + j)) + (crv_load16(ghrz + j) + crv_load16(bhh + j)));
    float16 z = crv_sigmoid((crv_load16(gx + H + j) + crv_load16(bih + H + j))
                            + (crv_load16(ghrz + H + j) + crv_load16(bhh + H + j)));
    float16 ghn = crv_load16(ghnp + j) + crv_load16(bhh + 2 * H + j);
    float16 n = crv_tanh((crv_load16(gx + 2 * H + j) + crv_load16(bih + 2 * H + j)) + r * ghn);
    float16 hn = (1.0f - z) * n + z * crv_load16(hprev + j);
    crv_store16(r, gates + j);
    crv_store16(z, gates + H + j);
    crv_store16(n, gates + 2 * H + j);
    crv_store16(ghn, gates + 3 * H + j);
    crv_store16(hn, h + j);
  }
  for (; j < j1; j++) {
    float ghn = ghnp[j] + bhh[2 * H + j];
    float r, z, n, hn;
    cr_gru_forward(gx[j] + bih[j], gx[H + j] + bih[H + j], gx[2 * H + j] + bih[2 * H + j],
                   ghrz[j] + bhh[j], ghrz[H + j] + bhh[H + j], ghn, hprev[j], &r, &z, &n, &hn);
    gates[j] = r; gates[H + j] = z; gates[2 * H + j] = n; gates[3 * H + j] = ghn;
    h[j] = hn;
  }
}

/*
 * gru_backward_row16: the pointwise backward step of units [j0, j1) of one batch row, 16 at a
 * time as a float16 and the rest through cr_gru_backward. Pointers address unit 0 of the row:
 *   dh = dh_out [H] + dh_next [H]; gates [4H] saved r, z, n, gh_n + b_hn; h_prev [H]
 *   writes (=): dgx [3H] = dL/d(x W_ih^T + b_ih), dgh [3H] = dL/d(h W_hh^T + b_hh),
 *   dh_next (=) dh z, the part of dL/dh_{t-1} that does not pass through W_hh.
 * Used by gru_backward_vec16 and the window kernels of window_cpu.cl.
 */
inline void gru_backward_row16(__global const float* dhout, __global float* dhnext, __global const float* gates,
                               __global const float* hprev, __global float* dgx, __global float* dgh, int j0, int j1,
                               int H) {
  int j = j0;
  for (; j + 16 <= j1; j += 16) {
    /* cr_gru_backward */
    float16 dh = crv_load16(dhout + j) + crv_load16(dhnext + j);
    float16 r = crv_load16(gates + j), z = crv_load16(gates + H + j), n = crv_load16(gates + 2 * H + j),
            ghn = crv_load16(gates + 3 * H + j);
    float16 dn = dh * (1.0f - z) * (1.0f - n * n);
    float16 dz = dh * (crv_load16(hprev + j) - n) * z * (1.0f - z);
    float16 dr = dn * ghn * r * (1.0f - r);
    crv_store16(dr, dgx + j);
    crv_store16(dz, dgx + H + j);
    crv_store16(dn, dgx + 2 * H + j);
    crv_store16(dr, dgh + j);
    crv_store16(dz, dgh + H + j);
    crv_store16(dn * r, dgh + 2 * H + j);
    crv_store16(dh * z, dhnext + j);
  }
  for (; j < j1; j++) {
    float dxr, dxz, dxn, dhr, dhz, dhn, dprev;
    cr_gru_backward(dhout[j] + dhnext[j], gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j], hprev[j],
                    &dxr, &dxz, &dxn, &dhr, &dhz, &dhn, &dprev);
    dgx[j] = dxr; dgx[H + j] = dxz; dgx[2 * H + j] = dxn;
    dgh[j] = dhr; dgh[H + j] = dhz; dgh[2 * H + j] = dhn;
    dhnext[j] = dprev;
  }
}

/*
 * gru_forward_vec16 / gru_backward_vec16: gru_forward_step / gru_backward_step for CPU devices,
 * same arguments and results (the activations to ~1e-7); one work-item per 16 consecutive units j
 * of one row b (the float16 helpers are in embedding.cl). Launch: global (>= ceil(H/16), >= B),
 * any local size.
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
  int row = b * H;
  __global const float* gh = gh_base + gh_off + b * 3 * H;
  gru_forward_row16(gx_base + gx_off + b * 3 * H, gh, gh + 2 * H, bih_base + bih_off, bhh_base + bhh_off,
                    hprev_base + hprev_off + row, gates_base + gates_off + b * 4 * H, h_base + h_off + row, j,
                    min(j + 16, H), H);
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
  int row = b * H;
  gru_backward_row16(dhout_base + dhout_off + row, dhnext_base + dhnext_off + row, gates_base + gates_off + b * 4 * H,
                     hprev_base + hprev_off + row, dgx_base + dgx_off + b * 3 * H, dgh_base + dgh_off + b * 3 * H, j,
                     min(j + 16, H), H);
}
