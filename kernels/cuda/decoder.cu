/*
 * decoder.cu: the decoder, its softmax cross-entropy and dL/dtop of a training window in one kernel.
 *
 * decoder_xent
 *   top [N,H] (the top layer's output), w [V,H] (the decoder weight, row-major), bias [V], y [N]
 *   targets; logits [N,V] (=): with write_grad, grad_scale * (softmax(top w^T + bias) - onehot(y)),
 *   i.e. dL/dlogits of the mean loss when grad_scale = 1/N; else top w^T + bias. row_loss [N] (=)
 *   logsumexp(z) - z[y], z = top w^T + bias. dtop [N,H] (=) logits w with write_grad (the gradient
 *   just written; null without write_grad). loss_sum [1] (=) the sum of row_loss as sum_final adds
 *   it, by the last block to finish (cr_last_block on ticket [1], 0 before and after), or null: no
 *   sum. So the three launches of the unfused decoder (a GEMM, softmax_xent, a GEMM) become one, and
 *   the logits never make a round trip through memory between them. No aliasing among top, w,
 *   logits and dtop.
 *   Launch: CR_BLOCK threads; cr_decoder_shared_bytes(V, H) of dynamic shared memory; any grid
 *   (blocks take row tiles of cr_decoder_rows(V) rows grid-stride; the host launches one wave).
 *   Each block holds w [V][WS] (WS = cr_decoder_stride(H): H rounded up to 4, plus 4 so that the
 *   rows of a quarter warp's 16-byte loads fall in different banks), a tile's rows of top [RT][WS]
 *   and its logits [RT][V + 1], in that order.
 *   Per tile: (1) logits: thread item (row group g of 4 rows, column v) sums over k ascending, 4
 *   rows at once from one 16-byte load of w[v][k..k+3] and one of each row (the rows a broadcast to
 *   the warp); (2) softmax: 16 lanes a row, each the columns c = lane, lane + 16, ...; max and sum
 *   over the lanes as fixed trees; (3) dtop: thread item (row group g, columns k..k+3) sums over v
 *   ascending. Every order is fixed: bit-identical run to run for the same launch.
 *   Came from: the unfused decoder of RnnPasses (cuBLAS GEMM, softmax_xent, cuBLAS GEMM); the step
 *   cost model prices both (DecoderXent) and the backend fuses where this is predicted faster.
 */
#include "common.cuh"

#define CR_DEC_LANES 16     /* softmax lanes a row */
#define CR_DEC_MAX_GROUPS 4 /* the most row groups of 4 rows a tile (CR_DEC_LANES * 4 * 4 = CR_BLOCK) */

/* Row groups of 4 rows a tile: enough for one logits item per thread, 1 to CR_DEC_MAX_GROUPS. */
static __host__ __device__ inline int cr_decoder_groups(int V) {
  int g = V > 0 ? CR_BLOCK / V : CR_DEC_MAX_GROUPS;
  return g < 1 ? 1 : g > CR_DEC_MAX_GROUPS ? CR_DEC_MAX_GROUPS : g;
}
/* Rows of a tile. */
static __host__ __device__ inline int cr_decoder_rows(int V) { return 4 * cr_decoder_groups(V); }
/* w's and top's row stride in floats. */
static __host__ __device__ inline int cr_decoder_stride(int H) { return (H + 3) / 4 * 4 + 4; }
/* Dynamic shared memory of a block, bytes. */
static __host__ __device__ inline long long cr_decoder_shared_bytes(int V, int H) {
  long long ws = cr_decoder_stride(H), rt = cr_decoder_rows(V);
  return 4LL * ((long long)V * ws + rt * ws + rt * (V + 1));
}

/* Four consecutive floats of shared memory (16-byte aligned): one load on a GPU. */
static __device__ __forceinline__ void cr_load4(const float *p, float &a, float &b, float &c, float &d) {
#ifdef CHARRNN_CRCPU_H
  a = p[0];
  b = p[1];
  c = p[2];
  d = p[3];
#else
  float4 v = *reinterpret_cast<const float4 *>(p);
  a = v.x;
  b = v.y;
  c = v.z;
  d = v.w;
#endif
}

#define CR_DEC_LOADS 8 /* loads a thread issues before it stores them: one L2 round trip for 8 */

/* dst [rows][ws] (=) src [have rows][H], zero in rows past `have` and in columns [H, H4): the whole
 * block, CR_DEC_LOADS loads a thread in flight at once. */
