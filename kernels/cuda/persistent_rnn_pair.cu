/*
 * persistent_rnn_pair.cu: two stacked tanh-RNN layers (layer a below, layer b above it) as a
 * wavefront in one launch: at tick i layer a runs step i while layer b runs step i - 1, so a
 * window's T steps of both layers take T + 1 ticks of one cluster barrier each instead of 2 T
 * layer-steps, and layer b's input projection (h_a W_ih_b^T, a whole-window GEMM before a
 * persistent_rnn_forward of layer b) runs inside the recurrence. The cluster layout only
 * (persistent_layout.cuh: C clusters of CR_CLUSTER blocks, cluster c the batch rows [c PB, ...),
 * block k of a cluster the units [k U, min(H, (k+1) U)) of both layers), with the exchange through
 * distributed shared memory (persistent_exchange.cuh), which both kernels require: prec |
 * CR_PREC_EXCHANGE, and every plan below one k-tile (persistent_pair_fits; the host launches them
 * only where it holds). sm_90 and newer. Results are those of persistent_rnn_forward and _backward
 * layer by layer with the layer-b GEMMs between them, within rounding (the sums run in another
 * order: layer b's two products are one).
 *
 * persistent_rnn_pair_forward_cluster
 *   gx [T,B,H] = x W_ih_a^T for the whole window (no bias), or with tokens [T,B] (int32; null:
 *   none) the token table [V,H] whose row tokens[t,b] is gx[t,b] (cr_gx_row);
 *   w_hh_a, w_ih_b, w_hh_b [H,H] row-major fp32; b_ih_a, b_hh_a, b_ih_b, b_hh_b [H];
 *   h0_a, h0_b [B,H] the initial states; writes (=) h_a, h_b [T,B,H]:
 *     h_a[t] = tanh((gx[t] + b_ih_a) + (h_a[t-1] W_hh_a^T + b_hh_a)),
 *     h_b[t] = tanh(([h_a[t], h_b[t-1]] [W_ih_b, W_hh_b]^T + b_ih_b) + b_hh_b).
 *   h0_a may be h_a - B*H, h0_b h_b - B*H (a [T+1,B,H] sequence, initial state first).
 *   Launch: C clusters, shared memory persistent_pair_shared_bytes(U, H, ceil(B / C), prec).
 *   A block's slice a is 2U rows of K = 2H: row u the row j = j0 + u of [W_hh_a, 0], row U + u
 *   that of [W_ih_b, W_hh_b] (zeros past the block's units); the right-hand side of tick i is
 *   [h_a[i-1], h_b[i-2]] (x buffer i & 1), so one product gives layer a's recurrent term and
 *   layer b's whole pre-activation; the product skips layer a's zeros (plan ra = U, ka = H) in
 *   the items (FMA: 4 rows) and groups of tiles (mma) that hold layer a's rows alone, so at U a
 *   multiple of those it does 3 U H FMAs a batch row, not 4 U H. Before tick 0 every block stores
 *   h0_a into buffer 0 and h0_b into buffer 1 (layer b's first step, tick 1); tick i's cell phase
 *   stores h_a[i] and h_b[i-1] into buffer (i + 1) & 1; layer b's product of tick 0 is discarded.
 *
 * persistent_rnn_pair_backward_cluster
 *   dh_out_b [T,B,H] the gradient from above layer b; dh_next_a, dh_next_b [B,H] in: dL/dh_{T-1}
 *   of each layer from beyond the window, out: dL/dh_{-1}; h_a, h_b [T,B,H] the forward's outputs;
 *   w_hh_a, w_ih_b, w_hh_b as the forward's; writes (=) dgates_a, dgates_b [T,B,H] = dL/d
 *   pre-activation of each layer, as persistent_rnn_backward's. Layer a's gradient from above is
 *   layer b's input gradient dgates_b[t] W_ih_b alone (no dh_out_a: layer a feeds only layer b).
 *   Launched as the forward (its shared memory). Tick i = 0 .. T: layer b runs step T-1-i (i < T),
 *   layer a step T-i (i >= 1), each cell phase storing its dgates into its own x buffers
 *   (slot i & 1); after the cluster barrier two products: plan b, 2U rows of K = H (row u the
 *   column j of W_hh_b, row U + u that of W_ih_b) times dgates_b[t], giving dh_next_b and layer
 *   a's gradient from above for tick i + 1 (kept in the products, read by the next cell phase); plan
 *   a, U rows (the columns of W_hh_a) times dgates_a[t], giving dh_next_a. Plan b keeps its slice in
 *   registers where it can (CrPersistentPlan.resident); plan a in the upper half of the same
 *   registers (CR_MMA_HALF, CR_FMA_HALF) where each plan's part fits in half of them
 *   (cr_persistent_half_fits: the bench's row, H 256 at 4 rows a cluster), else from shared memory.
 *
 * dh_next and dgates of a pair are read and written only by the thread that owns the pair (the
 * same mapping in both phases), the pass's other inputs are read only, and x buffer s of a peer is
 * stored into only after the barrier that follows that peer's last read of it, so one cluster
 * barrier a tick suffices (as persistent_exchange.cuh says of one layer).
 *
 * prec, the last argument of both: as persistent_rnn.cu's (CR_PREC_FP32, _TF32 or _BF16, | CR_PREC_MMA
 * on tensor cores), | CR_PREC_EXCHANGE (required), | CR_PREC_SHARED_A (no slice in registers).
 * Launch bounds (CR_BLOCK, 1), as every persistent kernel's.
 */
