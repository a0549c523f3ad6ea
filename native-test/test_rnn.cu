/* test_rnn: rnn_forward_step / rnn_backward_step against the plain-C reference (ref.c). */
#include "common.h"
#include "ref.h"
#include "../kernels/cuda/rnn.cu"

static void check_shape(int B, int H, Rng &r) {
  printf("B=%d H=%d\n", B, H);
  size_t n = (size_t)B * H;
  auto gx = rand_vec(n, r, -2, 2), gh = rand_vec(n, r, -2, 2), bih = rand_vec(H, r), bhh = rand_vec(H, r);
  Dev<float> dgx(gx), dgh(gh), dbih(bih), dbhh(bhh), dh(n);
  rnn_forward_step<<<blocks_for(n), 256>>>(dgx.p, dgh.p, dbih.p, dbhh.p, dh.p, B, H);
  CK_LAUNCH();
  std::vector<float> h(n);
  ref_rnn_forward(gx.data(), gh.data(), bih.data(), bhh.data(), h.data(), B, H);
  compare("forward h", dh.down(), h, 1e-6f, 1e-5f);
  auto dho = rand_vec(n, r), dhn = rand_vec(n, r);
  Dev<float> ddho(dho), ddhn(dhn), ddg(n);
  rnn_backward_step<<<blocks_for(n), 256>>>(ddho.p, ddhn.p, dh.p, ddg.p, B, H);
  CK_LAUNCH();
  std::vector<float> dg(n);
  ref_rnn_backward(dho.data(), dhn.data(), h.data(), dg.data(), B, H);
  compare("backward dgates", ddg.down(), dg, 1e-6f, 1e-4f);
  compare("backward dh_next zeroed", ddhn.down(), dhn, 0.0f, 0.0f);
}

int main() {
  Rng r(3456);
  int shapes[][2] = {{1, 1}, {1, 33}, {4, 33}, {3, 257}, {50, 128}, {64, 512}};
  for (auto &s : shapes) check_shape(s[0], s[1], r);
  int B = 128, H = 1024;
  size_t n = (size_t)B * H;
  Dev<float> gx(n), gh(n), bih(H), bhh(H), h(n), dho(n), dhn(n), dg(n);
  CK(cudaMemset(gx.p, 0, n * 4)); CK(cudaMemset(gh.p, 0, n * 4)); CK(cudaMemset(bih.p, 0, H * 4)); CK(cudaMemset(bhh.p, 0, H * 4));
  CK(cudaMemset(dho.p, 0, n * 4)); CK(cudaMemset(dhn.p, 0, n * 4));
  printf("timing B=%d H=%d\n", B, H);
  TIME_IT("rnn_forward_step", 200, (rnn_forward_step<<<blocks_for(n), 256>>>(gx.p, gh.p, bih.p, bhh.p, h.p, B, H)));
  TIME_IT("rnn_backward_step", 200, (rnn_backward_step<<<blocks_for(n), 256>>>(dho.p, dhn.p, h.p, dg.p, B, H)));
  return finish("test_rnn");
}
