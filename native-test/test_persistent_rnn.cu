/*
 * test_persistent_rnn: persistent_rnn_forward and persistent_rnn_backward (one cooperative launch
 * for all T steps each) against scalar stepwise references: forward gh = h_{t-1} W_hh^T in double,
 * then ref_rnn_forward (ref.c) per step; backward ref_rnn_backward per step, then dh_next =
 * dgates W_hh in double. Awkward shapes as test_persistent_lstm: H not a multiple of the units
 * per block U (a short last block), one block for all of H, B = 1, T = 1, H = 1; and the initial
 * state as the first slot of a [T+1,B,H] sequence. At TF32 and bf16 (prec 1, 2; PERSISTENT_PREC_SHAPES) the
 * references round W_hh and the right-hand side as the kernels do (common.h round_operand) and are
 * teacher-forced, each step from the kernels' own h_{t-1} (backward dgates[t]), so every step is checked alone
 * at the fp32 tolerances; a second run must match bit for bit and the products must differ from the unrounded
 * ones.
 * The fp32 forward's gx is the rows of a 7-row token table (token_projection, persistent_shapes.h); where the
 * initial state has a buffer of its own, a second run reads the table by token id (layer 0's by-token path)
 * and must give the first run's h bit for bit.
 */
#include "common.h"
#include "ref.h"
#include "persistent_shapes.h"
#include "../kernels/cuda/persistent_rnn.cu"


