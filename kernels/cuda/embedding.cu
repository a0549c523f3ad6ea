/*
 * embedding.cu: window gather, embedding lookup and its gradient, row-bias add.
 *
 * gather_window_u8 / gather_window_u16
 *   corpus [len] (u8 or u16 symbols), starts [B] (64-bit positions), x [T,B], y [T,B] (int32)
 *   x[t,b] = corpus[starts[b]+t], y[t,b] = corpus[starts[b]+t+1]  (=). One thread per (t,b).
 * embedding_forward
 *   x [N], emb [V,E], out [N,E]: out[n,:] = emb[x[n],:]  (=). One thread per (n,e). No aliasing.
 * gather_embed_u8 / gather_embed_u16
 *   gather_window then embedding_forward in one launch (N = T*B): x, y [T,B] (=) as gather_window,
 *   out [N,E] (=) as embedding_forward of that x. One thread per (n,e), E >= 1; the thread of e = 0
 *   writes x[n] and y[n]. No aliasing. CUDA only: OpenCL launches the two.
 * embedding_backward
 *   x [N], dout [N,E], demb [V,E]: demb[v,e] = sum over n with x[n]=v of dout[n,e]  (=), in
 *   cr_column_total's fixed order: deterministic, no atomics. Launch grid (V, ceil(E / w)) of
 *   w x l threads, w = cr_col_width(E), l = cr_col_lanes(N): block (v, j) sums columns [j w, ..) of
 *   row v.
 * add_bias_rows
 *   y [N,C], bias [C]: y[n,c] += bias[c]  (+=). One thread per element.
 */
#include "common.cuh"

/* The body of both gather kernels; Sym is the corpus symbol type (u8 or u16). */
template <typename Sym>
static __device__ __forceinline__ void cr_gather_window(const Sym *corpus, const long long *starts, int T, int B,
                                                        int *x, int *y) {
  long long k = cr_gid();
  if (k >= (long long)T * B) return;
  int t = (int)(k / B), b = (int)(k % B);
  long long p = starts[b] + t;
  x[k] = (int)corpus[p];
  y[k] = (int)corpus[p + 1];
}

extern "C" __global__ void gather_window_u8(const unsigned char *corpus, const long long *starts,
                                            int T, int B, int *x, int *y) {
  cr_gather_window(corpus, starts, T, B, x, y);
}

extern "C" __global__ void gather_window_u16(const unsigned short *corpus, const long long *starts,
                                             int T, int B, int *x, int *y) {
  cr_gather_window(corpus, starts, T, B, x, y);
}

/* The body of both gather_embed kernels; Sym is the corpus symbol type (u8 or u16). */
template <typename Sym>
static __device__ __forceinline__ void cr_gather_embed(const Sym *corpus, const long long *starts, int T, int B,
                                                       int *x, int *y, const float *emb, float *out, int E) {
  long long k = cr_gid();
  if (k >= (long long)T * B * E) return;
  long long n = k / E;
  int e = (int)(k % E), t = (int)(n / B), b = (int)(n % B);
  long long p = starts[b] + t;
  int s = (int)corpus[p];
  out[k] = emb[(long long)s * E + e];
  if (e == 0) {
    x[n] = s;
    y[n] = (int)corpus[p + 1];
  }
}

extern "C" __global__ void gather_embed_u8(const unsigned char *corpus, const long long *starts, int T, int B, int *x,
                                           int *y, const float *emb, float *out, int E) {
  cr_gather_embed(corpus, starts, T, B, x, y, emb, out, E);
}

extern "C" __global__ void gather_embed_u16(const unsigned short *corpus, const long long *starts, int T, int B,
                                            int *x, int *y, const float *emb, float *out, int E) {
  cr_gather_embed(corpus, starts, T, B, x, y, emb, out, E);
}

extern "C" __global__ void embedding_forward(const int *x, const float *emb, float *out, int N, int E) {
  long long k = cr_gid();
  if (k >= (long long)N * E) return;
  int n = (int)(k / E), e = (int)(k % E);
  out[k] = emb[(long long)x[n] * E + e];
}

extern "C" __global__ void __launch_bounds__(CR_COL_WIDTH * CR_COL_LANES)
embedding_backward(const int *x, const float *dout, float *demb, int N, int V, int E) {
  int v = blockIdx.x;
  long long e = (long long)blockIdx.y * blockDim.x + threadIdx.x;
  float s = cr_column_total(dout, E, N, e, v < V && e < E, [x, v](int n) { return x[n] == v; });
  if (threadIdx.y == 0 && v < V && e < E) demb[(long long)v * E + e] = s;
}

extern "C" __global__ void add_bias_rows(float *y, const float *bias, int N, int C) {
  long long k = cr_gid();
  if (k >= (long long)N * C) return;
  y[k] += bias[k % C];
}
