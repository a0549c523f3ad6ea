/*
 * persistent_cluster_rows.cuh: the row-stationary backward of the LSTM and GRU in the cluster layout
 * (persistent_lstm_backward_cluster_rows, persistent_gru_backward_cluster_rows; sm_90), the grid
 * layout's persistent_rows.cuh with the shares through distributed shared memory instead of L2.
 *
 * The cluster layout's column-stationary backward has every block read all of its cluster's
 * dgates[t] rows each step (PB x G H values, from L2 or through the exchange). Here block k of a
 * cluster keeps the forward's slice, the G gate rows of its U units [G][U][H], and the dgates rows
 * its cell phase has just computed ([R][BP], R = G U) in shared memory, multiplies them out into its
 * share of every unit's dh_next,
 *   part_k[b, j] = sum over its rows r of dgates[t][b, r] W_hh[r, j]   (b a row of the cluster),
 * and stores the share for the units of block d into `in` of block d (cr_cluster_dest): PB x U
 * values to each of the CR_CLUSTER blocks (itself included, its own share a plain shared-memory
 * store), PB x CR_CLUSTER U in all, against the exchange's PB x G U x CR_CLUSTER. After the
 * cluster barrier each block sums, for its own pairs (b, j), the CR_CLUSTER shares in rank order.
 * One cluster barrier a step (and one at the start, so that no block stores into a peer that has
 * not started); results are bit-identical run to run.
 *
 * in [2][CR_CLUSTER][PB][U] floats: in[s][p] is block p's share for this block's units; s = t & 1
 * alternates, so the shares of step t are read (step t-1's cell phase) before the same slot is
 * written again (step t-2's scatter, one cluster barrier later). A scatter writes every entry of its
 * slot in every block (zeros for units past H and rows past the cluster's), so nothing needs an
 * initial value; the kernels fill it with NaN before the first barrier, so that a read too early
 * shows in the results.
 *
 * The product (the scatter): FMAs of the rounded operands at every precision (as persistent_rows.cuh),
 * or with CR_PREC_MMA at TF32 on tensor cores, transposed: part^T [j][b] = slice^T [j][r] dg [r][b]
 * as mma.sync m16n8k8, M 16 units j, N 8 rows b, K 8 rows r; the A fragment reads the slice as it
 * is staged, w[r H + j] (a group's lanes read consecutive j), the B fragment dg[r BP + b]. A warp
 * takes tiles warp, warp + CR_WARPS, ... up to CR_ROWS_MMA_TILES at once, their chains interleaved.
 * (bf16 with CR_PREC_MMA runs the FMAs, as the grid layout's row-stationary backward does.) Where a
 * warp has at most CR_MMA_GROUP tiles and RP / 8 <= CR_MMA_ASTEPS k-steps (the resident plan, not
 * with CR_PREC_SHARED_A), it keeps their A fragments in its registers for the whole launch
 * (CrResidentA, cr_cluster_rows_keep) instead of reading the slice every step: the same words in
 * the same mma, so the same results bit for bit. The FMA scatter likewise keeps a thread's column j
 * of the slice, R <= CR_ROWS_FMA_RESIDENT values, where every item has a thread of its own.
 *
 * Dynamic shared memory (persistent_cluster_rows_shared_bytes; PersistentPlan.java mirrors it):
 *   w: the slice, [R][H] elements (fp32, or bf16 at CR_PREC_BF16), padded to 16 bytes;
 *   dg: the block's dgates rows, [RP][BP] floats (RP = R rounded up to 8 with the mma; BP = PB rounded
 *       up to 4, to 8 with the mma), zeros past its rows and units, rounded as prec multiplies them;
 *   in: [2][CR_CLUSTER][PB][U] floats, rounded up to 4.
 */
#ifndef CHARRNN_CUDA_PERSISTENT_CLUSTER_ROWS_CUH
#define CHARRNN_CUDA_PERSISTENT_CLUSTER_ROWS_CUH

#include "persistent_rows.cuh"

/* The most mma tiles a warp runs at once (their dependent chains interleaved). */
#define CR_ROWS_MMA_TILES 4
/* The most rows r of its column a thread of the resident FMA scatter keeps (CrResidentA's 128). */
#define CR_ROWS_FMA_RESIDENT (CR_MMA_ASTEPS * CR_MMA_GROUP * 4)

struct CrClusterRowsPlan {
  int R, RP, PB, BP, U, H, mma;
  int tiles;    /* the mma scatter's tiles: ceil(CR_CLUSTER U / 16) x BP / 8 */
  int resident; /* the scatter's slice in registers (see the top of this file) */
  long long w_bytes, dg_floats, in_floats;
};