#include "persistent_exchange.cuh"

/* The plans of a block of the pair kernels at U units, H, PB batch rows and prec: the forward's
 * (2U rows of K = 2H), and the backward's plan b (2U rows of K = H) and plan a (U rows of K = H,
 * resident beside plan b where both fit half a thread's registers, else read from shared memory),
 * whose regions follow each other in shared memory; every one reads x in the vector layout. */
static __host__ __device__ inline CrPersistentPlan cr_pair_forward_plan(int U, int H, int PB, int prec) {
  CrPersistentPlan p = cr_persistent_plan(2 * U, 2 * H, PB, prec | CR_PREC_VECTOR_X);
  p.ra = U; /* layer a's rows: zeros against h_b, which the product skips where it can */
  p.ka = H;
  return p;
}
static __host__ __device__ inline CrPersistentPlan cr_pair_backward_plan_b(int U, int H, int PB, int prec) {
  return cr_persistent_plan(2 * U, H, PB, prec | CR_PREC_VECTOR_X);
}
static __host__ __device__ inline CrPersistentPlan cr_pair_backward_plan_a(int U, int H, int PB, int prec) {
  CrPersistentPlan a = cr_persistent_plan(U, H, PB, prec | CR_PREC_SHARED_A | CR_PREC_VECTOR_X);
  /* resident in the upper half of a thread's registers (HALF 1) where plan b needs only the lower */
  a.resident = !(prec & CR_PREC_SHARED_A) && cr_persistent_half_fits(a) &&
               cr_persistent_half_fits(cr_pair_backward_plan_b(U, H, PB, prec));
  return a;
}

/* Whether the pair kernels run at U, H, PB and prec: every plan takes its right-hand side through
 * the exchange (prec has CR_PREC_EXCHANGE and each plan is one k-tile). */
static __host__ __device__ inline bool persistent_pair_fits(int U, int H, int PB, int prec) {
  return cr_pair_forward_plan(U, H, PB, prec).exchange && cr_pair_backward_plan_b(U, H, PB, prec).exchange &&
         cr_pair_backward_plan_a(U, H, PB, prec).exchange;
}

/* Dynamic shared memory of a block of either pair kernel: the larger of the forward's plan and the
 * backward's two. */
