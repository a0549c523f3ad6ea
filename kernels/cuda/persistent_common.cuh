/*
 * persistent_common.cuh: what the persistent recurrent kernels (persistent_lstm.cu, persistent_gru.cu,
 * persistent_rnn.cu) share: the units a block owns, the staging of its slice of W_hh into dynamic
 * shared memory, and the block-wide product every timestep runs (cr_persistent_product; its
 * tensor-core plan in persistent_mma.cuh).
 *
 * A cell with G gate rows per hidden unit (LSTM 4, GRU 3, RNN 1) has W_hh [G*H, H], row q*H + j the
 * gate q of unit j. A launch has ceil(H / U) blocks of CR_BLOCK threads for each batch group (each
 * cluster; persistent_layout.cuh); block k of a group owns the units j in [k*U, min(H, (k+1)*U)) of
 * the group's rows. Its dynamic shared memory (persistent_shared_bytes) holds (fp32 but for a
 * at bf16, see Precision below):
 *   a: its slice of W_hh, R rows of K elements (row stride AS: K, or the mma plan's padded rows,
 *      zeros past K), loaded once per window:
 *      forward: the G rows of each of its units, [G][U][AS] (R = G U, K = H; cr_persistent_stage_rows);
 *      backward: the columns of its units over all G*H rows, [U][AS] (R = U, K = G H; stage_cols);
 *   x: one k-tile of the step's right-hand side, [KT][XS] (row stride XS >= BP; the mma plan's is
 *      b-major, [BP][XS] words): h_{t-1} [B,H]
 *      forward, dgates[t] (GRU: dgh[t]) [B,G*H] backward, copied from global memory once per block
 *      and step with coalesced loads; KT = K when XS K floats (mma: BP K words, padding aside) fit
 *      in CR_PERSISTENT_STAGE_FLOATS, else a tile of about that size (the last one shorter);
 *   acc: the products, [RP][BP][S] (S partial sums of each, combined before use).
 * Slots of units past H (the last block's) hold zeros, as do x's rows b >= B (RP, BP: R, B rounded
 * up to multiples of CR_PERSISTENT_RR, CR_PERSISTENT_RB; the products of rows R .. RP-1 are
 * computed from row R-1 and never read).
 *
 * Precision (prec, the last argument of every persistent kernel; --precision): CR_PREC_FP32
 * multiplies the fp32 values. CR_PREC_TF32 and CR_PREC_BF16 multiply what a tensor-core GEMM of
 * the stepwise path multiplies: W_hh and the right-hand side rounded to TF32 (10 mantissa bits) or
 * to bf16 (7), to nearest even, as they are staged. With bf16 the slice a is kept as bf16, 2 bytes
 * an element instead of 4, so the slice of a larger H fits. Without CR_PREC_MMA the rounded values
 * meet in fp32 FMAs (the plan below; for devices older than sm_80). With CR_PREC_MMA (TF32 or
 * BF16 | CR_PREC_MMA, sm_80 and newer) the products run on tensor cores, mma.sync m16n8k8 (TF32)
 * or m16n8k16 (bf16), with a plan of their own (cr_persistent_product_mma below). Between
 * timesteps the blocks meet at one barrier: in the grid layout a grid barrier
 * (cooperative_groups::this_grid().sync(), which needs a cooperative launch), in the cluster layout
 * their cluster's (persistent_layout.cuh).
 *
 * cr_persistent_product_fma splits the RP * BP * K FMAs of a step over all threads of the block: a
 * thread holds RR x RB accumulators (CR_PERSISTENT_RR rows of a, CR_PERSISTENT_RB rows b: each
 * value loaded from shared memory feeds RB or RR FMAs; the resident plan keeps its values of a in
 * registers, persistent_fma.cuh) and, when there are fewer such items than
 * threads, S lanes split k (lane s takes k = k0 + s, k0 + s + S, ... of every tile, ascending).
 * The S partial sums of a product meet in a fixed-order tree, as cr_block_sum's do, so every
 * result is bit-identical run to run and does not depend on the order threads run in (the mma
 * product's S warps likewise). The plan depends only on R, K, B and prec, so the host computes the
 * same shared size (persistent_shared_bytes; PersistentPlan.java mirrors it).
 */
