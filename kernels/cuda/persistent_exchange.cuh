/*
 * persistent_exchange.cuh: the cluster layout's exchange through distributed shared memory
 * (sm_90), what CR_PREC_EXCHANGE or'ed into prec of a *_cluster kernel turns on where the pass's
 * plan takes its right-hand side in one k-tile (KT >= K: CrPersistentPlan.exchange).
 *
 * Without it every block stages its cluster's PB rows of h_{t-1} (backward: dgates[t], a GRU's
 * dgh[t]) from global memory after each barrier: one L2 round trip between two block barriers per
 * step, on the recurrence's critical path. With it a block keeps two x buffers [2][x_floats]
 * (persistent_shared_bytes counts both) and its cell phase stores each value the next product
 * needs straight into x of every block of its cluster, itself included (cr_exchange_put), rounded
 * and laid out exactly as the product's staging would have stored it; after the cluster barrier
 * the product reads x as it is (cr_persistent_product with y null). Results are bit for bit those
 * without the exchange.
 *   forward: step t's product reads buffer t & 1 (step 0's stages h0 into buffer 0 as before);
 *     its cell phase stores h_t into buffer (t + 1) & 1 (not after the last step);
 *   backward: step t's cell phase stores dgates[t] (dgh[t]) into buffer t & 1; the product after
 *     the barrier reads it.
 * One cluster barrier a step still suffices: a block stores into buffer s of a peer only after the
 * barrier that follows the peer's last read of s (its product of the step before, which precedes
 * its cell phase and so its arrival at that barrier). cr_exchange_begin zeroes both buffers before
 * the first store (the entries no cell phase writes, rows b past the cluster's rows, k past K and
 * the mma plan's padding words, stay zero) and meets the cluster, so no block stores into a peer
 * that has not started; no block stores after the last barrier of its pass, so none stores into a
 * peer that has returned.
 */
#ifndef CHARRNN_CUDA_PERSISTENT_EXCHANGE_CUH
#define CHARRNN_CUDA_PERSISTENT_EXCHANGE_CUH

#include "persistent_common.cuh"

/* prec as a kernel of layout CLUSTER plans with it: the grid layout has no exchange. */
template <bool CLUSTER>
static __device__ __forceinline__ int cr_layout_prec(int prec) {
  return CLUSTER ? prec : prec & ~CR_PREC_EXCHANGE;
}

/* x buffer i & 1 with the exchange; without it the one x. */
static __device__ __forceinline__ float *cr_exchange_x(unsigned char *shared, const CrPersistentPlan &p, int i) {
  return cr_persistent_x(shared, p) + (p.exchange ? (long long)(i & 1) * p.x_floats : 0);
}

/* With the exchange: both x buffers (=) zeros, then a cluster barrier. Every thread of every block
 * of the cluster must call it (the plan, and so p.exchange, is the same in all of them). */
static __device__ __forceinline__ void cr_exchange_begin(unsigned char *shared, const CrPersistentPlan &p) {
  if (!p.exchange) return;
  float *x = cr_persistent_x(shared, p);
  for (long long e = threadIdx.x; e < 2 * p.x_floats; e += blockDim.x) x[e] = 0.0f;
  cr_persistent_sync<true>();
}

/* 16 bits of a bf16 element at e (the CPU execution layer copies bytes: x is read as 32-bit words). */
static __device__ __forceinline__ void cr_store_bf16(__nv_bfloat16 *e, __nv_bfloat16 v) {
#ifdef CHARRNN_CRCPU_H
  memcpy(e, &v, sizeof v);
#else
  *e = v;
#endif
}

/*
 * With the exchange: element (b, k) of the right-hand side, b a row of the cluster's (< PB), k < K,
 * (=) v in x buffer i & 1 of every block of the cluster, as the staging stores it: the FMA plan's
 * x in layout X (cr_x_index) rounded as prec multiplies it; the mma plan's word
 * b XS + k rounded to TF32, or at bf16 the half k & 1 of word b XS + k / 2 (element k in the low
 * half). A store per block of the cluster, its own a plain shared-memory store (cr_cluster_dest);
 * without the exchange nothing.
 */
template <int X = CR_X_VECTOR>
static __device__ __forceinline__ void cr_exchange_put(unsigned char *shared, const CrPersistentPlan &p, int i, int b,
                                                       int k, float v, int prec) {
  if (!p.exchange) return;
  float *x = cr_exchange_x(shared, p, i);
  if (p.mma && cr_prec_rounding(prec) == CR_PREC_BF16) {
    __nv_bfloat16 *e = (__nv_bfloat16 *)(x + (long long)b * p.XS + k / 2) + (k & 1), r = __float2bfloat16_rn(v);
    for (int q = 0; q < CR_CLUSTER; q++) cr_store_bf16(cr_cluster_dest(e, q), r);
    return;
  }
  cr_x_layout_check<X>(p);
  float *e = p.mma ? x + (long long)b * p.XS + k : x + cr_x_index<X>(k, b, p.XS, p.BP);
  float r = cr_round_operand(v, prec);
  for (int q = 0; q < CR_CLUSTER; q++) *cr_cluster_dest(e, q) = r;
}

/* A forward step t's product (every thread calls it): the block's rows of W_hh times h_{t-1}, its
 * cluster's rows b0.. of h0 (t = 0) or of h [T,B,H] (slot t-1), staged from global memory, or with
 * the exchange (after step 0) as its peers stored them into x buffer t & 1 (layout X). */
template <typename A, int X = CR_X_VECTOR>
static __device__ __forceinline__ void cr_forward_product(const CrPersistentPlan &plan, const A *w,
                                                          const CrResidentA &frag, unsigned char *smem,
                                                          float *acc, const float *h0, const float *h, int t,
                                                          int b0, int B, int H, int prec) {
  const float *hp = t == 0 ? h0 : h + (long long)(t - 1) * B * H;
  const float *y = plan.exchange && t > 0 ? nullptr : hp + (long long)b0 * H; /* null: exchanged */
  cr_persistent_product<A, 0, X>(plan, w, frag, y, cr_exchange_x(smem, plan, t), acc, prec);
}

#endif
