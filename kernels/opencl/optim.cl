/*
 * optim.cl: fused clip-scale + weight decay + optimizer update over the flat parameter buffer.
 * One work-item per element, global size >= n. p, g and the state slots are [n] in ParamLayout
 * order (each passed as base + element offset); norm [1] is the device scalar holding the
 * pre-clip global L2 norm. If it is not finite, the kernel writes nothing (the step is skipped).
 * clip_mode 1 (norm): g *= min(1, clip_max / (norm + 1e-6)); 0 (none / value, already clamped).
 * Then g += weight_decay * p, and the update of org.charrnn.backend.OptimizerKind.
 * g is read only: the gradient buffer keeps the unscaled (pre-norm-clip) values.
 */

inline float cr_clip_scale(float norm, int clip_mode, float clip_max) {
  return clip_mode == 1 ? fmin(1.0f, clip_max / (norm + 1e-6f)) : 1.0f;
}

/* adam_step: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m/bc1) / (sqrt(v/bc2) + eps) */
__kernel void adam_step(__global float* p_base, int p_off, __global const float* g_base, int g_off,
                        __global float* m_base, int m_off, __global float* v_base, int v_off, int n,
                        __global const float* norm, int clip_mode, float clip_max, float lr,
                        float beta1, float beta2, float eps, float weight_decay,
                        float bias_corr1, float bias_corr2) {
  int i = get_global_id(0);
  if (i >= n) return;
  float nrm = norm[0];
  if (!isfinite(nrm)) return;
  float p = p_base[p_off + i];
  float g = g_base[g_off + i] * cr_clip_scale(nrm, clip_mode, clip_max) + weight_decay * p;
  float m = beta1 * m_base[m_off + i] + (1.0f - beta1) * g;
  float v = beta2 * v_base[v_off + i] + (1.0f - beta2) * g * g;
  m_base[m_off + i] = m;
  v_base[v_off + i] = v;
  p_base[p_off + i] = p - lr * (m / bias_corr1) / (sqrt(v / bias_corr2) + eps);
}

/* rmsprop_step (char-rnn): s = decay s + (1-decay) g^2; p -= lr g / (sqrt(s) + eps) */
__kernel void rmsprop_step(__global float* p_base, int p_off, __global const float* g_base, int g_off,
                           __global float* s_base, int s_off, int n,
                           __global const float* norm, int clip_mode, float clip_max, float lr,
                           float decay, float eps, float weight_decay) {
  int i = get_global_id(0);
  if (i >= n) return;
  float nrm = norm[0];
  if (!isfinite(nrm)) return;
  float p = p_base[p_off + i];
  float g = g_base[g_off + i] * cr_clip_scale(nrm, clip_mode, clip_max) + weight_decay * p;
  float s = decay * s_base[s_off + i] + (1.0f - decay) * g * g;
  s_base[s_off + i] = s;
  p_base[p_off + i] = p - lr * g / (sqrt(s) + eps);
}

/* adagrad_step: s += g^2; p -= lr g / sqrt(s + eps) */
__kernel void adagrad_step(__global float* p_base, int p_off, __global const float* g_base, int g_off,
                           __global float* s_base, int s_off, int n,
                           __global const float* norm, int clip_mode, float clip_max, float lr,
                           float eps, float weight_decay) {
  int i = get_global_id(0);
  if (i >= n) return;
  float nrm = norm[0];
  if (!isfinite(nrm)) return;
  float p = p_base[p_off + i];
  float g = g_base[g_off + i] * cr_clip_scale(nrm, clip_mode, clip_max) + weight_decay * p;
  float s = s_base[s_off + i] + g * g;
  s_base[s_off + i] = s;
  p_base[p_off + i] = p - lr * g / sqrt(s + eps);
}

/* sgd_step: u = mu u + g; p -= lr u */
__kernel void sgd_step(__global float* p_base, int p_off, __global const float* g_base, int g_off,
                       __global float* u_base, int u_off, int n,
                       __global const float* norm, int clip_mode, float clip_max, float lr,
                       float momentum, float weight_decay) {
  int i = get_global_id(0);
  if (i >= n) return;
  float nrm = norm[0];
  if (!isfinite(nrm)) return;
  float p = p_base[p_off + i];
  float g = g_base[g_off + i] * cr_clip_scale(nrm, clip_mode, clip_max) + weight_decay * p;
  float u = momentum * u_base[u_off + i] + g;
  u_base[u_off + i] = u;
  p_base[p_off + i] = p - lr * u;
}