#ifndef CHARRNN_CUDA_PERSISTENT_COMMON_CUH
#define CHARRNN_CUDA_PERSISTENT_COMMON_CUH

#include <cooperative_groups.h>
#include <cuda_bf16.h>

#include "common.cuh"
#include "persistent_layout.cuh"

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

/* The arithmetic of the products (see the top of this file): the rounding of the operands, and
 * CR_PREC_MMA or'ed in for tensor cores. */
#define CR_PREC_FP32 0
#define CR_PREC_TF32 1
#define CR_PREC_BF16 2
#define CR_PREC_MMA 4
/* Or'ed into prec of a cluster kernel: the exchange through distributed shared memory
 * (persistent_exchange.cuh) where the pass's plan is one k-tile; the grid kernels ignore it. */
#define CR_PREC_EXCHANGE 8
/* Or'ed into prec: the tensor-core product reads its a fragments from shared memory every step,
 * even where the plan could keep them in registers (CrPersistentPlan.resident): to compare the two
 * on a device. The results are the same bit for bit. */
#define CR_PREC_SHARED_A 16
/* Or'ed into prec by the kernels whose FMA product reads x in the vector layout (CrXLayout,
 * persistent_fma.cuh: the LSTM's and GRU's forward, cr_forward_x_prec; the RNN pair's plans); the
 * plan says so (vx), and its x row stride is then a multiple of 4 floats. */
#define CR_PREC_VECTOR_X 32

/* What a forward kernel of G gates a unit ors into its plan's prec: the vector layout of x for the
 * LSTM and the GRU; the RNN's forward keeps the strided one (its registers have no room for it). */
static __host__ __device__ inline int cr_forward_x_prec(int G) { return G > 1 ? CR_PREC_VECTOR_X : 0; }

/* The rounding of prec (CR_PREC_FP32, _TF32 or _BF16), without CR_PREC_MMA. */
static __host__ __device__ inline int cr_prec_rounding(int prec) { return prec & 3; }

/* Bytes of one element of the W_hh slice a at precision prec. */
static __host__ __device__ inline int cr_persistent_elem(int prec) {
  return cr_prec_rounding(prec) == CR_PREC_BF16 ? 2 : 4;
}

/* The tensor-core tiles (CR_PREC_MMA): 16 rows of a by 8 rows b per mma.sync; a k-step is 8
 * 32-bit words of each operand (8 TF32 or 16 bf16 elements). A warp computes a group of up to
 * CR_MMA_GROUP x CR_MMA_GROUP tiles (rows of a by rows b) at a time: each fragment it loads feeds
 * the group's tiles on its row or column, and their mma chains overlap. */
#define CR_MMA_M 16
#define CR_MMA_N 8
#define CR_MMA_KW 8
#define CR_MMA_GROUP 2
#define CR_WARPS (CR_BLOCK / 32)
/* Most k-steps of a warp's a fragments that stay in its registers for the whole launch (the
 * resident plan): CR_MMA_ASTEPS x CR_MMA_GROUP tiles x 4 words, 128 registers a thread. */
#define CR_MMA_ASTEPS 16
/* The FMA plan's resident a: a thread keeps its CR_PERSISTENT_RR rows at up to CR_FMA_KSTEPS of its
 * k (s, s + S, ...), the same 128 registers. */
#define CR_FMA_KSTEPS (CR_MMA_ASTEPS * CR_MMA_GROUP * 4 / CR_PERSISTENT_RR)
/* Where two plans of a block are resident (the RNN pair's backward), the second takes the upper
 * half of those registers, HALF = 1 of the product and keep functions: its k-steps (mma) or k (FMA)
 * from CR_MMA_ASTEPS / 2 or CR_FMA_KSTEPS / 2 on; the first must need no more than the lower half
 * (cr_persistent_half_fits). */
#define CR_MMA_HALF (CR_MMA_ASTEPS / 2)
#define CR_FMA_HALF (CR_FMA_KSTEPS / 2)

/*
 * The slice a a thread of a resident plan (CrPersistentPlan.resident) multiplies every step, kept
 * in its registers for the whole launch by cr_keep_resident_a, after the slice is staged. Tensor
 * cores: w[st][i] the a fragments of its warp's group's tile rt0 + i at its st-th k-step
 * (k-word (s + st S) CR_MMA_KW). FMA: w[i / 2][i % 2][q] the fp32 bits of row r0 + q at its i-th
 * k, s + i S. 128 registers a thread; the kernels' launch bounds (CR_BLOCK, 1) leave ptxas room for
 * them (every index is a constant after unrolling, so they stay in registers).
 */
