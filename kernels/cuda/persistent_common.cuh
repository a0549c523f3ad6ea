/*
 * persistent_common.cuh: what the persistent recurrent kernels (persistent_lstm.cu, persistent_gru.cu,
 * persistent_rnn.cu) share: the units a block owns, the staging of its slice of W_hh into dynamic
 * shared memory, and the block-wide product every timestep runs (cr_persistent_product).
 *
 * A cell with G gate rows per hidden unit (LSTM 4, GRU 3, RNN 1) has W_hh [G*H, H], row q*H + j the
 * gate q of unit j. A launch has ceil(H / U) blocks of CR_BLOCK threads; block k owns the units j in
 * [k*U, min(H, (k+1)*U)). Its dynamic shared memory (persistent_shared_bytes) holds (fp32 but for a
 * at bf16, see Precision below):
 *   a: its slice of W_hh, R rows of K floats, loaded once per window:
 *      forward: the G rows of each of its units, [G][U][H] (R = G U, K = H; cr_persistent_stage_rows);
 *      backward: the columns of its units over all G*H rows, [U][G*H] (R = U, K = G H; stage_cols);
 *   x: one k-tile of the step's right-hand side, [KT][XS] (row stride XS >= BP): h_{t-1} [B,H]
 *      forward, dgates[t] (GRU: dgh[t]) [B,G*H] backward, copied from global memory once per block
 *      and step with coalesced loads; KT = K when XS K floats fit in CR_PERSISTENT_STAGE_FLOATS,
 *      else a tile of about that size (the last one shorter);
 *   acc: the products, [RP][BP][S] (S partial sums of each, combined before use).
 * Slots of units past H (the last block's) hold zeros, as do x's rows b >= B (RP, BP: R, B rounded
 * up to multiples of CR_PERSISTENT_RR, CR_PERSISTENT_RB; the products of rows R .. RP-1 are
 * computed from row R-1 and never read).
 *
 * Precision (prec, the last argument of every persistent kernel; --precision): CR_PREC_FP32
 * multiplies the fp32 values. CR_PREC_TF32 and CR_PREC_BF16 multiply what a tensor-core GEMM of
 * the stepwise path multiplies: W_hh and the right-hand side rounded to TF32 (10 mantissa bits) or
 * to bf16 (7), to nearest even, as they are staged; the sums stay fp32 FMAs. With bf16 the slice
 * a is kept as bf16, 2 bytes an element instead of 4, so the slice of a larger H fits (a's region
 * is R K elements rounded up to 16 bytes; x and acc stay fp32). Between timesteps
 * the blocks meet at one grid barrier (cooperative_groups::this_grid().sync()), which needs a
 * cooperative launch.
 *
 * cr_persistent_product splits the RP * BP * K FMAs of a step over all threads of the block: a
 * thread holds RR x RB accumulators (CR_PERSISTENT_RR rows of a, CR_PERSISTENT_RB rows b: each
 * value loaded from shared memory feeds RB or RR FMAs) and, when there are fewer such items than
 * threads, S lanes split k (lane s takes k = k0 + s, k0 + s + S, ... of every tile, ascending).
 * The S partial sums of a product meet in a fixed-order tree, as cr_block_sum's do, so every
 * result is bit-identical run to run and does not depend on the order threads run in. The plan
 * (RP, BP, XS, KT, S) depends only on R, K and B, so the host computes the same shared size
 * (persistent_shared_bytes; PersistentPlan.java mirrors it).
 */
#ifndef CHARRNN_CUDA_PERSISTENT_COMMON_CUH
#define CHARRNN_CUDA_PERSISTENT_COMMON_CUH

#include <cooperative_groups.h>
#include <cuda_bf16.h>

#include "common.cuh"

/* Floats of x (one k-tile of the right-hand side) per block; a native test may build with less. */
#ifndef CR_PERSISTENT_STAGE_FLOATS
#define CR_PERSISTENT_STAGE_FLOATS 8192
#endif
/* The register tile of a thread: CR_PERSISTENT_RR rows of a times CR_PERSISTENT_RB rows b, so a
 * value of a loaded from shared memory feeds RB FMAs and a value of x feeds RR. */
#define CR_PERSISTENT_RR 4
#define CR_PERSISTENT_RB 4
/* Most lanes that split k of one item. */
#define CR_PERSISTENT_MAX_LANES 32

/* The arithmetic of the products (see the top of this file). */
#define CR_PREC_FP32 0
#define CR_PREC_TF32 1
#define CR_PREC_BF16 2

/* Bytes of one element of the W_hh slice a at precision prec. */
static __host__ __device__ inline int cr_persistent_elem(int prec) { return prec == CR_PREC_BF16 ? 2 : 4; }

/* How a block computes the R x B products of length K of one step (see the top of this file). */
struct CrPersistentPlan {
  int R, K, B, RP, BP, XS, KT, S;
  long long a_bytes;               /* a: R K elements of elem bytes, padded to 16 bytes */
  long long x_floats, acc_floats;  /* x padded to 4 floats, acc */
};

