/*
 * ref.c: plain-C references of the kernels' cell math, looped over [B,H]. The formulas are
 * stated here again, in double precision, on purpose: the harnesses check the kernels' math
 * (kernels/common/cell_math.h) against an independent statement of it, not against itself.
 * Gate order and layouts as in kernels/README.md (PyTorch nn.LSTM / nn.GRU / nn.RNN).
 */
#include <math.h>
#include "ref.h"

static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }

/* i = sig(pre_i), f = sig(pre_f), g = tanh(pre_g), o = sig(pre_o); c = f c_prev + i g; h = o tanh(c) */
void ref_lstm_forward(const float *gx, const float *gh, const float *b_ih, const float *b_hh,
                      const float *c_prev, float *gates, float *c, float *h, int B, int H) {
  for (int b = 0; b < B; b++)
    for (int j = 0; j < H; j++) {
      long r = (long)b * 4 * H, k = (long)b * H + j;
      double pre[4];
      for (int q = 0; q < 4; q++)
        pre[q] = (double)gx[r + q * H + j] + b_ih[q * H + j] + gh[r + q * H + j] + b_hh[q * H + j];
      double i = sig(pre[0]), f = sig(pre[1]), g = tanh(pre[2]), o = sig(pre[3]);
      double cn = f * c_prev[k] + i * g;
      gates[r + j] = (float)i;
      gates[r + H + j] = (float)f;
      gates[r + 2 * H + j] = (float)g;
      gates[r + 3 * H + j] = (float)o;
      c[k] = (float)cn;
      h[k] = (float)(o * tanh(cn));
    }
}

/* dh = dh_out + dh_next; dc = dc_next + dh o (1 - tanh(c)^2); d_o = dh tanh(c) o(1-o);
 * d_i = dc g i(1-i); d_f = dc c_prev f(1-f); d_g = dc i (1-g^2); dc_prev = dc f; dh_next = 0 */
void ref_lstm_backward(const float *dh_out, float *dh_next, float *dc, const float *gates,
                       const float *c_prev, const float *c, float *dgates, int B, int H) {
  for (int b = 0; b < B; b++)
    for (int j = 0; j < H; j++) {
      long r = (long)b * 4 * H, k = (long)b * H + j;
      double i = gates[r + j], f = gates[r + H + j], g = gates[r + 2 * H + j], o = gates[r + 3 * H + j];
      double dh = (double)dh_out[k] + dh_next[k];
      double tc = tanh((double)c[k]);
      double dct = dc[k] + dh * o * (1.0 - tc * tc);
      dgates[r + j] = (float)(dct * g * i * (1.0 - i));
      dgates[r + H + j] = (float)(dct * c_prev[k] * f * (1.0 - f));
      dgates[r + 2 * H + j] = (float)(dct * i * (1.0 - g * g));
      dgates[r + 3 * H + j] = (float)(dh * tc * o * (1.0 - o));
      dc[k] = (float)(dct * f);
      dh_next[k] = 0.0f;
    }
}

/* r = sig(x_r + h_r), z = sig(x_z + h_z), n = tanh(x_n + r h_n), h = (1-z) n + z h_prev, where
 * x_* = gx + b_ih and h_* = gh + b_hh; saves r, z, n, h_n in gates [B,4H] */
void ref_gru_forward(const float *gx, const float *gh, const float *b_ih, const float *b_hh,
                     const float *h_prev, float *gates, float *h, int B, int H) {
  for (int b = 0; b < B; b++)
    for (int j = 0; j < H; j++) {
      long r3 = (long)b * 3 * H, r4 = (long)b * 4 * H, k = (long)b * H + j;
      double xr = (double)gx[r3 + j] + b_ih[j], xz = (double)gx[r3 + H + j] + b_ih[H + j];
      double xn = (double)gx[r3 + 2 * H + j] + b_ih[2 * H + j];
      double hr = (double)gh[r3 + j] + b_hh[j], hz = (double)gh[r3 + H + j] + b_hh[H + j];
      double hn = (double)gh[r3 + 2 * H + j] + b_hh[2 * H + j];
      double rr = sig(xr + hr), z = sig(xz + hz), n = tanh(xn + rr * hn);
      gates[r4 + j] = (float)rr;
      gates[r4 + H + j] = (float)z;
      gates[r4 + 2 * H + j] = (float)n;
      gates[r4 + 3 * H + j] = (float)hn;
      h[k] = (float)((1.0 - z) * n + z * h_prev[k]);
    }
}

/* dh = dh_out + dh_next; dn = dh (1-z)(1-n^2); dz = dh (h_prev - n) z(1-z); dr = dn h_n r(1-r);
 * dgx = (dr, dz, dn); dgh = (dr, dz, dn r); dh_next = dh z */
void ref_gru_backward(const float *dh_out, float *dh_next, const float *gates, const float *h_prev,
                      float *dgx, float *dgh, int B, int H) {
  for (int b = 0; b < B; b++)
    for (int j = 0; j < H; j++) {
      long r3 = (long)b * 3 * H, r4 = (long)b * 4 * H, k = (long)b * H + j;
      double r = gates[r4 + j], z = gates[r4 + H + j], n = gates[r4 + 2 * H + j], hn = gates[r4 + 3 * H + j];
      double dh = (double)dh_out[k] + dh_next[k];
      double dn = dh * (1.0 - z) * (1.0 - n * n);
      double dz = dh * (h_prev[k] - n) * z * (1.0 - z);
      double dr = dn * hn * r * (1.0 - r);
      dgx[r3 + j] = (float)dr;
      dgx[r3 + H + j] = (float)dz;
      dgx[r3 + 2 * H + j] = (float)dn;
      dgh[r3 + j] = (float)dr;
      dgh[r3 + H + j] = (float)dz;
      dgh[r3 + 2 * H + j] = (float)(dn * r);
      dh_next[k] = (float)(dh * z);
    }
}

/* h = tanh(gx + b_ih + gh + b_hh) */
void ref_rnn_forward(const float *gx, const float *gh, const float *b_ih, const float *b_hh, float *h, int B, int H) {
  for (long k = 0; k < (long)B * H; k++) {
    int j = (int)(k % H);
    h[k] = (float)tanh((double)gx[k] + b_ih[j] + gh[k] + b_hh[j]);
  }
}

/* dgates = (dh_out + dh_next)(1 - h^2); dh_next = 0 */
void ref_rnn_backward(const float *dh_out, float *dh_next, const float *h, float *dgates, int B, int H) {
  for (long k = 0; k < (long)B * H; k++) {
    double hk = h[k];
    dgates[k] = (float)(((double)dh_out[k] + dh_next[k]) * (1.0 - hk * hk));
    dh_next[k] = 0.0f;
  }
}

/* murmur3's 32-bit finalizer */
static unsigned fmix32(unsigned h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

/* Inverted dropout: u = (hash(seed, iteration, layer, index) >> 8) / 2^24; 0 if u < p, else 1/(1-p). */
float ref_dropout_scale(unsigned seed, unsigned iteration, unsigned layer, unsigned index, float p) {
  unsigned h = fmix32(seed + 0x9E3779B9u);
  h = fmix32(h ^ (iteration * 0x85EBCA77u + 0x165667B1u));
  h = fmix32(h ^ (layer * 0xC2B2AE3Du + 0x27D4EB2Fu));
  h = fmix32(h ^ (index * 0x9E3779B1u + 0x61C88647u));
  double u = (double)(h >> 8) / 16777216.0;
  return u < p ? 0.0f : (float)(1.0 / (1.0 - (double)p));
}
