/*
 * test_persistent_rnn_pair: persistent_rnn_pair_forward_cluster and _backward_cluster (two stacked
 * RNN layers a, b as a wavefront, one launch each, kernels/cuda/persistent_rnn_pair.cu) against
 * scalar references in double, teacher-forced: each step of each layer starts from the kernels' own
 * outputs of the steps before it (forward h_a[t-1], h_a[t], h_b[t-1]; backward dgates_b[t] and
 * dgates_a[t]), rounded as the precision multiplies them, so every step is checked alone at the
 * fp32 tolerances: forward h_a[t] = tanh(gx + b_ih_a + h_a[t-1] W_hh_a^T + b_hh_a) and h_b[t] =
 * tanh(b_ih_b + [h_a[t], h_b[t-1]] [W_ih_b, W_hh_b]^T + b_hh_b); backward dgates_b[t] = (dh_out_b +
 * dh_next_b)(1 - h_b^2), dgates_a[t] = (dgates_b[t] W_ih_b + dh_next_a)(1 - h_a^2), dh_next of each
 * its dgates times its W_hh. At every shape of PERSISTENT_SHAPES whose plans fit (one k-tile, the
 * exchange: persistent_pair_fits), in fp32 and on tensor cores (TF32, bf16), and at the precision
 * shapes in TF32 and bf16 FMAs; a second run with every slice read from shared memory
 * (CR_PREC_SHARED_A) must match bit for bit; the forward by token must match its run on gx bit for
 * bit; where a shape joins the initial state into the sequence, h0 is the slot before h. Clusters:
 * ceil(B / 8), at least 3 (short last clusters, clusters without rows). At H 229, a reduced
 * precision's results must differ from the unrounded products'. Then the bench's shape (B 50 in 13
 * clusters of 4 rows, H 256, U 32), whose plans must be resident (forward, backward plans b and a,
 * the latter in the upper half of the registers).
 */
#include "common.h"
#include "ref.h"
#include "persistent_shapes.h"
#include "../kernels/cuda/persistent_rnn_pair.cu"

/* How far a reduced precision's results must differ from the unrounded products' (prec_min_diff); none in fp32. */
static double min_diff(const Shape &s, int prec) { return prec & 3 ? prec_min_diff(s, prec) : 0.0; }

static int pair_clusters(int B) { return std::max(3, (B + 7) / 8); }

struct PairShape {
  int T, B, H, U, clusters, PB;
  explicit PairShape(const Shape &s, int clusters_ = 0)
      : T(s.T), B(s.B), H(s.H), U(cluster_units(s.H, s.U)), clusters(clusters_ ? clusters_ : pair_clusters(s.B)),
        PB((s.B + clusters - 1) / clusters) {}
  bool fits(int prec) const { return persistent_pair_fits(U, H, PB, prec | CR_PREC_EXCHANGE); }
  size_t shared(int prec) const { return (size_t)persistent_pair_shared_bytes(U, H, PB, prec | CR_PREC_EXCHANGE); }
};

static int resident_pairs[3]; /* launches whose plan is resident: forward, backward plan b, plan a */

static void launch_forward(const PairShape &s, const float *gx, const int *tokens, const float *w_hh_a,
                           const float *w_ih_b, const float *w_hh_b, const float *b_ih_a, const float *b_hh_a,
                           const float *b_ih_b, const float *b_hh_b, const float *h0_a, const float *h0_b, float *h_a,
                           float *h_b, int prec) {
  prec |= CR_PREC_EXCHANGE;
  size_t shmem = s.shared(prec);
  if (cr_pair_forward_plan(s.U, s.H, s.PB, prec).resident) resident_pairs[0]++;
  CK(cudaFuncSetAttribute(persistent_rnn_pair_forward_cluster, cudaFuncAttributeMaxDynamicSharedMemorySize,
                          (int)shmem));
  persistent_rnn_pair_forward_cluster<<<dim3(s.clusters * CR_CLUSTER), dim3(CR_BLOCK), shmem>>>(
      gx, tokens, w_hh_a, w_ih_b, w_hh_b, b_ih_a, b_hh_a, b_ih_b, b_hh_b, h0_a, h0_b, h_a, h_b, s.T, s.B, s.H, s.U,
      prec);
  CK_LAUNCH();
}

