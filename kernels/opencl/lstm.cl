/*
 * lstm.cl: fused LSTM cell, one timestep, one work-item per (b, j): a 2-D launch of global size
 * (>= H, >= B), dimension 0 along j (a 1-D index split by an integer division kept PoCL from
 * vectorizing across work-items: 2x slower on the CPU).
 * Gate order along the 4H axis: i, f, g, o (PyTorch). Math from common/cell_math.h.
 * Every float* is passed as (base, element offset) so it can address a timestep slice of a
 * [T+1,B,H] / [T,B,4H] buffer or a tensor inside the flat parameter buffer.
 */

/*
 * lstm_forward_step
 *   gx [B,4H] = x W_ih^T (no bias), gh [B,4H] = h_prev W_hh^T (no bias),
 *   b_ih [4H], b_hh [4H], c_prev [B,H]
 *   writes (=): gates [B,4H] activated i,f,g,o (saved for backward), c [B,H], h [B,H]
 *   c may alias c_prev (each element is read before it is written by the same work-item).
 */
__kernel void lstm_forward_step(__global const float* gx_base, int gx_off,
                                __global const float* gh_base, int gh_off,
                                __global const float* bih_base, int bih_off,
                                __global const float* bhh_base, int bhh_off,
                                __global const float* cprev_base, int cprev_off,
                                __global float* gates_base, int gates_off,
                                __global float* c_base, int c_off,
                                __global float* h_base, int h_off,
                                int B, int H) {
  int j = get_global_id(0), b = get_global_id(1);
  if (j >= H || b >= B) return;
  int idx = b * H + j;
  __global const float* gx = gx_base + gx_off + b * 4 * H;
  __global const float* gh = gh_base + gh_off + b * 4 * H;
  __global const float* bih = bih_base + bih_off;
  __global const float* bhh = bhh_base + bhh_off;
  float pi = gx[j] + gh[j] + bih[j] + bhh[j];
  float pf = gx[H + j] + gh[H + j] + bih[H + j] + bhh[H + j];
  float pg = gx[2 * H + j] + gh[2 * H + j] + bih[2 * H + j] + bhh[2 * H + j];
  float po = gx[3 * H + j] + gh[3 * H + j] + bih[3 * H + j] + bhh[3 * H + j];
  float i, f, g, o, c, h;
  cr_lstm_forward(pi, pf, pg, po, cprev_base[cprev_off + idx], &i, &f, &g, &o, &c, &h);
  __global float* gates = gates_base + gates_off + b * 4 * H;
  gates[j] = i; gates[H + j] = f; gates[2 * H + j] = g; gates[3 * H + j] = o;
  c_base[c_off + idx] = c;
  h_base[h_off + idx] = h;
}

/*
 * lstm_backward_step
 *   dh_out [B,H] dL/dh_t from above (decoder or next layer), dh_next [B,H] dL/dh_t through time,
 *   dc [B,H] in: dL/dc_t from t+1, out: dL/dc_{t-1} (in place),
 *   gates [B,4H] saved i,f,g,o, c_prev [B,H], c [B,H]
 *   writes (=): dgates [B,4H] = dL/d pre-activation (i,f,g,o); dh_next = 0 (the caller then
 *   accumulates dgates W_hh into it with beta = 1).
 */
__kernel void lstm_backward_step(__global const float* dhout_base, int dhout_off,
                                 __global float* dhnext_base, int dhnext_off,
                                 __global float* dc_base, int dc_off,
                                 __global const float* gates_base, int gates_off,
                                 __global const float* cprev_base, int cprev_off,
                                 __global const float* c_base, int c_off,
                                 __global float* dgates_base, int dgates_off,
                                 int B, int H) {
  int j = get_global_id(0), b = get_global_id(1);
  if (j >= H || b >= B) return;
  int idx = b * H + j;
  float dh = dhout_base[dhout_off + idx] + dhnext_base[dhnext_off + idx];
  __global const float* gates = gates_base + gates_off + b * 4 * H;
  float di, df, dg, dout, dcp;
  cr_lstm_backward(dh, dc_base[dc_off + idx], gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j],
                   cprev_base[cprev_off + idx], c_base[c_off + idx], &di, &df, &dg, &dout, &dcp);
  __global float* dgates = dgates_base + dgates_off + b * 4 * H;
  dgates[j] = di; dgates[H + j] = df; dgates[2 * H + j] = dg; dgates[3 * H + j] = dout;
  dc_base[dc_off + idx] = dcp;
  dhnext_base[dhnext_off + idx] = 0.0f;
}

