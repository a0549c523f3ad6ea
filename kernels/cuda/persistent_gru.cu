/*
 * persistent_gru.cu: the GRU forward and backward passes of one layer over all T timesteps, one
 * cooperative launch each, weight-stationary, with the blocks, units and W_hh slices of
 * persistent_common.cuh (G = 3 gate rows per unit). Gate order along 3H: r, z, n (PyTorch).
 *
 * persistent_gru_forward
 *   gx [T,B,3H] = x W_ih^T for the whole window (one GEMM before this launch, no bias), or with
 *   tokens [T,B] (int32; null: none) the token table [V,3H] whose row tokens[t,b] is gx[t,b]
 *   (cr_gx_row, as persistent_lstm_forward);
 *   w_hh [3H,H] row-major fp32; b_ih, b_hh [3H]; h0 [B,H] the initial state;
 *   writes (=) h [T,B,H] (h_t) and gates [T,B,4H] = r, z, n, gh_n + b_hn per step: the same values,
 *   in the same layout, as gru_forward_step saves step by step (so either backward reads them).
 *   h0 may be h - B*H (a [T+1,B,H] sequence with the initial state first).
 *   Launch: cooperative, grid = G ceil(H / U) blocks of CR_BLOCK threads (G batch groups,
 *   persistent_layout.cuh), dynamic shared memory persistent_shared_bytes(3, U, H, ceil(B / G), prec): block k's rows q*H + j of W_hh (q = r, z, n) for its
 *   units j, an h tile and the products. Each timestep every block stages h_{t-1} and computes,
 *   for its (b, j) pairs, the three products gh_q = W_hh[q*H+j,:] . h_{t-1}[b,:] (fp32,
 *   cr_persistent_product); each pair adds the biases as gru_forward_step
 *   does (b_hn inside the r product: n = tanh(gx_n + b_in + r (gh_n + b_hn))), applies
 *   cr_gru_forward and writes h_t and the gates; then one grid barrier publishes h_t to every block
 *   for step t+1. h_{t-1}[b, j] of the pair itself was written by the same thread a step before.
 *
 * persistent_gru_backward
 *   dh_out [T,B,H] gradient from above; dh_next [B,H] in: dL/dh_{T-1} from beyond the window, out:
 *   dL/dh_{-1}; gates [T,B,4H] as the forward saved them; hs [T+1,B,H] (slot t = h_{t-1}, slot 0 the
 *   initial state); w_hh [3H,H]; writes (=) dgx [T,B,3H] = dL/d(gx + b_ih) and dgh [T,B,3H] =
 *   dL/d(gh + b_hh) (they differ in the n block: dgh_n = dgx_n r), as gru_backward_step.
 *   Launched as the forward (G batch groups); block k keeps the columns j of its units of W_hh over
 *   all 3H rows (the same size as forward's).
 * Per step t = T-1 .. 0: each block applies cr_gru_backward to its (b, j) pairs (dh = dh_out +
 * dh_next), writes dgx[t], dgh[t] and keeps the direct part dh z in dh_next[b, j]; one grid
 * barrier; then each block stages dgh[t] and adds (+=) dgh[t][b, :] . W_hh[:, j] (fp32,
 * cr_persistent_product) into dh_next[b, j] for its units.
 * dh_next of a pair is read and written only by the thread that owns the pair (the same mapping in
 * both phases), and dgh[t] is never written again, so one grid barrier per step suffices.
 *
 * prec, the last argument of both kernels: the products' precision, CR_PREC_FP32, _TF32 or _BF16
 * (persistent_common.cuh: W_hh and the staged right-hand side rounded as a tensor-core GEMM reads them),
 * TF32 and BF16 | CR_PREC_MMA on tensor cores (sm_80 and newer). Launch bounds (CR_BLOCK, 1): one
 * block per SM, so ptxas may give a thread the registers of the mma tiles (no spills).
 */
#include "persistent_exchange.cuh"
#include "persistent_cluster_rows.cuh"