/* The plan of a block of the cluster rows backward: G gates, U units a block, PB rows a cluster. */
static __host__ __device__ inline CrClusterRowsPlan cr_cluster_rows_plan(int G, int U, int H, int PB, int prec) {
  CrClusterRowsPlan p;
  p.mma = (prec & CR_PREC_MMA) && cr_prec_rounding(prec) == CR_PREC_TF32;
  p.R = G * U;
  p.RP = p.mma ? (p.R + 7) / 8 * 8 : p.R;
  p.PB = PB;
  p.BP = p.mma ? (PB + 7) / 8 * 8 : (PB + 3) / 4 * 4;
  p.U = U;
  p.H = H;
  p.tiles = (CR_CLUSTER * U + 15) / 16 * (p.BP / 8);
  p.resident = !(prec & CR_PREC_SHARED_A) &&
               (p.mma ? p.tiles <= CR_WARPS * CR_MMA_GROUP && p.RP / 8 <= CR_MMA_ASTEPS
                      : (long long)CR_CLUSTER * U * (p.BP / 4) <= CR_BLOCK && p.R <= CR_ROWS_FMA_RESIDENT);
  p.w_bytes = ((long long)p.R * H * cr_persistent_elem(prec) + 15) / 16 * 16;
  p.dg_floats = (long long)p.RP * p.BP;
  p.in_floats = (2LL * CR_CLUSTER * PB * U + 3) / 4 * 4;
  return p;
}

/* Dynamic shared memory of one block of a cluster rows backward launch. */
static inline unsigned long long persistent_cluster_rows_shared_bytes(int G, int U, int H, int PB, int prec) {
  CrClusterRowsPlan p = cr_cluster_rows_plan(G, U, H, PB, prec);
  return (unsigned long long)p.w_bytes + (unsigned long long)(p.dg_floats + p.in_floats) * sizeof(float);
}

static __device__ __forceinline__ float *cr_cluster_rows_dg(unsigned char *shared, const CrClusterRowsPlan &p) {
  return (float *)(shared + p.w_bytes);
}
static __device__ __forceinline__ float *cr_cluster_rows_in(unsigned char *shared, const CrClusterRowsPlan &p) {
  return (float *)(shared + p.w_bytes) + p.dg_floats;
}

/* dg (=) zeros, in (=) NaN (every entry is written before it is read: one read early poisons the
 * results), then a cluster barrier (every block of the cluster has started). */
static __device__ __forceinline__ void cr_cluster_rows_begin(const CrClusterRowsPlan &p, float *dg, float *in) {
  for (long long e = threadIdx.x; e < p.dg_floats; e += blockDim.x) dg[e] = 0.0f;
  for (long long e = threadIdx.x; e < p.in_floats; e += blockDim.x) in[e] = __uint_as_float(0x7fc00000u);
  cr_persistent_sync<true>();
}

/* Row q U + u, column lb (a row of the cluster) of dg (=) v as prec multiplies it. */
static __device__ __forceinline__ void cr_cluster_rows_put(const CrClusterRowsPlan &p, float *dg, int q, int u, int lb,
                                                           float v, int prec) {
  dg[((long long)q * p.U + u) * p.BP + lb] = cr_round_operand(v, prec);
}

/* The sum, in rank order, of the CR_CLUSTER shares of slot s for this block's pair (row lb, unit u). */
static __device__ __forceinline__ float cr_cluster_rows_sum(const CrClusterRowsPlan &p, const float *in, int s, int lb,
                                                            int u) {
  const long long share = (long long)p.PB * p.U;
  const float *e = in + (long long)s * CR_CLUSTER * share + (long long)lb * p.U + u;
  float sum = 0.0f;
  for (int q = 0; q < CR_CLUSTER; q++) sum += e[q * share];
  return sum;
}

/* Entry (lb, u) of slot s, writer `rank`, in the block of rank d of the cluster (=) v. */
static __device__ __forceinline__ void cr_cluster_rows_store(const CrClusterRowsPlan &p, float *in, int s, int rank,
                                                             int d, int lb, int u, float v) {
  const long long share = (long long)p.PB * p.U;
  *cr_cluster_dest(in + ((long long)s * CR_CLUSTER + rank) * share + (long long)lb * p.U + u, d) = v;
}

/* The resident FMA scatter's slice element r of this thread's column: f.w[r / 8][r / 4 % 2][r % 4]. */
static __device__ __forceinline__ unsigned &cr_rows_fma_word(CrResidentA &f, int r) { return f.w[r / 8][r / 4 % 2][r % 4]; }
static __device__ __forceinline__ unsigned cr_rows_fma_word(const CrResidentA &f, int r) {
  return f.w[r / 8][r / 4 % 2][r % 4];
}