static inline unsigned long long persistent_pair_shared_bytes(int U, int H, int PB, int prec) {
  unsigned long long f = cr_persistent_plan_bytes(cr_pair_forward_plan(U, H, PB, prec));
  unsigned long long b = cr_persistent_plan_bytes(cr_pair_backward_plan_b(U, H, PB, prec)) +
                         cr_persistent_plan_bytes(cr_pair_backward_plan_a(U, H, PB, prec));
  return f > b ? f : b;
}

/* w [2U][AS] (=) the forward's slice (the top of this file): row u (k < H) W_hh_a[j0 + u, k], (k >= H)
 * zero; row U + u [W_ih_b, W_hh_b][j0 + u, k]; zeros for u >= units and k >= 2H; then a block barrier. */
template <typename A>
static __device__ __forceinline__ void cr_pair_stage_forward(A *w, const float *w_hh_a, const float *w_ih_b,
                                                             const float *w_hh_b, int H, int U, int j0, int units,
                                                             int AS, int prec) {
  for (long long e = threadIdx.x; e < 2LL * U * AS; e += blockDim.x) {
    int r = (int)(e / AS), k = (int)(e % AS), u = r % U;
    long long row = (long long)(j0 + u) * H;
    float v = 0.0f;
    if (u < units && k < 2 * H)
      v = r < U ? (k < H ? w_hh_a[row + k] : 0.0f) : k < H ? w_ih_b[row + k] : w_hh_b[row + k - H];
    cr_store(&w[e], v, prec);
  }
  __syncthreads();
}

