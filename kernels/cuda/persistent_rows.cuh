/*
 * persistent_rows.cuh: the row-stationary backward pass of the persistent LSTM and GRU kernels
 * (persistent_lstm_backward_rows, persistent_gru_backward_rows), the alternative to their
 * column-stationary backward (persistent_common.cuh's cr_persistent_product over all G H rows).
 *
 * The column-stationary backward has every block read all of dgates[t] [B, G H] each step to
 * compute dh_next for its own units: P G B H floats from L2 per step over the grid. Here a block
 * keeps the forward's slice instead (the G gate rows of its U units, [G][U][H], cr_persistent_stage_rows)
 * and its own dgates rows, which its cell phase has just computed, in shared memory; it multiplies
 * them out into its share of every unit's dh_next and scatters that to the other blocks of its
 * batch group:
 *   part_p[b, j] = sum over its rows r (q*H + j' for its units j') of dgates[t][b, r] W_hh[r, j],
 * and after the grid barrier each block sums, for its own (b, j) pairs, the P blocks' shares in
 * block order p = 0 .. P-1: dh_next[b, j] = sum_p part_p[b, j]. Per step the grid writes P B H
 * floats and reads P B H: 2 B H P against the column-stationary G B H P (half the traffic for the
 * LSTM, two thirds for the GRU; none of it in k-tiles), one grid barrier per step as before, plus
 * one after the last step before dh_{-1} is summed. Results are bit-identical run to run (fixed
 * orders: rows ascending within a block, blocks ascending across them).
 *
 * Batch groups (persistent_layout.cuh's grid layout): a launch of NG P blocks runs NG groups, group
 * g the batch rows [g PB, min(B, (g+1) PB)), PB = ceil(B / NG), its block of rank k the units
 * [k U, min(H, (k+1) U)) of those rows; the blocks of a group exchange shares among themselves only,
 * each a plan of PB rows (rows past the group's last are zeros), so a step moves 2 PB H P floats a
 * group, about 2 B H P over the grid as with one group, and each block's scatter is of PB rows.
 *
 * part [2][NG][P][P][PB][U] floats (the exchange, P = ceil(H / U) blocks a group): part[s][g][p][d]
 * is block p's share for block d's units in group g, [PB][U] (so a block's reads, and its writes,
 * are contiguous); s = t & 1 alternates, so the shares of step t are read (step t-1's cell phase)
 * before the same slots are written again (step t-2's scatter, one grid barrier later). A step's
 * scatter writes every entry of its slot (zeros for units past H and rows past the group's) before
 * any is read, so part needs no initial value.
 *
 * Dynamic shared memory (persistent_rows_shared_bytes, B there a group's PB; RowsPlan.java mirrors it):
 *   w: the slice, [G U][H] elements of A (fp32, or bf16 at CR_PREC_BF16), padded to 16 bytes;
 *   dg: the block's dgates[t] rows, [G U][BP] floats (BP = B rounded up to 4; zeros past B and for
 *       units past H), rounded as prec multiplies them (cr_round_operand);
 *   o: ND blocks' shares at a time, [ND][B][U] floats (ND = CR_ROWS_STAGE_FLOATS / (B U), at least
 *      1, at most P): the scatter's shares for ND destination blocks, written out to part
 *      with coalesced stores, and the gather's shares from ND writer blocks, staged with coalesced
 *      loads as the forward stages h_{t-1} (every thread, a tile at a time);
 *   carry: the sums of the gather, [B][U] floats.
 * At every precision the products are fp32 FMAs of the rounded operands (a TF32 or bf16 product
 * is exact in fp32), so the sums are a tensor-core GEMM's up to their order.
 */
#ifndef CHARRNN_CUDA_PERSISTENT_ROWS_CUH
#define CHARRNN_CUDA_PERSISTENT_ROWS_CUH

#include "persistent_common.cuh"

/* Floats of o: twice the forward's x tile, so that the small rows' shares (B H floats) take one
 * tile each way; with the slice of H 1024 (U 8) at B 128 the block still fits in 227 KiB. */