struct CrResidentA {
  unsigned w[CR_MMA_ASTEPS][CR_MMA_GROUP][4];
};

/*
 * How a block computes the R x B products of length K of one step (see the top of this file).
 * FMA plan (prec without CR_PREC_MMA): RP, BP rounded up to the register tile; XS x's row stride
 * (floats) over KT rows k; S lanes per register tile. MMA plan: RP, BP rounded up to 16 and 8; a
 * and x hold 32-bit words (one TF32 or two bf16 elements, the lower k in the low half): a [R][AS
 * elements], x [BP][XS words] (b-major, a k-tile of KT elements, zeros past K and for b >= B); AS
 * and XS are the padded k-steps' words + 4, so the 32 lanes of a fragment load hit 32 banks; S
 * warps split the k-steps of one group of tiles (cr_mma_groups); swap: the tiles are 16 rows b by
 * 8 rows of a (RP, BP rounded up to 8 and 16).
 */
struct CrPersistentPlan {
  int R, K, B, RP, BP, XS, KT, S;
  int rows;                        /* rows b of y that exist (<= B; the cluster layout's last
                                      cluster may own fewer than B): x holds zeros past them */
  int mma, swap, AS;               /* CR_PREC_MMA's plan, transposed; a's row stride in elements */
  int exchange;                    /* CR_PREC_EXCHANGE with KT >= K: two x buffers, filled by the
                                      cluster's blocks (persistent_exchange.cuh) */
  int resident;                    /* each thread keeps its a in registers (CrResidentA), not with
                                      CR_PREC_SHARED_A: one k-tile, and the mma plan one group of
                                      tiles a warp, its k-steps at most CR_MMA_ASTEPS; the FMA plan
                                      one item a thread, its k at most CR_FMA_KSTEPS */
  int vx;                          /* the FMA product's x in the vector layout (CR_PREC_VECTOR_X;
                                      0 for the mma plan) */
  int ra, ka;                      /* a's rows below ra are zero past column ka (0 and K: no such
                                      rows; the RNN pair's forward, layer a's rows against h_b): an
                                      item (FMA) or group of tiles (mma) whose rows all lie below ra
                                      stops at ka, the same sums without their zero terms */
  long long a_bytes;               /* a: R AS elements of elem bytes, padded to 16 bytes */
  long long x_floats, acc_floats;  /* x padded to 4 floats, acc */
};

/* The tiles of one warp's group along a side of RT tiles: CR_MMA_GROUP, or 1 when RT is 1. */
static __host__ __device__ inline int cr_mma_group_side(int RT) { return RT < CR_MMA_GROUP ? RT : CR_MMA_GROUP; }

/* Groups of tiles over an RT x NT grid of tiles (rows of a by rows b); the last row or column of
 * groups may be ragged. */
static __host__ __device__ inline int cr_mma_groups(int RT, int NT) {
  int gr = cr_mma_group_side(RT), gn = cr_mma_group_side(NT);
  return (RT + gr - 1) / gr * ((NT + gn - 1) / gn);
}