static __host__ __device__ inline CrPersistentPlan cr_persistent_plan(int R, int K, int B, int elem) {
  CrPersistentPlan p;
  p.R = R;
  p.K = K;
  p.B = B;
  p.RP = (R + CR_PERSISTENT_RR - 1) / CR_PERSISTENT_RR * CR_PERSISTENT_RR;
  p.BP = (B + CR_PERSISTENT_RB - 1) / CR_PERSISTENT_RB * CR_PERSISTENT_RB;
  long long items = (long long)(p.RP / CR_PERSISTENT_RR) * (p.BP / CR_PERSISTENT_RB);
  p.S = 1;
  while (p.S < CR_PERSISTENT_MAX_LANES && items * p.S * 2 <= CR_BLOCK) p.S *= 2;
  /* x's row stride: BP, or with S lanes the next XS >= BP with XS % 2m == m (m = 32 / S), so that
   * the S rows k a warp reads at once (m words each) fall in different banks */
  int m = 32 / p.S;
  p.XS = p.S == 1 ? p.BP : p.BP + (m - p.BP % (2 * m) + 2 * m) % (2 * m);
  if ((long long)p.XS * K <= CR_PERSISTENT_STAGE_FLOATS) {
    p.KT = K;
  } else {
    int kt = CR_PERSISTENT_STAGE_FLOATS / p.XS;
    p.KT = kt < 1 ? 1 : kt;
  }
  p.a_bytes = ((long long)R * K * elem + 15) / 16 * 16;
  p.x_floats = ((long long)p.KT * p.XS + 3) / 4 * 4;
  p.acc_floats = (long long)p.RP * p.BP * p.S;
  return p;
}

static __host__ __device__ inline unsigned long long cr_persistent_plan_bytes(CrPersistentPlan p) {
  return (unsigned long long)p.a_bytes + (unsigned long long)(p.x_floats + p.acc_floats) * sizeof(float);
}

/* Dynamic shared memory of one block, forward and backward alike (the larger of the two plans):
 * its W_hh slice of G gate rows x U units x H (fp32, or bf16 at CR_PREC_BF16), an x tile and the
 * products (fp32). */
static inline unsigned long long persistent_shared_bytes(int G, int U, int H, int B, int prec) {
  int e = cr_persistent_elem(prec);
  unsigned long long f = cr_persistent_plan_bytes(cr_persistent_plan(G * U, H, B, e));
  unsigned long long b = cr_persistent_plan_bytes(cr_persistent_plan(U, G * H, B, e));
  return f > b ? f : b;
}

/* v rounded to TF32 (10 mantissa bits), to nearest even; Inf and NaN unchanged. */
static __device__ __forceinline__ float cr_round_tf32(float v) {
  unsigned u = __float_as_uint(v);
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu;
  return __uint_as_float(u);
}

/* An operand of the products as precision prec multiplies it. */
static __device__ __forceinline__ float cr_round_operand(float v, int prec) {
  return prec == CR_PREC_TF32 ? cr_round_tf32(v) : prec == CR_PREC_BF16 ? __bfloat162float(__float2bfloat16_rn(v)) : v;
}

/* An element of a as stored (=) and as read: fp32 (rounded to TF32 at CR_PREC_TF32) or bf16. */
static __device__ __forceinline__ void cr_store(float *a, float v, int prec) { *a = cr_round_operand(v, prec); }
static __device__ __forceinline__ void cr_store(__nv_bfloat16 *a, float v, int) { *a = __float2bfloat16_rn(v); }
static __device__ __forceinline__ float cr_load(float a) { return a; }
static __device__ __forceinline__ float cr_load(__nv_bfloat16 a) { return __bfloat162float(a); }

/* The units this block owns: U, fewer in the last block (0 if U * blocks overshoots H by a block). */
static __device__ __forceinline__ int cr_persistent_units(int H, int U) {
  int left = H - (int)blockIdx.x * U;
  return left < 0 ? 0 : left < U ? left : U;
}

/* w [G][U][H] (=) the G gate rows of units j0 .. j0+U-1 of w_hh [G*H,H], as prec multiplies them;
 * then a block barrier. */
template <typename A>
static __device__ __forceinline__ void cr_persistent_stage_rows(A *w, const float *w_hh, int G, int H, int U, int units,
                                                                int prec) {
  int j0 = (int)blockIdx.x * U;
  long long rows = (long long)G * U;
  for (long long e = threadIdx.x; e < rows * H; e += blockDim.x) {
    int lr = (int)(e / H), k = (int)(e % H), q = lr / U, u = lr % U;
    cr_store(&w[e], u < units ? w_hh[((long long)q * H + j0 + u) * H + k] : 0.0f, prec);
  }
  __syncthreads();
}

/* w [U][G*H] (=) the columns j0 .. j0+U-1 of w_hh [G*H,H], each over all G*H rows, as prec
 * multiplies them; then a block barrier. */
template <typename A>
static __device__ __forceinline__ void cr_persistent_stage_cols(A *w, const float *w_hh, int G, int H, int U, int units,
                                                                int prec) {
  int j0 = (int)blockIdx.x * U;
  long long GH = (long long)G * H;
  for (long long e = threadIdx.x; e < (long long)U * GH; e += blockDim.x) {
    int u = (int)(e / GH);
    long long r = e % GH;
    cr_store(&w[e], u < units ? w_hh[r * H + j0 + u] : 0.0f, prec);
  }
  __syncthreads();
}

