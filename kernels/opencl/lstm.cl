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
 * lstm_forward_vec16 / lstm_backward_vec16: lstm_forward_step / lstm_backward_step for CPU
 * devices, same arguments and results (the activations to ~1e-7); one work-item per 16
 * consecutive units j of one row b (helpers in embedding.cl).
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
  int idx = b * H + j;
  __global const float* gx = gx_base + gx_off + b * 4 * H + j;
  __global const float* gh = gh_base + gh_off + b * 4 * H + j;
  __global const float* bih = bih_base + bih_off + j;
  __global const float* bhh = bhh_base + bhh_off + j;
  __global const float* cprev = cprev_base + cprev_off + idx;
  __global float* gates = gates_base + gates_off + b * 4 * H + j;
  __global float* c = c_base + c_off + idx;
  __global float* h = h_base + h_off + idx;
  if (j + 16 <= H) {
    float16 i = crv_sigmoid(crv_load16(gx) + crv_load16(gh) + crv_load16(bih) + crv_load16(bhh));
    float16 f = crv_sigmoid(crv_load16(gx + H) + crv_load16(gh + H) + crv_load16(bih + H) + crv_load16(bhh + H));
    float16 g = crv_tanh(crv_load16(gx + 2 * H) + crv_load16(gh + 2 * H) + crv_load16(bih + 2 * H)
                         + crv_load16(bhh + 2 * H));
    float16 o = crv_sigmoid(crv_load16(gx + 3 * H) + crv_load16(gh + 3 * H) + crv_load16(bih + 3 * H)
                            + crv_load16(bhh + 3 * H));
    float16 cn = f * crv_load16(cprev) + i * g;
    crv_store16(i, gates);
    crv_store16(f, gates + H);
    crv_store16(g, gates + 2 * H);
    crv_store16(o, gates + 3 * H);
    crv_store16(cn, c);
    crv_store16(o * crv_tanh(cn), h);
  } else {
    for (int u = 0; u < H - j; u++) {
      float vi, vf, vg, vo, vc, vh;
      cr_lstm_forward(gx[u] + gh[u] + bih[u] + bhh[u], gx[H + u] + gh[H + u] + bih[H + u] + bhh[H + u],
                      gx[2 * H + u] + gh[2 * H + u] + bih[2 * H + u] + bhh[2 * H + u],
                      gx[3 * H + u] + gh[3 * H + u] + bih[3 * H + u] + bhh[3 * H + u], cprev[u],
                      &vi, &vf, &vg, &vo, &vc, &vh);
      gates[u] = vi; gates[H + u] = vf; gates[2 * H + u] = vg; gates[3 * H + u] = vo;
      c[u] = vc;
      h[u] = vh;
    }
  }
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
  int idx = b * H + j;
  __global const float* dhout = dhout_base + dhout_off + idx;
  __global float* dhnext = dhnext_base + dhnext_off + idx;
  __global float* dcp = dc_base + dc_off + idx;
  __global const float* gates = gates_base + gates_off + b * 4 * H + j;
  __global const float* cprev = cprev_base + cprev_off + idx;
  __global const float* cc = c_base + c_off + idx;
  __global float* dgates = dgates_base + dgates_off + b * 4 * H + j;
  if (j + 16 <= H) {
    /* cr_lstm_backward */
    float16 dh = crv_load16(dhout) + crv_load16(dhnext);
    float16 i = crv_load16(gates), f = crv_load16(gates + H), g = crv_load16(gates + 2 * H),
            o = crv_load16(gates + 3 * H);
    float16 tc = crv_tanh(crv_load16(cc));
    float16 dc = crv_load16(dcp) + dh * o * (1.0f - tc * tc);
    crv_store16(dc * g * i * (1.0f - i), dgates);
    crv_store16(dc * crv_load16(cprev) * f * (1.0f - f), dgates + H);
    crv_store16(dc * i * (1.0f - g * g), dgates + 2 * H);
    crv_store16(dh * tc * o * (1.0f - o), dgates + 3 * H);
    crv_store16(dc * f, dcp);
    crv_store16((float16)(0.0f), dhnext);
  } else {
    for (int u = 0; u < H - j; u++) {
      float di, df, dg, dout, dprev;
      cr_lstm_backward(dhout[u] + dhnext[u], dcp[u], gates[u], gates[H + u], gates[2 * H + u], gates[3 * H + u],
                       cprev[u], cc[u], &di, &df, &dg, &dout, &dprev);
      dgates[u] = di; dgates[H + u] = df; dgates[2 * H + u] = dg; dgates[3 * H + u] = dout;
      dcp[u] = dprev;
      dhnext[u] = 0.0f;
    }
  }
}
