/*
 * persistent_rnn.cu: the tanh-RNN forward and backward passes of one layer over all T timesteps,
 * one cooperative launch each, weight-stationary, with the blocks, units and W_hh slices of
 * persistent_common.cuh (G = 1 row per unit).
 *
 * persistent_rnn_forward
 *   gx [T,B,H] = x W_ih^T for the whole window (one GEMM before this launch, no bias), or with
 *   tokens [T,B] (int32; null: none) the token table [V,H] whose row tokens[t,b] is gx[t,b]
 *   (cr_gx_row, as persistent_lstm_forward);
 *   w_hh [H,H] row-major fp32; b_ih, b_hh [H]; h0 [B,H] the initial state;
 *   writes (=) h [T,B,H], h_t = tanh((gx_t + b_ih) + (h_{t-1} W_hh^T + b_hh)), as rnn_forward_step
 *   (the cell saves nothing else). h0 may be h - B*H (a [T+1,B,H] sequence, initial state first).
 *   Launch: cooperative, grid = G ceil(H / U) blocks of CR_BLOCK threads (G batch groups,
 *   persistent_layout.cuh), dynamic shared memory persistent_shared_bytes(1, U, H, ceil(B / G), prec): block k's rows j of W_hh for its units j, an h tile and
 *   the products. Each timestep every block stages h_{t-1} and computes W_hh[j,:] . h_{t-1}[b,:]
 *   (fp32, cr_persistent_product) for its (b, j) pairs and writes h_t; then one grid barrier
 *   publishes h_t to every block for step t+1.
 *
 * persistent_rnn_backward
 *   dh_out [T,B,H] gradient from above; dh_next [B,H] in: dL/dh_{T-1} from beyond the window, out:
 *   dL/dh_{-1}; h [T,B,H] the saved outputs h_t (slots 1..T of the forward's [T+1,B,H]);
 *   w_hh [H,H]; writes (=) dgates [T,B,H] = dL/d pre-activation, as rnn_backward_step.
 *   Launched as the forward (G batch groups); block k keeps the columns j of its units of W_hh (the
 *   same size as forward's).
 * Per step t = T-1 .. 0: each block writes dgates[t][b, j] = (dh_out + dh_next)(1 - h_t^2) for its
 * (b, j) pairs; one grid barrier; then each block stages dgates[t] and sets (=) dh_next[b, j] =
 * dgates[t][b, :] . W_hh[:, j] (fp32, cr_persistent_product) for its units. dh_next of a pair is
 * read and written only by the thread that owns the pair (the same mapping in both phases), and
 * dgates[t] is never written again, so one grid barrier per step suffices.
 *
 * prec, the last argument of both kernels: the products' precision, CR_PREC_FP32, _TF32 or _BF16
 * (persistent_common.cuh: W_hh and the staged right-hand side rounded as a tensor-core GEMM reads them),
 * TF32 and BF16 | CR_PREC_MMA on tensor cores (sm_80 and newer). Launch bounds (CR_BLOCK, 1): one
 * block per SM, so ptxas may give a thread the registers of the mma tiles (no spills).
 */
#include "persistent_exchange.cuh"

/* Pairs a thread of persistent_rnn_backward_cluster loads ahead: two, but one on sm_120, where two
 * spill 8 bytes (nvcc 13.0, ptxas -v; sm_90 and sm_100 keep two without a spill). */
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 1200
#define CR_RNN_BACKWARD_AHEAD 1
#else
#define CR_RNN_BACKWARD_AHEAD 2
#endif

