/*
 * embedding.cl: corpus window gather and embedding lookup (OpenCL C 1.2).
 * Every float* that may point into a flat buffer is passed as (base, element offset).
 */

/*
 * Vector helpers of the CPU variant's float16 kernels (*_vec16 here and in lstm.cl, gru.cl, rnn.cl,
 * loss.cl, reduce.cl, optim.cl; this is the first file of the one program ClRuntime builds).
 * OpenCL only: common/cell_math.h keeps the scalar math every dialect shares; the vec16 cell
 * kernels restate its formulas on float16 (16 consecutive units j of one row b per work-item) and
 * call the cell_math.h functions for the last H % 16 units. PoCL's implicit vectorization of the
 * per-element kernels across work-items produced 8-wide code that spent most of its time in the
 * accurate exp and tanh.
 *
 * crv_load16 / crv_store16: 16 floats at any 4-byte-aligned address. PoCL expands vload16 into
 * eight 2-float loads; a float16 type with 4-byte alignment (clang's typedef attribute) gives
 * full-width unaligned loads. Other compilers get vload16.
 */
#if defined(__clang__)
typedef float16 crv_float16u __attribute__((aligned(4)));
#define crv_load16(p) (*(const __global crv_float16u*)(p))
#define crv_store16(v, p) (*(__global crv_float16u*)(p) = (v))
#else
#define crv_load16(p) vload16(0, (p))
#define crv_store16(v, p) vstore16((v), 0, (p))
#endif

/*
 * exp for the activations: x clamped to [-87, 88] (the float range of the result), 2^n by the
 * round-to-nearest of a 1.5 * 2^23 shift (n lands in the low mantissa bits, moved into the
 * exponent), e^r on |r| <= ln2/2 by Cephes' expf polynomial. Relative error <= 1e-7 on the range.
 */
inline float16 crv_exp(float16 x) {
  x = fmin(fmax(x, (float16)(-87.0f)), (float16)(88.0f));
  float16 t = fma(x, (float16)(1.44269504088896341f), (float16)(12582912.0f));
  float16 n = t - 12582912.0f;
  float16 r = fma(n, (float16)(-0.693359375f), x);
  r = fma(n, (float16)(2.12194440e-4f), r);
  float16 p = (float16)(1.9875691500e-4f);
  p = fma(p, r, (float16)(1.3981999507e-3f));
  p = fma(p, r, (float16)(8.3334519073e-3f));
  p = fma(p, r, (float16)(4.1665795894e-2f));
  p = fma(p, r, (float16)(1.6666665459e-1f));
  p = fma(p, r, (float16)(5.0000001201e-1f));
  p = fma(p, r * r, r) + 1.0f;
  return p * as_float16((as_int16(t) << 23) + 0x3F800000);
}

/* cr_sigmoid and cr_tanh on float16; tanh x = 1 - 2 / (e^2x + 1) (absolute error ~1e-7). */
inline float16 crv_sigmoid(float16 x) { return 1.0f / (1.0f + crv_exp(-x)); }
inline float16 crv_tanh(float16 x) { return 1.0f - 2.0f / (crv_exp(2.0f * x) + 1.0f); }

/*
 * gather_window_u8 / gather_window_u16
 *   corpus [len] token ids (u8 when V <= 256, else u16), starts [B] stream start positions
 *   x [T,B] = corpus[starts[b] + t], y [T,B] = corpus[starts[b] + t + 1]   (=)
 *   global size >= T*B, one work-item per (t, b).
 */
__kernel void gather_window_u8(__global const uchar* corpus, __global const long* starts,
                               int T, int B, __global int* x, __global int* y) {
  int i = get_global_id(0);
  if (i >= T * B) return;
  int t = i / B, b = i - (i / B) * B;
  ulong p = (ulong)starts[b] + (ulong)t;
  x[i] = (int)corpus[p];
  y[i] = (int)corpus[p + 1];
}

__kernel void gather_window_u16(__global const ushort* corpus, __global const long* starts,
                                int T, int B, __global int* x, __global int* y) {
  int i = get_global_id(0);
  if (i >= T * B) return;
  int t = i / B, b = i - (i / B) * B;
  ulong p = (ulong)starts[b] + (ulong)t;
  x[i] = (int)corpus[p];
  y[i] = (int)corpus[p + 1];
}

/*
 * embedding_forward: out [N,E] = emb [V,E] rows selected by x [N]   (=)
 *   emb points into the flat parameter buffer (emb_base + emb_off).
 *   global size >= N*E, one work-item per (n, e).
 */
__kernel void embedding_forward(__global const int* x,
                                __global const float* emb_base, int emb_off,
                                __global float* out_base, int out_off, int N, int E) {
  int i = get_global_id(0);
  if (i >= N * E) return;
  int n = i / E, e = i - (i / E) * E;
  out_base[out_off + i] = emb_base[emb_off + x[n] * E + e];
}

/*
 * embedding_forward_vec16: embedding_forward for CPU devices, same arguments and results; one
 *   work-item per 16 consecutive columns of one row n (the last E % 16 one by one).
 *   global size (>= ceil(E/16), >= N), any local size.
 */
__kernel void embedding_forward_vec16(__global const int* x,
                                      __global const float* emb_base, int emb_off,
                                      __global float* out_base, int out_off, int N, int E) {
  int e0 = get_global_id(0) * 16, n = get_global_id(1);
  if (e0 >= E || n >= N) return;
  __global const float* src = emb_base + emb_off + (long)x[n] * E + e0;
  __global float* dst = out_base + out_off + (long)n * E + e0;
  if (e0 + 16 <= E) crv_store16(crv_load16(src), dst);
  else for (int e = 0; e < E - e0; e++) dst[e] = src[e];
}

