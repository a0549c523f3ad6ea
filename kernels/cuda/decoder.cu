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
 *   groups: G, row groups of 4 rows a tile (1 to CR_DEC_MAX_GROUPS; cr_decoder_groups(N, SMs) is
 *   the host's choice); the results do not depend on it, bit for bit.
 *   Launch: CR_BLOCK threads; cr_decoder_shared_bytes(V, H, G) of dynamic shared memory; any grid
 *   (blocks take row tiles of RT = cr_decoder_rows(G) rows grid-stride; the host launches one wave).
 *   Each block holds w [V][WS] (WS = cr_decoder_stride(H): H rounded up to 4, plus 4 so that the
 *   rows of a quarter warp's 16-byte loads fall in different banks), a tile's rows of top [RT][WS]
 *   and its logits [RT][V + 1], in that order.
 *   Per tile: (1) logits: thread item (row group g of 4 rows, columns c and c + ceil(V / 2)) sums
 *   over k ascending, 4 rows by 2 columns from one 16-byte load of each of w[c][k..k+3],
 *   w[c + ceil(V / 2)][k..k+3] and the 4 rows (a broadcast to the warp): 32 FMAs for 6 loads; (2)
 *   softmax: 8 lanes a row, each the columns c = lane, lane + 8, ...; max and sum over the lanes as
 *   fixed trees; (3) dtop: thread item (row group g, columns k..k+3 and k2..k2+3, chunks q and q +
 *   ceil(Q / 2) of the Q chunks of 4) sums over v ascending, 32 FMAs for 2 loads of w and 4 of the
 *   rows' gradients. Every order is fixed: bit-identical run to run, and whatever G and the grid.
 *   Came from: the unfused decoder of RnnPasses (cuBLAS GEMM, softmax_xent, cuBLAS GEMM); the step
 *   cost model prices both (DecoderXent) and the backend fuses where this is predicted faster.
 *   Version 2 (2026-12-06, no GPU at hand): tiles of G groups the host picks (version 1: G =
 *   min(4, CR_BLOCK / V), 12 rows at V 65, so 2500 rows took two rounds of 209 tiles on 132 SMs;
 *   now one of 125 tiles of 20) and items of 2 columns or 2 chunks (version 1: one, 16 FMAs for 5
 *   loads); the cost model prices both, neither is measured yet: version 1 stays in
 *   native-test/decoder_v1.cuh, and test_loss times both at the bench's 2500 rows.
 */
#include "common.cuh"

#define CR_DEC_LANES 8      /* softmax lanes a row */
#define CR_DEC_MAX_GROUPS 8 /* the most row groups of 4 rows a tile (CR_DEC_LANES * 4 * 8 = CR_BLOCK: the
                               softmax takes every row of a tile at once) */

/* Row groups of 4 rows a tile for N rows over `sms` blocks, one an SM: of 1 to CR_DEC_MAX_GROUPS the
 * one whose rounds of tiles (ceil(tiles / sms)) times its groups plus one (a tile's own work: its
 * rows staged, its barriers, its softmax) is least, the larger on a tie; so 2500 rows on 132 SMs take
 * one round of 125 tiles of 20 rows, not two of 12. */
static __host__ __device__ inline int cr_decoder_groups(int N, int sms) {
  int best = 1;
  long long best_cost = -1;
  for (int g = 1; g <= CR_DEC_MAX_GROUPS; g++) {
    long long tiles = ((long long)N + 4 * g - 1) / (4 * g), rounds = (tiles + sms - 1) / (sms > 0 ? sms : 1);
    long long cost = rounds * (g + 1);
    if (best_cost < 0 || cost <= best_cost) {
      best = g;
      best_cost = cost;
    }
  }
  return best;
}
/* Rows of a tile of G groups. */
static __host__ __device__ inline int cr_decoder_rows(int G) { return 4 * G; }
/* w's and top's row stride in floats. */
static __host__ __device__ inline int cr_decoder_stride(int H) { return (H + 3) / 4 * 4 + 4; }
/* Dynamic shared memory of a block at G groups, bytes. */
static __host__ __device__ inline long long cr_decoder_shared_bytes(int V, int H, int G) {
  long long ws = cr_decoder_stride(H), rt = cr_decoder_rows(G);
  return 4LL * ((long long)V * ws + rt * ws + rt * (V + 1));
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
             float *dtop, int N, int V, int H, int groups, float grad_scale, int write_grad, float *loss_sum,
             unsigned *ticket) {
  __shared__ float red_max[CR_BLOCK], red_sum[CR_BLOCK], scratch[CR_BLOCK];
  CR_DYNAMIC_SHARED(float, sh);
  const int WS = cr_decoder_stride(H), H4 = WS - 4, G = groups, RT = cr_decoder_rows(G), LS = V + 1;
  const int VH = (V + 1) / 2;               /* a logits item's columns: c and c + VH */
  const int Q = H4 / 4, QH = (Q + 1) / 2;   /* a dtop item's chunks of 4 columns: q and q + QH */
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
    /* (1) logits of row group g, columns c and c + VH: ls[4g + q][c], ls[4g + q][c + VH] (an odd V's
     * last item has one column: its second repeats the first and is not stored) */
    for (int item = tid; item < G * VH; item += blockDim.x) {
      const int g = item / VH, c = item % VH, c2 = c + VH < V ? c + VH : c;
      const float *wc = ws + (long long)c * WS, *wd = ws + (long long)c2 * WS, *x0 = xs + 4 * g * WS;
      float a[4][2] = {};
      for (int k = 0; k < H4; k += 4) {
        float u0, u1, u2, u3, v0, v1, v2, v3;
        cr_load4(wc + k, u0, u1, u2, u3);
        cr_load4(wd + k, v0, v1, v2, v3);
#pragma unroll
        for (int q = 0; q < 4; q++) {
          float p0, p1, p2, p3;
          cr_load4(x0 + q * WS + k, p0, p1, p2, p3);
          a[q][0] = fmaf(p3, u3, fmaf(p2, u2, fmaf(p1, u1, fmaf(p0, u0, a[q][0]))));
          a[q][1] = fmaf(p3, v3, fmaf(p2, v2, fmaf(p1, v1, fmaf(p0, v0, a[q][1]))));
        }
      }
      float *l = ls + 4 * g * LS;
      const float b = bias[c], b2 = bias[c2];
#pragma unroll
      for (int q = 0; q < 4; q++) {
        l[q * LS + c] = a[q][0] + b;
        if (c2 != c) l[q * LS + c2] = a[q][1] + b2;
      }
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
    /* (3) dtop of row group g, columns k..k+3 and k2..k2+3 (chunks q and q + QH; a missing second
     * chunk repeats the first and is not stored): sum over v of ls[4g + q][v] w[v][k..k+3] */
    for (int item = tid; item < G * QH; item += blockDim.x) {
      const int g = item / QH, q = item % QH, k = 4 * q, k2 = q + QH < Q ? 4 * (q + QH) : k;
      const float *l0 = ls + 4 * g * LS;
      float a[4][8] = {};
      for (int v = 0; v < V; v++) {
        float w0, w1, w2, w3, w4, w5, w6, w7;
        cr_load4(ws + (long long)v * WS + k, w0, w1, w2, w3);
        cr_load4(ws + (long long)v * WS + k2, w4, w5, w6, w7);
#pragma unroll
        for (int i = 0; i < 4; i++) {
          float d = l0[i * LS + v];
          a[i][0] = fmaf(d, w0, a[i][0]);
          a[i][1] = fmaf(d, w1, a[i][1]);
          a[i][2] = fmaf(d, w2, a[i][2]);
          a[i][3] = fmaf(d, w3, a[i][3]);
          a[i][4] = fmaf(d, w4, a[i][4]);
          a[i][5] = fmaf(d, w5, a[i][5]);
          a[i][6] = fmaf(d, w6, a[i][6]);
          a[i][7] = fmaf(d, w7, a[i][7]);
        }
      }
#pragma unroll
      for (int i = 0; i < 4; i++) { /* every index a constant: a stays in registers */
        const int ni = n0 + 4 * g + i;
        if (ni >= N) continue;
        float *d = dtop + (long long)ni * H;
#pragma unroll
        for (int j = 0; j < 4; j++) {
          if (k + j < H) d[k + j] = a[i][j];
          if (k2 != k && k2 + j < H) d[k2 + j] = a[i][4 + j];
        }
      }
    }
  }
  if (loss_sum && cr_last_block(ticket)) {
    float total = cr_block_total(row_loss, N, scratch);
    if (threadIdx.x == 0) loss_sum[0] = total;
  }
}