static __device__ __forceinline__ void cr_decoder_stage(float *dst, const float *src, int rows, int have, int H,
                                                        int H4, int ws) {
  const long long total = (long long)rows * H4, step = (long long)CR_DEC_LOADS * blockDim.x;
  for (long long base = threadIdx.x; base < total; base += step) {
    float v[CR_DEC_LOADS];
#pragma unroll
    for (int q = 0; q < CR_DEC_LOADS; q++) {
      long long i = base + (long long)q * blockDim.x;
      int r = (int)(i / H4), k = (int)(i % H4);
      v[q] = i < total && r < have && k < H ? src[(long long)r * H + k] : 0.0f;
    }
#pragma unroll
    for (int q = 0; q < CR_DEC_LOADS; q++) {
      long long i = base + (long long)q * blockDim.x;
      if (i < total) dst[(i / H4) * ws + i % H4] = v[q];
    }
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK)
decoder_xent(const float *top, const float *w, const float *bias, const int *y, float *logits, float *row_loss,
             float *dtop, int N, int V, int H, float grad_scale, int write_grad, float *loss_sum, unsigned *ticket) {
  __shared__ float red_max[CR_BLOCK], red_sum[CR_BLOCK], scratch[CR_BLOCK];
  CR_DYNAMIC_SHARED(float, sh);
  const int WS = cr_decoder_stride(H), H4 = WS - 4, G = cr_decoder_groups(V), RT = 4 * G, LS = V + 1;
  float *ws = sh, *xs = ws + (long long)V * WS, *ls = xs + (long long)RT * WS;
  const int tid = threadIdx.x;
  cr_decoder_stage(ws, w, V, V, H, H4, WS); /* w, zero past H */
  const int tiles = (N + RT - 1) / RT;
  for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int n0 = tile * RT;
    __syncthreads(); /* w loaded; the last tile's reads of xs and ls done */
    /* the tile's rows of top, zero past N and H */
    cr_decoder_stage(xs, top + (long long)n0 * H, RT, N - n0 < RT ? N - n0 : RT, H, H4, WS);
    __syncthreads();
    /* (1) logits of row group g, column v: ls[4g + q][v] */
    for (int item = tid; item < G * V; item += blockDim.x) {
      int g = item / V, v = item % V;
      const float *wv = ws + (long long)v * WS, *x0 = xs + 4 * g * WS;
      float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
      for (int k = 0; k < H4; k += 4) {
        float w0, w1, w2, w3, p0, p1, p2, p3;
        cr_load4(wv + k, w0, w1, w2, w3);
        cr_load4(x0 + k, p0, p1, p2, p3);
        a0 = fmaf(p3, w3, fmaf(p2, w2, fmaf(p1, w1, fmaf(p0, w0, a0))));
        cr_load4(x0 + WS + k, p0, p1, p2, p3);
        a1 = fmaf(p3, w3, fmaf(p2, w2, fmaf(p1, w1, fmaf(p0, w0, a1))));
        cr_load4(x0 + 2 * WS + k, p0, p1, p2, p3);
        a2 = fmaf(p3, w3, fmaf(p2, w2, fmaf(p1, w1, fmaf(p0, w0, a2))));
        cr_load4(x0 + 3 * WS + k, p0, p1, p2, p3);
        a3 = fmaf(p3, w3, fmaf(p2, w2, fmaf(p1, w1, fmaf(p0, w0, a3))));
      }
      float b = bias[v];
      float *l = ls + 4 * g * LS + v;
      l[0] = a0 + b;
      l[LS] = a1 + b;
      l[2 * LS] = a2 + b;
      l[3 * LS] = a3 + b;
    }
    __syncthreads();
    /* (2) softmax of row r by its CR_DEC_LANES lanes; threads past RT rows take part in the barriers */
    const int r = tid / CR_DEC_LANES, lane = tid % CR_DEC_LANES, n = n0 + r;
    const bool row = r < RT;
    float *lr = ls + (row ? r : 0) * LS;
    float mx = -INFINITY;
    if (row)
      for (int c = lane; c < V; c += CR_DEC_LANES) mx = fmaxf(mx, lr[c]);
    red_max[tid] = mx;
    __syncthreads();
    for (int s = CR_DEC_LANES / 2; s > 0; s >>= 1) {
      if (lane < s) red_max[tid] = fmaxf(red_max[tid], red_max[tid + s]);
      __syncthreads();
    }
    mx = red_max[tid - lane];
    float sum = 0.0f;
    if (row)
      for (int c = lane; c < V; c += CR_DEC_LANES) sum += expf(lr[c] - mx);
    red_sum[tid] = sum;
    __syncthreads();
    for (int s = CR_DEC_LANES / 2; s > 0; s >>= 1) {
      if (lane < s) red_sum[tid] += red_sum[tid + s];
      __syncthreads();
    }
    sum = red_sum[tid - lane];
    const bool out = row && n < N;
    const int target = out ? y[n] : 0;
    if (out && lane == 0) row_loss[n] = (logf(sum) + mx) - lr[target];
    __syncthreads(); /* lr[target] read before the gradient overwrites it */
    if (out) {
      float *dst = logits + (long long)n * V, inv = 1.0f / sum;
      for (int c = lane; c < V; c += CR_DEC_LANES) {
        float z = lr[c];
        float v = write_grad ? grad_scale * (expf(z - mx) * inv - (c == target ? 1.0f : 0.0f)) : z;
        lr[c] = v;
        dst[c] = v;
      }
    } else if (row)
      for (int c = lane; c < V; c += CR_DEC_LANES) lr[c] = 0.0f; /* rows past N add nothing to dtop */
    if (!write_grad) continue;
    __syncthreads();
    /* (3) dtop of row group g, columns k..k+3: sum over v of ls[4g + q][v] w[v][k..k+3] */
    for (int item = tid; item < G * (H4 / 4); item += blockDim.x) {
      int g = item / (H4 / 4), k = item % (H4 / 4) * 4;
      const float *l0 = ls + 4 * g * LS;
      float a[4][4] = {};
      for (int v = 0; v < V; v++) {
        float w0, w1, w2, w3;
        cr_load4(ws + (long long)v * WS + k, w0, w1, w2, w3);
        for (int q = 0; q < 4; q++) {
          float d = l0[q * LS + v];
          a[q][0] = fmaf(d, w0, a[q][0]);
          a[q][1] = fmaf(d, w1, a[q][1]);
          a[q][2] = fmaf(d, w2, a[q][2]);
          a[q][3] = fmaf(d, w3, a[q][3]);
        }
      }
      for (int q = 0; q < 4; q++) {
        int nq = n0 + 4 * g + q;
        if (nq >= N) break;
        float *d = dtop + (long long)nq * H;
        for (int j = 0; j < 4 && k + j < H; j++) d[k + j] = a[q][j];
      }
    }
  }
  if (loss_sum && cr_last_block(ticket)) {
    float total = cr_block_total(row_loss, N, scratch);
    if (threadIdx.x == 0) loss_sum[0] = total;
  }
}
