/*
 * persistent_lstm.cu: the LSTM forward pass of one layer over all T timesteps in one cooperative
 * launch (every block resident at once), weight-stationary: each block keeps its slice of W_hh in
 * shared memory for the whole window, so a timestep costs one pass over h_{t-1} and one grid
 * barrier instead of a GEMM launch and a cell launch. Gate order along 4H: i, f, g, o (PyTorch).
 *
 * persistent_lstm_forward
 *   gx [T,B,4H] = x W_ih^T for the whole window (one GEMM before this launch, no bias), or with
 *   tokens [T,B] (int32; null: none) the token table [V,4H] = Emb W_ih^T whose row tokens[t,b] is
 *   gx[t,b] (layer 0 projected by token: no gathered copy of the window's rows; cr_gx_row);
 *   w_hh [4H,H] row-major fp32; b_ih, b_hh [4H]; h0, c0 [B,H] the initial state;
 *   writes (=) h [T,B,H] (h_t), c [T,B,H] (c_t) and gates [T,B,4H] activated i,f,g,o: the same
 *   values, in the same layout, as lstm_forward_step saves step by step (so backward is unchanged).
 *   h0 may be h - B*H (a [T+1,B,H] sequence with the initial state first), likewise c0.
 *   Launch: cooperative, grid = G ceil(H / U) blocks of CR_BLOCK threads (G batch groups, G = 1 for
 *   all rows in one: persistent_layout.cuh), U hidden units per block, dynamic shared memory
 *   persistent_shared_bytes(4, U, H, ceil(B / G), prec) (persistent_common.cuh). Block k owns the units j in [k*U, min(H, (k+1)*U)): the 4 gate rows q*H + j of W_hh (q = i,
 *   f, g, o), loaded into shared memory once. Each timestep every block stages h_{t-1} in shared
 *   memory and its threads together compute the four products W_hh[q*H+j,:] . h_{t-1}[b,:] (fp32)
 *   of its (b, j) pairs (cr_persistent_product); then each pair adds the input projection and
 *   biases (loaded ahead: cr_forward_steps) as lstm_forward_step does, applies cr_lstm_forward and
 *   writes h_t, c_t and the gates; then one grid barrier publishes h_t to every block for step t+1
 *   (in the cluster layout a cluster barrier, step t+1's operands loaded between its two halves). c
 *   never crosses blocks (a pair's c_{t-1} is written by the same block), and h_t goes to its own
 *   slot of h, so no second barrier is needed.
 *
 * prec, the last argument of both kernels: the products' precision, CR_PREC_FP32, _TF32 or _BF16
 * (persistent_common.cuh: W_hh and the staged right-hand side rounded as a tensor-core GEMM reads them),
 * TF32 and BF16 | CR_PREC_MMA on tensor cores (sm_80 and newer). Launch bounds (CR_BLOCK, 1): one
 * block per SM, so ptxas may give a thread the registers of the mma tiles (no spills).
 */
#include "persistent_exchange.cuh"
#include "persistent_cluster_rows.cuh"

