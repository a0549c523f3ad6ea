/*
 * test_persistent_lstm: persistent_lstm_forward and persistent_lstm_backward (one cooperative launch
 * for all T steps each) against scalar stepwise references: forward gh = h_{t-1} W_hh^T in double,
 * then ref_lstm_forward (ref.c) per step; backward ref_lstm_backward per step, then dh_next =
 * dgates W_hh in double. Awkward shapes: H not a multiple of the units per block U (a short last
 * block), one block for all of H, B = 1, T = 1, H = 1; and the initial state as the first slot of a
 * [T+1,B,H] sequence. At TF32 and bf16 (prec 1, 2; PERSISTENT_PREC_SHAPES) the references round W_hh and
 * the right-hand side as the kernels do (common.h round_operand) and are teacher-forced, each step from the
 * kernels' own h_{t-1}, c_{t-1} (backward dgates[t]), so every step is checked alone at the fp32 tolerances;
 * a second run must match bit for bit and the products must differ from the unrounded ones.
 * The fp32 forward's gx is the rows of a 7-row token table (token_projection, persistent_shapes.h); where the
 * initial state has a buffer of its own, a second run reads the table by token id (layer 0's by-token path)
 * and must give the first run's h bit for bit, and the references its c and gates.
 */
#include "common.h"
#include "ref.h"
#include "persistent_shapes.h"
#include "../kernels/cuda/persistent_lstm.cu"