/* The x and acc regions that follow a (the W_hh slice) in the block's dynamic shared memory. */
static __device__ __forceinline__ float *cr_persistent_x(unsigned char *shared, const CrPersistentPlan &p) {
  return (float *)(shared + p.a_bytes);
}
static __device__ __forceinline__ float *cr_persistent_acc(unsigned char *shared, const CrPersistentPlan &p) {
  return (float *)(shared + p.a_bytes) + p.x_floats;
}

/* The product of row r of a and row b of the right-hand side, after cr_persistent_product. */
static __device__ __forceinline__ float cr_persistent_result(const float *acc, const CrPersistentPlan &p, int r,
                                                             int b) {
  return acc[((long long)r * p.BP + b) * p.S];
}

/*
 * acc (=) a [R,K] (shared) times y^T, y [B,K] in global memory (row stride K): for every r < R
 * and b < B the fp32 sum over k of a[r,k] y[b,k] (y rounded as prec multiplies it), read with
 * cr_persistent_result. Stages y through
 * x one tile of KT columns at a time (x[kk * XS + (b % RB) * NG + b / RB], NG = BP / RB, so the RB
 * loads of a thread hit consecutive words across a warp, and its RR loads of a the same word), each
 * tile's FMAs shared by all threads: item = (RR rows of a, RB rows b, lane s). Every thread of the
 * block must call it; it begins and ends with a block barrier, so acc may be read at once and x,
 * acc rewritten by the next call.
 */
template <typename A>
static __device__ __forceinline__ void cr_persistent_product(const CrPersistentPlan &p, const A *a, const float *y,
                                                             float *x, float *acc, int prec) {
  const int BP = p.BP, XS = p.XS, K = p.K, S = p.S, NG = BP / CR_PERSISTENT_RB;
  const long long items = (long long)(p.RP / CR_PERSISTENT_RR) * NG * S;
  for (int k0 = 0; k0 < K; k0 += p.KT) {
    int kn = K - k0 < p.KT ? K - k0 : p.KT;
    __syncthreads(); /* x and acc are free: the previous tile's (or call's) readers are done */
    for (long long e = threadIdx.x; e < (long long)BP * kn; e += blockDim.x) {
      int b = (int)(e / kn), kk = (int)(e % kn);
      x[(long long)kk * XS + (b % CR_PERSISTENT_RB) * NG + b / CR_PERSISTENT_RB] =
          b < p.B ? cr_round_operand(y[(long long)b * K + k0 + kk], prec) : 0.0f;
    }
    __syncthreads();
    for (long long e = threadIdx.x; e < items; e += blockDim.x) {
      int s = (int)(e % S), g = (int)((e / S) % NG), r0 = (int)(e / ((long long)S * NG)) * CR_PERSISTENT_RR;
      float *out = acc + ((long long)r0 * BP + (long long)g * CR_PERSISTENT_RB) * S + s;
      float sum[CR_PERSISTENT_RR][CR_PERSISTENT_RB];
#pragma unroll
      for (int q = 0; q < CR_PERSISTENT_RR; q++)
#pragma unroll
        for (int i = 0; i < CR_PERSISTENT_RB; i++)
          sum[q][i] = k0 == 0 ? 0.0f : out[((long long)q * BP + i) * S];
      const A *ar[CR_PERSISTENT_RR]; /* rows past R (the last item's) repeat row R-1: never read */
#pragma unroll
      for (int q = 0; q < CR_PERSISTENT_RR; q++)
        ar[q] = a + (long long)(r0 + q < p.R ? r0 + q : p.R - 1) * K + k0;
      for (int kk = s; kk < kn; kk += S) {
        float w[CR_PERSISTENT_RR], v[CR_PERSISTENT_RB];
#pragma unroll
        for (int q = 0; q < CR_PERSISTENT_RR; q++) w[q] = cr_load(ar[q][kk]);
#pragma unroll
        for (int i = 0; i < CR_PERSISTENT_RB; i++) v[i] = x[(long long)kk * XS + i * NG + g];
#pragma unroll
        for (int q = 0; q < CR_PERSISTENT_RR; q++)
#pragma unroll
          for (int i = 0; i < CR_PERSISTENT_RB; i++) sum[q][i] = fmaf(w[q], v[i], sum[q][i]);
      }
#pragma unroll
      for (int q = 0; q < CR_PERSISTENT_RR; q++)
#pragma unroll
        for (int i = 0; i < CR_PERSISTENT_RB; i++) out[((long long)q * BP + i) * S] = sum[q][i];
    }
  }
  __syncthreads();
  /* the S lanes' partial sums of each product, pairwise in a fixed tree into lane 0 */
  for (int half = S >> 1; half > 0; half >>= 1) {
    for (long long e = threadIdx.x; e < p.acc_floats; e += blockDim.x)
      if ((int)(e % S) < half) acc[e] += acc[e + half];
    __syncthreads();
  }
}

#endif