/* The FMA scatter: item = (column j of the cluster's CR_CLUSTER U, 4 rows lb), rows r ascending
 * (cr_rows_item), the resident plan's column of the slice from f (cr_cluster_rows_keep). */
template <typename A>
static __device__ __forceinline__ void cr_cluster_rows_scatter_fma(const CrClusterRowsPlan &p, const A *w,
                                                                   const CrResidentA &f, const float *dg, float *in,
                                                                   int s, int rank) {
  const int cols = CR_CLUSTER * p.U, BG = p.BP / 4;
  for (long long e = threadIdx.x; e < (long long)cols * BG; e += blockDim.x) {
    int j = (int)(e % cols), b0 = (int)(e / cols) * 4;
    float sum[4];
    if (p.resident) { /* this thread's only item: cr_rows_item's FMAs, a from registers */
#pragma unroll
      for (int i = 0; i < 4; i++) sum[i] = 0.0f;
#pragma unroll
      for (int r8 = 0; r8 < CR_ROWS_FMA_RESIDENT; r8 += 8) { /* 8 rows at a time, as f holds them */
        if (r8 >= p.R || j >= p.H) break;
#pragma unroll
        for (int r = r8; r < r8 + 8; r++) {
          if (r >= p.R) break;
          float a = __uint_as_float(cr_rows_fma_word(f, r));
          CrRowsQuad q = *(const CrRowsQuad *)(dg + (long long)r * p.BP + b0);
#pragma unroll
          for (int i = 0; i < 4; i++) sum[i] = fmaf(q.v[i], a, sum[i]);
        }
      }
    } else {
      cr_rows_item(w, dg, p.R, p.H, p.BP, j, b0, sum);
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
      if (b0 + i < p.PB) cr_cluster_rows_store(p, in, s, rank, j / p.U, b0 + i, j % p.U, sum[i]);
  }
}

/* The TF32 word of slice element (r, j): zero past R or H (the A fragment's padding). */
template <typename A>
static __device__ __forceinline__ unsigned cr_cluster_rows_a(const CrClusterRowsPlan &p, const A *w, int r, int j) {
  return r < p.R && j < p.H ? __float_as_uint(cr_load(w[(long long)r * p.H + j])) : 0u;
}

/* The A fragment of tile `tile` (16 columns j from j0) at k-step k0: slice^T rows j0 + g, + 8 and
 * columns k0 + t, + 4 (lane g = lane / 4, t = lane % 4). */
template <typename A>
static __device__ __forceinline__ void cr_cluster_rows_a_fragment(const CrClusterRowsPlan &p, const A *w, int tile,
                                                                  int k0, int g, int t, unsigned a[4]) {
  int j0 = tile / (p.BP / 8) * 16;
  a[0] = cr_cluster_rows_a(p, w, k0 + t, j0 + g);
  a[1] = cr_cluster_rows_a(p, w, k0 + t, j0 + g + 8);
  a[2] = cr_cluster_rows_a(p, w, k0 + t + 4, j0 + g);
  a[3] = cr_cluster_rows_a(p, w, k0 + t + 4, j0 + g + 8);
}

/* f (=) this thread's slice where the plan is resident (nothing otherwise): the FMA scatter's
 * column j of its item, rows r < R; the mma scatter's A fragments of its warp's tiles warp + i
 * CR_WARPS (i < CR_MMA_GROUP), k-steps st (k0 = 8 st). Every thread calls it after w is staged. */
template <typename A>
static __device__ __forceinline__ void cr_cluster_rows_keep(const CrClusterRowsPlan &p, const A *w,
                                                            CrResidentA &f) {
  if (!p.resident) return;
  if (!p.mma) {
    const int cols = CR_CLUSTER * p.U, j = (int)threadIdx.x % cols;
    if ((long long)threadIdx.x >= (long long)cols * (p.BP / 4) || j >= p.H) return;
#pragma unroll
    for (int r8 = 0; r8 < CR_ROWS_FMA_RESIDENT; r8 += 8) {
      if (r8 >= p.R) break;
#pragma unroll
      for (int r = r8; r < r8 + 8; r++)
        if (r < p.R) cr_rows_fma_word(f, r) = __float_as_uint(cr_load(w[(long long)r * p.H + j]));
    }
    return;
  }
  const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int st = 0; st < CR_MMA_ASTEPS; st++) {
    if (st * 8 >= p.RP) break;
#pragma unroll
    for (int i = 0; i < CR_MMA_GROUP; i++)
      if (warp + i * CR_WARPS < p.tiles)
        cr_cluster_rows_a_fragment(p, w, warp + i * CR_WARPS, st * 8, g, t, f.w[st][i]);
  }
}