#define CR_ROWS_STAGE_FLOATS (2 * CR_PERSISTENT_STAGE_FLOATS)

/* The row-stationary backward's layout: R = G U rows, P blocks, BP, ND and the four regions. */
struct CrRowsPlan {
  int R, B, BP, H, U, P, ND;
  long long w_bytes, dg_floats, o_floats, carry_floats;
};

static __host__ __device__ inline CrRowsPlan cr_rows_plan(int G, int U, int H, int B, int prec) {
  CrRowsPlan p;
  p.R = G * U;
  p.B = B;
  p.BP = (B + 3) / 4 * 4;
  p.H = H;
  p.U = U;
  p.P = (H + U - 1) / U;
  long long nd = CR_ROWS_STAGE_FLOATS / ((long long)B * U);
  p.ND = nd < 1 ? 1 : nd > p.P ? p.P : (int)nd;
  p.w_bytes = ((long long)p.R * H * cr_persistent_elem(prec) + 15) / 16 * 16;
  p.dg_floats = (long long)p.R * p.BP;
  p.o_floats = ((long long)p.ND * B * U + 3) / 4 * 4;
  p.carry_floats = ((long long)B * U + 3) / 4 * 4;
  return p;
}

/* Dynamic shared memory of one block of a row-stationary backward launch. */
static inline unsigned long long persistent_rows_shared_bytes(int G, int U, int H, int B, int prec) {
  CrRowsPlan p = cr_rows_plan(G, U, H, B, prec);
  unsigned long long floats = (unsigned long long)(p.dg_floats + p.o_floats + p.carry_floats);
  return (unsigned long long)p.w_bytes + floats * sizeof(float);
}

/* Floats of the exchange part of a launch in NG batch groups: [2][NG][P][P][PB][U], PB = ceil(B / NG). */
static inline unsigned long long persistent_rows_exchange_floats(int U, int H, int B, int NG) {
  unsigned long long P = (unsigned long long)((H + U - 1) / U), PB = (unsigned long long)((B + NG - 1) / NG);
  return 2ull * (unsigned long long)NG * P * P * PB * (unsigned long long)U;
}

/* The dg, o and carry regions that follow w in the block's dynamic shared memory. */
static __device__ __forceinline__ float *cr_rows_dg(unsigned char *shared, const CrRowsPlan &p) {
  return (float *)(shared + p.w_bytes);
}
static __device__ __forceinline__ float *cr_rows_o(unsigned char *shared, const CrRowsPlan &p) {
  return (float *)(shared + p.w_bytes) + p.dg_floats;
}
static __device__ __forceinline__ float *cr_rows_carry(unsigned char *shared, const CrRowsPlan &p) {
  return (float *)(shared + p.w_bytes) + p.dg_floats + p.o_floats;
}

/* Four consecutive floats of dg, read with one 16-byte load (dg and its rows are 16-byte aligned). */
struct alignas(16) CrRowsQuad {
  float v[4];
};

/* dg (=) zeros: the entries past B and of units past H stay zero for the whole window; a block barrier. */
static __device__ __forceinline__ void cr_rows_clear(const CrRowsPlan &p, float *dg) {
  for (long long e = threadIdx.x; e < p.dg_floats; e += blockDim.x) dg[e] = 0.0f;
  __syncthreads();
}

/* Row q U + u, column b of dg (=) v as prec multiplies it (the cell phase of the block's pair (b, u)). */
static __device__ __forceinline__ void cr_rows_put(const CrRowsPlan &p, float *dg, int q, int u, int b, float v,
                                                   int prec) {
  dg[((long long)q * p.U + u) * p.BP + b] = cr_round_operand(v, prec);
}

/*
 * carry [B][U] (=) the sums, in block order p = 0 .. P-1, of the P blocks' shares for this block (of
 * rank `rank` in its group) in exchange slot s of part (NG groups' slots), staged through o ND
 * writers at a time; read carry[b U + u] for the pair (b, u) of the group's rows. Every thread of
 * the block must call it; it begins and ends with a block barrier.
 */
