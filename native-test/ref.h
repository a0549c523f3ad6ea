/* ref.h: plain-C references of the cell math, stated independently of kernels/common/cell_math.h (ref.c). */
#ifndef CHARRNN_NATIVE_REF_H
#define CHARRNN_NATIVE_REF_H
#ifdef __cplusplus
extern "C" {
#endif
void ref_lstm_forward(const float *gx, const float *gh, const float *b_ih, const float *b_hh,
                      const float *c_prev, float *gates, float *c, float *h, int B, int H);
void ref_lstm_backward(const float *dh_out, float *dh_next, float *dc, const float *gates,
                       const float *c_prev, const float *c, float *dgates, int B, int H);
void ref_gru_forward(const float *gx, const float *gh, const float *b_ih, const float *b_hh,
                     const float *h_prev, float *gates, float *h, int B, int H);
void ref_gru_backward(const float *dh_out, float *dh_next, const float *gates, const float *h_prev,
                      float *dgx, float *dgh, int B, int H);
void ref_rnn_forward(const float *gx, const float *gh, const float *b_ih, const float *b_hh, float *h, int B, int H);
void ref_rnn_backward(const float *dh_out, float *dh_next, const float *h, float *dgates, int B, int H);
float ref_dropout_scale(unsigned seed, unsigned iteration, unsigned layer, unsigned index, float p);
#ifdef __cplusplus
}
#endif
#endif
