/*
 * cell_math.h: the pointwise math of charrnn's cells, written once for CUDA and OpenCL C 1.2.
 *
 * Every GPU kernel (the .cu files of kernels/cuda, the .cl files of kernels/opencl) and every native-test harness
 * includes this header, so the gate formulas exist exactly once. The pure-Java reference
 * (org.charrnn.backend.ReferenceBackend, its cell methods) states the same math in
 * double precision and is the source of truth the kernels are tested against.
 *
 * Conventions (match PyTorch nn.LSTM / nn.GRU / nn.RNN):
 *   pre-activations come in two halves: gx = W_ih x + b_ih and gh = W_hh h_prev + b_hh.
 *   LSTM gates, in this order along the 4H axis: i, f, g, o
 *       i = sig(gx_i + gh_i)  f = sig(gx_f + gh_f)  g = tanh(gx_g + gh_g)  o = sig(gx_o + gh_o)
 *       c = f * c_prev + i * g            h = o * tanh(c)
 *   GRU gates, in this order along the 3H axis: r, z, n
 *       r = sig(gx_r + gh_r)  z = sig(gx_z + gh_z)  n = tanh(gx_n + r * gh_n)
 *       h = (1 - z) * n + z * h_prev
 *   RNN (tanh):  h = tanh(gx + gh)
 *
 * Backward functions take the activated gates saved by the forward pass, never the raw
 * pre-activations, and return gradients with respect to the pre-activations.
 *
 * Dropout uses a counter-based hash, so masks are a pure function of
 * (seed, iteration, layer, element index) and are regenerated in backward instead of stored;
 * the Java reference computes the bit-identical mask (see org.charrnn.backend.Dropout).
 */
#ifndef CHARRNN_CELL_MATH_H
#define CHARRNN_CELL_MATH_H

#ifdef __OPENCL_VERSION__
  #define CR_FN inline
  typedef uint cr_uint;
#else
  #ifdef __CUDACC__
    #define CR_FN static __device__ __forceinline__
  #else
    /* Plain C (native-test references). */
    #define CR_FN static inline
  #endif
  typedef unsigned int cr_uint;
#endif

/* ---------------------------------------------------------------- activations */

CR_FN float cr_sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }
CR_FN float cr_tanh(float x) { return tanh(x); }

/* ---------------------------------------------------------------- LSTM */

/*
 * LSTM forward for one (b, j) element.
 *   in : pre_* = gx_* + gh_* (both biases included), c_prev
 *   out: *i, *f, *g, *o activated gates (saved for backward), *c new cell, *h new hidden
 */
CR_FN void cr_lstm_forward(float pre_i, float pre_f, float pre_g, float pre_o, float c_prev,
                           float *i, float *f, float *g, float *o, float *c, float *h) {
  *i = cr_sigmoid(pre_i);
  *f = cr_sigmoid(pre_f);
  *g = cr_tanh(pre_g);
  *o = cr_sigmoid(pre_o);
  *c = (*f) * c_prev + (*i) * (*g);
  *h = (*o) * cr_tanh(*c);
}

/*
 * LSTM backward for one (b, j) element.
 *   in : dh (total dL/dh_t), dc_next (dL/dc_t carried from t+1), saved i, f, g, o, c_prev, c
 *   out: d_pre_{i,f,g,o} (dL/d pre-activation), *dc_prev = dL/dc_{t-1}
 */
CR_FN void cr_lstm_backward(float dh, float dc_next, float i, float f, float g, float o,
                            float c_prev, float c,
                            float *d_i, float *d_f, float *d_g, float *d_o, float *dc_prev) {
  float tc = cr_tanh(c);
  float dc = dc_next + dh * o * (1.0f - tc * tc);
  *d_o = dh * tc * o * (1.0f - o);
  *d_i = dc * g * i * (1.0f - i);
  *d_f = dc * c_prev * f * (1.0f - f);
  *d_g = dc * i * (1.0f - g * g);
  *dc_prev = dc * f;
}

/* ---------------------------------------------------------------- GRU */

/*
 * GRU forward for one (b, j) element.
 *   in : gx_{r,z,n} (W_ih x + b_ih), gh_{r,z,n} (W_hh h_prev + b_hh), h_prev
 *   out: *r, *z, *n activated gates (saved, with gh_n and h_prev, for backward), *h new hidden
 */
CR_FN void cr_gru_forward(float gx_r, float gx_z, float gx_n, float gh_r, float gh_z, float gh_n,
                          float h_prev, float *r, float *z, float *n, float *h) {
  *r = cr_sigmoid(gx_r + gh_r);
  *z = cr_sigmoid(gx_z + gh_z);
  *n = cr_tanh(gx_n + (*r) * gh_n);
  *h = (1.0f - *z) * (*n) + (*z) * h_prev;
}