static __device__ __forceinline__ void cr_rows_gather(const CrRowsPlan &p, const float *part, int NG, int s,
                                                      int rank, float *o, float *carry) {
  long long share = (long long)p.B * p.U;
  const float *src = part + (long long)s * NG * p.P * p.P * share + (long long)blockIdx.x / p.P * p.P * p.P * share +
                     (long long)rank * share;
  for (int p0 = 0; p0 < p.P; p0 += p.ND) {
    int np = p.P - p0 < p.ND ? p.P - p0 : p.ND;
    __syncthreads(); /* o is free: its readers (the scatter, or the previous tile) are done */
    for (long long e = threadIdx.x; e < np * share; e += blockDim.x)
      o[e] = src[(p0 + e / share) * p.P * share + e % share];
    __syncthreads(); /* the tile of shares is staged */
    for (long long i = threadIdx.x; i < share; i += blockDim.x) {
      float sum = p0 == 0 ? 0.0f : carry[i];
      for (int k = 0; k < np; k++) sum += o[k * share + i];
      carry[i] = sum;
    }
  }
  __syncthreads(); /* carry is complete */
}

/* One item of a row-stationary scatter: sum[i] (=) sum over rows r < R, ascending, of dg[r][b0 + i]
 * w[r][j] for i < 4 (dg [R][BP] floats, w [R][H] elements); zeros for j >= H. */
template <typename A>
static __device__ __forceinline__ void cr_rows_item(const A *w, const float *dg, int R, int H, int BP, int j, int b0,
                                                    float sum[4]) {
#pragma unroll
  for (int i = 0; i < 4; i++) sum[i] = 0.0f;
  if (j >= H) return;
  for (int r = 0; r < R; r++) {
    float a = cr_load(w[(long long)r * H + j]);
    CrRowsQuad q = *(const CrRowsQuad *)(dg + (long long)r * BP + b0);
#pragma unroll
    for (int i = 0; i < 4; i++) sum[i] = fmaf(q.v[i], a, sum[i]);
  }
}

/*
 * After a block barrier (dg complete): part slot s (of NG groups' slots), the shares of this block
 * (of rank `rank` in its group) (=) dg^T w for every unit j < H (zeros for the padding units of the
 * last destination block): o holds ND destination blocks' [B][U] at a time, item = (column c of the
 * tile, 4 rows b), rows r ascending; then the tile is copied out. Every thread of the block must
 * call it; it ends with a block barrier.
 */
template <typename A>
static __device__ __forceinline__ void cr_rows_scatter(const CrRowsPlan &p, const A *w, const float *dg, float *o,
                                                       float *part, int NG, int s, int rank) {
  const int U = p.U, B = p.B, BG = p.BP / 4;
  long long share = (long long)B * U;
  float *out = part + (long long)s * NG * p.P * p.P * share + (long long)blockIdx.x / p.P * p.P * p.P * share +
               (long long)rank * p.P * share;
  for (int d0 = 0; d0 < p.P; d0 += p.ND) {
    int nd = p.P - d0 < p.ND ? p.P - d0 : p.ND, cols = nd * U;
    for (long long e = threadIdx.x; e < (long long)cols * BG; e += blockDim.x) {
      int c = (int)(e % cols), b0 = (int)(e / cols) * 4, j = d0 * U + c;
      float sum[4];
      cr_rows_item(w, dg, p.R, p.H, p.BP, j, b0, sum);
      long long at = (long long)(c / U) * share + c % U;
#pragma unroll
      for (int i = 0; i < 4; i++)
        if (b0 + i < B) o[at + (long long)(b0 + i) * U] = sum[i];
    }
    __syncthreads(); /* the tile's shares are complete */
    for (long long e = threadIdx.x; e < (long long)nd * share; e += blockDim.x) out[d0 * share + e] = o[e];
    __syncthreads(); /* o is free for the next tile */
  }
}

#endif