/*
 * lstm_forward_row16: the pointwise forward step of units [j0, j1) of one batch row, 16 at a time
 * as a float16 and the rest through cr_lstm_forward. Pointers address unit 0 of the row:
 *   gx [4H] = x W_ih^T, gh [4H] = h_prev W_hh^T (both without bias), b_ih [4H], b_hh [4H],
 *   c_prev [H]
 *   writes (=): gates [4H] activated i,f,g,o, c [H], h [H]
 *   gh may alias gates and c may alias c_prev (every unit is read before it is written).
 * Used by lstm_forward_vec16 and the window kernels of window_cpu.cl, so both sum
 * gx + gh + b_ih + b_hh in the same order.
 */
inline void lstm_forward_row16(__global const float* gx, __global const float* gh, __global const float* bih,
                               __global const float* bhh, __global const float* cprev, __global float* gates,
                               __global float* c, __global float* h, int j0, int j1, int H) {
  int j = j0;
  for (; j + 16 <= j1; j += 16) {
    float16 i = crv_sigmoid(crv_load16(gx + j) + crv_load16(gh + j) + crv_load16(bih + j) + crv_load16(bhh + j));
    float16 f = crv_sigmoid(crv_load16(gx + H + j) + crv_load16(gh + H + j) + crv_load16(bih + H + j)
                            + crv_load16(bhh + H + j));
    float16 g = crv_tanh(crv_load16(gx + 2 * H + j) + crv_load16(gh + 2 * H + j) + crv_load16(bih + 2 * H + j)
                         + crv_load16(bhh + 2 * H + j));
    float16 o = crv_sigmoid(crv_load16(gx + 3 * H + j) + crv_load16(gh + 3 * H + j) + crv_load16(bih + 3 * H + j)
                            + crv_load16(bhh + 3 * H + j));
    float16 cn = f * crv_load16(cprev + j) + i * g;
    crv_store16(i, gates + j);
    crv_store16(f, gates + H + j);
    crv_store16(g, gates + 2 * H + j);
    crv_store16(o, gates + 3 * H + j);
    crv_store16(cn, c + j);
    crv_store16(o * crv_tanh(cn), h + j);
  }
  for (; j < j1; j++) {
    float vi, vf, vg, vo, vc, vh;
    cr_lstm_forward(gx[j] + gh[j] + bih[j] + bhh[j], gx[H + j] + gh[H + j] + bih[H + j] + bhh[H + j],
                    gx[2 * H + j] + gh[2 * H + j] + bih[2 * H + j] + bhh[2 * H + j],
                    gx[3 * H + j] + gh[3 * H + j] + bih[3 * H + j] + bhh[3 * H + j], cprev[j],
                    &vi, &vf, &vg, &vo, &vc, &vh);
    gates[j] = vi; gates[H + j] = vf; gates[2 * H + j] = vg; gates[3 * H + j] = vo;
    c[j] = vc;
    h[j] = vh;
  }
}

/*
 * lstm_backward_row16: the pointwise backward step of units [j0, j1) of one batch row, 16 at a
 * time as a float16 and the rest through cr_lstm_backward. Pointers address unit 0 of the row:
 *   dh = dh_out [H] + dh_next [H]; gates [4H] saved i,f,g,o, c_prev [H], c [H]
 *   dc [H] in: dL/dc_t, out: dL/dc_{t-1} (in place)
 *   writes (=): dgates [4H] = dL/d pre-activation (i,f,g,o). dh_next is only read (the callers
 *   clear or overwrite it).
 * Used by lstm_backward_vec16 and the window kernels of window_cpu.cl.
 */