static void launch_backward(const PairShape &s, const float *dho_b, float *dhn_a, float *dhn_b, const float *h_a,
                            const float *h_b, const float *w_hh_a, const float *w_ih_b, const float *w_hh_b,
                            float *dg_a, float *dg_b, int prec) {
  prec |= CR_PREC_EXCHANGE;
  size_t shmem = s.shared(prec);
  if (cr_pair_backward_plan_b(s.U, s.H, s.PB, prec).resident) resident_pairs[1]++;
  if (cr_pair_backward_plan_a(s.U, s.H, s.PB, prec).resident) resident_pairs[2]++;
  CK(cudaFuncSetAttribute(persistent_rnn_pair_backward_cluster, cudaFuncAttributeMaxDynamicSharedMemorySize,
                          (int)shmem));
  persistent_rnn_pair_backward_cluster<<<dim3(s.clusters * CR_CLUSTER), dim3(CR_BLOCK), shmem>>>(
      dho_b, dhn_a, dhn_b, h_a, h_b, w_hh_a, w_ih_b, w_hh_b, dg_a, dg_b, s.T, s.B, s.H, s.U, prec);
  CK_LAUNCH();
}

static void header(const char *pass, const PairShape &s, int prec, const char *extra = "") {
  printf("pair %s %s T=%d B=%d H=%d U=%d in %d clusters%s\n", pass, prec_name(prec), s.T, s.B, s.H, s.U, s.clusters,
         extra);
}

/* [W1, W2] [H, 2H] of two [H,H] matrices, each rounded as prec multiplies it */
static std::vector<float> side_by_side(const std::vector<float> &w1, const std::vector<float> &w2, int H, int prec) {
  std::vector<float> w((size_t)H * 2 * H);
  for (int r = 0; r < H; r++)
    for (int k = 0; k < H; k++) {
      w[(size_t)r * 2 * H + k] = round_operand(w1[(size_t)r * H + k], prec);
      w[(size_t)r * 2 * H + H + k] = round_operand(w2[(size_t)r * H + k], prec);
    }
  return w;
}

