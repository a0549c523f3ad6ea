/* test_gemm: gemm_tiled (row-major, all transpose combinations, alpha/beta) against double loops. */
#include "common.h"
#include "../kernels/cuda/gemm.cu"

/* maxGridY caps grid.y as the host does at 65535; a small cap exercises the row-tile stride. */
static void check(int ta, int tb, int M, int N, int K, float alpha, float beta, Rng &r, int maxGridY = 65535) {
  printf("transA=%d transB=%d M=%d N=%d K=%d alpha=%g beta=%g grid.y<=%d\n", ta, tb, M, N, K, alpha, beta, maxGridY);
  int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
  auto A = rand_vec((size_t)M * K, r), B = rand_vec((size_t)K * N, r), C = rand_vec((size_t)M * N, r);
  Dev<float> dA(A), dB(B), dC(C);
  int gy = (M + CR_TILE - 1) / CR_TILE;
  dim3 grid((N + CR_TILE - 1) / CR_TILE, gy < maxGridY ? gy : maxGridY), block(CR_TILE, CR_TILE);
  gemm_tiled<<<grid, block>>>(ta, tb, M, N, K, alpha, dA.p, lda, dB.p, ldb, beta, dC.p, ldc);
  CK_LAUNCH();
  std::vector<double> ref((size_t)M * N);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double s = 0;
      for (int k = 0; k < K; k++) {
        double a = ta ? A[(size_t)k * lda + m] : A[(size_t)m * lda + k];
        double b = tb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n];
        s += a * b;
      }
      ref[(size_t)m * N + n] = alpha * s + (beta == 0.0f ? 0.0 : beta * C[(size_t)m * ldc + n]);
    }
  compare("C", dC.down(), ref, 1e-5f * (K + 1), 1e-4f);
}

int main() {
  Rng r(7890);
  int shapes[][3] = {{1, 1, 1}, {1, 33, 7}, {33, 1, 257}, {50, 132, 65}, {257, 33, 129}, {64, 512, 1024}};
  for (auto &s : shapes)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) check(ta, tb, s[0], s[1], s[2], 1.0f, ta == tb ? 0.0f : 1.0f, r);
  check(0, 1, 17, 19, 23, 0.5f, -2.0f, r);
  check(0, 1, 257, 33, 65, 1.0f, 0.0f, r, 3);  /* 17 row tiles over 3 blocks in y */
  check(1, 0, 100, 20, 9, 1.0f, 1.0f, r, 1);
  int M = 2500, N = 1024, K = 256;
  Dev<float> A((size_t)M * K), B((size_t)K * N), C((size_t)M * N);
  CK(cudaMemset(A.p, 0, (size_t)M * K * 4)); CK(cudaMemset(B.p, 0, (size_t)K * N * 4));
  dim3 grid((N + CR_TILE - 1) / CR_TILE, (M + CR_TILE - 1) / CR_TILE), block(CR_TILE, CR_TILE);
  printf("timing M=%d N=%d K=%d\n", M, N, K);
  TIME_IT("gemm_tiled NT", 50, (gemm_tiled<<<grid, block>>>(0, 1, M, N, K, 1.0f, A.p, K, B.p, K, 0.0f, C.p, N)));
  return finish("test_gemm");
}