template <typename A, bool CLUSTER>
static __device__ __forceinline__ void persistent_lstm_forward_body(const float *gx, const int *tokens,
    const float *w_hh, const float *b_ih, const float *b_hh, const float *h0, const float *c0, float *h, float *c,
    float *gates, int T, int B, int H, int U, int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<CLUSTER>(H, B, U); /* the last block may own fewer units */
  if (s.rows == 0) return; /* a cluster past the batch: all its blocks alike */
  CrPersistentPlan plan = cr_persistent_plan(4 * U, H, s.PB, cr_layout_prec<CLUSTER>(prec) | cr_forward_x_prec(4));
  plan.rows = s.rows;
  float *acc = cr_persistent_acc(smem, plan);
  cr_persistent_stage_rows(w, w_hh, 4, H, U, s.j0, s.units, plan.AS, prec);
  CrResidentA frag;
  cr_keep_resident_a(plan, w, frag);
  cr_exchange_begin(smem, plan);
  long long BH = (long long)B * H, pairs = (long long)s.rows * s.units;
  using Ops = CrGateOperands<4>; /* gx + b_ih, b_hh and (own) c_{t-1} */
  cr_forward_steps<1, Ops, CLUSTER>( /* 1 pair a thread ahead (two spill the grid kernel: 255 registers) */
      T,
      pairs,
      [&](int t, long long p, Ops &o) {
        const float *cp = t == 0 ? c0 : c + (long long)(t - 1) * BH;
        cr_load_gate_operands(gx, tokens, b_ih, b_hh, cp, t, s.b0 + (int)(p / s.units), s.j0 + (int)(p % s.units), B,
                              H, o);
      },
      [&](int t) { cr_forward_product(plan, w, frag, smem, acc, h0, h, t, s.b0, B, H, prec); },
      [&](int t, long long p, const Ops &o) {
        int lb = (int)(p / s.units), u = (int)(p % s.units), b = s.b0 + lb, j = s.j0 + u;
        long long r = ((long long)t * B + b) * 4 * H;
        float pre[4];
#pragma unroll
        for (int q = 0; q < 4; q++) pre[q] = o.x[q] + (cr_persistent_result(acc, plan, q * U + u, lb) + o.hb[q]);
        long long k = (long long)t * BH + (long long)b * H + j;
        float i, f, g, og, cn, hn;
        cr_lstm_forward(pre[0], pre[1], pre[2], pre[3], o.own, &i, &f, &g, &og, &cn, &hn);
        cr_store_gates4(gates + r + j, H, i, f, g, og);
        c[k] = cn;
        h[k] = hn;
        if (t + 1 < T) cr_exchange_put(smem, plan, t + 1, lb, j, hn, prec);
      });
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1)
    persistent_lstm_forward(const float *gx, const int *tokens, const float *w_hh, const float *b_ih,
                            const float *b_hh, const float *h0, const float *c0, float *h, float *c, float *gates,
                            int T, int B, int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_lstm_forward_body<__nv_bfloat16, false>(gx, tokens, w_hh, b_ih, b_hh, h0, c0, h, c, gates, T, B, H, U,
                                                       prec);
  else
    persistent_lstm_forward_body<float, false>(gx, tokens, w_hh, b_ih, b_hh, h0, c0, h, c, gates, T, B, H, U, prec);
}

/* persistent_lstm_forward_cluster: the same pass in the cluster layout (persistent_layout.cuh):
 * the same arguments and results (bit for bit: a pair's products and cell are the same arithmetic);
 * an ordinary launch of C clusters of CR_CLUSTER blocks, U >= ceil(H / CR_CLUSTER), dynamic shared
 * memory persistent_shared_bytes(4, U, H, ceil(B / C), prec); sm_90 and newer. prec |
 * CR_PREC_EXCHANGE: h_t through distributed shared memory (persistent_exchange.cuh), backward
 * dgates[t] likewise. */
extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL
    persistent_lstm_forward_cluster(const float *gx, const int *tokens, const float *w_hh, const float *b_ih,
                                    const float *b_hh, const float *h0, const float *c0, float *h, float *c,
                                    float *gates, int T, int B, int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_lstm_forward_body<__nv_bfloat16, true>(gx, tokens, w_hh, b_ih, b_hh, h0, c0, h, c, gates, T, B, H, U,
                                                      prec);
  else
    persistent_lstm_forward_body<float, true>(gx, tokens, w_hh, b_ih, b_hh, h0, c0, h, c, gates, T, B, H, U, prec);
}

