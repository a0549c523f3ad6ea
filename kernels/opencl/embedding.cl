/*
 * embedding.cl: corpus window gather and embedding lookup (OpenCL C 1.2).
 * Every float* that may point into a flat buffer is passed as (base, element offset).
 */

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
 * embedding_backward: demb [V,E] (=): demb[v,e] = sum over n with x[n] == v of dout[n,e],
 *   summed in increasing n (deterministic); one work-item per (v, e), global size >= V*E.
 *   demb points into the flat gradient buffer. dout [N,E].
 */
__kernel void embedding_backward(__global const int* x,
                                 __global const float* dout_base, int dout_off,
                                 __global float* demb_base, int demb_off, int N, int V, int E) {
  int i = get_global_id(0);
  if (i >= V * E) return;
  int v = i / E, e = i - (i / E) * E;
  __global const float* dout = dout_base + dout_off;
  float s = 0.0f;
  for (int n = 0; n < N; n++)
    if (x[n] == v) s += dout[n * E + e];
  demb_base[demb_off + i] = s;
}

/*
 * embedding_backward_vec16: embedding_backward for CPU devices, same arguments and the same
 *   per-element order (increasing n); one work-item per (v, 16 consecutive e) adds whole float16
 *   rows, so x is scanned V*E/16 instead of V*E times. global size (>= ceil(E/16), >= V).
 */
__kernel void embedding_backward_vec16(__global const int* x,
                                       __global const float* dout_base, int dout_off,
                                       __global float* demb_base, int demb_off, int N, int V, int E) {
  int e0 = get_global_id(0) * 16, v = get_global_id(1);
  if (e0 >= E || v >= V) return;
  __global const float* dout = dout_base + dout_off + e0;
  __global float* demb = demb_base + demb_off + (long)v * E + e0;
  int ne = min(16, E - e0);
  if (ne == 16) {
    float16 s = (float16)(0.0f);
    for (int n = 0; n < N; n++)
      if (x[n] == v) s += vload16(0, dout + (long)n * E);
    vstore16(s, 0, demb);
  } else {
    for (int e = 0; e < ne; e++) {
      float s = 0.0f;
      for (int n = 0; n < N; n++)
        if (x[n] == v) s += dout[(long)n * E + e];
      demb[e] = s;
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
