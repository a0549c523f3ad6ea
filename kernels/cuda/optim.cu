/*
 * optim.cu: fused clip-scale + weight decay + optimizer update over the flat parameter buffer.
 * One thread per element; p, g and the state arrays have the ParamLayout layout, length n.
 *
 * Every kernel reads the pre-clip global norm from norm[0] (device memory, written by sum_final)
 * and returns without writing anything when it is not finite, so a step with NaN/Inf gradients
 * leaves parameters and optimizer state unchanged. clip_mode 1 (norm) scales the gradient by
 * min(1, clip_max/(norm + 1e-6)); 0 (none, or value clipping already applied) uses it as is.
 * Then g' = g*scale + weight_decay*p and (p, state updated in place, =):
 *   adam_step     m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2; p -= lr (m/bc1) / (sqrt(v/bc2) + eps)
 *                 with bc1 = 1 - b1^t, bc2 = 1 - b2^t computed by the host.
 *   rmsprop_step  s = decay s + (1-decay) g'^2;  p -= lr g' / (sqrt(s) + eps)
 *   adagrad_step  s += g'^2;                     p -= lr g' / sqrt(s + eps)
 *   sgd_step      u = mu u + g';                 p -= lr u
 * g is never written.
 *
 * *_dev variants (CUDA only): the same update with the per-step scalars read from device memory,
 * hyper[0] = lr, hyper[1] = bc1, hyper[2] = bc2, so a captured CUDA graph replays with new values.
 */
#include "common.cuh"

/* The per-element formulas (cr_clip_scale, cr_*_update) are in common/cell_math.h. */

/* Reads the device norm: false (skip the update) when it is not finite, else the clip factor. */
static __device__ __forceinline__ bool cr_norm_scale(const float *norm, int clip_mode, float clip_max,
                                                     float *scale) {
  float nv = norm[0];
  if (!isfinite(nv)) return false;
  *scale = cr_clip_scale(nv, clip_mode, clip_max);
  return true;
}

static __device__ __forceinline__ void cr_adam(float *p, const float *g, float *m, float *v, int n,
                                               const float *norm, int clip_mode, float clip_max, float lr,
                                               float beta1, float beta2, float eps, float weight_decay,
                                               float bc1, float bc2) {
  long long i = cr_gid();
  if (i >= n) return;
  float scale;
  if (!cr_norm_scale(norm, clip_mode, clip_max, &scale)) return;
  float pi = p[i];
  float gi = g[i] * scale + weight_decay * pi;
  float mi = m[i], vi = v[i];
  cr_adam_update(gi, &pi, &mi, &vi, lr, beta1, beta2, eps, bc1, bc2);
  m[i] = mi;
  v[i] = vi;
  p[i] = pi;
}

static __device__ __forceinline__ void cr_rmsprop(float *p, const float *g, float *s, int n, const float *norm,
                                                  int clip_mode, float clip_max, float lr, float decay,
                                                  float eps, float weight_decay) {
  long long i = cr_gid();
  if (i >= n) return;
  float scale;
  if (!cr_norm_scale(norm, clip_mode, clip_max, &scale)) return;
  float pi = p[i];
  float gi = g[i] * scale + weight_decay * pi;
  float si = s[i];
  cr_rmsprop_update(gi, &pi, &si, lr, decay, eps);
  s[i] = si;
  p[i] = pi;
}

static __device__ __forceinline__ void cr_adagrad(float *p, const float *g, float *s, int n, const float *norm,
                                                  int clip_mode, float clip_max, float lr, float eps,
                                                  float weight_decay) {
  long long i = cr_gid();
  if (i >= n) return;
  float scale;
  if (!cr_norm_scale(norm, clip_mode, clip_max, &scale)) return;
  float pi = p[i];
  float gi = g[i] * scale + weight_decay * pi;
  float si = s[i];
  cr_adagrad_update(gi, &pi, &si, lr, eps);
  s[i] = si;
  p[i] = pi;
}

static __device__ __forceinline__ void cr_sgd(float *p, const float *g, float *u, int n, const float *norm,
                                              int clip_mode, float clip_max, float lr, float momentum,
                                              float weight_decay) {
  long long i = cr_gid();
  if (i >= n) return;
  float scale;
  if (!cr_norm_scale(norm, clip_mode, clip_max, &scale)) return;
  float pi = p[i];
  float gi = g[i] * scale + weight_decay * pi;
  float ui = u[i];
  cr_sgd_update(gi, &pi, &ui, lr, momentum);
  u[i] = ui;
  p[i] = pi;
}

extern "C" __global__ void adam_step(float *p, const float *g, float *m, float *v, int n, const float *norm,
                                     int clip_mode, float clip_max, float lr, float beta1, float beta2,
                                     float eps, float weight_decay, float bias_corr1, float bias_corr2) {
  cr_adam(p, g, m, v, n, norm, clip_mode, clip_max, lr, beta1, beta2, eps, weight_decay, bias_corr1, bias_corr2);
}

extern "C" __global__ void rmsprop_step(float *p, const float *g, float *s, int n, const float *norm,
                                        int clip_mode, float clip_max, float lr, float decay, float eps,
                                        float weight_decay) {
  cr_rmsprop(p, g, s, n, norm, clip_mode, clip_max, lr, decay, eps, weight_decay);
}

extern "C" __global__ void adagrad_step(float *p, const float *g, float *s, int n, const float *norm,
                                        int clip_mode, float clip_max, float lr, float eps, float weight_decay) {
  cr_adagrad(p, g, s, n, norm, clip_mode, clip_max, lr, eps, weight_decay);
}

extern "C" __global__ void sgd_step(float *p, const float *g, float *u, int n, const float *norm,
                                    int clip_mode, float clip_max, float lr, float momentum, float weight_decay) {
  cr_sgd(p, g, u, n, norm, clip_mode, clip_max, lr, momentum, weight_decay);
}

extern "C" __global__ void adam_step_dev(float *p, const float *g, float *m, float *v, int n, const float *norm,
                                         int clip_mode, float clip_max, const float *hyper, float beta1,
                                         float beta2, float eps, float weight_decay) {
  cr_adam(p, g, m, v, n, norm, clip_mode, clip_max, hyper[0], beta1, beta2, eps, weight_decay, hyper[1], hyper[2]);
}

extern "C" __global__ void rmsprop_step_dev(float *p, const float *g, float *s, int n, const float *norm,
                                            int clip_mode, float clip_max, const float *hyper, float decay,
                                            float eps, float weight_decay) {
  cr_rmsprop(p, g, s, n, norm, clip_mode, clip_max, hyper[0], decay, eps, weight_decay);
}

extern "C" __global__ void adagrad_step_dev(float *p, const float *g, float *s, int n, const float *norm,
                                            int clip_mode, float clip_max, const float *hyper, float eps,
                                            float weight_decay) {
  cr_adagrad(p, g, s, n, norm, clip_mode, clip_max, hyper[0], eps, weight_decay);
}

extern "C" __global__ void sgd_step_dev(float *p, const float *g, float *u, int n, const float *norm,
                                        int clip_mode, float clip_max, const float *hyper, float momentum,
                                        float weight_decay) {
  cr_sgd(p, g, u, n, norm, clip_mode, clip_max, hyper[0], momentum, weight_decay);
}
