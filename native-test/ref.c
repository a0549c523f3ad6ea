/* ref.c: the cell math of kernels/common/cell_math.h compiled as plain C, looped over [B,H]. */
#include <math.h>
#include "../kernels/common/cell_math.h"
#include "ref.h"

void ref_lstm_forward(const float *gx, const float *gh, const float *b_ih, const float *b_hh,
                      const float *c_prev, float *gates, float *c, float *h, int B, int H) {
  for (int b = 0; b < B; b++)
    for (int j = 0; j < H; j++) {
      long r = (long)b * 4 * H, k = (long)b * H + j;
      float pre[4];
      for (int q = 0; q < 4; q++) pre[q] = (gx[r + q * H + j] + b_ih[q * H + j]) + (gh[r + q * H + j] + b_hh[q * H + j]);
      cr_lstm_forward(pre[0], pre[1], pre[2], pre[3], c_prev[k], &gates[r + j], &gates[r + H + j],
                      &gates[r + 2 * H + j], &gates[r + 3 * H + j], &c[k], &h[k]);
    }
}

void ref_lstm_backward(const float *dh_out, float *dh_next, float *dc, const float *gates,
                       const float *c_prev, const float *c, float *dgates, int B, int H) {
  for (int b = 0; b < B; b++)
    for (int j = 0; j < H; j++) {
      long r = (long)b * 4 * H, k = (long)b * H + j;
      float dcp;
      cr_lstm_backward(dh_out[k] + dh_next[k], dc[k], gates[r + j], gates[r + H + j], gates[r + 2 * H + j],
                       gates[r + 3 * H + j], c_prev[k], c[k], &dgates[r + j], &dgates[r + H + j],
                       &dgates[r + 2 * H + j], &dgates[r + 3 * H + j], &dcp);
      dc[k] = dcp;
      dh_next[k] = 0.0f;
    }
}

void ref_gru_forward(const float *gx, const float *gh, const float *b_ih, const float *b_hh,
                     const float *h_prev, float *gates, float *h, int B, int H) {
  for (int b = 0; b < B; b++)
    for (int j = 0; j < H; j++) {
      long r3 = (long)b * 3 * H, r4 = (long)b * 4 * H, k = (long)b * H + j;
      float hn = gh[r3 + 2 * H + j] + b_hh[2 * H + j];
      cr_gru_forward(gx[r3 + j] + b_ih[j], gx[r3 + H + j] + b_ih[H + j], gx[r3 + 2 * H + j] + b_ih[2 * H + j],
                     gh[r3 + j] + b_hh[j], gh[r3 + H + j] + b_hh[H + j], hn, h_prev[k],
                     &gates[r4 + j], &gates[r4 + H + j], &gates[r4 + 2 * H + j], &h[k]);
      gates[r4 + 3 * H + j] = hn;
    }
}

void ref_gru_backward(const float *dh_out, float *dh_next, const float *gates, const float *h_prev,
                      float *dgx, float *dgh, int B, int H) {
  for (int b = 0; b < B; b++)
    for (int j = 0; j < H; j++) {
      long r3 = (long)b * 3 * H, r4 = (long)b * 4 * H, k = (long)b * H + j;
      float direct;
      cr_gru_backward(dh_out[k] + dh_next[k], gates[r4 + j], gates[r4 + H + j], gates[r4 + 2 * H + j],
                      gates[r4 + 3 * H + j], h_prev[k], &dgx[r3 + j], &dgx[r3 + H + j], &dgx[r3 + 2 * H + j],
                      &dgh[r3 + j], &dgh[r3 + H + j], &dgh[r3 + 2 * H + j], &direct);
      dh_next[k] = direct;
    }
}

void ref_rnn_forward(const float *gx, const float *gh, const float *b_ih, const float *b_hh, float *h, int B, int H) {
  for (long k = 0; k < (long)B * H; k++) {
    int j = (int)(k % H);
    h[k] = cr_rnn_forward((gx[k] + b_ih[j]) + (gh[k] + b_hh[j]));
  }
}

void ref_rnn_backward(const float *dh_out, float *dh_next, const float *h, float *dgates, int B, int H) {
  for (long k = 0; k < (long)B * H; k++) {
    dgates[k] = cr_rnn_backward(dh_out[k] + dh_next[k], h[k]);
    dh_next[k] = 0.0f;
  }
}

float ref_dropout_scale(unsigned seed, unsigned iteration, unsigned layer, unsigned index, float p) {
  return cr_dropout_scale(seed, iteration, layer, index, p);
}