static void check_forward(const Shape &shape, Rng &r, int prec, double min_diff, int clusters = 0) {
  PairShape s(shape, clusters);
  int T = s.T, B = s.B, H = s.H;
  if (!s.fits(prec)) {
    header("forward", s, prec, ": skipped, a plan takes more than one k-tile");
    return;
  }
  header("forward", s, prec, shape.joined ? " (initial states in the sequences)" : "");
  size_t n = (size_t)B * H;
  TokenProjection tp = token_projection((size_t)T * B, (size_t)H, r);
  auto whha = rand_vec((size_t)H * H, r, -0.5f, 0.5f), wihb = rand_vec((size_t)H * H, r, -0.5f, 0.5f);
  auto whhb = rand_vec((size_t)H * H, r, -0.5f, 0.5f);
  auto biha = rand_vec((size_t)H, r), bhha = rand_vec((size_t)H, r), bihb = rand_vec((size_t)H, r);
  auto bhhb = rand_vec((size_t)H, r), h0a = rand_vec(n, r), h0b = rand_vec(n, r);
  Dev<float> dgx(tp.gx), dwhha(whha), dwihb(wihb), dwhhb(whhb), dbiha(biha), dbhha(bhha), dbihb(bihb), dbhhb(bhhb);
  std::vector<float> ha, hb;
  auto run = [&](const float *gx, const int *tokens, int p, std::vector<float> &oa, std::vector<float> &ob) {
    if (shape.joined) { /* the initial state the slot before the first output */
      std::vector<float> sa((size_t)(T + 1) * n, 0.0f), sb((size_t)(T + 1) * n, 0.0f);
      std::copy(h0a.begin(), h0a.end(), sa.begin());
      std::copy(h0b.begin(), h0b.end(), sb.begin());
      Dev<float> da(sa), db(sb);
      launch_forward(s, gx, tokens, dwhha.p, dwihb.p, dwhhb.p, dbiha.p, dbhha.p, dbihb.p, dbhhb.p, da.p, db.p,
                     da.p + n, db.p + n, p);
      auto ga = da.down(), gb = db.down();
      compare("initial state a kept", std::vector<float>(ga.begin(), ga.begin() + (long)n), h0a, 0.0f, 0.0f);
      compare("initial state b kept", std::vector<float>(gb.begin(), gb.begin() + (long)n), h0b, 0.0f, 0.0f);
      oa.assign(ga.begin() + (long)n, ga.end());
      ob.assign(gb.begin() + (long)n, gb.end());
      return;
    }
    Dev<float> d0a(h0a), d0b(h0b), da(T * n), db(T * n);
    launch_forward(s, gx, tokens, dwhha.p, dwihb.p, dwhhb.p, dbiha.p, dbhha.p, dbihb.p, dbhhb.p, d0a.p, d0b.p, da.p,
                   db.p, p);
    oa = da.down();
    ob = db.down();
  };
  run(dgx.p, nullptr, prec, ha, hb);
  std::vector<float> ha2, hb2;
  run(dgx.p, nullptr, second_run_prec(prec), ha2, hb2);
  compare(second_run_label("h_a", prec), ha2, ha, 0.0f, 0.0f);
  compare(second_run_label("h_b", prec), hb2, hb, 0.0f, 0.0f);
  if (!shape.joined) {
    Dev<float> dtable(tp.table);
    Dev<int> dtokens(tp.tokens);
    run(dtable.p, dtokens.p, prec, ha2, hb2);
    compare("h_a, a run by token bit for bit", ha2, ha, 0.0f, 0.0f);
    compare("h_b, a run by token bit for bit", hb2, hb, 0.0f, 0.0f);
  }

  auto wa = round_operands(whha.data(), whha.size(), prec), wb = side_by_side(wihb, whhb, H, prec);
  auto wraw = side_by_side(wihb, whhb, H, 0);
  std::vector<float> aref(T * n), bref(T * n), braw(T * n), gh(n), pre(n), preraw(n), zeros(n, 0.0f);
  std::vector<float> xb(n * 2), xraw(n * 2);
  for (int t = 0; t < T; t++) {
    const float *pa = t == 0 ? h0a.data() : ha.data() + (size_t)(t - 1) * n;
    const float *pb = t == 0 ? h0b.data() : hb.data() + (size_t)(t - 1) * n;
    auto par = round_operands(pa, n, prec);
    ref_xwt(par.data(), wa.data(), B, H, H, gh.data());
    ref_rnn_forward(tp.gx.data() + (size_t)t * n, gh.data(), biha.data(), bhha.data(), aref.data() + (size_t)t * n, B,
                    H);
    for (int b = 0; b < B; b++) /* [h_a[t], h_b[t-1]], the kernel's own */
      for (int k = 0; k < H; k++) {
        float va = ha[(size_t)t * n + (size_t)b * H + k], vb = pb[(size_t)b * H + k];
        xb[(size_t)b * 2 * H + k] = round_operand(va, prec);
        xb[(size_t)b * 2 * H + H + k] = round_operand(vb, prec);
        xraw[(size_t)b * 2 * H + k] = va;
        xraw[(size_t)b * 2 * H + H + k] = vb;
      }
    ref_xwt(xb.data(), wb.data(), B, H, 2 * H, pre.data());
    ref_xwt(xraw.data(), wraw.data(), B, H, 2 * H, preraw.data());
    ref_rnn_forward(zeros.data(), pre.data(), bihb.data(), bhhb.data(), bref.data() + (size_t)t * n, B, H);
    ref_rnn_forward(zeros.data(), preraw.data(), bihb.data(), bhhb.data(), braw.data() + (size_t)t * n, B, H);
  }
  compare("h_a, every step", ha, aref, 1e-5f, 1e-4f);
  compare("h_b, every step", hb, bref, 1e-5f, 1e-4f);
  if (min_diff > 0) expect_differ("h_b differs from the unrounded products'", hb, braw, min_diff);
}

