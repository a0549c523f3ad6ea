/* test_gru: gru_forward_step / gru_backward_step against the plain-C reference (ref.c). */
#include "common.h"
#include "ref.h"
#include "../kernels/cuda/gru.cu"

static void check_shape(int B, int H, Rng &r) {
  printf("B=%d H=%d\n", B, H);
  size_t n = (size_t)B * H;
  auto gx = rand_vec(3 * n, r, -2, 2), gh = rand_vec(3 * n, r, -2, 2), bih = rand_vec(3 * H, r), bhh = rand_vec(3 * H, r);
  auto hp = rand_vec(n, r);
  Dev<float> dgx(gx), dgh(gh), dbih(bih), dbhh(bhh), dhp(hp), dgates(4 * n), dh(n);
  gru_forward_step<<<blocks_for(n), 256>>>(dgx.p, dgh.p, dbih.p, dbhh.p, dhp.p, dgates.p, dh.p, B, H);
  CK_LAUNCH();
  std::vector<float> gates(4 * n), h(n);
  ref_gru_forward(gx.data(), gh.data(), bih.data(), bhh.data(), hp.data(), gates.data(), h.data(), B, H);
  compare("forward gates (r,z,n,gh_n)", dgates.down(), gates, 1e-6f, 1e-5f);
  compare("forward h", dh.down(), h, 1e-6f, 1e-5f);
  Dev<float> hin(hp);
  gru_forward_step<<<blocks_for(n), 256>>>(dgx.p, dgh.p, dbih.p, dbhh.p, hin.p, dgates.p, hin.p, B, H);
  CK_LAUNCH();
  compare("forward h in place", hin.down(), h, 1e-6f, 1e-5f);

  auto dho = rand_vec(n, r), dhn = rand_vec(n, r);
  Dev<float> ddho(dho), ddhn(dhn), ddgx(3 * n), ddgh(3 * n);
  gru_backward_step<<<blocks_for(n), 256>>>(ddho.p, ddhn.p, dgates.p, dhp.p, ddgx.p, ddgh.p, B, H);
  CK_LAUNCH();
  std::vector<float> rgx(3 * n), rgh(3 * n);
  ref_gru_backward(dho.data(), dhn.data(), gates.data(), hp.data(), rgx.data(), rgh.data(), B, H);
  compare("backward dgx", ddgx.down(), rgx, 1e-6f, 1e-4f);
  compare("backward dgh", ddgh.down(), rgh, 1e-6f, 1e-4f);
  compare("backward dh_next = dh*z", ddhn.down(), dhn, 1e-6f, 1e-4f);
}

int main() {
  Rng r(2345);
  int shapes[][2] = {{1, 1}, {1, 33}, {4, 33}, {3, 257}, {50, 128}, {64, 512}};
  for (auto &s : shapes) check_shape(s[0], s[1], r);
  int B = 128, H = 1024;
  size_t n = (size_t)B * H;
  Dev<float> gx(3 * n), gh(3 * n), bih(3 * H), bhh(3 * H), hp(n), gates(4 * n), h(n), dho(n), dhn(n), dgx(3 * n), dgh(3 * n);
  CK(cudaMemset(gx.p, 0, 3 * n * 4)); CK(cudaMemset(gh.p, 0, 3 * n * 4)); CK(cudaMemset(bih.p, 0, 3 * H * 4));
  CK(cudaMemset(bhh.p, 0, 3 * H * 4)); CK(cudaMemset(hp.p, 0, n * 4)); CK(cudaMemset(dho.p, 0, n * 4)); CK(cudaMemset(dhn.p, 0, n * 4));
  printf("timing B=%d H=%d\n", B, H);
  TIME_IT("gru_forward_step", 200, (gru_forward_step<<<blocks_for(n), 256>>>(gx.p, gh.p, bih.p, bhh.p, hp.p, gates.p, h.p, B, H)));
  TIME_IT("gru_backward_step", 200, (gru_backward_step<<<blocks_for(n), 256>>>(dho.p, dhn.p, gates.p, hp.p, dgx.p, dgh.p, B, H)));
  return finish("test_gru");
}