static __host__ __device__ inline CrPersistentPlan cr_persistent_plan_mma(int R, int K, int B, int prec) {
  CrPersistentPlan p;
  int elem = cr_persistent_elem(prec), per_word = 4 / elem, kstep = CR_MMA_KW * per_word;
  p.R = R;
  p.K = K;
  p.B = B;
  p.rows = B;
  p.mma = 1;
  p.vx = 0;
  /* rows of a as the mma's 16-row side and b as its 8 columns, or transposed (x B-side rows b as
   * the 16, a's rows as the 8), whichever needs fewer tiles: a block's U = 2 units backward are 2
   * rows of a, 2 of 16 in a tile but 2 of 8 transposed */
  int tiles_rb = (R + CR_MMA_M - 1) / CR_MMA_M * ((B + CR_MMA_N - 1) / CR_MMA_N);
  int tiles_br = (B + CR_MMA_M - 1) / CR_MMA_M * ((R + CR_MMA_N - 1) / CR_MMA_N);
  p.swap = tiles_br < tiles_rb;
  int mr = p.swap ? CR_MMA_N : CR_MMA_M, mb = p.swap ? CR_MMA_M : CR_MMA_N;
  p.RP = (R + mr - 1) / mr * mr;
  p.BP = (B + mb - 1) / mb * mb;
  int words = (K + kstep - 1) / kstep * CR_MMA_KW; /* a row of K in whole k-steps */
  p.AS = (words + 4) * per_word;
  int tile = CR_PERSISTENT_STAGE_FLOATS / p.BP; /* words of a row b that fit, its 4 of padding on top */
  tile = tile < CR_MMA_KW ? CR_MMA_KW : tile / CR_MMA_KW * CR_MMA_KW;
  if (tile > words) tile = words;
  p.KT = tile * per_word;
  p.XS = tile + 4;
  int groups = cr_mma_groups(p.RP / mr, p.BP / mb);
  p.S = 1;
  while (p.S < CR_WARPS && groups * p.S * 2 <= CR_WARPS) p.S *= 2;
  p.exchange = (prec & CR_PREC_EXCHANGE) && p.KT >= K;
  p.ra = 0;
  p.ka = K;
  int steps = words / CR_MMA_KW; /* k-steps of K; a warp takes every S-th */
  p.resident = !(prec & CR_PREC_SHARED_A) && p.KT >= K && groups <= CR_WARPS &&
               (steps + p.S - 1) / p.S <= CR_MMA_ASTEPS;
  p.a_bytes = ((long long)R * p.AS * elem + 15) / 16 * 16;
  p.x_floats = ((long long)p.BP * p.XS + 3) / 4 * 4;
  p.acc_floats = (long long)p.RP * p.BP * p.S;
  return p;
}

static __host__ __device__ inline CrPersistentPlan cr_persistent_plan(int R, int K, int B, int prec) {
  if (prec & CR_PREC_MMA) return cr_persistent_plan_mma(R, K, B, prec);
  int elem = cr_persistent_elem(prec);
  CrPersistentPlan p;
  p.R = R;
  p.K = K;
  p.B = B;
  p.rows = B;
  p.mma = 0;
  p.swap = 0;
  p.AS = K;
  p.RP = (R + CR_PERSISTENT_RR - 1) / CR_PERSISTENT_RR * CR_PERSISTENT_RR;
  p.BP = (B + CR_PERSISTENT_RB - 1) / CR_PERSISTENT_RB * CR_PERSISTENT_RB;
  long long items = (long long)(p.RP / CR_PERSISTENT_RR) * (p.BP / CR_PERSISTENT_RB);
  p.S = 1;
  while (p.S < CR_PERSISTENT_MAX_LANES && items * p.S * 2 <= CR_BLOCK) p.S *= 2;
  /* x's row stride: BP, or with S lanes the next XS >= BP with XS % 2m == m (m = 32 / S words; in
   * the vector layout at least 4, a 16-byte load's, so that XS stays a multiple of 4 as BP is), so
   * that the S rows k a warp reads at once (m words, or chunks of 4, each) fall in different banks */
  p.vx = (prec & CR_PREC_VECTOR_X) != 0;
  int m = p.vx && 32 / p.S < 4 ? 4 : 32 / p.S;
  p.XS = p.S == 1 ? p.BP : p.BP + (m - p.BP % (2 * m) + 2 * m) % (2 * m);
  if ((long long)p.XS * K <= CR_PERSISTENT_STAGE_FLOATS) {
    p.KT = K;
  } else {
    int kt = CR_PERSISTENT_STAGE_FLOATS / p.XS;
    p.KT = kt < 1 ? 1 : kt;
  }
  p.exchange = (prec & CR_PREC_EXCHANGE) && p.KT >= K;
  p.ra = 0;
  p.ka = K;
  p.resident = !(prec & CR_PREC_SHARED_A) && p.KT >= K && items * p.S <= CR_BLOCK &&
               (K + p.S - 1) / p.S <= CR_FMA_KSTEPS;
  p.a_bytes = ((long long)R * K * elem + 15) / 16 * 16;
  p.x_floats = ((long long)p.KT * p.XS + 3) / 4 * 4;
  p.acc_floats = (long long)p.RP * p.BP * p.S;
  return p;
}

