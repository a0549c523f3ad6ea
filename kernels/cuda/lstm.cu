/*
 * lstm.cu: fused LSTM cell, one launch per layer and timestep (forward) and per timestep (backward).
 * Gate order along 4H: i, f, g, o (PyTorch). One thread per (b, j), B*H threads.
 *
 * lstm_forward_step
 *   gx [B,4H] = x W_ih^T (slice of the whole-window input projection, no bias)
 *   gh [B,4H] = h_prev W_hh^T (no bias), b_ih [4H], b_hh [4H], c_prev [B,H]
 *   writes (=): gates [B,4H] activated i,f,g,o (saved for backward), c [B,H], h [B,H].
 *   Aliasing: c may alias c_prev and h may alias the h_prev that produced gh (each thread reads its
 *   own element before writing it); used by single-step inference.
 * lstm_backward_step
 *   dh_out [B,H] gradient from above at t; dh_next [B,H] gradient carried from t+1 through W_hh
 *   (read, then set to 0: the caller adds dgates W_hh into it with beta = 1);
 *   dc [B,H] in: dL/dc_t from t+1, out: dL/dc_{t-1}; gates [B,4H] saved; c_prev, c [B,H];
 *   writes (=) dgates [B,4H] = dL/d pre-activation (the gradient of gx and of gh alike).
 */
#include "common.cuh"

extern "C" __global__ void lstm_forward_step(const float *gx, const float *gh, const float *b_ih,
                                             const float *b_hh, const float *c_prev, float *gates,
                                             float *c, float *h, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  long long r = (long long)b * 4 * H;
  float pre[4];
#pragma unroll
  for (int q = 0; q < 4; q++) {
    int col = q * H + j;
    pre[q] = (gx[r + col] + b_ih[col]) + (gh[r + col] + b_hh[col]);
  }
  float i, f, g, o, cn, hn;
  cr_lstm_forward(pre[0], pre[1], pre[2], pre[3], c_prev[k], &i, &f, &g, &o, &cn, &hn);
  cr_store_gates4(gates + r + j, H, i, f, g, o);
  c[k] = cn;
  h[k] = hn;
}

extern "C" __global__ void lstm_backward_step(const float *dh_out, float *dh_next, float *dc,
                                              const float *gates, const float *c_prev, const float *c,
                                              float *dgates, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  long long r = (long long)b * 4 * H;
  float dh = dh_out[k] + dh_next[k];
  float di, df, dg, dov, dcp;
  cr_lstm_backward(dh, dc[k], gates[r + j], gates[r + H + j], gates[r + 2 * H + j], gates[r + 3 * H + j],
                   c_prev[k], c[k], &di, &df, &dg, &dov, &dcp);
  cr_store_gates4(dgates + r + j, H, di, df, dg, dov);
  dc[k] = dcp;
  dh_next[k] = 0.0f;
}