static void launch(const float *gx, const int *tokens, const float *w, const float *bih, const float *bhh,
                   const float *h0, const float *c0, float *h, float *c, float *gates, int T, int B, int H, int U,
                   int prec = CR_PREC_FP32) {
  if (persistent_clusters) {
    prec = cluster_prec(prec);
    int u = cluster_units(H, U), pb = (B + persistent_clusters - 1) / persistent_clusters;
    size_t shmem = (size_t)persistent_shared_bytes(4, u, H, pb, prec);
    count_resident(true, 4, u, H, pb, prec);
    CK(cudaFuncSetAttribute(persistent_lstm_forward_cluster, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
    persistent_lstm_forward_cluster<<<dim3(persistent_clusters * CR_CLUSTER), dim3(CR_BLOCK), shmem>>>(
        gx, tokens, w, bih, bhh, h0, c0, h, c, gates, T, B, H, u, prec);
    CK_LAUNCH();
    return;
  }
  int groups = grid_groups(B, (H + U - 1) / U), gb = (B + groups - 1) / groups; /* batch groups, their rows */
  unsigned blocks = (unsigned)(groups * ((H + U - 1) / U));
  size_t shmem = (size_t)persistent_shared_bytes(4, U, H, gb, prec);
  count_resident(true, 4, U, H, gb, prec);
  CK(cudaFuncSetAttribute(persistent_lstm_forward, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  void *args[] = {&gx, &tokens, &w, &bih, &bhh, &h0, &c0, &h, &c, &gates, &T, &B, &H, &U, &prec};
  CK(cudaLaunchCooperativeKernel(persistent_lstm_forward, dim3(blocks), dim3(CR_BLOCK), args, shmem));
  CK_LAUNCH();
}

/* Which backward the checks run: the column-stationary persistent_lstm_backward, or with rows the
 * row-stationary persistent_lstm_backward_rows (persistent_rows.cuh), whose exchange starts as NaN so
 * that a share read before it is written fails the checks, and in the cluster layout
 * persistent_lstm_backward_cluster_rows (persistent_cluster_rows.cuh). main runs every backward check
 * with both. */
static bool backward_rows = false;

static void launch_backward(const float *dho, float *dhn, float *dc, const float *gates, const float *cs,
                            const float *w, float *dg, int T, int B, int H, int U, int prec = CR_PREC_FP32) {
  if (persistent_clusters && backward_rows) {
    int u = cluster_units(H, U), pb = (B + persistent_clusters - 1) / persistent_clusters;
    size_t shmem = (size_t)persistent_cluster_rows_shared_bytes(4, u, H, pb, prec);
    count_resident_rows(4, u, H, pb, prec);
    CK(cudaFuncSetAttribute(persistent_lstm_backward_cluster_rows, cudaFuncAttributeMaxDynamicSharedMemorySize,
                            (int)shmem));
    persistent_lstm_backward_cluster_rows<<<dim3(persistent_clusters * CR_CLUSTER), dim3(CR_BLOCK), shmem>>>(
        dho, dhn, dc, gates, cs, w, dg, T, B, H, u, prec);
    CK_LAUNCH();
    return;
  }
  if (persistent_clusters) {
    prec = cluster_prec(prec);
    int u = cluster_units(H, U), pb = (B + persistent_clusters - 1) / persistent_clusters;
    size_t shmem = (size_t)persistent_shared_bytes(4, u, H, pb, prec);
    count_resident(false, 4, u, H, pb, prec);
    CK(cudaFuncSetAttribute(persistent_lstm_backward_cluster, cudaFuncAttributeMaxDynamicSharedMemorySize,
                            (int)shmem));
    persistent_lstm_backward_cluster<<<dim3(persistent_clusters * CR_CLUSTER), dim3(CR_BLOCK), shmem>>>(
        dho, dhn, dc, gates, cs, w, dg, T, B, H, u, prec);
    CK_LAUNCH();
    return;
  }
  if (backward_rows) {
    int groups = grid_groups(B, (H + U - 1) / U), gb = (B + groups - 1) / groups; /* batch groups, their rows */
    unsigned blocks = (unsigned)(groups * ((H + U - 1) / U));
    size_t shmem = (size_t)persistent_rows_shared_bytes(4, U, H, gb, prec);
    Dev<float> part((size_t)persistent_rows_exchange_floats(U, H, B, groups));
    CK(cudaMemset(part.p, 0xff, part.n * sizeof(float)));
    CK(cudaFuncSetAttribute(persistent_lstm_backward_rows, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
    void *args[] = {&dho, &dhn, &dc, &gates, &cs, &w, &dg, &part.p, &T, &B, &H, &U, &prec};
    CK(cudaLaunchCooperativeKernel(persistent_lstm_backward_rows, dim3(blocks), dim3(CR_BLOCK), args, shmem));
    CK_LAUNCH();
    return;
  }
  int groups = grid_groups(B, (H + U - 1) / U), gb = (B + groups - 1) / groups; /* batch groups, their rows */
  unsigned blocks = (unsigned)(groups * ((H + U - 1) / U));
  size_t shmem = (size_t)persistent_shared_bytes(4, U, H, gb, prec);
  count_resident(false, 4, U, H, gb, prec);
  CK(cudaFuncSetAttribute(persistent_lstm_backward, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  void *args[] = {&dho, &dhn, &dc, &gates, &cs, &w, &dg, &T, &B, &H, &U, &prec};
  CK(cudaLaunchCooperativeKernel(persistent_lstm_backward, dim3(blocks), dim3(CR_BLOCK), args, shmem));
  CK_LAUNCH();
}

static void check(const Shape &s, Rng &r) {
  int T = s.T, B = s.B, H = s.H, U = s.U;
  printf("forward%s T=%d B=%d H=%d U=%d%s\n", layout_name(), T, B, H, U,
         s.joined ? " (initial state in the sequence)" : "");
  size_t n = (size_t)B * H, g = 4 * n;
  TokenProjection tp = token_projection((size_t)T * B, 4 * (size_t)H, r); /* gx [T,B,G H] by token */
  auto &gx = tp.gx;
  auto w = rand_vec((size_t)4 * H * H, r, -0.5f, 0.5f);
  auto bih = rand_vec(4 * (size_t)H, r), bhh = rand_vec(4 * (size_t)H, r);
  auto h0 = rand_vec(n, r), c0 = rand_vec(n, r, -2, 2);

  /* reference, step by step */
  std::vector<float> href((size_t)T * n), cref((size_t)T * n), gref((size_t)T * g), gh(g);
  for (int t = 0; t < T; t++) {
    const float *hp = t == 0 ? h0.data() : href.data() + (size_t)(t - 1) * n;
    const float *cp = t == 0 ? c0.data() : cref.data() + (size_t)(t - 1) * n;
    for (int b = 0; b < B; b++)
      for (int row = 0; row < 4 * H; row++) {
        double acc = 0;
        for (int k = 0; k < H; k++) acc += (double)w[(size_t)row * H + k] * hp[(size_t)b * H + k];
        gh[(size_t)b * 4 * H + row] = (float)acc;
      }
    ref_lstm_forward(gx.data() + (size_t)t * g, gh.data(), bih.data(), bhh.data(), cp, gref.data() + (size_t)t * g,
                     cref.data() + (size_t)t * n, href.data() + (size_t)t * n, B, H);
  }

  Dev<float> dgx(gx), dw(w), dbih(bih), dbhh(bhh), dgates((size_t)T * g);
  std::vector<float> hgot, cgot;
  if (s.joined) {
    std::vector<float> hs((size_t)(T + 1) * n, 0.0f), cs((size_t)(T + 1) * n, 0.0f);
    std::copy(h0.begin(), h0.end(), hs.begin());
    std::copy(c0.begin(), c0.end(), cs.begin());
    Dev<float> dh(hs), dc(cs);
    launch(dgx.p, nullptr, dw.p, dbih.p, dbhh.p, dh.p, dc.p, dh.p + n, dc.p + n, dgates.p, T, B, H, U);
    auto ha = dh.down(), ca = dc.down();
    compare("initial h kept", std::vector<float>(ha.begin(), ha.begin() + (long)n), h0, 0.0f, 0.0f);
    compare("initial c kept", std::vector<float>(ca.begin(), ca.begin() + (long)n), c0, 0.0f, 0.0f);
    hgot.assign(ha.begin() + (long)n, ha.end());
    cgot.assign(ca.begin() + (long)n, ca.end());
  } else {
    Dev<float> dh0(h0), dc0(c0), dh((size_t)T * n), dc((size_t)T * n);
    launch(dgx.p, nullptr, dw.p, dbih.p, dbhh.p, dh0.p, dc0.p, dh.p, dc.p, dgates.p, T, B, H, U);
    hgot = dh.down();
    Dev<float> dtable(tp.table);
    Dev<int> dtokens(tp.tokens);
    launch(dtable.p, dtokens.p, dw.p, dbih.p, dbhh.p, dh0.p, dc0.p, dh.p, dc.p, dgates.p, T, B, H, U);
    compare("h, a second run by token bit for bit", dh.down(), hgot, 0.0f, 0.0f); /* thread order aside */
    cgot = dc.down();
  }
  compare("gates, every step", dgates.down(), gref, 1e-5f, 1e-4f);
  compare("c, every step", cgot, cref, 1e-5f, 1e-4f);
  compare("h, every step", hgot, href, 1e-5f, 1e-4f);
}

/* Random inputs of a backward pass: dh_out [T,B,H], dh_next and dc [B,H], W_hh [4H,H], cs [T+1,B,H] and the
 * saved gates [T,B,4H] (i, f, o in (0,1), g in (-1,1)). */
struct BackwardInputs {
  std::vector<float> dho, dhn, dc0, w, cs, gates;
};
static BackwardInputs backward_inputs(int T, int B, int H, Rng &r) {
  size_t n = (size_t)B * H;
  BackwardInputs in;
  in.dho = rand_vec((size_t)T * n, r);
  in.dhn = rand_vec(n, r);
  in.dc0 = rand_vec(n, r);
  in.w = rand_vec((size_t)4 * H * H, r, -0.5f, 0.5f);
  in.cs = rand_vec((size_t)(T + 1) * n, r, -2, 2);
  in.gates.resize((size_t)T * 4 * n);
  for (size_t e = 0; e < in.gates.size(); e++)
    in.gates[e] = ((e / (size_t)H) % 4 == 2) ? r.uniform(-1, 1) : r.uniform(0.01f, 0.99f);
  return in;
}

static void check_backward(const Shape &s, Rng &r) {
  int T = s.T, B = s.B, H = s.H, U = s.U;
  printf("backward%s%s T=%d B=%d H=%d U=%d\n", backward_rows ? " rows" : "", layout_name(), T, B, H, U);
  size_t n = (size_t)B * H, g = 4 * n;
  BackwardInputs in = backward_inputs(T, B, H, r);
  auto &dho = in.dho, &dhn = in.dhn, &dc0 = in.dc0, &w = in.w, &cs = in.cs, &gates = in.gates;

  std::vector<float> dh_ref(dhn), dc_ref(dc0), dg_ref((size_t)T * g);
  for (int t = T - 1; t >= 0; t--) {
    float *dg = dg_ref.data() + (size_t)t * g;
    ref_lstm_backward(dho.data() + (size_t)t * n, dh_ref.data(), dc_ref.data(), gates.data() + (size_t)t * g,
                      cs.data() + (size_t)t * n, cs.data() + (size_t)(t + 1) * n, dg, B, H);
    for (int b = 0; b < B; b++)
      for (int k = 0; k < H; k++) {
        double acc = 0;
        for (int row = 0; row < 4 * H; row++) acc += (double)dg[(size_t)b * 4 * H + row] * w[(size_t)row * H + k];
        dh_ref[(size_t)b * H + k] += (float)acc;
      }
  }

  Dev<float> ddho(dho), ddhn(dhn), ddc(dc0), dgates(gates), dcs(cs), dw(w), ddg((size_t)T * g);
  launch_backward(ddho.p, ddhn.p, ddc.p, dgates.p, dcs.p, dw.p, ddg.p, T, B, H, U);
  compare("dgates, every step", ddg.down(), dg_ref, 1e-5f, 1e-4f);
  compare("dc_{-1}", ddc.down(), dc_ref, 1e-5f, 1e-4f);
  compare("dh_{-1} = dgates_0 W_hh", ddhn.down(), dh_ref, 1e-5f, 1e-4f);
}

/* Forward at precision prec (TF32 or bf16), teacher-forced: the reference's step t starts from the kernel's own
 * h_{t-1}, c_{t-1} (h0, c0 at t = 0) and multiplies round_operand(W_hh) by round_operand(h_{t-1}) in double, as
 * the kernel rounds them (a reference running on its own h would, now and then, round a value 1 ulp off the
 * kernel's to the other side). With min_diff > 0, h must also differ from the unrounded products' by more. */
static void check_prec(const Shape &s, Rng &r, int prec, double min_diff) {
  int T = s.T, B = s.B, H = s.H, U = s.U;
  printf("%s%s T=%d B=%d H=%d U=%d\n", prec_name(prec), layout_name(), T, B, H, U);
  size_t n = (size_t)B * H, g = 4 * n;
  auto gx = rand_vec((size_t)T * g, r, -2, 2), w = rand_vec((size_t)4 * H * H, r, -0.5f, 0.5f);
  auto bih = rand_vec(4 * (size_t)H, r), bhh = rand_vec(4 * (size_t)H, r);
  auto h0 = rand_vec(n, r), c0 = rand_vec(n, r, -2, 2);

  Dev<float> dgx(gx), dw(w), dbih(bih), dbhh(bhh), dh0(h0), dc0(c0), dh((size_t)T * n), dc((size_t)T * n),
      dgates((size_t)T * g);
  launch(dgx.p, nullptr, dw.p, dbih.p, dbhh.p, dh0.p, dc0.p, dh.p, dc.p, dgates.p, T, B, H, U, prec);
  auto hgot = dh.down(), cgot = dc.down(), ggot = dgates.down();
  launch(dgx.p, nullptr, dw.p, dbih.p, dbhh.p, dh0.p, dc0.p, dh.p, dc.p, dgates.p, T, B, H, U, second_run_prec(prec));
  compare(second_run_label("h", prec), dh.down(), hgot, 0.0f, 0.0f);

  auto wr = round_operands(w.data(), w.size(), prec);
  std::vector<float> href((size_t)T * n), cref((size_t)T * n), gref((size_t)T * g), gh(g);
  std::vector<float> hraw((size_t)T * n), craw(n), graw(g), ghraw(g); /* from the unrounded products */
  for (int t = 0; t < T; t++) {
    const float *hp = t == 0 ? h0.data() : hgot.data() + (size_t)(t - 1) * n;
    const float *cp = t == 0 ? c0.data() : cgot.data() + (size_t)(t - 1) * n;
    auto hr = round_operands(hp, n, prec);
    ref_xwt(hr.data(), wr.data(), B, 4 * H, H, gh.data());
    ref_xwt(hp, w.data(), B, 4 * H, H, ghraw.data());
    ref_lstm_forward(gx.data() + (size_t)t * g, gh.data(), bih.data(), bhh.data(), cp, gref.data() + (size_t)t * g,
                     cref.data() + (size_t)t * n, href.data() + (size_t)t * n, B, H);
    ref_lstm_forward(gx.data() + (size_t)t * g, ghraw.data(), bih.data(), bhh.data(), cp, graw.data(), craw.data(),
                     hraw.data() + (size_t)t * n, B, H);
  }
  compare("gates, every step", ggot, gref, 1e-5f, 1e-4f);
  compare("c, every step", cgot, cref, 1e-5f, 1e-4f);
  compare("h, every step", hgot, href, 1e-5f, 1e-4f);
  if (min_diff > 0) expect_differ("h differs from the unrounded products'", hgot, hraw, min_diff);
}

/* Backward at precision prec, teacher-forced: the reference's dh_next for step t-1 is the product of the kernel's
 * own dgates[t], rounded as the kernel rounds it, with round_operand(W_hh), summed in double. With min_diff > 0,
 * dh_{-1} must also differ from the unrounded product by more. */
static void check_backward_prec(const Shape &s, Rng &r, int prec, double min_diff) {
  int T = s.T, B = s.B, H = s.H, U = s.U;
  printf("%s backward%s%s T=%d B=%d H=%d U=%d\n", prec_name(prec), backward_rows ? " rows" : "", layout_name(), T, B,
         H, U);
  size_t n = (size_t)B * H, g = 4 * n;
  BackwardInputs in = backward_inputs(T, B, H, r);
  auto &dho = in.dho, &dhn = in.dhn, &dc0 = in.dc0, &w = in.w, &cs = in.cs, &gates = in.gates;

  Dev<float> ddho(dho), ddhn(dhn), ddc(dc0), dgates(gates), dcs(cs), dw(w), ddg((size_t)T * g);
  launch_backward(ddho.p, ddhn.p, ddc.p, dgates.p, dcs.p, dw.p, ddg.p, T, B, H, U, prec);
  auto dggot = ddg.down(), dhgot = ddhn.down(), dcgot = ddc.down();
  ddhn.up(dhn);
  ddc.up(dc0);
  /* the grid layout's row-stationary kernel keeps a in shared memory (FMAs) */
  int again = backward_rows && !persistent_clusters ? prec : second_run_prec(prec);
  launch_backward(ddho.p, ddhn.p, ddc.p, dgates.p, dcs.p, dw.p, ddg.p, T, B, H, U, again);
  compare(second_run_label("dh_{-1}", again), ddhn.down(), dhgot, 0.0f, 0.0f);

  auto wr = round_operands(w.data(), w.size(), prec);
  std::vector<float> dh_ref(dhn), dc_ref(dc0), dg_ref((size_t)T * g), dh_raw(n);
  for (int t = T - 1; t >= 0; t--) {
    const float *dgk = dggot.data() + (size_t)t * g; /* the kernel's dgates[t] */
    ref_lstm_backward(dho.data() + (size_t)t * n, dh_ref.data(), dc_ref.data(), gates.data() + (size_t)t * g,
                      cs.data() + (size_t)t * n, cs.data() + (size_t)(t + 1) * n, dg_ref.data() + (size_t)t * g, B, H);
    auto dgr = round_operands(dgk, g, prec);
    ref_xw(dgr.data(), wr.data(), B, 4 * H, H, dh_ref.data(), dh_ref.data());
    ref_xw(dgk, w.data(), B, 4 * H, H, nullptr, dh_raw.data());
  }
  compare("dgates, every step", dggot, dg_ref, 1e-5f, 1e-4f);
  compare("dc_{-1}", dcgot, dc_ref, 1e-5f, 1e-4f);
  compare("dh_{-1} = round(dgates_0) round(W_hh)", dhgot, dh_ref, 1e-5f, 1e-4f);
  if (min_diff > 0) expect_differ("dh_{-1} differs from the unrounded product", dhgot, dh_raw, min_diff);
}

int main() {
  Rng r(20261202);
  /* the row-stationary backward first, in the cluster layout and then in the grid layout (one batch
   * group, then up to 3): its mutants
   * (mutation-check.sh) fail at once. The grid layout's at every shape in fp32, and the TF32 and bf16
   * roundings at the precision shapes (its products are FMAs of the rounded operands whether or not
   * the host asks for tensor cores). */
  backward_rows = true;
  run_cluster_rows_checks(r, check_backward, check_backward_prec);
  for (const Shape &s : PERSISTENT_SHAPES) check_backward(s, r);
  for (int prec : {CR_PREC_TF32, CR_PREC_BF16, CR_PREC_TF32 | CR_PREC_MMA})
    for (const Shape &s : PERSISTENT_PREC_SHAPES) check_backward_prec(s, r, prec, prec_min_diff(s, prec));
  run_group_rows_checks(r, check_backward);
  backward_rows = false;
  for (const Shape &s : PERSISTENT_SHAPES) check(s, r);
  for (const Shape &s : PERSISTENT_SHAPES) check_backward(s, r);
  for_each_precision_check([&](const Shape &s, int prec) {
    double min_diff = prec_min_diff(s, prec);
    check_prec(s, r, prec, min_diff);
    check_backward_prec(s, r, prec, min_diff);
  });
  run_group_checks(r, check, check_backward, check_prec, check_backward_prec);
  run_cluster_checks(r, check, check_backward, check_prec, check_backward_prec);
  int T = 50, B = 50, H = 256, U = 32; /* 8 blocks: resident on the CPU layer with one thread too */
  size_t n = (size_t)B * H;
  Dev<float> gx((size_t)T * 4 * n), w((size_t)4 * H * H), bih(4 * (size_t)H), bhh(4 * (size_t)H), h0(n), c0(n),
      h((size_t)T * n), c((size_t)T * n), gates((size_t)T * 4 * n);
  CK(cudaMemset(gx.p, 0, (size_t)T * 4 * n * 4)); CK(cudaMemset(w.p, 0, (size_t)4 * H * H * 4));
  CK(cudaMemset(bih.p, 0, 4 * (size_t)H * 4)); CK(cudaMemset(bhh.p, 0, 4 * (size_t)H * 4));
  CK(cudaMemset(h0.p, 0, n * 4)); CK(cudaMemset(c0.p, 0, n * 4));
  printf("timing T=%d B=%d H=%d U=%d\n", T, B, H, U);
  TIME_IT("persistent_lstm_forward (whole window)", 20,
          launch(gx.p, nullptr, w.p, bih.p, bhh.p, h0.p, c0.p, h.p, c.p, gates.p, T, B, H, U));
  expect_resident(true);
  return finish("test_persistent_lstm");
}