template <typename A>
static __device__ __forceinline__ void persistent_rnn_pair_forward_body(
    const float *gx, const int *tokens, const float *w_hh_a, const float *w_ih_b, const float *w_hh_b,
    const float *b_ih_a, const float *b_hh_a, const float *b_ih_b, const float *b_hh_b, const float *h0_a,
    const float *h0_b, float *h_a, float *h_b, int T, int B, int H, int U, int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<true>(H, B, U);
  if (s.rows == 0 || T == 0) return; /* a cluster past the batch: all its blocks alike */
  CrPersistentPlan plan = cr_pair_forward_plan(U, H, s.PB, prec);
  plan.rows = s.rows;
  float *acc = cr_persistent_acc(smem, plan);
  cr_pair_stage_forward(w, w_hh_a, w_ih_b, w_hh_b, H, U, s.j0, s.units, plan.AS, prec);
  CrResidentA frag;
  cr_keep_resident_a(plan, w, frag);
  cr_exchange_begin(smem, plan);
  long long BH = (long long)B * H, n = (long long)s.rows * s.units; /* n pairs (b, j) a layer */
  for (long long p = threadIdx.x; p < n; p += blockDim.x) {
    int lb = (int)(p / s.units), j = s.j0 + (int)(p % s.units);
    long long k = (long long)(s.b0 + lb) * H + j;
    cr_exchange_put(smem, plan, 0, lb, j, h0_a[k], prec);
    cr_exchange_put(smem, plan, 1, lb, H + j, h0_b[k], prec);
  }
  cr_persistent_sync<true>(); /* the initial states are in every block */
  /* pair p < n is layer a's (b, j), p >= n layer b's; its operands besides the product: the
   * input projection and bias (layer b: the bias), the recurrent bias */
  struct Ops {
    float x, hb;
  };
  cr_forward_steps<1, Ops, true>(
      T + 1,
      2 * n,
      [&](int i, long long p, Ops &o) {
        bool b = p >= n;
        long long q = b ? p - n : p;
        int j = s.j0 + (int)(q % s.units);
        if (b) {
          o.x = b_ih_b[j];
          o.hb = b_hh_b[j];
        } else if (i < T) {
          o.x = gx[cr_gx_row(tokens, i, s.b0 + (int)(q / s.units), B) * H + j] + b_ih_a[j];
          o.hb = b_hh_a[j];
        }
      },
      [&](int i) { cr_persistent_product(plan, w, frag, nullptr, cr_exchange_x(smem, plan, i), acc, prec); },
      [&](int i, long long p, const Ops &o) {
        bool b = p >= n;
        long long q = b ? p - n : p;
        int lb = (int)(q / s.units), u = (int)(q % s.units), j = s.j0 + u, t = b ? i - 1 : i;
        if (t < 0 || t >= T) return; /* layer b before tick 1, layer a at tick T */
        float hn = cr_rnn_forward(o.x + (cr_persistent_result(acc, plan, b ? U + u : u, lb) + o.hb));
        (b ? h_b : h_a)[(long long)t * BH + (long long)(s.b0 + lb) * H + j] = hn;
        if (i < T) cr_exchange_put(smem, plan, i + 1, lb, b ? H + j : j, hn, prec);
      });
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL persistent_rnn_pair_forward_cluster(
    const float *gx, const int *tokens, const float *w_hh_a, const float *w_ih_b, const float *w_hh_b,
    const float *b_ih_a, const float *b_hh_a, const float *b_ih_b, const float *b_hh_b, const float *h0_a,
    const float *h0_b, float *h_a, float *h_b, int T, int B, int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_rnn_pair_forward_body<__nv_bfloat16>(gx, tokens, w_hh_a, w_ih_b, w_hh_b, b_ih_a, b_hh_a, b_ih_b,
                                                    b_hh_b, h0_a, h0_b, h_a, h_b, T, B, H, U, prec);
  else
    persistent_rnn_pair_forward_body<float>(gx, tokens, w_hh_a, w_ih_b, w_hh_b, b_ih_a, b_hh_a, b_ih_b, b_hh_b,
                                            h0_a, h0_b, h_a, h_b, T, B, H, U, prec);
}

template <typename A>
static __device__ __forceinline__ void persistent_rnn_pair_backward_body(
    const float *dh_out_b, float *dh_next_a, float *dh_next_b, const float *h_a, const float *h_b,
    const float *w_hh_a, const float *w_ih_b, const float *w_hh_b, float *dgates_a, float *dgates_b, int T, int B,
    int H, int U, int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  CrPersistentSlice s = cr_persistent_slice<true>(H, B, U);
  if (s.rows == 0 || T == 0) return;
  /* both plans in shared memory, read field by field where used: in registers beside plan b's
   * resident slice they spill (nvcc 13.0, ptxas -v: sm_90 with both there, sm_100 and sm_120 with
   * plan a alone there) */
  __shared__ CrPersistentPlan pa, pb;
  if (threadIdx.x == 0) {
    pb = cr_pair_backward_plan_b(U, H, s.PB, prec);
    pa = cr_pair_backward_plan_a(U, H, s.PB, prec);
    pb.rows = pa.rows = s.rows;
  }
  __syncthreads();
  unsigned char *smem_a = smem + cr_persistent_plan_bytes(pb); /* plan a's region after plan b's */
  A *wb = (A *)smem, *wa = (A *)smem_a;
  float *acc_b = cr_persistent_acc(smem, pb), *acc_a = cr_persistent_acc(smem_a, pa);
  cr_persistent_stage_cols(wb, w_hh_b, 1, H, U, s.j0, s.units, pb.AS, prec);
  cr_persistent_stage_cols(wb + (long long)U * pb.AS, w_ih_b, 1, H, U, s.j0, s.units, pb.AS, prec);
  cr_persistent_stage_cols(wa, w_hh_a, 1, H, U, s.j0, s.units, pa.AS, prec);
  CrResidentA frag; /* plan b's, and plan a's in its upper half where both fit a half */
  cr_keep_resident_a(pb, wb, frag);
  cr_keep_resident_a<A, 1>(pa, wa, frag);
  float *x = cr_persistent_x(smem_a, pa); /* both regions' x buffers (=) zeros, then one cluster barrier */
  for (long long e = threadIdx.x; e < 2 * pa.x_floats; e += blockDim.x) x[e] = 0.0f;
  cr_exchange_begin(smem, pb);
  long long BH = (long long)B * H, n = (long long)s.rows * s.units;
  /* pair p < n is layer b's (b, j), p >= n layer a's; a pair's operands besides dh_next and layer a's
   * gradient from above: dh_out_b[t] and h_b[t] (layer b), h_a[t] (layer a), loaded ahead */
  struct Ops {
    float dh_out, h;
  };
  int il = 0; /* the tick whose operands load reads */
  auto load = [&](long long p, Ops &o) {
    bool a = p >= n;
    long long q = a ? p - n : p;
    int t = a ? T - il : T - 1 - il;
    if (t < 0 || t >= T) return;
    long long k = (long long)t * BH + (long long)(s.b0 + q / s.units) * H + s.j0 + q % s.units;
    o.dh_out = a ? 0.0f : dh_out_b[k];
    o.h = (a ? h_a : h_b)[k];
  };
  Ops ahead[1] = {};
  cr_ahead_load(ahead, 2 * n, load);
  for (int i = 0; i <= T; i++) {
    cr_ahead_cells(ahead, 2 * n, load, [&](long long p, const Ops &o) {
      bool a = p >= n;
      long long q = a ? p - n : p;
      int lb = (int)(q / s.units), u = (int)(q % s.units), j = s.j0 + u, t = a ? T - i : T - 1 - i;
      if (t < 0 || t >= T) return; /* layer a at tick 0, layer b at tick T */
      long long k = (long long)(s.b0 + lb) * H + j;
      /* layer a's gradient from above: dgates_b[t] W_ih_b, plan b's rows U.. of the tick before */
      float above = a ? cr_persistent_result(acc_b, pb, U + u, lb) : o.dh_out;
      float d = cr_rnn_backward(above + (a ? dh_next_a : dh_next_b)[k], o.h);
      (a ? dgates_a : dgates_b)[(long long)t * BH + k] = d;
      if (a)
        cr_exchange_put(smem_a, pa, i, lb, j, d, prec);
      else
        cr_exchange_put(smem, pb, i, lb, j, d, prec);
    });
    cr_persistent_arrive<true>();
    if (i < T) { /* tick i + 1's operands, beside this tick's barrier and products */
      il = i + 1;
      cr_ahead_load(ahead, 2 * n, load);
    }
    cr_persistent_wait<true>();
    if (i < T) cr_persistent_product(pb, wb, frag, nullptr, cr_exchange_x(smem, pb, i), acc_b, prec);
    if (i > 0) cr_persistent_product<A, 1>(pa, wa, frag, nullptr, cr_exchange_x(smem_a, pa, i), acc_a, prec);
    for (long long p = threadIdx.x; p < 2 * n; p += blockDim.x) {
      bool a = p >= n;
      long long q = a ? p - n : p;
      int lb = (int)(q / s.units), u = (int)(q % s.units);
      long long k = (long long)(s.b0 + lb) * H + s.j0 + u;
      if (a && i > 0)
        dh_next_a[k] = cr_persistent_result(acc_a, pa, u, lb);
      else if (!a && i < T)
        dh_next_b[k] = cr_persistent_result(acc_b, pb, u, lb);
    }
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL persistent_rnn_pair_backward_cluster(
    const float *dh_out_b, float *dh_next_a, float *dh_next_b, const float *h_a, const float *h_b,
    const float *w_hh_a, const float *w_ih_b, const float *w_hh_b, float *dgates_a, float *dgates_b, int T, int B,
    int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_rnn_pair_backward_body<__nv_bfloat16>(dh_out_b, dh_next_a, dh_next_b, h_a, h_b, w_hh_a, w_ih_b,
                                                     w_hh_b, dgates_a, dgates_b, T, B, H, U, prec);
  else
    persistent_rnn_pair_backward_body<float>(dh_out_b, dh_next_a, dh_next_b, h_a, h_b, w_hh_a, w_ih_b, w_hh_b,
                                             dgates_a, dgates_b, T, B, H, U, prec);
}