template <typename A, bool CLUSTER>
static __device__ __forceinline__ void persistent_gru_forward_body(const float *gx, const int *tokens,
    const float *w_hh, const float *b_ih, const float *b_hh, const float *h0, float *h, float *gates, int T, int B,
    int H, int U, int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<CLUSTER>(H, B, U);
  if (s.rows == 0) return; /* a cluster past the batch: all its blocks alike */
  CrPersistentPlan plan = cr_persistent_plan(3 * U, H, s.PB, cr_layout_prec<CLUSTER>(prec) | cr_forward_x_prec(3));
  plan.rows = s.rows;
  float *acc = cr_persistent_acc(smem, plan);
  cr_persistent_stage_rows(w, w_hh, 3, H, U, s.j0, s.units, plan.AS, prec);
  CrResidentA frag;
  cr_keep_resident_a(plan, w, frag);
  cr_exchange_begin(smem, plan);
  long long BH = (long long)B * H, pairs = (long long)s.rows * s.units;
  using Ops = CrGateOperands<3>; /* gx + b_ih, b_hh and (own) h_{t-1} */
  cr_forward_steps<1, Ops, CLUSTER>( /* 1 pair a thread ahead (two spill the grid kernel: 255 registers) */
      T,
      pairs,
      [&](int t, long long p, Ops &o) {
        const float *hp = t == 0 ? h0 : h + (long long)(t - 1) * BH;
        cr_load_gate_operands(gx, tokens, b_ih, b_hh, hp, t, s.b0 + (int)(p / s.units), s.j0 + (int)(p % s.units), B,
                              H, o);
      },
      [&](int t) { cr_forward_product(plan, w, frag, smem, acc, h0, h, t, s.b0, B, H, prec); },
      [&](int t, long long p, const Ops &o) {
        int lb = (int)(p / s.units), u = (int)(p % s.units), b = s.b0 + lb, j = s.j0 + u;
        long long r4 = ((long long)t * B + b) * 4 * H;
        float gh[3];
#pragma unroll
        for (int q = 0; q < 3; q++) gh[q] = cr_persistent_result(acc, plan, q * U + u, lb) + o.hb[q];
        float rr, zz, nn, hh;
        cr_gru_forward(o.x[0], o.x[1], o.x[2], gh[0], gh[1], gh[2], o.own, &rr, &zz, &nn, &hh);
        cr_store_gates4(gates + r4 + j, H, rr, zz, nn, gh[2]);
        h[(long long)t * BH + (long long)b * H + j] = hh;
        if (t + 1 < T) cr_exchange_put(smem, plan, t + 1, lb, j, hh, prec);
      });
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1)
    persistent_gru_forward(const float *gx, const int *tokens, const float *w_hh, const float *b_ih,
                           const float *b_hh, const float *h0, float *h, float *gates, int T, int B, int H, int U,
                           int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_gru_forward_body<__nv_bfloat16, false>(gx, tokens, w_hh, b_ih, b_hh, h0, h, gates, T, B, H, U, prec);
  else
    persistent_gru_forward_body<float, false>(gx, tokens, w_hh, b_ih, b_hh, h0, h, gates, T, B, H, U, prec);
}

/* persistent_gru_forward_cluster: the same pass in the cluster layout (persistent_layout.cuh; the
 * same arguments and results); an ordinary launch of C clusters of CR_CLUSTER blocks, U >= ceil(H /
 * CR_CLUSTER), shared memory persistent_shared_bytes(3, U, H, ceil(B / C), prec); sm_90 and newer.
 * prec | CR_PREC_EXCHANGE: h_t through distributed shared memory (persistent_exchange.cuh), backward
 * dgh[t] likewise. */
extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL
    persistent_gru_forward_cluster(const float *gx, const int *tokens, const float *w_hh, const float *b_ih,
                                   const float *b_hh, const float *h0, float *h, float *gates, int T, int B, int H,
                                   int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_gru_forward_body<__nv_bfloat16, true>(gx, tokens, w_hh, b_ih, b_hh, h0, h, gates, T, B, H, U, prec);
  else
    persistent_gru_forward_body<float, true>(gx, tokens, w_hh, b_ih, b_hh, h0, h, gates, T, B, H, U, prec);
}

/* Pair (b, j)'s cell operands at step t of every GRU backward kernel, loaded ahead of its cell
 * phase (cr_ahead_load): dh_out[t], the saved r, z, n, gh_n + b_hn and h_{t-1}. */
struct CrGruBackOps {
  float dh_out, g[4], hp;
};

/* o (=) pair (b, j)'s operands at step t from dh_out [T,B,H], gates [T,B,4H] and hs [T+1,B,H]
 * (slot t = h_{t-1}). */
static __device__ __forceinline__ void cr_gru_back_load(CrGruBackOps &o, const float *dh_out, const float *gates,
                                                        const float *hs, int t, int B, int H, int b, int j) {
  long long k = ((long long)t * B + b) * H + j, r4 = ((long long)t * B + b) * 4 * H;
  o.dh_out = dh_out[k];
#pragma unroll
  for (int q = 0; q < 4; q++) o.g[q] = gates[r4 + q * H + j];
  o.hp = hs[k];
}