/*
 * persistent_lstm_backward: BPTT through one LSTM layer over all T steps in one cooperative launch,
 * W_hh^T stationary: block k keeps the columns j in [k*U, min(H, (k+1)*U)) of W_hh (all 4H rows),
 * with the same grid and dynamic shared memory as the forward's (G batch groups: persistent_shared_bytes(4, U, H,
 * ceil(B / G), prec)).
 *   dh_out [T,B,H] gradient from above; dh_next [B,H] in: dL/dh_{T-1} from beyond the window, out:
 *   dL/dh_{-1}; dc [B,H] likewise for c; gates [T,B,4H] and cs [T+1,B,H] (slot 0 = c_{-1}) as the
 *   forward saved them; writes (=) dgates [T,B,4H] = dL/d pre-activation, as lstm_backward_step.
 * Per step t = T-1 .. 0: each block applies cr_lstm_backward to its (b, j) pairs (dh = dh_out +
 * dh_next) and writes dgates[t]; one grid barrier; then each block stages dgates[t] in shared
 * memory and computes dh_next[b, j] = sum_r dgates[t][b, r] W_hh[r, j] (fp32,
 * cr_persistent_product) for its own units. dh_next and dc of a pair are
 * written and read only by the thread that owns the pair (the same pair-to-thread mapping in both
 * phases), and dgates[t] is never written again, so one grid barrier per step suffices.
 */
/* Pair (b, j)'s cell operands at step t of every LSTM backward kernel, loaded ahead of its cell
 * phase (cr_ahead_load): dh_out[t], the saved i, f, g, o, c_{t-1}, c_t and the carried dc. */
struct CrLstmBackOps {
  float dh_out, g[4], c_prev, c, dc;
};

/* o (=) pair (b, j)'s operands at step t from dh_out [T,B,H], gates [T,B,4H], cs [T+1,B,H] (slot 0
 * = c_{-1}) and dc [B,H]. */
static __device__ __forceinline__ void cr_lstm_back_load(CrLstmBackOps &o, const float *dh_out, const float *gates,
                                                         const float *cs, const float *dc, int t, int B, int H, int b,
                                                         int j) {
  long long BH = (long long)B * H, k = (long long)b * H + j, r = ((long long)t * B + b) * 4 * H;
  o.dh_out = dh_out[(long long)t * BH + k];
#pragma unroll
  for (int q = 0; q < 4; q++) o.g[q] = gates[r + q * H + j];
  o.c_prev = cs[(long long)t * BH + k];
  o.c = cs[(long long)(t + 1) * BH + k];
  o.dc = dc[k];
}

/* Pair (b, j)'s cell backward, every LSTM backward kernel's (dh = dL/dh_t from above and from step
 * t+1, o its operands): d[4] (=) dL/d(i, f, g, o pre-activations), also into row b of dg [B,4H]; dc
 * [B,H] (=) the carry to step t-1 (read ahead and written by the pair's thread). */
static __device__ __forceinline__ void cr_lstm_backward_pair(float dh, const CrLstmBackOps &o, float *dc, float *dg,
                                                             int H, int b, int j, float d[4]) {
  long long k = (long long)b * H + j, r = (long long)b * 4 * H;
  float dcp;
  cr_lstm_backward(dh, o.dc, o.g[0], o.g[1], o.g[2], o.g[3], o.c_prev, o.c, &d[0], &d[1], &d[2], &d[3], &dcp);
#pragma unroll
  for (int q = 0; q < 4; q++) dg[r + q * H + j] = d[q];
  dc[k] = dcp;
}

