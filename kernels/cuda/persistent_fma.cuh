/*
 * persistent_fma.cuh: the FMA product of the persistent kernels (included by persistent_common.cuh,
 * whose plan, CrPersistentPlan without CR_PREC_MMA, it runs): fp32 FMAs over the block's W_hh slice
 * a and the staged right-hand side x, and the resident plan's rows of a kept in registers
 * (CrResidentA).
 */
#ifndef CHARRNN_CUDA_PERSISTENT_FMA_CUH
#define CHARRNN_CUDA_PERSISTENT_FMA_CUH

/*
 * x's FMA layouts (CrXLayout: a template argument of the product and of cr_exchange_put, which must
 * be the one the plan was made for, CrPersistentPlan.vx):
 *   CR_X_VECTOR x[k XS + b]: a thread's RB rows b at one k are one 16-byte load (cr_load4; XS, of
 *     a plan made with CR_PREC_VECTOR_X, and x's start are multiples of 4 floats), so its RR RB
 *     FMAs of a k take 1 load of x and RR of a (none resident) instead of RB + RR: every load
 *     takes an issue slot from the FFMAs. The LSTM's and GRU's forward, the RNN pair's passes.
 *   CR_X_STRIDED x[k XS + (b % RB) NG + b / RB] (NG = BP / RB): RB 4-byte loads, each hitting
 *     consecutive words across a warp (version 1, until 2026-12-07). The RNN's forward and the
 *     column-stationary backward kernels keep it: they run at 251-255 registers a thread, and the
 *     vector layout pushed them into spills on sm_90.
 * The same FMAs in the same order either way, so the same results bit for bit.
 */
enum CrXLayout { CR_X_STRIDED, CR_X_VECTOR };

/* The CPU execution layer aborts where a kernel reads or writes x in a layout its plan was not
 * made for (the plan's x row stride, vx, assumes it). */
template <int X>
static __host__ __device__ __forceinline__ void cr_x_layout_check(const CrPersistentPlan &p) {
#ifdef CHARRNN_CRCPU_H
  if (!p.mma && p.vx != (X == CR_X_VECTOR))
    crcpu::die("x in the %s layout, its plan made for the other", X == CR_X_VECTOR ? "vector" : "strided");
#else
  (void)p;
#endif
}

/* The index of x's element (b, kk) in layout X. */
template <int X>
static __host__ __device__ __forceinline__ long long cr_x_index(int kk, int b, int XS, int BP) {
  const int RB = CR_PERSISTENT_RB;
  return X == CR_X_VECTOR ? (long long)kk * XS + b : (long long)kk * XS + (b % RB) * (BP / RB) + b / RB;
}

/*
 * The FMA product (plan without CR_PREC_MMA), what cr_persistent_product runs:
 * acc (=) a [R,K] (shared) times y^T, y [B,K] in global memory (row stride K): for every r < R
 * and b < B the fp32 sum over k of a[r,k] y[b,k] (y rounded as prec multiplies it), read with
 * cr_persistent_result. Stages y through x (layout X) one tile of KT columns at a time, each
 * tile's FMAs shared by all threads: item = (RR rows of a, RB rows b g RB .. g RB + RB - 1, lane
 * s). Every thread of the block must call it; it begins and ends with a block barrier, so acc may
 * be read at once and x, acc rewritten by the next call.
 */