/*
 * GRU backward for one (b, j) element.
 *   in : dh (total dL/dh_t), saved r, z, n, gh_n, h_prev
 *   out: dgx_{r,z,n} = dL/d(gx_*), dgh_{r,z,n} = dL/d(gh_*) (differs from dgx only in n:
 *        dgh_n = dgx_n * r), *dh_prev_direct = the part of dL/dh_{t-1} that does not pass
 *        through W_hh (the caller adds dgh W_hh).
 */
CR_FN void cr_gru_backward(float dh, float r, float z, float n, float gh_n, float h_prev,
                           float *dgx_r, float *dgx_z, float *dgx_n,
                           float *dgh_r, float *dgh_z, float *dgh_n, float *dh_prev_direct) {
  float dn = dh * (1.0f - z) * (1.0f - n * n);
  float dz = dh * (h_prev - n) * z * (1.0f - z);
  float dr = dn * gh_n * r * (1.0f - r);
  *dgx_r = dr; *dgx_z = dz; *dgx_n = dn;
  *dgh_r = dr; *dgh_z = dz; *dgh_n = dn * r;
  *dh_prev_direct = dh * z;
}

/* ---------------------------------------------------------------- vanilla RNN */

/* RNN forward: h = tanh(pre), pre = gx + gh (both biases included). */
CR_FN float cr_rnn_forward(float pre) { return cr_tanh(pre); }

/* RNN backward: dL/d pre = dh * (1 - h^2), h the saved output. */
CR_FN float cr_rnn_backward(float dh, float h) { return dh * (1.0f - h * h); }

/* ---------------------------------------------------------------- MUT1, MUT2, MUT3 */

/*
 * The evolved cells of Jozefowicz, Zaremba, Sutskever (2015), variant v = 1, 2, 3; x is the layer
 * input (width H for MUT1 and MUT2, which add it in directly):
 *   MUT1: z = sig(W_xz x + b_z)              r = sig(W_xr x + W_hr h + b_r)   n = tanh(W_hh (r h) + tanh(x) + b_h)
 *   MUT2: z = sig(W_xz x + W_hz h + b_z)     r = sig(x + W_hr h + b_r)        n = tanh(W_hh (r h) + W_xh x + b_h)
 *   MUT3: z = sig(W_xz x + W_hz tanh(h) + b_z)  r = sig(W_xr x + W_hr h + b_r)  n = tanh(W_hh (r h) + W_xh x + b_h)
 *   h' = n z + h (1 - z)
 * Blocks of H rows, in order:   W_ih / b_ih / gx      W_hh / b_hh / gh
 *                        MUT1   z, r                  r, n
 *                        MUT2   z, n                  z, r, n
 *                        MUT3   z, r, n               z, r, n   (the z block multiplies tanh(h))
 * Every linear map has its bias (b_ih, b_hh), as in PyTorch's cells. The n block of W_hh is always
 * last and multiplies r h, so a step runs GEMM(s) for the other recurrent blocks, a gate kernel,
 * the n GEMM, then the candidate kernel. Saved per step and row: z, r, n, r h, tanh(h_prev)
 * (CR_MUT_SAVED blocks of H; the last one MUT3 only).
 * The functions below give each gate's block index in gx / gh, or -1 when the gate has no such term.
 */
#define CR_MUT_SAVED 5
CR_FN int cr_mut_in_blocks(int v) { return v == 3 ? 3 : 2; }
CR_FN int cr_mut_rec_blocks(int v) { return v == 1 ? 2 : 3; }
CR_FN int cr_mut_gx_r(int v) { return v == 2 ? -1 : 1; }
CR_FN int cr_mut_gx_n(int v) { return v == 1 ? -1 : v == 2 ? 1 : 2; }
CR_FN int cr_mut_gh_z(int v) { return v == 1 ? -1 : 0; }
CR_FN int cr_mut_gh_r(int v) { return v == 1 ? 0 : 1; }
CR_FN int cr_mut_gh_n(int v) { return v == 1 ? 1 : 2; }

/*
 * MUT gates for one (b, j) element (before the n GEMM).
 *   in : az = z pre-activation (all terms and biases), ar = r pre-activation, h_prev
 *   out: *z, *r activated, *rh = r * h_prev (the operand of the n block of W_hh)
 */
CR_FN void cr_mut_gates_forward(float az, float ar, float h_prev, float *z, float *r, float *rh) {
  *z = cr_sigmoid(az);
  *r = cr_sigmoid(ar);
  *rh = (*r) * h_prev;
}

/* MUT candidate: n = tanh(an), h = n z + h_prev (1 - z). */
CR_FN void cr_mut_candidate_forward(float an, float z, float h_prev, float *n, float *h) {
  *n = cr_tanh(an);
  *h = (*n) * z + h_prev * (1.0f - z);
}