/* One mma of the scatter: tile `tile`'s d (+=) its A fragment a times dg's rows k0 .. k0 + 7. */
static __device__ __forceinline__ void cr_cluster_rows_mma(const CrClusterRowsPlan &p, const float *dg, int tile,
                                                           int k0, int g, int t, const unsigned a[4], float d[4],
                                                           int prec) {
  int b0 = tile % (p.BP / 8) * 8;
  /* dg holds TF32-rounded floats: their bits are the words */
  unsigned b[2] = {cr_word(dg, (long long)(k0 + t) * p.BP + b0 + g),
                   cr_word(dg, (long long)(k0 + t + 4) * p.BP + b0 + g)};
  cr_mma(prec, d, a, b);
}

/* Tile `tile`'s results d into `in` of the blocks that own its columns (zeros for columns past H). */
static __device__ __forceinline__ void cr_cluster_rows_store_tile(const CrClusterRowsPlan &p, float *in, int s,
                                                                  int rank, int tile, int g, int t,
                                                                  const float d[4]) {
  const int cols = CR_CLUSTER * p.U, NT = p.BP / 8, j0 = tile / NT * 16, b0 = tile % NT * 8;
#pragma unroll
  for (int q = 0; q < 4; q++) { /* d[q]: row g + 8 (q >> 1) (a column j), column 2t + (q & 1) (a row lb) */
    int j = j0 + g + 8 * (q >> 1), lb = b0 + 2 * t + (q & 1);
    if (j < cols && lb < p.PB) cr_cluster_rows_store(p, in, s, rank, j / p.U, lb, j % p.U, j < p.H ? d[q] : 0.0f);
  }
}

/* The tensor-core scatter (p.mma: TF32): part^T tiles of 16 columns j by 8 rows lb, K over RP rows;
 * the resident plan's A fragments from f (cr_cluster_rows_keep). */
template <typename A>
static __device__ __forceinline__ void cr_cluster_rows_scatter_mma(const CrClusterRowsPlan &p, const A *w,
                                                                   const CrResidentA &f, const float *dg,
                                                                   float *in, int s, int rank, int prec) {
  const int tiles = p.tiles;
  const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32, g = lane >> 2, t = lane & 3;
  if (p.resident) {
    float d[CR_MMA_GROUP][4] = {};
#pragma unroll
    for (int st = 0; st < CR_MMA_ASTEPS; st++) {
      if (st * 8 >= p.RP) break; /* warp-uniform */
#pragma unroll
      for (int i = 0; i < CR_MMA_GROUP; i++)
        if (warp + i * CR_WARPS < tiles)
          cr_cluster_rows_mma(p, dg, warp + i * CR_WARPS, st * 8, g, t, f.w[st][i], d[i], prec);
    }
#pragma unroll
    for (int i = 0; i < CR_MMA_GROUP; i++)
      if (warp + i * CR_WARPS < tiles) cr_cluster_rows_store_tile(p, in, s, rank, warp + i * CR_WARPS, g, t, d[i]);
    return;
  }
  for (int first = warp; first < tiles; first += CR_WARPS * CR_ROWS_MMA_TILES) {
    float d[CR_ROWS_MMA_TILES][4];
#pragma unroll
    for (int i = 0; i < CR_ROWS_MMA_TILES; i++)
#pragma unroll
      for (int q = 0; q < 4; q++) d[i][q] = 0.0f;
    for (int k0 = 0; k0 < p.RP; k0 += 8) {
#pragma unroll
      for (int i = 0; i < CR_ROWS_MMA_TILES; i++) {
        int tile = first + i * CR_WARPS;
        if (tile >= tiles) break; /* warp-uniform */
        unsigned a[4];
        cr_cluster_rows_a_fragment(p, w, tile, k0, g, t, a);
        cr_cluster_rows_mma(p, dg, tile, k0, g, t, a, d[i], prec);
      }
    }
#pragma unroll
    for (int i = 0; i < CR_ROWS_MMA_TILES; i++) {
      int tile = first + i * CR_WARPS;
      if (tile >= tiles) break;
      cr_cluster_rows_store_tile(p, in, s, rank, tile, g, t, d[i]);
    }
  }
}

/* After a block barrier (dg complete): slot s of `in` of every block of the cluster (=) this block's
 * shares of dh_next for that block's units. Every thread of the block must call it (the mma scatter
 * is warp-collective); the caller's cluster barrier publishes the stores. */
template <typename A>
static __device__ __forceinline__ void cr_cluster_rows_scatter(const CrClusterRowsPlan &p, const A *w,
                                                               const CrResidentA &f, const float *dg, float *in,
                                                               int s, int rank, int prec) {
  if (p.mma) cr_cluster_rows_scatter_mma(p, w, f, dg, in, s, rank, prec);
  else cr_cluster_rows_scatter_fma(p, w, f, dg, in, s, rank);
}

#endif
