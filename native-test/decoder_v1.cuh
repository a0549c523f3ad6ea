/*
 * decoder_v1.cuh: version 1 of decoder_xent (kernels/cuda/decoder.cu before 2026-12-06), kept so
 * that test_loss times it beside version 2 on a GPU: the decoder's first measurement says whether
 * version 2's tiles (rows a tile chosen per launch, 2 columns or chunks an item) pay. Included after
 * decoder.cu, whose cr_load4, cr_decoder_stage and cr_decoder_stride it shares.
 *
 * decoder_xent_v1: decoder_xent's arguments without groups; tiles of cr_decoder_v1_rows(V) = 4
 *   min(4, CR_BLOCK / V) rows; a logits item is 4 rows by 1 column, a dtop item 4 rows by 4
 *   columns; softmax 16 lanes a row. cr_decoder_v1_shared_bytes(V, H) of dynamic shared memory.
 */
#define CR_DEC_V1_LANES 16
#define CR_DEC_V1_MAX_GROUPS 4

static __host__ __device__ inline int cr_decoder_v1_groups(int V) {
  int g = V > 0 ? CR_BLOCK / V : CR_DEC_V1_MAX_GROUPS;
  return g < 1 ? 1 : g > CR_DEC_V1_MAX_GROUPS ? CR_DEC_V1_MAX_GROUPS : g;
}
static __host__ __device__ inline int cr_decoder_v1_rows(int V) { return 4 * cr_decoder_v1_groups(V); }
static __host__ __device__ inline long long cr_decoder_v1_shared_bytes(int V, int H) {
  long long ws = cr_decoder_stride(H), rt = cr_decoder_v1_rows(V);
  return 4LL * ((long long)V * ws + rt * ws + rt * (V + 1));
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK)
decoder_xent_v1(const float *top, const float *w, const float *bias, const int *y, float *logits, float *row_loss,
             float *dtop, int N, int V, int H, float grad_scale, int write_grad, float *loss_sum, unsigned *ticket) {
  __shared__ float red_max[CR_BLOCK], red_sum[CR_BLOCK], scratch[CR_BLOCK];
  CR_DYNAMIC_SHARED(float, sh);
  const int WS = cr_decoder_stride(H), H4 = WS - 4, G = cr_decoder_v1_groups(V), RT = 4 * G, LS = V + 1;
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
    /* (2) softmax of row r by its CR_DEC_V1_LANES lanes; threads past RT rows take part in the barriers */
    const int r = tid / CR_DEC_V1_LANES, lane = tid % CR_DEC_V1_LANES, n = n0 + r;
    const bool row = r < RT;
    float *lr = ls + (row ? r : 0) * LS;
    float mx = -INFINITY;
    if (row)
      for (int c = lane; c < V; c += CR_DEC_V1_LANES) mx = fmaxf(mx, lr[c]);
    red_max[tid] = mx;
    __syncthreads();
    for (int s = CR_DEC_V1_LANES / 2; s > 0; s >>= 1) {
      if (lane < s) red_max[tid] = fmaxf(red_max[tid], red_max[tid + s]);
      __syncthreads();
    }
    mx = red_max[tid - lane];
    float sum = 0.0f;
    if (row)
      for (int c = lane; c < V; c += CR_DEC_V1_LANES) sum += expf(lr[c] - mx);
    red_sum[tid] = sum;
    __syncthreads();
    for (int s = CR_DEC_V1_LANES / 2; s > 0; s >>= 1) {
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
      for (int c = lane; c < V; c += CR_DEC_V1_LANES) {
        float z = lr[c];
        float v = write_grad ? grad_scale * (expf(z - mx) * inv - (c == target ? 1.0f : 0.0f)) : z;
        lr[c] = v;
        dst[c] = v;
      }
    } else if (row)
      for (int c = lane; c < V; c += CR_DEC_V1_LANES) lr[c] = 0.0f; /* rows past N add nothing to dtop */
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