/* Whether plan p's part of a fits in half of CrResidentA (a second resident plan beside it, or it
 * beside a second): one k-tile, and the mma plan one group of tiles a warp and at most CR_MMA_HALF of
 * its k-steps, the FMA plan one item a thread and at most CR_FMA_HALF of its k. */
static __host__ __device__ inline bool cr_persistent_half_fits(CrPersistentPlan p) {
  if (p.KT < p.K) return false;
  if (p.mma) {
    const int mr = p.swap ? CR_MMA_N : CR_MMA_M, mb = p.swap ? CR_MMA_M : CR_MMA_N;
    const int steps = (p.XS - 4) / CR_MMA_KW; /* one k-tile: XS is its words + 4 */
    return cr_mma_groups(p.RP / mr, p.BP / mb) <= CR_WARPS && (steps + p.S - 1) / p.S <= CR_MMA_HALF;
  }
  long long items = (long long)(p.RP / CR_PERSISTENT_RR) * (p.BP / CR_PERSISTENT_RB);
  return items * p.S <= CR_BLOCK && (p.K + p.S - 1) / p.S <= CR_FMA_HALF;
}

static __host__ __device__ inline unsigned long long cr_persistent_plan_bytes(CrPersistentPlan p) {
  unsigned long long floats = (unsigned long long)(p.x_floats * (1 + p.exchange) + p.acc_floats);
  return (unsigned long long)p.a_bytes + floats * sizeof(float);
}

/* Dynamic shared memory of one block, forward and backward alike (the larger of the two plans):
 * its W_hh slice of G gate rows x U units x H (fp32, or bf16 at CR_PREC_BF16), an x tile (two with
 * CR_PREC_EXCHANGE where the plan is one k-tile) and the products (fp32). */
static inline unsigned long long persistent_shared_bytes(int G, int U, int H, int B, int prec) {
  unsigned long long f = cr_persistent_plan_bytes(cr_persistent_plan(G * U, H, B, prec | cr_forward_x_prec(G)));
  unsigned long long b = cr_persistent_plan_bytes(cr_persistent_plan(U, G * H, B, prec));
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
  int r = cr_prec_rounding(prec);
  return r == CR_PREC_TF32 ? cr_round_tf32(v) : r == CR_PREC_BF16 ? __bfloat162float(__float2bfloat16_rn(v)) : v;
}

/* An element of a as stored (=) and as read: fp32 (rounded to TF32 at CR_PREC_TF32) or bf16. */
static __device__ __forceinline__ void cr_store(float *a, float v, int prec) { *a = cr_round_operand(v, prec); }
static __device__ __forceinline__ void cr_store(__nv_bfloat16 *a, float v, int) { *a = __float2bfloat16_rn(v); }
static __device__ __forceinline__ float cr_load(float a) { return a; }
static __device__ __forceinline__ float cr_load(__nv_bfloat16 a) { return __bfloat162float(a); }

/* w [G][U][AS] (=) the G gate rows of units j0 .. j0+U-1 of w_hh [G*H,H] (zeros for u >= units),
 * as prec multiplies them, each row's AS - H padding elements zero; then a block barrier. */
template <typename A>
static __device__ __forceinline__ void cr_persistent_stage_rows(A *w, const float *w_hh, int G, int H, int U, int j0,
                                                                int units, int AS, int prec) {
  long long rows = (long long)G * U;
  for (long long e = threadIdx.x; e < rows * AS; e += blockDim.x) {
    int lr = (int)(e / AS), k = (int)(e % AS), q = lr / U, u = lr % U;
    cr_store(&w[e], u < units && k < H ? w_hh[((long long)q * H + j0 + u) * H + k] : 0.0f, prec);
  }
  __syncthreads();
}

/* w [U][AS] (=) the columns j0 .. j0+U-1 of w_hh [G*H,H] (zeros for u >= units), each over all
 * G*H rows, as prec multiplies them, the AS - G*H padding elements zero; then a block barrier. */
