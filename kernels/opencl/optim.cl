/*
 * optim.cl: fused clip-scale + weight decay + optimizer update over the flat parameter buffer.
 * One work-item per element, global size >= n. p, g and the state slots are [n] in ParamLayout
 * order (each passed as base + element offset); norm [1] is the device scalar holding the
 * pre-clip global L2 norm. If it is not finite, the kernel writes nothing (the step is skipped).
 * clip_mode 1 (norm): g *= min(1, clip_max / (norm + 1e-6)); 0 (none / value, already clamped).
 * Then g += weight_decay * p, and the update of org.charrnn.backend.OptimizerKind.
 * g is read only: the gradient buffer keeps the unscaled (pre-norm-clip) values.
 */

/* The per-element formulas (cr_clip_scale, cr_*_update) are in common/cell_math.h. */

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
  float m = m_base[m_off + i], v = v_base[v_off + i];
  cr_adam_update(g, &p, &m, &v, lr, beta1, beta2, eps, bias_corr1, bias_corr2);
  m_base[m_off + i] = m;
  v_base[v_off + i] = v;
  p_base[p_off + i] = p;
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
  float s = s_base[s_off + i];
  cr_rmsprop_update(g, &p, &s, lr, decay, eps);
  s_base[s_off + i] = s;
  p_base[p_off + i] = p;
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
  float s = s_base[s_off + i];
  cr_adagrad_update(g, &p, &s, lr, eps);
  s_base[s_off + i] = s;
  p_base[p_off + i] = p;
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
  float u = u_base[u_off + i];
  cr_sgd_update(g, &p, &u, lr, momentum);
  u_base[u_off + i] = u;
  p_base[p_off + i] = p;
}