static void check_backward(const Shape &shape, Rng &r, int prec, double min_diff, int clusters = 0) {
  PairShape s(shape, clusters);
  int T = s.T, B = s.B, H = s.H;
  if (!s.fits(prec)) {
    header("backward", s, prec, ": skipped, a plan takes more than one k-tile");
    return;
  }
  header("backward", s, prec);
  size_t n = (size_t)B * H;
  float sc = 1.0f / sqrtf((float)H); /* PyTorch's init scale (test_persistent_rnn's check_backward) */
  auto whha = rand_vec((size_t)H * H, r, -sc, sc), wihb = rand_vec((size_t)H * H, r, -sc, sc);
  auto whhb = rand_vec((size_t)H * H, r, -sc, sc);
  auto dho = rand_vec(T * n, r), dhna = rand_vec(n, r), dhnb = rand_vec(n, r);
  auto ha = rand_vec(T * n, r, -0.99f, 0.99f), hb = rand_vec(T * n, r, -0.99f, 0.99f);
  Dev<float> ddho(dho), dha(ha), dhb(hb), dwhha(whha), dwihb(wihb), dwhhb(whhb), ddga(T * n), ddgb(T * n);
  std::vector<float> dga, dgb, outa, outb;
  auto run = [&](int p) {
    Dev<float> dna(dhna), dnb(dhnb);
    launch_backward(s, ddho.p, dna.p, dnb.p, dha.p, dhb.p, dwhha.p, dwihb.p, dwhhb.p, ddga.p, ddgb.p, p);
    dga = ddga.down();
    dgb = ddgb.down();
    outa = dna.down();
    outb = dnb.down();
  };
  run(second_run_prec(prec));
  auto dga2 = dga, dgb2 = dgb, outa2 = outa, outb2 = outb;
  run(prec);
  compare(second_run_label("dgates_a", prec), dga2, dga, 0.0f, 0.0f);
  compare(second_run_label("dgates_b", prec), dgb2, dgb, 0.0f, 0.0f);
  compare(second_run_label("dh_a_{-1}", prec), outa2, outa, 0.0f, 0.0f);
  compare(second_run_label("dh_b_{-1}", prec), outb2, outb, 0.0f, 0.0f);

  auto wa = round_operands(whha.data(), whha.size(), prec), wib = round_operands(wihb.data(), wihb.size(), prec);
  auto wb = round_operands(whhb.data(), whhb.size(), prec);
  std::vector<float> nb(dhnb), na(dhna), dgbref(T * n), dgaref(T * n), above(T * n), araw(n);
  for (int t = T - 1; t >= 0; t--) {
    size_t o = (size_t)t * n;
    ref_rnn_backward(dho.data() + o, nb.data(), hb.data() + o, dgbref.data() + o, B, H);
    auto dgr = round_operands(dgb.data() + o, n, prec); /* the kernel's dgates_b[t] */
    ref_xw(dgr.data(), wb.data(), B, H, H, nullptr, nb.data());
    ref_xw(dgr.data(), wib.data(), B, H, H, nullptr, above.data() + o);
  }
  for (int t = T - 1; t >= 0; t--) {
    size_t o = (size_t)t * n;
    ref_rnn_backward(above.data() + o, na.data(), ha.data() + o, dgaref.data() + o, B, H);
    auto dgr = round_operands(dga.data() + o, n, prec);
    ref_xw(dgr.data(), wa.data(), B, H, H, nullptr, na.data());
    if (t == 0) ref_xw(dga.data() + o, whha.data(), B, H, H, nullptr, araw.data());
  }
  compare("dgates_b, every step", dgb, dgbref, 1e-5f, 1e-4f);
  compare("dgates_a, every step", dga, dgaref, 1e-5f, 1e-4f);
  compare("dh_b_{-1} = round(dgates_b[0]) round(W_hh_b)", outb, nb, 1e-5f, 1e-4f);
  compare("dh_a_{-1} = round(dgates_a[0]) round(W_hh_a)", outa, na, 1e-5f, 1e-4f);
  if (min_diff > 0) expect_differ("dh_a_{-1} differs from the unrounded product", outa, araw, min_diff);
}

int main() {
  Rng r(20261206);
  if (!clusters_supported()) {
    printf("pair kernels: skipped (compute capability below 9.0)\n");
    return finish("test_persistent_rnn_pair");
  }
  const int precs[] = {CR_PREC_FP32, CR_PREC_TF32 | CR_PREC_MMA, CR_PREC_BF16 | CR_PREC_MMA};
  for (int prec : precs)
    for (const Shape &s : PERSISTENT_SHAPES) {
      check_forward(s, r, prec, min_diff(s, prec));
      check_backward(s, r, prec, min_diff(s, prec));
    }
  for (int prec : {CR_PREC_TF32, CR_PREC_BF16}) /* FMAs of the rounded operands (devices before sm_80) */
    for (const Shape &s : PERSISTENT_PREC_SHAPES) {
      check_forward(s, r, prec, min_diff(s, prec));
      check_backward(s, r, prec, min_diff(s, prec));
    }
  const Shape bench = {3, 50, 256, 32, false}; /* the bench row's layout: 13 clusters of 4 rows */
  for (int prec : precs) {
    check_forward(bench, r, prec, 0.0, 13);
    check_backward(bench, r, prec, 0.0, 13);
  }
  printf("resident: %d forward launches, %d backward (plan a beside plan b: %d)\n", resident_pairs[0],
         resident_pairs[1], resident_pairs[2]);
  expect(resident_pairs[0] > 0 && resident_pairs[1] > 0 && resident_pairs[2] > 0,
         "resident forward and backward launches, plan a beside plan b among them");
  for (int prec : precs) { /* the bench shape: both backward plans in registers */
    PairShape b(bench, 13);
    expect(cr_pair_backward_plan_a(b.U, b.H, b.PB, prec | CR_PREC_EXCHANGE).resident,
           "the bench shape's backward plan a is resident");
  }
  for (int prec : precs)
    expect(PairShape(bench, 13).fits(prec), "the bench shape fits at every precision");
  return finish("test_persistent_rnn_pair");
}