template <typename A>
static __device__ __forceinline__ void cr_persistent_stage_cols(A *w, const float *w_hh, int G, int H, int U, int j0,
                                                                int units, int AS, int prec) {
  long long GH = (long long)G * H;
  for (long long e = threadIdx.x; e < (long long)U * AS; e += blockDim.x) {
    int u = (int)(e / AS);
    long long r = e % AS;
    cr_store(&w[e], u < units && r < GH ? w_hh[r * H + j0 + u] : 0.0f, prec);
  }
  __syncthreads();
}

/* The x (the first of two with the exchange) and acc regions that follow a (the W_hh slice) in the
 * block's dynamic shared memory. */
static __device__ __forceinline__ float *cr_persistent_x(unsigned char *shared, const CrPersistentPlan &p) {
  return (float *)(shared + p.a_bytes);
}
static __device__ __forceinline__ float *cr_persistent_acc(unsigned char *shared, const CrPersistentPlan &p) {
  return (float *)(shared + p.a_bytes) + p.x_floats * (1 + p.exchange);
}

/* The product of row r of a and row b of the right-hand side, after cr_persistent_product. */
static __device__ __forceinline__ float cr_persistent_result(const float *acc, const CrPersistentPlan &p, int r,
                                                             int b) {
  return acc[((long long)r * p.BP + b) * p.S];
}

/* After a block barrier: the S partial sums of each product (acc [RP][BP][S]), pairwise in a fixed
 * tree into slot 0; ends with a block barrier. */
static __device__ __forceinline__ void cr_persistent_sum_lanes(const CrPersistentPlan &p, float *acc) {
  __syncthreads(); /* every lane's partial sums are written */
  for (int half = p.S >> 1; half > 0; half >>= 1) {
    for (long long e = threadIdx.x; e < p.acc_floats; e += blockDim.x)
      if ((int)(e % p.S) < half) acc[e] += acc[e + half];
    __syncthreads();
  }
}

/* The FMA product (cr_persistent_product_fma) and its resident rows of a. */
#include "persistent_fma.cuh"

/* The tensor-core product (cr_persistent_product_mma) and its resident fragments. */
#include "persistent_mma.cuh"

/* f (=) this thread's a where the plan is resident (nothing otherwise): the mma plan's fragments
 * (cr_mma_keep) or the FMA plan's rows (cr_fma_keep); every thread of the block calls it after a
 * is staged (cr_persistent_stage_rows / _cols end in a block barrier). */
template <typename A, int HALF = 0>
static __device__ __forceinline__ void cr_keep_resident_a(const CrPersistentPlan &p, const A *a, CrResidentA &f) {
  if (!p.resident) return;
  if (p.mma)
    cr_mma_keep<A, HALF>(p, a, f);
  else
    cr_fma_keep<A, HALF>(p, a, f);
}

/* acc (=) the step's products: cr_persistent_product_mma or _fma, as the plan says; f the a
 * cr_keep_resident_a kept (read only by the resident plan; HALF 1: in the upper half of f, as kept
 * with HALF 1); X the FMA plan's layout of x (CrXLayout, persistent_fma.cuh). y null: x holds the
 * one k-tile already (the exchange, persistent_exchange.cuh), nothing is staged. */
template <typename A, int HALF = 0, int X = CR_X_VECTOR>
static __device__ __forceinline__ void cr_persistent_product(const CrPersistentPlan &p, const A *a,
                                                             const CrResidentA &f, const float *y, float *x,
                                                             float *acc, int prec) {
  p.mma ? cr_persistent_product_mma<A, HALF>(p, a, f, y, x, acc, prec)
        : cr_persistent_product_fma<A, HALF, X>(p, a, f, y, x, acc, prec);
}

/*
 * A step's cell operands in global memory (forward: the input projection, the biases, the pair's
 * own state of the step before; backward: dh_out, the saved gates and states) loaded ahead of the
 * cell phase, so that their round trip to L2 runs beside the step's product instead of after it,
 * on the recurrence's critical path. load(p, o) fills an Ops for pair p; cell(p, o) is the pair's
 * cell with those operands. A thread's pairs are p = threadIdx.x + i blockDim.x < pairs, as a plain
 * loop over them: cr_ahead_load loads its first AHEAD (into registers: the loops over them are
 * unrolled); cr_ahead_cells runs every pair's cell, those AHEAD with what was loaded, the rest
 * loading theirs first. load may read only what no other block writes meanwhile (the pass's
 * inputs, and what this thread wrote itself before); the arithmetic is the plain loop's, so
 * results are bit for bit the same. AHEAD: as many pairs as ptxas keeps in registers beside the
 * resident plan's fragments without spilling (sm_90, -O3; each kernel says its own); one pair a
 * thread is every pair of a block in the cluster layout at the bench's shapes.
 */
