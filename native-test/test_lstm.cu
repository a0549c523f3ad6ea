/* test_lstm: lstm_forward_step / lstm_backward_step against the plain-C reference (ref.c). */
#include "common.h"
#include "ref.h"
#include "../kernels/cuda/lstm.cu"

static void check_shape(int B, int H, Rng &r) {
  printf("B=%d H=%d\n", B, H);
  size_t n = (size_t)B * H, g = 4 * n;
  auto gx = rand_vec(g, r, -2, 2), gh = rand_vec(g, r, -2, 2), bih = rand_vec(4 * H, r), bhh = rand_vec(4 * H, r);
  auto cp = rand_vec(n, r, -2, 2);
  Dev<float> dgx(gx), dgh(gh), dbih(bih), dbhh(bhh), dcp(cp), dgates(g), dc(n), dh(n);
  lstm_forward_step<<<blocks_for(n), 256>>>(dgx.p, dgh.p, dbih.p, dbhh.p, dcp.p, dgates.p, dc.p, dh.p, B, H);
  CK_LAUNCH();
  std::vector<float> gates(g), c(n), h(n);
  ref_lstm_forward(gx.data(), gh.data(), bih.data(), bhh.data(), cp.data(), gates.data(), c.data(), h.data(), B, H);
  compare("forward gates", dgates.down(), gates, 1e-6f, 1e-5f);
  compare("forward c", dc.down(), c, 1e-6f, 1e-5f);
  compare("forward h", dh.down(), h, 1e-6f, 1e-5f);
  /* in-place (c aliasing c_prev), as single-step inference uses it */
  Dev<float> cin(cp);
  lstm_forward_step<<<blocks_for(n), 256>>>(dgx.p, dgh.p, dbih.p, dbhh.p, cin.p, dgates.p, cin.p, dh.p, B, H);
  CK_LAUNCH();
  compare("forward c in place", cin.down(), c, 1e-6f, 1e-5f);

  auto dho = rand_vec(n, r), dhn = rand_vec(n, r), dcv = rand_vec(n, r);
  Dev<float> ddho(dho), ddhn(dhn), ddc(dcv), ddg(g);
  lstm_backward_step<<<blocks_for(n), 256>>>(ddho.p, ddhn.p, ddc.p, dgates.p, dcp.p, dc.p, ddg.p, B, H);
  CK_LAUNCH();
  std::vector<float> dg(g);
  ref_lstm_backward(dho.data(), dhn.data(), dcv.data(), gates.data(), cp.data(), c.data(), dg.data(), B, H);
  compare("backward dgates", ddg.down(), dg, 1e-6f, 1e-4f);
  compare("backward dc_prev", ddc.down(), dcv, 1e-6f, 1e-4f);
  compare("backward dh_next zeroed", ddhn.down(), dhn, 0.0f, 0.0f);
}

int main() {
  Rng r(1234);
  int shapes[][2] = {{1, 1}, {1, 33}, {4, 33}, {3, 257}, {50, 128}, {64, 512}};
  for (auto &s : shapes) check_shape(s[0], s[1], r);
  int B = 128, H = 1024;
  size_t n = (size_t)B * H;
  Dev<float> gx(4 * n), gh(4 * n), bih(4 * H), bhh(4 * H), cp(n), gates(4 * n), c(n), h(n), dho(n), dhn(n), dc(n), dg(4 * n);
  CK(cudaMemset(gx.p, 0, 4 * n * 4)); CK(cudaMemset(gh.p, 0, 4 * n * 4)); CK(cudaMemset(bih.p, 0, 4 * H * 4));
  CK(cudaMemset(bhh.p, 0, 4 * H * 4)); CK(cudaMemset(cp.p, 0, n * 4)); CK(cudaMemset(dho.p, 0, n * 4));
  CK(cudaMemset(dhn.p, 0, n * 4)); CK(cudaMemset(dc.p, 0, n * 4));
  printf("timing B=%d H=%d\n", B, H);
  TIME_IT("lstm_forward_step", 200, (lstm_forward_step<<<blocks_for(n), 256>>>(gx.p, gh.p, bih.p, bhh.p, cp.p, gates.p, c.p, h.p, B, H)));
  TIME_IT("lstm_backward_step", 200, (lstm_backward_step<<<blocks_for(n), 256>>>(dho.p, dhn.p, dc.p, gates.p, cp.p, c.p, dg.p, B, H)));
  return finish("test_lstm");
}