/*
 * Column sums of the GPU variant (column_sum in reduce.cl, embedding_backward here): work-groups of
 * CRL_COL_WIDTH x CRL_COL_LANES work-items, local id 0 the column within the group's
 * CRL_COL_WIDTH, local id 1 the row lane. A work-item a column that reads all N rows in turn waits
 * for N dependent loads on a GPU (N = B T: 2500 to 12800); a lane here reads N / CRL_COL_LANES.
 * crl_column_lane: lane y's sum of column c of a [N, ld] over rows y, y + CRL_COL_LANES, ...
 *   ascending (only rows with x[n] == v where x is not null); 0 where !in.
 * crl_column_total: the lanes' sums added in ascending lane, a fixed order (deterministic); every
 *   work-item of the group calls it once with the group's __local
 *   lanes [CRL_COL_LANES * (CRL_COL_WIDTH + 1)]; the total is valid in lane 0.
 */
#define CRL_COL_WIDTH 32
#define CRL_COL_LANES 8

inline float crl_column_lane(__global const float* a, long ld, int N, long c, int in, __global const int* x, int v) {
  float s = 0.0f;
  if (in)
    for (int n = get_local_id(1); n < N; n += CRL_COL_LANES)
      if (x == 0 || x[n] == v) s += a[(long)n * ld + c];
  return s;
}

inline float crl_column_total(float s, __local float* lanes) {
  int x = get_local_id(0), y = get_local_id(1);
  lanes[y * (CRL_COL_WIDTH + 1) + x] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  float t = 0.0f;
  if (y == 0)
    for (int k = 0; k < CRL_COL_LANES; k++) t += lanes[k * (CRL_COL_WIDTH + 1) + x];
  return t;
}

/*
 * embedding_backward: demb [V,E] (=): demb[v,e] = sum over n with x[n] == v of dout[n,e], in
 *   crl_column_total's fixed order (deterministic). Global size {V * CRL_COL_WIDTH, ceil(E /
 *   CRL_COL_WIDTH) * CRL_COL_LANES}, local size {CRL_COL_WIDTH, CRL_COL_LANES}: group (v, j) sums
 *   columns [j CRL_COL_WIDTH, ..) of row v. demb points into the flat gradient buffer. dout [N,E].
 */
__kernel __attribute__((reqd_work_group_size(CRL_COL_WIDTH, CRL_COL_LANES, 1)))
void embedding_backward(__global const int* x,
                        __global const float* dout_base, int dout_off,
                        __global float* demb_base, int demb_off, int N, int V, int E) {
  __local float lanes[CRL_COL_LANES * (CRL_COL_WIDTH + 1)];
  int v = get_group_id(0);
  long e = (long)get_group_id(1) * CRL_COL_WIDTH + get_local_id(0);
  int in = v < V && e < E;
  float s = crl_column_total(crl_column_lane(dout_base + dout_off, E, N, e, in, x, v), lanes);
  if (get_local_id(1) == 0 && in) demb_base[demb_off + (long)v * E + e] = s;
}

/*
 * embedding_backward_vec16: embedding_backward for CPU devices, same arguments and results to float
 *   rounding (each element sums the same terms in increasing n, where the GPU variant's lanes add
 *   them in another fixed order). One
 *   work-item per 16 consecutive columns e: it zeroes its [V,16] strip of demb, then walks n once,
 *   adding row n of dout to row x[n] (the strip, V*64 bytes, stays in cache), where the per-(v, e)
 *   kernel scanned x V*E times; a token outside [0, V) adds nothing, as there. The last E % 16
 *   columns go element by element.
 *   global size >= ceil(E/16), any local size.
 */
__kernel void embedding_backward_vec16(__global const int* x,
                                       __global const float* dout_base, int dout_off,
                                       __global float* demb_base, int demb_off, int N, int V, int E) {
  int e0 = get_global_id(0) * 16;
  if (e0 >= E) return;
  __global const float* dout = dout_base + dout_off + e0;
  __global float* demb = demb_base + demb_off + e0;
  int ne = min(16, E - e0);
  if (ne == 16) {
    for (int v = 0; v < V; v++) crv_store16((float16)(0.0f), demb + (long)v * E);
    for (int n = 0; n < N; n++) {
      int v = x[n];
      if (v < 0 || v >= V) continue;
      __global float* d = demb + (long)v * E;
      crv_store16(crv_load16(d) + crv_load16(dout + (long)n * E), d);
    }
  } else {
    for (int v = 0; v < V; v++)
      for (int e = 0; e < ne; e++) demb[(long)v * E + e] = 0.0f;
    for (int n = 0; n < N; n++) {
      int v = x[n];
      if (v < 0 || v >= V) continue;
      __global float* d = demb + (long)v * E;
      for (int e = 0; e < ne; e++) d[e] += dout[(long)n * E + e];
    }
  }
}

/*
 * add_bias_rows: y [N,C] += bias [C] broadcast over rows   (+=)
 *   global size >= N*C.
 */
__kernel void add_bias_rows(__global float* y_base, int y_off,
                            __global const float* bias_base, int bias_off, int N, int C) {
  int i = get_global_id(0);
  if (i >= N * C) return;
  y_base[y_off + i] += bias_base[bias_off + (i - (i / C) * C)];
}