template <typename A, bool CLUSTER>
static __device__ __forceinline__ void persistent_lstm_backward_body(const float *dh_out, float *dh_next, float *dc,
    const float *gates, const float *cs, const float *w_hh, float *dgates, int T, int B, int H, int U, int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<CLUSTER>(H, B, U);
  if (s.rows == 0) return;
  int G = 4 * H;
  CrPersistentPlan plan = cr_persistent_plan(U, G, s.PB, cr_layout_prec<CLUSTER>(prec));
  plan.rows = s.rows;
  float *acc = cr_persistent_acc(smem, plan);
  cr_persistent_stage_cols(w, w_hh, 4, H, U, s.j0, s.units, plan.AS, prec);
  CrResidentA frag;
  cr_keep_resident_a(plan, w, frag);
  cr_exchange_begin(smem, plan);
  long long pairs = (long long)s.rows * s.units;
  int tl = T - 1; /* the step whose operands load reads */
  auto load = [&](long long p, CrLstmBackOps &o) {
    cr_lstm_back_load(o, dh_out, gates, cs, dc, tl, B, H, s.b0 + (int)(p / s.units), s.j0 + (int)(p % s.units));
  };
  CrLstmBackOps ahead[1]; /* a pair a thread ahead */
  if (T > 0) cr_ahead_load(ahead, pairs, load);
  for (int t = T - 1; t >= 0; t--) {
    float *dg = dgates + (long long)t * B * G;
    cr_ahead_cells(ahead, pairs, load, [&](long long p, const CrLstmBackOps &o) {
      int lb = (int)(p / s.units), b = s.b0 + lb, j = s.j0 + (int)(p % s.units);
      float d[4];
      cr_lstm_backward_pair(o.dh_out + dh_next[(long long)b * H + j], o, dc, dg, H, b, j, d);
#pragma unroll
      for (int q = 0; q < 4; q++) cr_exchange_put<CR_X_STRIDED>(smem, plan, t, lb, q * H + j, d[q], prec);
    });
    cr_persistent_arrive<CLUSTER>();
    if (t > 0) { /* step t-1's operands, beside this step's barrier (in clusters) and product */
      tl = t - 1;
      cr_ahead_load(ahead, pairs, load);
    }
    cr_persistent_wait<CLUSTER>();
    const float *y = plan.exchange ? nullptr : dg + (long long)s.b0 * G; /* null: exchanged */
    cr_persistent_product<A, 0, CR_X_STRIDED>(plan, w, frag, y, cr_exchange_x(smem, plan, t), acc, prec);
    for (long long p = threadIdx.x; p < pairs; p += blockDim.x) {
      int lb = (int)(p / s.units), u = (int)(p % s.units);
      dh_next[(long long)(s.b0 + lb) * H + s.j0 + u] = cr_persistent_result(acc, plan, u, lb);
    }
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1)
    persistent_lstm_backward(const float *dh_out, float *dh_next, float *dc, const float *gates, const float *cs,
                             const float *w_hh, float *dgates, int T, int B, int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_lstm_backward_body<__nv_bfloat16, false>(dh_out, dh_next, dc, gates, cs, w_hh, dgates, T, B, H, U,
                                                        prec);
  else
    persistent_lstm_backward_body<float, false>(dh_out, dh_next, dc, gates, cs, w_hh, dgates, T, B, H, U, prec);
}

/* persistent_lstm_backward_cluster: persistent_lstm_backward in the cluster layout (the same
 * arguments and results; launched as persistent_lstm_forward_cluster, with its shared memory). */
extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL
    persistent_lstm_backward_cluster(const float *dh_out, float *dh_next, float *dc, const float *gates,
                                     const float *cs, const float *w_hh, float *dgates, int T, int B, int H, int U,
                                     int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_lstm_backward_body<__nv_bfloat16, true>(dh_out, dh_next, dc, gates, cs, w_hh, dgates, T, B, H, U,
                                                       prec);
  else
    persistent_lstm_backward_body<float, true>(dh_out, dh_next, dc, gates, cs, w_hh, dgates, T, B, H, U, prec);
}

/*
 * persistent_lstm_backward_rows: the same pass as persistent_lstm_backward (same arguments, same
 * results up to the order of the dh_next sums), row-stationary (persistent_rows.cuh): in NG batch
 * groups of P = ceil(H / U) blocks (persistent_layout.cuh's grid layout; NG = gridDim.x / P), block
 * k of group g keeps the forward's slice, the 4 gate rows of its units [k*U, min(H, (k+1)*U)), for
 * the group's rows of the batch, and
 *   part [2][NG][P][P][PB][U] (persistent_rows_exchange_floats(U, H, B, NG); scratch, any contents)
 * carries the shares of dh_next between the blocks of a group. Dynamic shared memory
 * persistent_rows_shared_bytes(4, U, H, PB, prec), PB = ceil(B / NG). Per step t = T-1 .. 0: each
 * block's pairs (b, j) take dh = dh_out + (t = T-1 ? dh_next : the P shares of step t+1), apply
 * cr_lstm_backward, write dgates[t] and keep their rows in shared memory; the block scatters its
 * shares of dh_next to part slot t & 1; one grid barrier. After step 0, dh_next (=) the shares of
 * step 0. dc of a pair is read and written by the thread that owns it, as in persistent_lstm_backward.
 */
template <typename A>
static __device__ __forceinline__ void persistent_lstm_backward_rows_body(const float *dh_out, float *dh_next,
    float *dc, const float *gates, const float *cs, const float *w_hh, float *dgates, float *part, int T, int B,
    int H, int U, int prec) {
  if (T < 1) return; /* nothing to carry: dh_next and dc stay as they are */
  cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<false>(H, B, U);
  int G = 4 * H;
  CrRowsPlan plan = cr_rows_plan(4, U, H, s.PB, prec);
  int NG = (int)gridDim.x / plan.P, rank = (int)blockIdx.x % plan.P;
  float *dgl = cr_rows_dg(smem, plan), *o = cr_rows_o(smem, plan), *carry = cr_rows_carry(smem, plan);
  cr_persistent_stage_rows(w, w_hh, 4, H, U, s.j0, s.units, H, prec);
  cr_rows_clear(plan, dgl);
  long long pairs = (long long)s.rows * s.units;
  int tl = T - 1; /* the step whose operands load reads */
  auto load = [&](long long p, CrLstmBackOps &op) {
    cr_lstm_back_load(op, dh_out, gates, cs, dc, tl, B, H, s.b0 + (int)(p / s.units), s.j0 + (int)(p % s.units));
  };
  CrLstmBackOps ahead[1]; /* a pair a thread ahead */
  cr_ahead_load(ahead, pairs, load);
  for (int t = T - 1; t >= 0; t--) {
    float *dg = dgates + (long long)t * B * G;
    if (t < T - 1) cr_rows_gather(plan, part, NG, (t + 1) & 1, rank, o, carry);
    cr_ahead_cells(ahead, pairs, load, [&](long long p, const CrLstmBackOps &op) {
      int lb = (int)(p / s.units), u = (int)(p % s.units), b = s.b0 + lb, j = s.j0 + u;
      float dh = t == T - 1 ? dh_next[(long long)b * H + j] : carry[lb * U + u], d[4];
      cr_lstm_backward_pair(op.dh_out + dh, op, dc, dg, H, b, j, d);
#pragma unroll
      for (int q = 0; q < 4; q++) cr_rows_put(plan, dgl, q, u, lb, d[q], prec);
    });
    __syncthreads(); /* the block's rows of dgates[t] are complete */
    if (t > 0) { /* step t-1's operands, beside this step's scatter */
      tl = t - 1;
      cr_ahead_load(ahead, pairs, load);
    }
    cr_rows_scatter(plan, w, dgl, o, part, NG, t & 1, rank);
    grid.sync(); /* the shares of step t are published */
  }
  cr_rows_gather(plan, part, NG, 0, rank, o, carry);
  for (long long p = threadIdx.x; p < pairs; p += blockDim.x) {
    int lb = (int)(p / s.units), u = (int)(p % s.units);
    dh_next[(long long)(s.b0 + lb) * H + s.j0 + u] = carry[lb * U + u];
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1)
    persistent_lstm_backward_rows(const float *dh_out, float *dh_next, float *dc, const float *gates, const float *cs,
                                  const float *w_hh, float *dgates, float *part, int T, int B, int H, int U,
                                  int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_lstm_backward_rows_body<__nv_bfloat16>(dh_out, dh_next, dc, gates, cs, w_hh, dgates, part, T, B, H,
                                                      U, prec);
  else
    persistent_lstm_backward_rows_body<float>(dh_out, dh_next, dc, gates, cs, w_hh, dgates, part, T, B, H, U, prec);
}

/*
 * persistent_lstm_backward_cluster_rows: the same pass as persistent_lstm_backward_cluster (same
 * arguments, launch and layout, same results up to the order of the dh_next sums), row-stationary
 * (persistent_cluster_rows.cuh): block k of cluster c keeps the 4 gate rows of its units and its
 * dgates rows of the cluster's batch rows; dynamic shared memory
 * persistent_cluster_rows_shared_bytes(4, U, H, PB, prec). Per step t = T-1 .. 0: each pair (b, j)
 * takes dh = dh_out + (t = T-1 ? dh_next : the shares of step t+1), applies cr_lstm_backward, writes
 * dgates[t] and its dgates rows; the block stores its shares of dh_next into its cluster's blocks;
 * one cluster barrier. After step 0, dh_next (=) the shares of step 0.
 */
template <typename A>
static __device__ __forceinline__ void persistent_lstm_backward_cluster_rows_body(const float *dh_out,
    float *dh_next, float *dc, const float *gates, const float *cs, const float *w_hh, float *dgates, int T, int B,
    int H, int U, int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<true>(H, B, U);
  if (s.rows == 0 || T < 1) return; /* the whole cluster: no rows (or no steps), no exchange */
  int G = 4 * H, rank = (int)blockIdx.x % CR_CLUSTER;
  CrClusterRowsPlan plan = cr_cluster_rows_plan(4, U, H, s.PB, prec);
  float *dgl = cr_cluster_rows_dg(smem, plan), *in = cr_cluster_rows_in(smem, plan);
  cr_persistent_stage_rows(w, w_hh, 4, H, U, s.j0, s.units, H, prec);
  CrResidentA frag;
  cr_cluster_rows_keep(plan, w, frag);
  cr_cluster_rows_begin(plan, dgl, in);
  long long pairs = (long long)s.rows * s.units;
  int tl = T - 1; /* the step whose operands load reads */
  auto load = [&](long long p, CrLstmBackOps &o) {
    cr_lstm_back_load(o, dh_out, gates, cs, dc, tl, B, H, s.b0 + (int)(p / s.units), s.j0 + (int)(p % s.units));
  };
  CrLstmBackOps ahead[1]; /* a pair a thread ahead */
  cr_ahead_load(ahead, pairs, load);
  for (int t = T - 1; t >= 0; t--) {
    float *dg = dgates + (long long)t * B * G;
    cr_ahead_cells(ahead, pairs, load, [&](long long p, const CrLstmBackOps &o) {
      int lb = (int)(p / s.units), u = (int)(p % s.units), b = s.b0 + lb, j = s.j0 + u;
      float dh = t == T - 1 ? dh_next[(long long)b * H + j] : cr_cluster_rows_sum(plan, in, (t + 1) & 1, lb, u), d[4];
      cr_lstm_backward_pair(o.dh_out + dh, o, dc, dg, H, b, j, d);
#pragma unroll
      for (int q = 0; q < 4; q++) cr_cluster_rows_put(plan, dgl, q, u, lb, d[q], prec);
    });
    __syncthreads(); /* the block's dgates rows are complete */
    if (t > 0) { /* step t-1's operands, beside this step's scatter */
      tl = t - 1;
      cr_ahead_load(ahead, pairs, load);
    }
    cr_cluster_rows_scatter(plan, w, frag, dgl, in, t & 1, rank, prec);
    cr_persistent_sync<true>(); /* the shares of step t are in every block */
  }
  for (long long p = threadIdx.x; p < pairs; p += blockDim.x) {
    int lb = (int)(p / s.units), u = (int)(p % s.units);
    dh_next[(long long)(s.b0 + lb) * H + s.j0 + u] = cr_cluster_rows_sum(plan, in, 0, lb, u);
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL
    persistent_lstm_backward_cluster_rows(const float *dh_out, float *dh_next, float *dc, const float *gates,
                                          const float *cs, const float *w_hh, float *dgates, int T, int B, int H,
                                          int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_lstm_backward_cluster_rows_body<__nv_bfloat16>(dh_out, dh_next, dc, gates, cs, w_hh, dgates, T, B,
                                                              H, U, prec);
  else
    persistent_lstm_backward_cluster_rows_body<float>(dh_out, dh_next, dc, gates, cs, w_hh, dgates, T, B, H, U,
                                                      prec);
}