/* Pair (b, j)'s cell backward at one step, every GRU backward kernel's (dh = dL/dh_t, o its
 * operands): rows b of dx, dr [B,3H] (=) dL/d(gx + b_ih), dL/d(gh + b_hh) of unit j's r, z, n, and
 * d[3] (=) the latter; returns the direct part dh z. */
static __device__ __forceinline__ float cr_gru_backward_pair(float dh, const CrGruBackOps &o, float *dx, float *dr,
                                                             int H, int b, int j, float d[3]) {
  long long r3 = (long long)b * 3 * H;
  float x[3], direct;
  cr_gru_backward(dh, o.g[0], o.g[1], o.g[2], o.g[3], o.hp, &x[0], &x[1], &x[2], &d[0], &d[1], &d[2], &direct);
#pragma unroll
  for (int q = 0; q < 3; q++) {
    dx[r3 + q * H + j] = x[q];
    dr[r3 + q * H + j] = d[q];
  }
  return direct;
}

template <typename A, bool CLUSTER>
static __device__ __forceinline__ void persistent_gru_backward_body(const float *dh_out, float *dh_next,
    const float *gates, const float *hs, const float *w_hh, float *dgx, float *dgh, int T, int B, int H, int U,
    int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<CLUSTER>(H, B, U);
  if (s.rows == 0) return;
  int G = 3 * H;
  CrPersistentPlan plan = cr_persistent_plan(U, G, s.PB, cr_layout_prec<CLUSTER>(prec));
  plan.rows = s.rows;
  float *acc = cr_persistent_acc(smem, plan);
  cr_persistent_stage_cols(w, w_hh, 3, H, U, s.j0, s.units, plan.AS, prec);
  CrResidentA frag;
  cr_keep_resident_a(plan, w, frag);
  cr_exchange_begin(smem, plan);
  long long pairs = (long long)s.rows * s.units;
  int tl = T - 1; /* the step whose operands load reads */
  auto load = [&](long long p, CrGruBackOps &o) {
    cr_gru_back_load(o, dh_out, gates, hs, tl, B, H, s.b0 + (int)(p / s.units), s.j0 + (int)(p % s.units));
  };
  CrGruBackOps ahead[1]; /* a pair a thread ahead */
  if (T > 0) cr_ahead_load(ahead, pairs, load);
  for (int t = T - 1; t >= 0; t--) {
    float *dx = dgx + (long long)t * B * G, *dr = dgh + (long long)t * B * G;
    cr_ahead_cells(ahead, pairs, load, [&](long long p, const CrGruBackOps &o) {
      int lb = (int)(p / s.units), b = s.b0 + lb, j = s.j0 + (int)(p % s.units);
      long long k = (long long)b * H + j;
      float d[3];
      dh_next[k] = cr_gru_backward_pair(o.dh_out + dh_next[k], o, dx, dr, H, b, j, d);
#pragma unroll
      for (int q = 0; q < 3; q++) cr_exchange_put<CR_X_STRIDED>(smem, plan, t, lb, q * H + j, d[q], prec);
    });
    cr_persistent_arrive<CLUSTER>();
    if (t > 0) { /* step t-1's operands, beside this step's barrier (in clusters) and product */
      tl = t - 1;
      cr_ahead_load(ahead, pairs, load);
    }
    cr_persistent_wait<CLUSTER>();
    const float *y = plan.exchange ? nullptr : dr + (long long)s.b0 * G; /* null: exchanged */
    cr_persistent_product<A, 0, CR_X_STRIDED>(plan, w, frag, y, cr_exchange_x(smem, plan, t), acc, prec);
    for (long long p = threadIdx.x; p < pairs; p += blockDim.x) {
      int lb = (int)(p / s.units), u = (int)(p % s.units);
      dh_next[(long long)(s.b0 + lb) * H + s.j0 + u] += cr_persistent_result(acc, plan, u, lb);
    }
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1)
    persistent_gru_backward(const float *dh_out, float *dh_next, const float *gates, const float *hs,
                            const float *w_hh, float *dgx, float *dgh, int T, int B, int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_gru_backward_body<__nv_bfloat16, false>(dh_out, dh_next, gates, hs, w_hh, dgx, dgh, T, B, H, U, prec);
  else
    persistent_gru_backward_body<float, false>(dh_out, dh_next, gates, hs, w_hh, dgx, dgh, T, B, H, U, prec);
}

/* persistent_gru_backward_cluster: persistent_gru_backward in the cluster layout (the same
 * arguments and results; launched as persistent_gru_forward_cluster, with its shared memory). */
extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL
    persistent_gru_backward_cluster(const float *dh_out, float *dh_next, const float *gates, const float *hs,
                                    const float *w_hh, float *dgx, float *dgh, int T, int B, int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_gru_backward_body<__nv_bfloat16, true>(dh_out, dh_next, gates, hs, w_hh, dgx, dgh, T, B, H, U, prec);
  else
    persistent_gru_backward_body<float, true>(dh_out, dh_next, gates, hs, w_hh, dgx, dgh, T, B, H, U, prec);
}

/*
 * persistent_gru_backward_rows: the same pass as persistent_gru_backward (same arguments, same
 * results up to the order of the dh_next sums), row-stationary (persistent_rows.cuh): in NG batch
 * groups of P = ceil(H / U) blocks (NG = gridDim.x / P), block k of group g keeps the forward's
 * slice, the 3 gate rows r, z, n of its units, for the group's rows of the batch, and part
 * [2][NG][P][P][PB][U] (persistent_rows_exchange_floats(U, H, B, NG); scratch) carries the shares
 * of dgh[t] W_hh between the blocks of a group. Dynamic shared memory
 * persistent_rows_shared_bytes(3, U, H, PB, prec), PB = ceil(B / NG). Per step t = T-1 .. 0: each
 * block's pairs take dh = dh_out + dh_next + (t < T-1 ? the P shares of step t+1 : 0), apply
 * cr_gru_backward, write dgx[t], dgh[t] and the direct part dh z to dh_next, and keep their dgh
 * rows in shared memory; the block scatters its shares to part slot t & 1; one grid barrier. After
 * step 0, dh_next (+=) the shares of step 0.
 */
template <typename A>
static __device__ __forceinline__ void persistent_gru_backward_rows_body(const float *dh_out, float *dh_next,
    const float *gates, const float *hs, const float *w_hh, float *dgx, float *dgh, float *part, int T, int B, int H,
    int U, int prec) {
  if (T < 1) return; /* nothing to carry: dh_next stays as it is */
  cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<false>(H, B, U);
  int G = 3 * H;
  CrRowsPlan plan = cr_rows_plan(3, U, H, s.PB, prec);
  int NG = (int)gridDim.x / plan.P, rank = (int)blockIdx.x % plan.P;
  float *dgl = cr_rows_dg(smem, plan), *o = cr_rows_o(smem, plan), *carry = cr_rows_carry(smem, plan);
  cr_persistent_stage_rows(w, w_hh, 3, H, U, s.j0, s.units, H, prec);
  cr_rows_clear(plan, dgl);
  long long pairs = (long long)s.rows * s.units;
  int tl = T - 1; /* the step whose operands load reads */
  auto load = [&](long long p, CrGruBackOps &op) {
    cr_gru_back_load(op, dh_out, gates, hs, tl, B, H, s.b0 + (int)(p / s.units), s.j0 + (int)(p % s.units));
  };
  CrGruBackOps ahead[1]; /* a pair a thread ahead */
  cr_ahead_load(ahead, pairs, load);
  for (int t = T - 1; t >= 0; t--) {
    float *dx = dgx + (long long)t * B * G, *dr = dgh + (long long)t * B * G;
    if (t < T - 1) cr_rows_gather(plan, part, NG, (t + 1) & 1, rank, o, carry);
    cr_ahead_cells(ahead, pairs, load, [&](long long p, const CrGruBackOps &op) {
      int lb = (int)(p / s.units), u = (int)(p % s.units), b = s.b0 + lb, j = s.j0 + u;
      long long k = (long long)b * H + j;
      float dh = dh_next[k] + (t == T - 1 ? 0.0f : carry[lb * U + u]), d[3];
      dh_next[k] = cr_gru_backward_pair(op.dh_out + dh, op, dx, dr, H, b, j, d);
#pragma unroll
      for (int q = 0; q < 3; q++) cr_rows_put(plan, dgl, q, u, lb, d[q], prec);
    });
    __syncthreads(); /* the block's rows of dgh[t] are complete */
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
    dh_next[(long long)(s.b0 + lb) * H + s.j0 + u] += carry[lb * U + u];
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1)
    persistent_gru_backward_rows(const float *dh_out, float *dh_next, const float *gates, const float *hs,
                                 const float *w_hh, float *dgx, float *dgh, float *part, int T, int B, int H, int U,
                                 int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_gru_backward_rows_body<__nv_bfloat16>(dh_out, dh_next, gates, hs, w_hh, dgx, dgh, part, T, B, H, U,
                                                     prec);
  else
    persistent_gru_backward_rows_body<float>(dh_out, dh_next, gates, hs, w_hh, dgx, dgh, part, T, B, H, U, prec);
}

/*
 * persistent_gru_backward_cluster_rows: the same pass as persistent_gru_backward_cluster (same
 * arguments, launch and layout, same results up to the order of the dh_next sums), row-stationary
 * (persistent_cluster_rows.cuh): block k of cluster c keeps the 3 gate rows r, z, n of its units and
 * its dgh rows of the cluster's batch rows; dynamic shared memory
 * persistent_cluster_rows_shared_bytes(3, U, H, PB, prec). Per step t = T-1 .. 0: each pair takes dh
 * = dh_out + dh_next + (t < T-1 ? the shares of step t+1 : 0), applies cr_gru_backward, writes
 * dgx[t], dgh[t] and the direct part dh z to dh_next, and keeps its dgh rows; the block stores its
 * shares into its cluster's blocks; one cluster barrier. After step 0, dh_next (+=) the shares of step 0.
 */
template <typename A>
static __device__ __forceinline__ void persistent_gru_backward_cluster_rows_body(const float *dh_out, float *dh_next,
    const float *gates, const float *hs, const float *w_hh, float *dgx, float *dgh, int T, int B, int H, int U,
    int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<true>(H, B, U);
  if (s.rows == 0 || T < 1) return; /* the whole cluster: no rows (or no steps), no exchange */
  int G = 3 * H, rank = (int)blockIdx.x % CR_CLUSTER;
  CrClusterRowsPlan plan = cr_cluster_rows_plan(3, U, H, s.PB, prec);
  float *dgl = cr_cluster_rows_dg(smem, plan), *in = cr_cluster_rows_in(smem, plan);
  cr_persistent_stage_rows(w, w_hh, 3, H, U, s.j0, s.units, H, prec);
  CrResidentA frag;
  cr_cluster_rows_keep(plan, w, frag);
  cr_cluster_rows_begin(plan, dgl, in);
  long long pairs = (long long)s.rows * s.units;
  int tl = T - 1; /* the step whose operands load reads */
  auto load = [&](long long p, CrGruBackOps &o) {
    cr_gru_back_load(o, dh_out, gates, hs, tl, B, H, s.b0 + (int)(p / s.units), s.j0 + (int)(p % s.units));
  };
  CrGruBackOps ahead[1]; /* a pair a thread ahead */
  cr_ahead_load(ahead, pairs, load);
  for (int t = T - 1; t >= 0; t--) {
    float *dx = dgx + (long long)t * B * G, *dr = dgh + (long long)t * B * G;
    cr_ahead_cells(ahead, pairs, load, [&](long long p, const CrGruBackOps &o) {
      int lb = (int)(p / s.units), u = (int)(p % s.units), b = s.b0 + lb, j = s.j0 + u;
      long long k = (long long)b * H + j;
      float dh = dh_next[k] + (t == T - 1 ? 0.0f : cr_cluster_rows_sum(plan, in, (t + 1) & 1, lb, u)), d[3];
      dh_next[k] = cr_gru_backward_pair(o.dh_out + dh, o, dx, dr, H, b, j, d);
#pragma unroll
      for (int q = 0; q < 3; q++) cr_cluster_rows_put(plan, dgl, q, u, lb, d[q], prec);
    });
    __syncthreads(); /* the block's dgh rows are complete */
    if (t > 0) { /* step t-1's operands, beside this step's scatter */
      tl = t - 1;
      cr_ahead_load(ahead, pairs, load);
    }
    cr_cluster_rows_scatter(plan, w, frag, dgl, in, t & 1, rank, prec);
    cr_persistent_sync<true>(); /* the shares of step t are in every block */
  }
  for (long long p = threadIdx.x; p < pairs; p += blockDim.x) {
    int lb = (int)(p / s.units), u = (int)(p % s.units);
    dh_next[(long long)(s.b0 + lb) * H + s.j0 + u] += cr_cluster_rows_sum(plan, in, 0, lb, u);
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL
    persistent_gru_backward_cluster_rows(const float *dh_out, float *dh_next, const float *gates, const float *hs,
                                         const float *w_hh, float *dgx, float *dgh, int T, int B, int H, int U,
                                         int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_gru_backward_cluster_rows_body<__nv_bfloat16>(dh_out, dh_next, gates, hs, w_hh, dgx, dgh, T, B, H, U,
                                                             prec);
  else
    persistent_gru_backward_cluster_rows_body<float>(dh_out, dh_next, gates, hs, w_hh, dgx, dgh, T, B, H, U, prec);
}