static void launch(const float *gx, const int *tokens, const float *w, const float *bih, const float *bhh,
                   const float *h0, float *h, int T, int B, int H, int U, int prec = CR_PREC_FP32) {
  if (persistent_clusters) {
    prec = cluster_prec(prec);
    int u = cluster_units(H, U), pb = (B + persistent_clusters - 1) / persistent_clusters;
    size_t shmem = (size_t)persistent_shared_bytes(1, u, H, pb, prec);
    count_resident(true, 1, u, H, pb, prec);
    CK(cudaFuncSetAttribute(persistent_rnn_forward_cluster, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
    persistent_rnn_forward_cluster<<<dim3(persistent_clusters * CR_CLUSTER), dim3(CR_BLOCK), shmem>>>(
        gx, tokens, w, bih, bhh, h0, h, T, B, H, u, prec);
    CK_LAUNCH();
    return;
  }
  int groups = grid_groups(B, (H + U - 1) / U), gb = (B + groups - 1) / groups; /* batch groups, their rows */
  unsigned blocks = (unsigned)(groups * ((H + U - 1) / U));
  size_t shmem = (size_t)persistent_shared_bytes(1, U, H, gb, prec);
  count_resident(true, 1, U, H, gb, prec);
  CK(cudaFuncSetAttribute(persistent_rnn_forward, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  void *args[] = {&gx, &tokens, &w, &bih, &bhh, &h0, &h, &T, &B, &H, &U, &prec};
  CK(cudaLaunchCooperativeKernel(persistent_rnn_forward, dim3(blocks), dim3(CR_BLOCK), args, shmem));
  CK_LAUNCH();
}

static void launch_backward(const float *dho, float *dhn, const float *h, const float *w, float *dg, int T, int B,
                            int H, int U, int prec = CR_PREC_FP32) {
  if (persistent_clusters) {
    prec = cluster_prec(prec);
    int u = cluster_units(H, U), pb = (B + persistent_clusters - 1) / persistent_clusters;
    size_t shmem = (size_t)persistent_shared_bytes(1, u, H, pb, prec);
    count_resident(false, 1, u, H, pb, prec);
    CK(cudaFuncSetAttribute(persistent_rnn_backward_cluster, cudaFuncAttributeMaxDynamicSharedMemorySize,
                            (int)shmem));
    persistent_rnn_backward_cluster<<<dim3(persistent_clusters * CR_CLUSTER), dim3(CR_BLOCK), shmem>>>(
        dho, dhn, h, w, dg, T, B, H, u, prec);
    CK_LAUNCH();
    return;
  }
  int groups = grid_groups(B, (H + U - 1) / U), gb = (B + groups - 1) / groups; /* batch groups, their rows */
  unsigned blocks = (unsigned)(groups * ((H + U - 1) / U));
  size_t shmem = (size_t)persistent_shared_bytes(1, U, H, gb, prec);
  count_resident(false, 1, U, H, gb, prec);
  CK(cudaFuncSetAttribute(persistent_rnn_backward, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  void *args[] = {&dho, &dhn, &h, &w, &dg, &T, &B, &H, &U, &prec};
  CK(cudaLaunchCooperativeKernel(persistent_rnn_backward, dim3(blocks), dim3(CR_BLOCK), args, shmem));
  CK_LAUNCH();
}

static void check(const Shape &s, Rng &r) {
  int T = s.T, B = s.B, H = s.H, U = s.U;
  printf("forward%s T=%d B=%d H=%d U=%d%s\n", layout_name(), T, B, H, U,
         s.joined ? " (initial state in the sequence)" : "");
  size_t n = (size_t)B * H;
  TokenProjection tp = token_projection((size_t)T * B, (size_t)H, r); /* gx [T,B,G H] by token */
  auto &gx = tp.gx;
  auto w = rand_vec((size_t)H * H, r, -0.5f, 0.5f);
  auto bih = rand_vec((size_t)H, r), bhh = rand_vec((size_t)H, r), h0 = rand_vec(n, r);

  /* reference, step by step */
  std::vector<float> href((size_t)T * n), gh(n);
  for (int t = 0; t < T; t++) {
    const float *hp = t == 0 ? h0.data() : href.data() + (size_t)(t - 1) * n;
    for (int b = 0; b < B; b++)
      for (int row = 0; row < H; row++) {
        double acc = 0;
        for (int k = 0; k < H; k++) acc += (double)w[(size_t)row * H + k] * hp[(size_t)b * H + k];
        gh[(size_t)b * H + row] = (float)acc;
      }
    ref_rnn_forward(gx.data() + (size_t)t * n, gh.data(), bih.data(), bhh.data(), href.data() + (size_t)t * n, B, H);
  }

  Dev<float> dgx(gx), dw(w), dbih(bih), dbhh(bhh);
  std::vector<float> hgot;
  if (s.joined) {
    std::vector<float> hs((size_t)(T + 1) * n, 0.0f);
    std::copy(h0.begin(), h0.end(), hs.begin());
    Dev<float> dh(hs);
    launch(dgx.p, nullptr, dw.p, dbih.p, dbhh.p, dh.p, dh.p + n, T, B, H, U);
    auto ha = dh.down();
    compare("initial h kept", std::vector<float>(ha.begin(), ha.begin() + (long)n), h0, 0.0f, 0.0f);
    hgot.assign(ha.begin() + (long)n, ha.end());
  } else {
    Dev<float> dh0(h0), dh((size_t)T * n);
    launch(dgx.p, nullptr, dw.p, dbih.p, dbhh.p, dh0.p, dh.p, T, B, H, U);
    hgot = dh.down();
    Dev<float> dtable(tp.table);
    Dev<int> dtokens(tp.tokens);
    launch(dtable.p, dtokens.p, dw.p, dbih.p, dbhh.p, dh0.p, dh.p, T, B, H, U);
    compare("h, a second run by token bit for bit", dh.down(), hgot, 0.0f, 0.0f); /* thread order aside */
  }
  compare("h, every step", hgot, href, 1e-5f, 1e-4f);
}

static void check_backward(const Shape &s, Rng &r) {
  int T = s.T, B = s.B, H = s.H, U = s.U;
  printf("backward%s T=%d B=%d H=%d U=%d\n", layout_name(), T, B, H, U);
  size_t n = (size_t)B * H;
  auto dho = rand_vec((size_t)T * n, r), dhn = rand_vec(n, r);
  /* W_hh at PyTorch's init scale: at +-0.5 dh grows about 5x a step at H = 64 (no gate damps it as
   * in the LSTM and GRU) and the fp32 sums lose digits to cancellation the reference does not */
  float a = 1.0f / sqrtf((float)H);
  auto w = rand_vec((size_t)H * H, r, -a, a), h = rand_vec((size_t)T * n, r, -0.99f, 0.99f);

  std::vector<float> dh_ref(dhn), dg_ref((size_t)T * n);
  for (int t = T - 1; t >= 0; t--) {
    float *dg = dg_ref.data() + (size_t)t * n;
    ref_rnn_backward(dho.data() + (size_t)t * n, dh_ref.data(), h.data() + (size_t)t * n, dg, B, H);
    for (int b = 0; b < B; b++)
      for (int k = 0; k < H; k++) {
        double acc = 0;
        for (int row = 0; row < H; row++) acc += (double)dg[(size_t)b * H + row] * w[(size_t)row * H + k];
        dh_ref[(size_t)b * H + k] += (float)acc;
      }
  }

  Dev<float> ddho(dho), ddhn(dhn), dh(h), dw(w), ddg((size_t)T * n);
  launch_backward(ddho.p, ddhn.p, dh.p, dw.p, ddg.p, T, B, H, U);
  compare("dgates, every step", ddg.down(), dg_ref, 1e-5f, 1e-4f);
  compare("dh_{-1} = dgates_0 W_hh", ddhn.down(), dh_ref, 1e-5f, 1e-4f);
}

/* Forward at precision prec (TF32 or bf16), teacher-forced: the reference's step t starts from the kernel's own
 * h_{t-1} (h0 at t = 0) and multiplies round_operand(W_hh) by round_operand(h_{t-1}) in double, as the kernel
 * rounds them (a reference running on its own h would, now and then, round a value 1 ulp off the kernel's to
 * the other side). With min_diff > 0, h must also differ from the unrounded products' by more. */
static void check_prec(const Shape &s, Rng &r, int prec, double min_diff) {
  int T = s.T, B = s.B, H = s.H, U = s.U;
  printf("%s%s T=%d B=%d H=%d U=%d\n", prec_name(prec), layout_name(), T, B, H, U);
  size_t n = (size_t)B * H;
  auto gx = rand_vec((size_t)T * n, r, -2, 2), w = rand_vec((size_t)H * H, r, -0.5f, 0.5f);
  auto bih = rand_vec((size_t)H, r), bhh = rand_vec((size_t)H, r), h0 = rand_vec(n, r);

  Dev<float> dgx(gx), dw(w), dbih(bih), dbhh(bhh), dh0(h0), dh((size_t)T * n);
  launch(dgx.p, nullptr, dw.p, dbih.p, dbhh.p, dh0.p, dh.p, T, B, H, U, prec);
  auto hgot = dh.down();
  launch(dgx.p, nullptr, dw.p, dbih.p, dbhh.p, dh0.p, dh.p, T, B, H, U, second_run_prec(prec));
  compare(second_run_label("h", prec), dh.down(), hgot, 0.0f, 0.0f);

  auto wr = round_operands(w.data(), w.size(), prec);
  std::vector<float> href((size_t)T * n), gh(n), hraw((size_t)T * n), ghraw(n); /* raw: the unrounded products */
  for (int t = 0; t < T; t++) {
    const float *hp = t == 0 ? h0.data() : hgot.data() + (size_t)(t - 1) * n;
    auto hr = round_operands(hp, n, prec);
    ref_xwt(hr.data(), wr.data(), B, H, H, gh.data());
    ref_xwt(hp, w.data(), B, H, H, ghraw.data());
    const float *xt = gx.data() + (size_t)t * n;
    ref_rnn_forward(xt, gh.data(), bih.data(), bhh.data(), href.data() + (size_t)t * n, B, H);
    ref_rnn_forward(xt, ghraw.data(), bih.data(), bhh.data(), hraw.data() + (size_t)t * n, B, H);
  }
  compare("h, every step", hgot, href, 1e-5f, 1e-4f);
  if (min_diff > 0) expect_differ("h differs from the unrounded products'", hgot, hraw, min_diff);
}

/* Backward at precision prec, teacher-forced: the reference's dh_next for step t-1 is the product of the kernel's
 * own dgates[t], rounded as the kernel rounds it, with round_operand(W_hh), summed in double. With min_diff > 0,
 * dh_{-1} must also differ from the unrounded product by more. */
static void check_backward_prec(const Shape &s, Rng &r, int prec, double min_diff) {
  int T = s.T, B = s.B, H = s.H, U = s.U;
  printf("%s backward%s T=%d B=%d H=%d U=%d\n", prec_name(prec), layout_name(), T, B, H, U);
  size_t n = (size_t)B * H;
  auto dho = rand_vec((size_t)T * n, r), dhn = rand_vec(n, r);
  float a = 1.0f / sqrtf((float)H); /* W_hh at PyTorch's init scale, as in check_backward */
  auto w = rand_vec((size_t)H * H, r, -a, a), h = rand_vec((size_t)T * n, r, -0.99f, 0.99f);

  Dev<float> ddho(dho), ddhn(dhn), dh(h), dw(w), ddg((size_t)T * n);
  launch_backward(ddho.p, ddhn.p, dh.p, dw.p, ddg.p, T, B, H, U, prec);
  auto dggot = ddg.down(), dhgot = ddhn.down();
  ddhn.up(dhn);
  launch_backward(ddho.p, ddhn.p, dh.p, dw.p, ddg.p, T, B, H, U, second_run_prec(prec));
  compare(second_run_label("dh_{-1}", prec), ddhn.down(), dhgot, 0.0f, 0.0f);

  auto wr = round_operands(w.data(), w.size(), prec);
  std::vector<float> dh_ref(dhn), dg_ref((size_t)T * n), dh_raw(n);
  for (int t = T - 1; t >= 0; t--) {
    const float *dgk = dggot.data() + (size_t)t * n; /* the kernel's dgates[t] */
    ref_rnn_backward(dho.data() + (size_t)t * n, dh_ref.data(), h.data() + (size_t)t * n, dg_ref.data() + (size_t)t * n,
                     B, H);
    auto dgr = round_operands(dgk, n, prec);
    ref_xw(dgr.data(), wr.data(), B, H, H, dh_ref.data(), dh_ref.data());
    ref_xw(dgk, w.data(), B, H, H, nullptr, dh_raw.data());
  }
  compare("dgates, every step", dggot, dg_ref, 1e-5f, 1e-4f);
  compare("dh_{-1} = round(dgates_0) round(W_hh)", dhgot, dh_ref, 1e-5f, 1e-4f);
  if (min_diff > 0) expect_differ("dh_{-1} differs from the unrounded product", dhgot, dh_raw, min_diff);
}

int main() {
  Rng r(20261204);
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
  Dev<float> gx((size_t)T * n), w((size_t)H * H), bih((size_t)H), bhh((size_t)H), h0(n), h((size_t)T * n);
  CK(cudaMemset(gx.p, 0, (size_t)T * n * 4)); CK(cudaMemset(w.p, 0, (size_t)H * H * 4));
  CK(cudaMemset(bih.p, 0, (size_t)H * 4)); CK(cudaMemset(bhh.p, 0, (size_t)H * 4));
  CK(cudaMemset(h0.p, 0, n * 4));
  printf("timing T=%d B=%d H=%d U=%d\n", T, B, H, U);
  TIME_IT("persistent_rnn_forward (whole window)", 20, launch(gx.p, nullptr, w.p, bih.p, bhh.p, h0.p, h.p, T, B, H, U));
  expect_resident(false);
  return finish("test_persistent_rnn");
}