template <typename A, int HALF, int X>
static __device__ __forceinline__ void cr_persistent_product_fma(const CrPersistentPlan &p, const A *a,
                                                                 const CrResidentA &f, const float *y, float *x,
                                                                 float *acc, int prec) {
  const int BP = p.BP, XS = p.XS, K = p.K, S = p.S, NG = BP / CR_PERSISTENT_RB;
  static_assert(CR_PERSISTENT_RB == 4, "a thread's rows b of x are one cr_load4");
  cr_x_layout_check<X>(p);
  const long long items = (long long)(p.RP / CR_PERSISTENT_RR) * NG * S;
  for (int k0 = 0; k0 < K; k0 += p.KT) {
    int kn = K - k0 < p.KT ? K - k0 : p.KT;
    __syncthreads(); /* x and acc are free: the previous tile's (or call's) readers are done */
    for (long long e = threadIdx.x; y && e < (long long)BP * kn; e += blockDim.x) {
      int b = (int)(e / kn), kk = (int)(e % kn);
      x[cr_x_index<X>(kk, b, XS, BP)] = b < p.rows ? cr_round_operand(y[(long long)b * K + k0 + kk], prec) : 0.0f;
    }
    __syncthreads();
    for (long long e = threadIdx.x; e < items; e += blockDim.x) {
      int s = (int)(e % S), g = (int)((e / S) % NG), r0 = (int)(e / ((long long)S * NG)) * CR_PERSISTENT_RR;
      float *out = acc + ((long long)r0 * BP + (long long)g * CR_PERSISTENT_RB) * S + s;
      /* this tile's k that can be nonzero: rows all below p.ra end at p.ka */
      const int kl = r0 + CR_PERSISTENT_RR <= p.ra && p.ka - k0 < kn ? p.ka - k0 : kn;
      float sum[CR_PERSISTENT_RR][CR_PERSISTENT_RB];
#pragma unroll
      for (int q = 0; q < CR_PERSISTENT_RR; q++)
#pragma unroll
        for (int i = 0; i < CR_PERSISTENT_RB; i++)
          sum[q][i] = k0 == 0 ? 0.0f : out[((long long)q * BP + i) * S];
      /* the same FMAs in the same order either way: a from registers (resident) or shared memory */
      auto fmas = [&](int kk, const float w[CR_PERSISTENT_RR]) {
        float v[CR_PERSISTENT_RB];
        if (X == CR_X_VECTOR) {
          cr_load4(x + (long long)kk * XS + g * CR_PERSISTENT_RB, v[0], v[1], v[2], v[3]);
        } else {
#pragma unroll
          for (int i = 0; i < CR_PERSISTENT_RB; i++) v[i] = x[(long long)kk * XS + i * NG + g];
        }
#pragma unroll
        for (int q = 0; q < CR_PERSISTENT_RR; q++)
#pragma unroll
          for (int i = 0; i < CR_PERSISTENT_RB; i++) sum[q][i] = fmaf(w[q], v[i], sum[q][i]);
      };
      if (p.resident) { /* one k-tile, this thread's only item; HALF 1: from the upper half of f */
#pragma unroll
        for (int i = 0; i < CR_FMA_KSTEPS - HALF * CR_FMA_HALF; i++) {
          int kk = s + i * S;
          if (kk >= kl) break;
          float w[CR_PERSISTENT_RR];
          const int fi = i + HALF * CR_FMA_HALF;
#pragma unroll
          for (int q = 0; q < CR_PERSISTENT_RR; q++) w[q] = __uint_as_float(f.w[fi / 2][fi % 2][q]);
          fmas(kk, w);
        }
      } else {
        const A *ar[CR_PERSISTENT_RR]; /* rows past R (the last item's) repeat row R-1: never read */
#pragma unroll
        for (int q = 0; q < CR_PERSISTENT_RR; q++)
          ar[q] = a + (long long)(r0 + q < p.R ? r0 + q : p.R - 1) * p.AS + k0;
        for (int kk = s; kk < kl; kk += S) {
          float w[CR_PERSISTENT_RR];
#pragma unroll
          for (int q = 0; q < CR_PERSISTENT_RR; q++) w[q] = cr_load(ar[q][kk]);
          fmas(kk, w);
        }
      }
#pragma unroll
      for (int q = 0; q < CR_PERSISTENT_RR; q++)
#pragma unroll
        for (int i = 0; i < CR_PERSISTENT_RB; i++) out[((long long)q * BP + i) * S] = sum[q][i];
    }
  }
  cr_persistent_sum_lanes(p, acc);
}

/* f (=) this thread's rows of a at its k where the FMA plan is resident (CrResidentA: w[i / 2][i %
 * 2][q] row r0 + q at k = s + i S of its item; HALF 1: w[(i + CR_FMA_HALF) / 2]...); cr_keep_resident_a's. */
template <typename A, int HALF>
static __device__ __forceinline__ void cr_fma_keep(const CrPersistentPlan &p, const A *a, CrResidentA &f) {
  const int S = p.S, NG = p.BP / CR_PERSISTENT_RB;
  const long long e = threadIdx.x; /* the resident plan has at most one item a thread */
  if (e >= (long long)(p.RP / CR_PERSISTENT_RR) * NG * S) return;
  int s = (int)(e % S), r0 = (int)(e / ((long long)S * NG)) * CR_PERSISTENT_RR;
#pragma unroll
  for (int i = 0; i < CR_FMA_KSTEPS - HALF * CR_FMA_HALF; i++) {
    int kk = s + i * S;
    if (kk >= p.K) break;
    const int fi = i + HALF * CR_FMA_HALF;
#pragma unroll
    for (int q = 0; q < CR_PERSISTENT_RR; q++) /* rows past R repeat row R-1, as the product reads */
      f.w[fi / 2][fi % 2][q] = __float_as_uint(cr_load(a[(long long)(r0 + q < p.R ? r0 + q : p.R - 1) * p.AS + kk]));
  }
}

#endif
