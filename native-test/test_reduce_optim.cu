/* test_reduce_optim: column_sum, the one-launch global norm, sum_final, clip_value and the fused optimizers. */
#include "common.h"
#include "../kernels/cuda/reduce.cu"
#include "../kernels/cuda/optim.cu"

static int partials(long long n) { return cr_norm_partials(n); }

static void check_reduce(int N, int C, Rng &r) {
  printf("reduce N=%d C=%d\n", N, C);
  auto a = rand_vec((size_t)N * C, r), out0 = rand_vec(C, r);
  Dev<float> da(a), dout(out0), dout2(C), dout3(C), dcopy(C), dout4(out0), dcopy4(C);
  int w = cr_col_width(C);
  dim3 cols(w, cr_col_lanes(N));
  column_sum<<<blocks_for(C, w), cols>>>(da.p, dout.p, nullptr, N, C, 1.0f);
  column_sum<<<blocks_for(C, w), cols>>>(da.p, dout2.p, nullptr, N, C, 0.0f);
  column_sum<<<blocks_for(C, w), cols>>>(da.p, dout3.p, dcopy.p, N, C, 0.0f);
  column_sum<<<blocks_for(C, w), cols>>>(da.p, dout4.p, dcopy4.p, N, C, 1.0f);
  CK_LAUNCH();
  expect(dout2.down() == dout3.down(), "column_sum deterministic");
  /* out2: the same values as out, bit for bit, whatever beta */
  expect(dcopy.down() == dout2.down(), "column_sum out2 = out (beta=0)");
  expect(dout4.down() == dout.down() && dcopy4.down() == dout.down(), "column_sum out2 = out (beta=1)");
  std::vector<double> r1(C), r0(C);
  for (int c = 0; c < C; c++) {
    double s = 0;
    for (int n = 0; n < N; n++) s += a[(size_t)n * C + c];
    r0[c] = s;
    r1[c] = out0[c] + s;
  }
  /* float sums over N rows: absolute error grows with N */
  compare("column_sum beta=1", dout.down(), r1, 2e-6f * N, 1e-4f);
  compare("column_sum beta=0", dout2.down(), r0, 2e-6f * N, 1e-4f);
  if (w != CR_COL_WIDTH || cols.y != CR_COL_LANES) { /* the host's block is narrower: the full one too */
    Dev<float> dfull(C);
    column_sum<<<blocks_for(C, CR_COL_WIDTH), dim3(CR_COL_WIDTH, CR_COL_LANES)>>>(da.p, dfull.p, nullptr, N, C, 0.0f);
    CK_LAUNCH();
    compare("column_sum in full blocks", dfull.down(), r0, 2e-6f * N, 1e-4f);
  }
  long long n = (long long)N * C;
  int P = partials(n);
  Dev<float> part(P), norm(1), sum(1), staged(1);
  Dev<unsigned> ticket(std::vector<unsigned>{0});
  global_norm<<<P, CR_BLOCK>>>(da.p, (int)n, part.p, norm.p, ticket.p);
  sum_final<<<1, CR_BLOCK>>>(da.p, (int)n, sum.p, 0);
  CK_LAUNCH();
  double ss = 0, s = 0, sabs = 0;
  for (float v : a) { ss += (double)v * v; s += v; sabs += fabs(v); }
  compare("global_norm", norm.down(), std::vector<double>{sqrt(ss)}, 1e-6f, 1e-5f);
  compare("sum_final plain sum", sum.down(), std::vector<double>{s}, (float)(1e-6 * sabs + 1e-6), 1e-4f);
  expect(ticket.down()[0] == 0, "global_norm leaves its ticket at 0");
  /* the last block's sum is the second stage it replaced: sum_final over the partials, sqrt */
  sum_final<<<1, CR_BLOCK>>>(part.p, P, staged.p, 1);
  CK_LAUNCH();
  expect(staged.down()[0] == norm.down()[0], "global_norm = sum_final of its partials");
  /* determinism, and the ticket reused: the same launch again gives the same bits */
  global_norm<<<P, CR_BLOCK>>>(da.p, (int)n, part.p, sum.p, ticket.p);
  CK_LAUNCH();
  expect(sum.down()[0] == norm.down()[0], "global norm deterministic");
  expect(ticket.down()[0] == 0, "global_norm leaves its ticket at 0 again");
  /* fewer blocks than the host's: each thread strides over many more values, the same norm */
  Dev<float> part3(3), norm3(1);
  global_norm<<<3, CR_BLOCK>>>(da.p, (int)n, part3.p, norm3.p, ticket.p);
  CK_LAUNCH();
  compare("global_norm in 3 blocks", norm3.down(), std::vector<double>{sqrt(ss)}, 1e-6f, 1e-5f);
  expect(ticket.down()[0] == 0, "global_norm in 3 blocks leaves its ticket at 0");
  float mx = 0.3f;
  clip_value<<<blocks_for(n), 256>>>(da.p, (int)n, mx, norm.p);
  CK_LAUNCH();
  std::vector<float> cl(a);
  for (auto &v : cl) v = v > mx ? mx : (v < -mx ? -mx : v);
  compare("clip_value", da.down(), cl, 0.0f, 0.0f);
  /* a non-finite norm: the gradients are left as they are (the update is skipped) */
  Dev<float> inf_norm(std::vector<float>{INFINITY}), db(a);
  clip_value<<<blocks_for(n), 256>>>(db.p, (int)n, mx, inf_norm.p);
  CK_LAUNCH();
  compare("clip_value, non-finite norm", db.down(), a, 0.0f, 0.0f);
}

