/*
 * loss.cl: fused bias + softmax + cross-entropy (+ its gradient).
 * Launch: one work-group per row (global size = N * local size), local size a power of two
 * <= CR_MAX_WG (256). Reductions run in a fixed tree order, so results are deterministic.
 */
#ifndef CR_MAX_WG
#define CR_MAX_WG 256
#endif

/*
 * softmax_xent
 *   logits [N,V] (in: x W_dec^T without bias), bias [V] (flat parameter buffer), y [N] targets
 *   adds bias to logits (=, in place); row_loss[n] = logsumexp(logits[n]) - logits[n, y[n]] (=);
 *   if write_grad != 0, overwrites logits with grad_scale * (softmax - onehot(y)).
 */
__kernel void softmax_xent(__global float* logits_base, int logits_off,
                           __global const float* bias_base, int bias_off,
                           __global const int* y, __global float* row_loss,
                           int N, int V, float grad_scale, int write_grad) {
  __local float red[CR_MAX_WG];
  __local float target;
  int n = get_group_id(0);
  int lid = get_local_id(0), ls = get_local_size(0);
  if (n >= N) return;
  __global float* row = logits_base + logits_off + (long)n * V;
  __global const float* bias = bias_base + bias_off;
  int yn = y[n];
  float mx = -INFINITY;
  for (int v = lid; v < V; v += ls) {
    float val = row[v] + bias[v];
    row[v] = val;
    if (v == yn) target = val;
    mx = fmax(mx, val);
  }
  red[lid] = mx;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int s = ls / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  mx = red[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  float sum = 0.0f;
  for (int v = lid; v < V; v += ls) sum += exp(row[v] - mx);
  red[lid] = sum;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int s = ls / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  float lse = mx + log(red[0]);
  if (lid == 0) row_loss[n] = lse - target;
  if (write_grad) {
    for (int v = lid; v < V; v += ls) {
      float pr = exp(row[v] - lse);
      row[v] = grad_scale * (v == yn ? pr - 1.0f : pr);
    }
  }
}

/*
 * softmax_xent_rows: softmax_xent for CPU devices, same arguments and results (to float rounding:
 * the sums run in another order and the exponentials are crv_exp's); one work-item per row walks
 * its V logits in float16 vectors (three passes), no local memory or barriers.
 * Launch: global >= N, any local size.
 */
inline float crv_max16(float16 v) {
  float8 a = fmax(v.lo, v.hi);
  float4 b = fmax(a.lo, a.hi);
  float2 c = fmax(b.lo, b.hi);
  return fmax(c.x, c.y);
}

inline float crv_sum16(float16 v) {
  float8 a = v.lo + v.hi;
  float4 b = a.lo + a.hi;
  float2 c = b.lo + b.hi;
  return c.x + c.y;
}

__kernel void softmax_xent_rows(__global float* logits_base, int logits_off,
                                __global const float* bias_base, int bias_off,
                                __global const int* y, __global float* row_loss,
                                int N, int V, float grad_scale, int write_grad) {
  int n = get_global_id(0);
  if (n >= N) return;
  __global float* row = logits_base + logits_off + (long)n * V;
  __global const float* bias = bias_base + bias_off;
  int yn = y[n];
  int v16 = V - V % 16;
  float16 mx16 = (float16)(-INFINITY);
  for (int v = 0; v < v16; v += 16) {
    float16 val = crv_load16(row + v) + crv_load16(bias + v);
    crv_store16(val, row + v);
    mx16 = fmax(mx16, val);
  }
  float mx = crv_max16(mx16);
  for (int v = v16; v < V; v++) {
    float val = row[v] + bias[v];
    row[v] = val;
    mx = fmax(mx, val);
  }
  float16 sum16 = (float16)(0.0f);
  for (int v = 0; v < v16; v += 16) sum16 += crv_exp(crv_load16(row + v) - mx);
  float sum = crv_sum16(sum16);
  for (int v = v16; v < V; v++) sum += exp(row[v] - mx);
  float lse = mx + log(sum);
  float target = row[yn];
  row_loss[n] = lse - target;
  if (write_grad) {
    for (int v = 0; v < v16; v += 16) crv_store16(grad_scale * crv_exp(crv_load16(row + v) - lse), row + v);
    for (int v = v16; v < V; v++) row[v] = grad_scale * exp(row[v] - lse);
    row[yn] = grad_scale * (exp(target - lse) - 1.0f);
  }
}

/*
 * target_weights: y [N] targets, w [N] (=) 0 where y[n] == ignore, else 1. Global size >= N.
 * mask_xent: after softmax_xent with grad_scale = 1 over a window with uncounted targets:
 *   row_loss [N] (=) 0 where w[n] = 0; with write_grad, grad [N,V] (=) 0 on those rows and
 *   grad / max(count[0], 1) elsewhere (dL/dlogits of the mean over the counted targets).
 *   Global size >= N*V; no aliasing.
 */
__kernel void target_weights(__global const int* y, int N, int ignore, __global float* w) {
  int n = get_global_id(0);
  if (n >= N) return;
  w[n] = y[n] == ignore ? 0.0f : 1.0f;
}

__kernel void mask_xent(__global float* grad_base, int grad_off, __global float* row_loss,
                        __global const float* w, __global const float* count, int N, int V, int write_grad) {
  long k = get_global_id(0);
  if (k >= (long)N * V) return;
  int n = (int)(k / V);
  int keep = w[n] != 0.0f;
  if (write_grad) {
    __global float* g = grad_base + grad_off + k;
    *g = keep ? *g / fmax(count[0], 1.0f) : 0.0f;
  }
  if (k % V == 0 && !keep) row_loss[n] = 0.0f;
}