template <int AHEAD, typename Ops, typename Load>
static __device__ __forceinline__ void cr_ahead_load(Ops (&ahead)[AHEAD], long long pairs, Load load) {
#pragma unroll
  for (int i = 0; i < AHEAD; i++) {
    long long p = threadIdx.x + (long long)i * blockDim.x;
    if (p < pairs) load(p, ahead[i]);
  }
}

template <int AHEAD, typename Ops, typename Load, typename Cell>
static __device__ __forceinline__ void cr_ahead_cells(const Ops (&ahead)[AHEAD], long long pairs, Load load,
                                                      Cell cell) {
#pragma unroll
  for (int i = 0; i < AHEAD; i++) {
    long long p = threadIdx.x + (long long)i * blockDim.x;
    if (p < pairs) cell(p, ahead[i]);
  }
  for (long long p = threadIdx.x + (long long)AHEAD * blockDim.x; p < pairs; p += blockDim.x) {
    Ops o;
    load(p, o);
    cell(p, o);
  }
}

/* The row of a forward's input projection that step t's batch row b adds: t B + b of the window's
 * gx [T,B,G H], or with tokens [T,B] (int32, not null) row tokens[t B + b] of the token table gx [V,G H]
 * (layer 0 projected by token, Emb W_ih^T: the table's rows are read where a gathered copy of the
 * window's would be). */
static __device__ __forceinline__ long long cr_gx_row(const int *tokens, int t, int b, int B) {
  long long n = (long long)t * B + b;
  return tokens ? (long long)tokens[n] : n;
}

/* A pair's operands of step t in a cell of G gate rows besides its products (the LSTM's and the
 * GRU's forward): x[q] = gx[row,q H + j] + b_ih[q H + j] (row = cr_gx_row(tokens, t, b, B)) and
 * hb[q] = b_hh[q H + j] of gate q (the biases [G H]), and own = prev[b,j], the pair's own previous
 * value (c_{t-1} or h_{t-1} [B,H]: the initial state at t = 0, else what the loading thread wrote
 * at step t-1). */
template <int G>
struct CrGateOperands {
  float x[G], hb[G], own;
};

template <int G>
static __device__ __forceinline__ void cr_load_gate_operands(const float *gx, const int *tokens, const float *b_ih,
                                                             const float *b_hh, const float *prev, int t, int b, int j,
                                                             int B, int H, CrGateOperands<G> &o) {
  long long r = cr_gx_row(tokens, t, b, B) * G * H;
#pragma unroll
  for (int q = 0; q < G; q++) {
    o.x[q] = gx[r + q * H + j] + b_ih[q * H + j];
    o.hb[q] = b_hh[q * H + j];
  }
  o.own = prev[(long long)b * H + j];
}

/* A forward pass's T steps in layout CLUSTER: step t's operands loaded (cr_ahead_load with
 * load(t, p, o)), then product(t) (the step's cr_persistent_product: every thread calls it), then
 * the cells cell(t, p, o) (cr_ahead_cells); between two steps the layout's barrier in its two
 * halves with step t + 1's operands loaded between them (cr_persistent_arrive, _wait), so that
 * their round trip runs beside the barrier, not after it. */
template <int AHEAD, typename Ops, bool CLUSTER, typename Load, typename Product, typename Cell>
static __device__ __forceinline__ void cr_forward_steps(int T, long long pairs, Load load, Product product,
                                                        Cell cell) {
  Ops ahead[AHEAD];
  int t = 0;
  auto at = [&](long long p, Ops &o) { load(t, p, o); };
  if (T > 0) cr_ahead_load(ahead, pairs, at);
  while (t < T) {
    product(t);
    cr_ahead_cells(ahead, pairs, at, [&](long long p, const Ops &o) { cell(t, p, o); });
    if (++t == T) break;
    cr_persistent_arrive<CLUSTER>();
    cr_ahead_load(ahead, pairs, at); /* step t's (the next one's) */
    cr_persistent_wait<CLUSTER>();
  }
}

#endif