template <typename A, bool CLUSTER>
static __device__ __forceinline__ void persistent_rnn_forward_body(const float *gx, const int *tokens,
    const float *w_hh, const float *b_ih, const float *b_hh, const float *h0, float *h, int T, int B, int H, int U,
    int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<CLUSTER>(H, B, U);
  if (s.rows == 0) return; /* a cluster past the batch: all its blocks alike */
  CrPersistentPlan plan = cr_persistent_plan(U, H, s.PB, cr_layout_prec<CLUSTER>(prec));
  plan.rows = s.rows;
  float *acc = cr_persistent_acc(smem, plan);
  cr_persistent_stage_rows(w, w_hh, 1, H, U, s.j0, s.units, plan.AS, prec);
  CrResidentA frag;
  cr_keep_resident_a(plan, w, frag);
  cr_exchange_begin(smem, plan);
  long long BH = (long long)B * H, pairs = (long long)s.rows * s.units;
  /* a pair's operands of a step besides its product: gx + b_ih and b_hh */
  struct Ops {
    float x, hb;
  };
  cr_forward_steps<2, Ops, CLUSTER>( /* 2 pairs a thread ahead (one spills 4 bytes of the grid kernel; two do not) */
      T,
      pairs,
      [&](int t, long long p, Ops &o) {
        int j = s.j0 + (int)(p % s.units);
        o.x = gx[cr_gx_row(tokens, t, s.b0 + (int)(p / s.units), B) * H + j] + b_ih[j];
        o.hb = b_hh[j];
      },
      [&](int t) { cr_forward_product<A, CR_X_STRIDED>(plan, w, frag, smem, acc, h0, h, t, s.b0, B, H, prec); },
      [&](int t, long long p, const Ops &o) {
        int lb = (int)(p / s.units), u = (int)(p % s.units), j = s.j0 + u;
        long long k = (long long)t * BH + (long long)(s.b0 + lb) * H + j;
        float hn = cr_rnn_forward(o.x + (cr_persistent_result(acc, plan, u, lb) + o.hb));
        h[k] = hn;
        if (t + 1 < T) cr_exchange_put<CR_X_STRIDED>(smem, plan, t + 1, lb, j, hn, prec);
      });
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1)
    persistent_rnn_forward(const float *gx, const int *tokens, const float *w_hh, const float *b_ih,
                           const float *b_hh, const float *h0, float *h, int T, int B, int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_rnn_forward_body<__nv_bfloat16, false>(gx, tokens, w_hh, b_ih, b_hh, h0, h, T, B, H, U, prec);
  else
    persistent_rnn_forward_body<float, false>(gx, tokens, w_hh, b_ih, b_hh, h0, h, T, B, H, U, prec);
}

/* persistent_rnn_forward_cluster: the same pass in the cluster layout (persistent_layout.cuh; the
 * same arguments and results); an ordinary launch of C clusters of CR_CLUSTER blocks, U >= ceil(H /
 * CR_CLUSTER), shared memory persistent_shared_bytes(1, U, H, ceil(B / C), prec); sm_90 and newer.
 * prec | CR_PREC_EXCHANGE: h_t through distributed shared memory (persistent_exchange.cuh), backward
 * dgates[t] likewise. */
extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL
    persistent_rnn_forward_cluster(const float *gx, const int *tokens, const float *w_hh, const float *b_ih,
                                   const float *b_hh, const float *h0, float *h, int T, int B, int H, int U,
                                   int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_rnn_forward_body<__nv_bfloat16, true>(gx, tokens, w_hh, b_ih, b_hh, h0, h, T, B, H, U, prec);
  else
    persistent_rnn_forward_body<float, true>(gx, tokens, w_hh, b_ih, b_hh, h0, h, T, B, H, U, prec);
}

