/*
 * gru.cu: fused GRU cell. Gate order along 3H: r, z, n (PyTorch). One thread per (b, j).
 *
 * gru_forward_step
 *   gx [B,3H] = x W_ih^T, gh [B,3H] = h_prev W_hh^T (no biases), b_ih [3H], b_hh [3H], h_prev [B,H]
 *   writes (=): gates [B,4H] = r, z, n, gh_n + b_hn (four blocks of H; what backward needs), h [B,H].
 *   h may alias h_prev (each thread reads its element before writing it).
 * gru_backward_step
 *   dh_out [B,H], dh_next [B,H] (in: carried from t+1; out: dh * z, the part of dL/dh_{t-1} that
 *   does not pass through W_hh; the caller adds dgh W_hh with beta = 1), gates [B,4H] saved,
 *   h_prev [B,H]; writes (=) dgx [B,3H] = dL/d(gx + b_ih), dgh [B,3H] = dL/d(gh + b_hh).
 */
#include "common.cuh"

extern "C" __global__ void gru_forward_step(const float *gx, const float *gh, const float *b_ih,
                                            const float *b_hh, const float *h_prev, float *gates,
                                            float *h, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  long long r3 = (long long)b * 3 * H, r4 = (long long)b * 4 * H;
  float xr = gx[r3 + j] + b_ih[j];
  float xz = gx[r3 + H + j] + b_ih[H + j];
  float xn = gx[r3 + 2 * H + j] + b_ih[2 * H + j];
  float hr = gh[r3 + j] + b_hh[j];
  float hz = gh[r3 + H + j] + b_hh[H + j];
  float hn = gh[r3 + 2 * H + j] + b_hh[2 * H + j];
  float rr, zz, nn, hh;
  cr_gru_forward(xr, xz, xn, hr, hz, hn, h_prev[k], &rr, &zz, &nn, &hh);
  cr_store_gates4(gates + r4 + j, H, rr, zz, nn, hn);
  h[k] = hh;
}

extern "C" __global__ void gru_backward_step(const float *dh_out, float *dh_next, const float *gates,
                                             const float *h_prev, float *dgx, float *dgh, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  long long r3 = (long long)b * 3 * H, r4 = (long long)b * 4 * H;
  float dh = dh_out[k] + dh_next[k];
  float xr, xz, xn, hr, hz, hn, direct;
  cr_gru_backward(dh, gates[r4 + j], gates[r4 + H + j], gates[r4 + 2 * H + j], gates[r4 + 3 * H + j],
                  h_prev[k], &xr, &xz, &xn, &hr, &hz, &hn, &direct);
  dgx[r3 + j] = xr;
  dgx[r3 + H + j] = xz;
  dgx[r3 + 2 * H + j] = xn;
  dgh[r3 + j] = hr;
  dgh[r3 + H + j] = hz;
  dgh[r3 + 2 * H + j] = hn;
  dh_next[k] = direct;
}
