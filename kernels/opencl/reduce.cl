/*
 * reduce.cl: deterministic reductions (fixed tree order; no atomics).
 * Local sizes are powers of two <= CR_MAX_WG (256). Every float* that may point into a flat
 * buffer is (base, element offset).
 */
#ifndef CR_MAX_WG
#define CR_MAX_WG 256
#endif

/*
 * column_sum: out [C] = beta * out + sum over n of a [N,C]   (= / +=), in crl_column_total's fixed
 *   order (embedding.cl): deterministic. Global size {ceil(C / CRL_COL_WIDTH) * CRL_COL_WIDTH,
 *   CRL_COL_LANES}, local size {CRL_COL_WIDTH, CRL_COL_LANES}; bias gradients (out in the gradient
 *   buffer). beta == 0 writes without reading out.
 */
__kernel __attribute__((reqd_work_group_size(CRL_COL_WIDTH, CRL_COL_LANES, 1)))
void column_sum(__global const float* a_base, int a_off,
                __global float* out_base, int out_off, int N, int C, float beta) {
  __local float lanes[CRL_COL_LANES * (CRL_COL_WIDTH + 1)];
  long c = (long)get_group_id(0) * CRL_COL_WIDTH + get_local_id(0);
  float s = crl_column_total(crl_column_lane(a_base + a_off, C, N, c, c < C, 0, 0), lanes);
  if (get_local_id(1) == 0 && c < C) out_base[out_off + c] = beta == 0.0f ? s : beta * out_base[out_off + c] + s;
}

/*
 * column_sum_vec128: column_sum for CPU devices, same arguments and results to float rounding (each
 *   column summed in increasing n; the GPU variant's lanes add in another fixed order). One work-item per 128 consecutive columns, summed as eight
 *   float16 (a row is read as 512 contiguous bytes: 16-column strips read 64 bytes per row, a
 *   strided walk the prefetchers follow badly, 2.4x slower at N=2500 C=512). The last C % 128
 *   columns go by 16-column strips, then column by column.
 *   global size >= ceil(C/128), any local size.
 */
#define CS_STRIPS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define CS_DECL(i) float16 s##i = (float16)(0.0f);
#define CS_ADD(i) s##i += crv_load16(row + 16 * i);
#define CS_STORE(i) crv_store16(beta == 0.0f ? s##i : beta * crv_load16(out + 16 * i) + s##i, out + 16 * i);

__kernel void column_sum_vec128(__global const float* a_base, int a_off,
                                __global float* out_base, int out_off, int N, int C, float beta) {
  int c0 = get_global_id(0) * 128;
  if (c0 >= C) return;
  __global const float* a = a_base + a_off + c0;
  __global float* out = out_base + out_off + c0;
  int nc = min(128, C - c0);
  if (nc == 128) {
    CS_STRIPS(CS_DECL)
    for (int n = 0; n < N; n++) {
      __global const float* row = a + (long)n * C;
      CS_STRIPS(CS_ADD)
    }
    CS_STRIPS(CS_STORE)
    return;
  }
  int j = 0;
  for (; j + 16 <= nc; j += 16) {
    float16 s = (float16)(0.0f);
    for (int n = 0; n < N; n++) s += crv_load16(a + (long)n * C + j);
    crv_store16(beta == 0.0f ? s : beta * crv_load16(out + j) + s, out + j);
  }
  for (; j < nc; j++) {
    float s = 0.0f;
    for (int n = 0; n < N; n++) s += a[(long)n * C + j];
    out[j] = beta == 0.0f ? s : beta * out[j] + s;
  }
}

/*
 * sum_squares_partial: stage 1 of the global L2 norm.
 *   g [n]; P = number of work-groups; work-group k writes partial[k] (=) = sum of g[i]^2 over
 *   i = gid, gid + P*ls, ... for its work-items, combined by a fixed tree.
 */
__kernel void sum_squares_partial(__global const float* g_base, int g_off, int n,
                                  __global float* partial) {
  __local float red[CR_MAX_WG];
  int lid = get_local_id(0), ls = get_local_size(0);
  int stride = get_global_size(0);
  __global const float* g = g_base + g_off;
  float s = 0.0f;
  for (int i = get_global_id(0); i < n; i += stride) s += g[i] * g[i];
  red[lid] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int k = ls / 2; k > 0; k >>= 1) {
    if (lid < k) red[lid] += red[lid + k];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) partial[get_group_id(0)] = red[0];
}

/*
 * sum_final: stage 2; one work-group. out[0] = sum of partial [P] (or its sqrt)   (=)
 *   also sums the per-row losses.
 */
__kernel void sum_final(__global const float* partial, int P, __global float* out, int take_sqrt) {
  __local float red[CR_MAX_WG];
  int lid = get_local_id(0), ls = get_local_size(0);
  float s = 0.0f;
  for (int i = lid; i < P; i += ls) s += partial[i];
  red[lid] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int k = ls / 2; k > 0; k >>= 1) {
    if (lid < k) red[lid] += red[lid + k];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) out[0] = take_sqrt ? sqrt(red[0]) : red[0];
}

/*
 * clip_value: g [n] = clamp(g, -max, max)   (in place); global size >= n. NaN stays NaN. Nothing is
 * written when the pre-clip norm [1] is not finite (the update is skipped then).
 */
__kernel void clip_value(__global float* g_base, int g_off, int n, float max, __global const float* norm) {
  int i = get_global_id(0);
  if (i >= n || !isfinite(norm[0])) return;
  float v = g_base[g_off + i];
  if (v > max) v = max;
  else if (v < -max) v = -max;
  g_base[g_off + i] = v;
}