enum Opt { ADAM, RMSPROP, ADAGRAD, SGD };
static const char *opt_name[] = {"adam", "rmsprop", "adagrad", "sgd"};

/* Double-precision reference of one optimizer step; returns false when skipped. */
static bool ref_step(Opt o, std::vector<double> &p, const std::vector<float> &g, std::vector<double> &s0,
                     std::vector<double> &s1, double norm, int clip_mode, double clip_max, double lr, double wd, long t) {
  if (!std::isfinite(norm)) return false;
  double scale = clip_mode == 1 ? fmin(1.0, clip_max / (norm + 1e-6)) : 1.0;
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8, decay = 0.95, mu = 0.9;
  double bc1 = 1 - pow(b1, (double)t), bc2 = 1 - pow(b2, (double)t);
  for (size_t i = 0; i < p.size(); i++) {
    double gi = g[i] * scale + wd * p[i];
    switch (o) {
      case ADAM: s0[i] = b1 * s0[i] + (1 - b1) * gi; s1[i] = b2 * s1[i] + (1 - b2) * gi * gi;
                 p[i] -= lr * (s0[i] / bc1) / (sqrt(s1[i] / bc2) + eps); break;
      case RMSPROP: s0[i] = decay * s0[i] + (1 - decay) * gi * gi; p[i] -= lr * gi / (sqrt(s0[i]) + eps); break;
      case ADAGRAD: s0[i] += gi * gi; p[i] -= lr * gi / sqrt(s0[i] + eps); break;
      case SGD: s0[i] = mu * s0[i] + gi; p[i] -= lr * s0[i]; break;
    }
  }
  return true;
}

static void launch_step(Opt o, bool dev, float *p, const float *g, float *s0, float *s1, int n, const float *norm,
                        int clip_mode, float clip_max, float lr, float wd, long t, const float *hyper) {
  const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, decay = 0.95f, mu = 0.9f;
  float bc1 = (float)(1 - pow(0.9, (double)t)), bc2 = (float)(1 - pow(0.999, (double)t));
  unsigned nb = blocks_for(n);
  switch (o) {
    case ADAM:
      if (dev) adam_step_dev<<<nb, 256>>>(p, g, s0, s1, n, norm, clip_mode, clip_max, hyper, b1, b2, eps, wd);
      else adam_step<<<nb, 256>>>(p, g, s0, s1, n, norm, clip_mode, clip_max, lr, b1, b2, eps, wd, bc1, bc2);
      break;
    case RMSPROP:
      if (dev) rmsprop_step_dev<<<nb, 256>>>(p, g, s0, n, norm, clip_mode, clip_max, hyper, decay, eps, wd);
      else rmsprop_step<<<nb, 256>>>(p, g, s0, n, norm, clip_mode, clip_max, lr, decay, eps, wd);
      break;
    case ADAGRAD:
      if (dev) adagrad_step_dev<<<nb, 256>>>(p, g, s0, n, norm, clip_mode, clip_max, hyper, eps, wd);
      else adagrad_step<<<nb, 256>>>(p, g, s0, n, norm, clip_mode, clip_max, lr, eps, wd);
      break;
    case SGD:
      if (dev) sgd_step_dev<<<nb, 256>>>(p, g, s0, n, norm, clip_mode, clip_max, hyper, mu, wd);
      else sgd_step<<<nb, 256>>>(p, g, s0, n, norm, clip_mode, clip_max, lr, mu, wd);
      break;
  }
}

