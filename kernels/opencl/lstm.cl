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