/*
 * MUT candidate backward for one (b, j): dh = dL/dh_t in total; saved z, n, h_prev.
 *   out: *daz = dL/d(z pre-activation), *dan = dL/d(n pre-activation), *dh_prev_direct = dh (1 - z)
 */
CR_FN void cr_mut_candidate_backward(float dh, float z, float n, float h_prev,
                                     float *daz, float *dan, float *dh_prev_direct) {
  *daz = dh * (n - h_prev) * z * (1.0f - z);
  *dan = dh * z * (1.0f - n * n);
  *dh_prev_direct = dh * (1.0f - z);
}

/*
 * MUT gates backward for one (b, j): drh = dL/d(r h) (from the n GEMM), saved r, h_prev.
 *   out: *dar = dL/d(r pre-activation), *dh_prev_via_rh = drh r (added to dL/dh_{t-1})
 */
CR_FN void cr_mut_gates_backward(float drh, float r, float h_prev, float *dar, float *dh_prev_via_rh) {
  *dar = drh * h_prev * r * (1.0f - r);
  *dh_prev_via_rh = drh * r;
}

/* ---------------------------------------------------------------- optimizers */

/*
 * The gradient each optimizer consumes, per element: the clip factor of clip_mode 1 (norm),
 * min(1, clip_max / (norm + 1e-6)), or 1 for clip_mode 0 (no clipping, or value clipping already
 * applied). The caller skips the whole update when the norm is not finite.
 */
CR_FN float cr_clip_scale(float norm, int clip_mode, float clip_max) {
  return clip_mode == 1 ? fmin(1.0f, clip_max / (norm + 1e-6f)) : 1.0f;
}

/*
 * One element of each update of org.charrnn.backend.OptimizerKind; g is the clipped gradient with
 * weight decay added (g * scale + weight_decay * p); p and the state are read and written (in/out).
 */
/* adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m/bc1) / (sqrt(v/bc2) + eps) */
CR_FN void cr_adam_update(float g, float *p, float *m, float *v, float lr, float beta1, float beta2,
                          float eps, float bias_corr1, float bias_corr2) {
  *m = beta1 * (*m) + (1.0f - beta1) * g;
  *v = beta2 * (*v) + (1.0f - beta2) * g * g;
  *p = *p - lr * (*m / bias_corr1) / (sqrt(*v / bias_corr2) + eps);
}

/* rmsprop (char-rnn): s = decay s + (1-decay) g^2; p -= lr g / (sqrt(s) + eps) */
CR_FN void cr_rmsprop_update(float g, float *p, float *s, float lr, float decay, float eps) {
  *s = decay * (*s) + (1.0f - decay) * g * g;
  *p = *p - lr * g / (sqrt(*s) + eps);
}

/* adagrad (min-char-rnn): s += g^2; p -= lr g / sqrt(s + eps) */
CR_FN void cr_adagrad_update(float g, float *p, float *s, float lr, float eps) {
  *s = *s + g * g;
  *p = *p - lr * g / sqrt(*s + eps);
}

/* sgd with momentum: u = mu u + g; p -= lr u */
CR_FN void cr_sgd_update(float g, float *p, float *u, float lr, float momentum) {
  *u = momentum * (*u) + g;
  *p = *p - lr * (*u);
}

/* ---------------------------------------------------------------- dropout RNG */

/* murmur3's 32-bit finalizer. */
CR_FN cr_uint cr_fmix32(cr_uint h) {
  h ^= h >> 16; h *= 0x85EBCA6Bu;
  h ^= h >> 13; h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

/* Counter-based hash of (seed, iteration, layer, index): a pure function, no state. */
CR_FN cr_uint cr_hash4(cr_uint seed, cr_uint iteration, cr_uint layer, cr_uint index) {
  cr_uint h = cr_fmix32(seed + 0x9E3779B9u);
  h = cr_fmix32(h ^ (iteration * 0x85EBCA77u + 0x165667B1u));
  h = cr_fmix32(h ^ (layer * 0xC2B2AE3Du + 0x27D4EB2Fu));
  h = cr_fmix32(h ^ (index * 0x9E3779B1u + 0x61C88647u));
  return h;
}

/*
 * Inverted-dropout multiplier for one element: 0 when dropped, 1/(1-p) when kept.
 * u = (hash >> 8) * 2^-24 is exact in float and double, so every backend drops the same elements.
 * index = (t * B + b) * H + j over the layer output [T,B,H].
 */
CR_FN float cr_dropout_scale(cr_uint seed, cr_uint iteration, cr_uint layer, cr_uint index, float p) {
  float u = (float)(cr_hash4(seed, iteration, layer, index) >> 8) * (1.0f / 16777216.0f);
  return u < p ? 0.0f : 1.0f / (1.0f - p);
}

#endif /* CHARRNN_CELL_MATH_H */