inline void lstm_backward_row16(__global const float* dhout, __global const float* dhnext, __global float* dc,
                                __global const float* gates, __global const float* cprev, __global const float* c,
                                __global float* dgates, int j0, int j1, int H) {
  int j = j0;
  for (; j + 16 <= j1; j += 16) {
    /* cr_lstm_backward */
    float16 dh = crv_load16(dhout + j) + crv_load16(dhnext + j);
    float16 i = crv_load16(gates + j), f = crv_load16(gates + H + j), g = crv_load16(gates + 2 * H + j),
            o = crv_load16(gates + 3 * H + j);
    float16 tc = crv_tanh(crv_load16(c + j));
    float16 dcv = crv_load16(dc + j) + dh * o * (1.0f - tc * tc);
    crv_store16(dcv * g * i * (1.0f - i), dgates + j);
    crv_store16(dcv * crv_load16(cprev + j) * f * (1.0f - f), dgates + H + j);
    crv_store16(dcv * i * (1.0f - g * g), dgates + 2 * H + j);
    crv_store16(dh * tc * o * (1.0f - o), dgates + 3 * H + j);
    crv_store16(dcv * f, dc + j);
  }
  for (; j < j1; j++) {
    float di, df, dg, dout, dprev;
    cr_lstm_backward(dhout[j] + dhnext[j], dc[j], gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j],
                     cprev[j], c[j], &di, &df, &dg, &dout, &dprev);
    dgates[j] = di; dgates[H + j] = df; dgates[2 * H + j] = dg; dgates[3 * H + j] = dout;
    dc[j] = dprev;
  }
}

/* cell_clear_units: p[j0, j1) (=) 0, 16 at a time as a float16 and the rest one by one. */
inline void cell_clear_units(__global float* p, int j0, int j1) {
  int j = j0;
  for (; j + 16 <= j1; j += 16) crv_store16((float16)(0.0f), p + j);
  for (; j < j1; j++) p[j] = 0.0f;
}

/*
 * lstm_forward_vec16 / lstm_backward_vec16: lstm_forward_step / lstm_backward_step for CPU
 * devices, same arguments and results (the activations to ~1e-7); one work-item per 16
 * consecutive units j of one row b (the float16 helpers are in embedding.cl).
 * Launch: global (>= ceil(H/16), >= B), any local size.
 */
__kernel void lstm_forward_vec16(__global const float* gx_base, int gx_off,
                                 __global const float* gh_base, int gh_off,
                                 __global const float* bih_base, int bih_off,
                                 __global const float* bhh_base, int bhh_off,
                                 __global const float* cprev_base, int cprev_off,
                                 __global float* gates_base, int gates_off,
                                 __global float* c_base, int c_off,
                                 __global float* h_base, int h_off,
                                 int B, int H) {
  int j = get_global_id(0) * 16, b = get_global_id(1);
  if (j >= H || b >= B) return;
  int row = b * H;
  lstm_forward_row16(gx_base + gx_off + b * 4 * H, gh_base + gh_off + b * 4 * H, bih_base + bih_off,
                     bhh_base + bhh_off, cprev_base + cprev_off + row, gates_base + gates_off + b * 4 * H,
                     c_base + c_off + row, h_base + h_off + row, j, min(j + 16, H), H);
}

__kernel void lstm_backward_vec16(__global const float* dhout_base, int dhout_off,
                                  __global float* dhnext_base, int dhnext_off,
                                  __global float* dc_base, int dc_off,
                                  __global const float* gates_base, int gates_off,
                                  __global const float* cprev_base, int cprev_off,
                                  __global const float* c_base, int c_off,
                                  __global float* dgates_base, int dgates_off,
                                  int B, int H) {
  int j = get_global_id(0) * 16, b = get_global_id(1);
  if (j >= H || b >= B) return;
  int row = b * H;
  __global float* dhnext = dhnext_base + dhnext_off + row;
  lstm_backward_row16(dhout_base + dhout_off + row, dhnext, dc_base + dc_off + row, gates_base + gates_off + b * 4 * H,
                      cprev_base + cprev_off + row, c_base + c_off + row, dgates_base + dgates_off + b * 4 * H, j,
                      min(j + 16, H), H);
  cell_clear_units(dhnext, j, min(j + 16, H));
}