template <typename A, bool CLUSTER>
static __device__ __forceinline__ void persistent_rnn_backward_body(const float *dh_out, float *dh_next,
    const float *h, const float *w_hh, float *dgates, int T, int B, int H, int U, int prec) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  A *w = (A *)smem;
  CrPersistentSlice s = cr_persistent_slice<CLUSTER>(H, B, U);
  if (s.rows == 0) return;
  CrPersistentPlan plan = cr_persistent_plan(U, H, s.PB, cr_layout_prec<CLUSTER>(prec));
  plan.rows = s.rows;
  float *acc = cr_persistent_acc(smem, plan);
  cr_persistent_stage_cols(w, w_hh, 1, H, U, s.j0, s.units, plan.AS, prec);
  CrResidentA frag;
  cr_keep_resident_a(plan, w, frag);
  cr_exchange_begin(smem, plan);
  long long BH = (long long)B * H, pairs = (long long)s.rows * s.units;
  /* a pair's operands of a step besides dh_next: dh_out[t] and h_t, loaded ahead (cr_ahead_load) */
  struct Ops {
    float dh_out, h;
  };
  int tl = T - 1; /* the step whose operands load reads */
  auto load = [&](long long p, Ops &o) {
    long long k = (long long)tl * BH + (long long)(s.b0 + p / s.units) * H + s.j0 + p % s.units;
    o.dh_out = dh_out[k];
    o.h = h[k];
  };
  /* pairs a thread loads ahead: CR_RNN_BACKWARD_AHEAD in clusters, one in the grid layout (two spill
   * there at sm_90: 8 bytes, its batch groups' slice held in registers beside them) */
  Ops ahead[CLUSTER ? CR_RNN_BACKWARD_AHEAD : 1] = {};
  if (T > 0) cr_ahead_load(ahead, pairs, load);
  for (int t = T - 1; t >= 0; t--) {
    float *dg = dgates + (long long)t * BH;
    cr_ahead_cells(ahead, pairs, load, [&](long long p, const Ops &o) {
      int lb = (int)(p / s.units), j = s.j0 + (int)(p % s.units);
      long long k = (long long)(s.b0 + lb) * H + j;
      float d = cr_rnn_backward(o.dh_out + dh_next[k], o.h);
      dg[k] = d;
      cr_exchange_put<CR_X_STRIDED>(smem, plan, t, lb, j, d, prec);
    });
    cr_persistent_arrive<CLUSTER>();
    if (t > 0) { /* step t-1's operands, beside this step's barrier (in clusters) and product */
      tl = t - 1;
      cr_ahead_load(ahead, pairs, load);
    }
    cr_persistent_wait<CLUSTER>();
    const float *y = plan.exchange ? nullptr : dg + (long long)s.b0 * H; /* null: exchanged */
    cr_persistent_product<A, 0, CR_X_STRIDED>(plan, w, frag, y, cr_exchange_x(smem, plan, t), acc, prec);
    for (long long p = threadIdx.x; p < pairs; p += blockDim.x) {
      int lb = (int)(p / s.units), u = (int)(p % s.units);
      dh_next[(long long)(s.b0 + lb) * H + s.j0 + u] = cr_persistent_result(acc, plan, u, lb);
    }
  }
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1)
    persistent_rnn_backward(const float *dh_out, float *dh_next, const float *h, const float *w_hh, float *dgates,
                            int T, int B, int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_rnn_backward_body<__nv_bfloat16, false>(dh_out, dh_next, h, w_hh, dgates, T, B, H, U, prec);
  else
    persistent_rnn_backward_body<float, false>(dh_out, dh_next, h, w_hh, dgates, T, B, H, U, prec);
}

/* persistent_rnn_backward_cluster: persistent_rnn_backward in the cluster layout (the same
 * arguments and results; launched as persistent_rnn_forward_cluster, with its shared memory). */
extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) CR_CLUSTER_KERNEL
    persistent_rnn_backward_cluster(const float *dh_out, float *dh_next, const float *h, const float *w_hh,
                                    float *dgates, int T, int B, int H, int U, int prec) {
  if (cr_prec_rounding(prec) == CR_PREC_BF16)
    persistent_rnn_backward_body<__nv_bfloat16, true>(dh_out, dh_next, h, w_hh, dgates, T, B, H, U, prec);
  else
    persistent_rnn_backward_body<float, true>(dh_out, dh_next, h, w_hh, dgates, T, B, H, U, prec);
}