static void check_optim(Opt o, bool dev, int n, int clip_mode, float wd, Rng &r) {
  printf("%s%s n=%d clip_mode=%d wd=%g\n", opt_name[o], dev ? "_dev" : "", n, clip_mode, wd);
  auto p = rand_vec(n, r), g = rand_vec(n, r, -3, 3);
  std::vector<float> s0f(n, 0.0f), s1f(n, 0.0f);
  Dev<float> dp(p), dg(g), ds0(s0f), ds1(s1f), dnorm(1), hyper(3);
  std::vector<double> rp(p.begin(), p.end()), r0(n, 0.0), r1(n, 0.0);
  float clip_max = 1.0f, lr = 0.01f;
  for (long t = 1; t <= 3; t++) {
    double ss = 0;
    for (float v : g) ss += (double)v * v;
    float normv = (float)sqrt(ss);
    dnorm.up(std::vector<float>{normv});
    float bc1 = (float)(1 - pow(0.9, (double)t)), bc2 = (float)(1 - pow(0.999, (double)t));
    hyper.up(std::vector<float>{lr, bc1, bc2});
    launch_step(o, dev, dp.p, dg.p, ds0.p, ds1.p, n, dnorm.p, clip_mode, clip_max, lr, wd, t, hyper.p);
    CK_LAUNCH();
    ref_step(o, rp, g, r0, r1, normv, clip_mode, clip_max, lr, wd, t);
  }
  compare("params after 3 steps", dp.down(), rp, 1e-6f, 1e-4f);
  compare("state 0", ds0.down(), r0, 1e-7f, 1e-4f);
  if (o == ADAM) compare("state 1", ds1.down(), r1, 1e-9f, 1e-4f);
  /* a non-finite norm leaves everything untouched */
  auto before = dp.down(), s_before = ds0.down();
  dnorm.up(std::vector<float>{NAN});
  launch_step(o, dev, dp.p, dg.p, ds0.p, ds1.p, n, dnorm.p, clip_mode, clip_max, lr, wd, 4, hyper.p);
  dnorm.up(std::vector<float>{INFINITY});
  launch_step(o, dev, dp.p, dg.p, ds0.p, ds1.p, n, dnorm.p, clip_mode, clip_max, lr, wd, 4, hyper.p);
  CK_LAUNCH();
  compare("skip on NaN/Inf norm: params", dp.down(), before, 0.0f, 0.0f);
  compare("skip on NaN/Inf norm: state", ds0.down(), s_before, 0.0f, 0.0f);
}

int main() {
  Rng r(6789);
  /* N and C below, at and past a full block's rows (CR_COL_LANES lanes of CR_COL_ROWS_PER_LANE) and CR_COL_WIDTH columns */
  expect(cr_col_width(1) == 1 && cr_col_width(7) == 8 && cr_col_width(33) == CR_COL_WIDTH && cr_col_lanes(0) == 1 &&
             cr_col_lanes(8) == 1 && cr_col_lanes(15) == 2 && cr_col_lanes(35) == 8 && cr_col_lanes(128) == 16 &&
             cr_col_lanes(129) == CR_COL_LANES && cr_col_lanes(2500) == CR_COL_LANES,
         "cr_col_width, cr_col_lanes: the power of two at or above C, or N / 8, up to a full block");
  expect(cr_norm_partials(0) == 1 && cr_norm_partials(2048) == 1 && cr_norm_partials(2049) == 2 &&
             cr_norm_partials(56000) == 28 && cr_norm_partials(1 << 21) == CR_MAX_PARTIALS &&
             cr_norm_partials(3LL << 30) == CR_MAX_PARTIALS,
         "cr_norm_partials: a block for every 8 x CR_BLOCK values, 1 to CR_MAX_PARTIALS");
  int shapes[][2] = {{1, 1}, {1, 33}, {33, 257}, {2500, 256}, {1000, 1031}, {31, 65}, {64, 32}, {12800, 4}};
  for (auto &s : shapes) check_reduce(s[0], s[1], r);
  for (int o = 0; o < 4; o++)
    for (int dev = 0; dev < 2; dev++) {
      check_optim((Opt)o, dev, 1, 1, 0.0f, r);
      check_optim((Opt)o, dev, 1000, 1, 0.0f, r);
      check_optim((Opt)o, dev, 4097, 0, 1e-2f, r);
    }
  int n = 3 << 20;
  Dev<float> p(n), g(n), m(n), v(n), part(CR_MAX_PARTIALS), norm(1), hyper(3);
  CK(cudaMemset(p.p, 0, n * 4)); CK(cudaMemset(g.p, 0, n * 4)); CK(cudaMemset(m.p, 0, n * 4)); CK(cudaMemset(v.p, 0, n * 4));
  hyper.up(std::vector<float>{1e-3f, 0.1f, 0.001f});
  int P = partials(n);
  printf("timing n=%d\n", n);
  Dev<unsigned> ticket(std::vector<unsigned>{0});
  TIME_IT("global_norm", 200, (global_norm<<<P, CR_BLOCK>>>(g.p, n, part.p, norm.p, ticket.p)));
  TIME_IT("adam_step_dev", 200, (adam_step_dev<<<blocks_for(n), 256>>>(p.p, g.p, m.p, v.p, n, norm.p, 1, 5.0f, hyper.p, 0.9f, 0.999f, 1e-8f, 0.0f)));
  /* column_sum reads N*C floats of g: N = n / C rows fit the buffer (was 2500 rows, past its end). */
  const int C = 4096, N = n / C;
  char label[64];
  snprintf(label, sizeof label, "column_sum N=%d C=%d", N, C);
  TIME_IT(label, 200, (column_sum<<<blocks_for(C, cr_col_width(C)), dim3(cr_col_width(C), cr_col_lanes(N))>>>(g.p, m.p, nullptr, N, C, 0.0f)));
  /* the decoder bias of a B 128 T 100 window: 65 columns over 12800 rows (the one-thread-a-column
     kernel this replaced waited for 12800 / 4 dependent loads here) */
  TIME_IT("column_sum N=12800 C=65", 200, (column_sum<<<blocks_for(65, cr_col_width(65)), dim3(cr_col_width(65), cr_col_lanes(12800))>>>(g.p, m.p, nullptr, 12800, 65, 0.0f)));
  return finish("test_reduce_optim");
}
