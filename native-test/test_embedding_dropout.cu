/* test_embedding_dropout: window gather (alone and with the embedding), embedding forward/backward, add_bias_rows, copy_rows and dropout. */
#include <algorithm>
#include "common.h"
#include "ref.h"
#include "../kernels/cuda/embedding.cu"
#include "../kernels/cuda/dropout.cu"
#include "../kernels/cuda/copy.cu"

static void check_gather(int T, int B, int V, Rng &r) {
  printf("gather T=%d B=%d V=%d\n", T, B, V);
  long long len = (long long)T * B + 100;
  std::vector<unsigned char> c8(len);
  std::vector<unsigned short> c16(len);
  for (long long i = 0; i < len; i++) { c16[i] = (unsigned short)r.below(V); c8[i] = (unsigned char)(c16[i] & 0xFF); }
  std::vector<long long> starts(B);
  for (auto &s : starts) s = r.below((int)(len - T - 1));
  Dev<unsigned char> d8(c8);
  Dev<unsigned short> d16(c16);
  Dev<long long> ds(starts);
  Dev<int> x(T * B), y(T * B), x2(T * B), y2(T * B);
  gather_window_u8<<<blocks_for(T * B), 256>>>(d8.p, ds.p, T, B, x.p, y.p);
  gather_window_u16<<<blocks_for(T * B), 256>>>(d16.p, ds.p, T, B, x2.p, y2.p);
  CK_LAUNCH();
  auto hx = x.down(), hy = y.down(), hx2 = x2.down(), hy2 = y2.down();
  bool ok8 = true, ok16 = true;
  for (int t = 0; t < T; t++)
    for (int b = 0; b < B; b++) {
      long long p = starts[b] + t;
      int k = t * B + b;
      ok8 &= hx[k] == c8[p] && hy[k] == c8[p + 1];
      ok16 &= hx2[k] == c16[p] && hy2[k] == c16[p + 1];
    }
  expect(ok8, "gather_window_u8 exact");
  expect(ok16, "gather_window_u16 exact");
  /* gather_embed: the same x and y, and out = embedding_forward of them, bit for bit */
  for (int E : {1, 33}) {
    auto emb = rand_vec((size_t)V * E, r);
    Dev<float> demb(emb), out8((size_t)T * B * E), out16((size_t)T * B * E), ref16((size_t)T * B * E);
    Dev<int> x3(T * B), y3(T * B), x4(T * B), y4(T * B);
    gather_embed_u8<<<blocks_for((long long)T * B * E), 256>>>(d8.p, ds.p, T, B, x3.p, y3.p, demb.p, out8.p, E);
    gather_embed_u16<<<blocks_for((long long)T * B * E), 256>>>(d16.p, ds.p, T, B, x4.p, y4.p, demb.p, out16.p, E);
    embedding_forward<<<blocks_for((long long)T * B * E), 256>>>(x2.p, demb.p, ref16.p, T * B, E);
    CK_LAUNCH();
    expect(x3.down() == hx && y3.down() == hy, "gather_embed_u8: x, y as gather_window_u8");
    expect(x4.down() == hx2 && y4.down() == hy2, "gather_embed_u16: x, y as gather_window_u16");
    expect(out16.down() == ref16.down(), "gather_embed_u16: out as embedding_forward");
    bool rows8 = true;
    auto o8 = out8.down();
    for (long long k = 0; k < (long long)T * B * E; k++) rows8 &= o8[k] == emb[(size_t)hx[k / E] * E + k % E];
    expect(rows8, "gather_embed_u8: out as embedding_forward");
  }
}

static void check_embedding(int N, int V, int E, Rng &r) {
  printf("embedding N=%d V=%d E=%d\n", N, V, E);
  auto emb = rand_vec((size_t)V * E, r), dout = rand_vec((size_t)N * E, r);
  std::vector<int> x(N);
  for (auto &t : x) t = r.below(V);
  Dev<float> demb(emb), dd(dout), out((size_t)N * E), grad((size_t)V * E);
  Dev<int> dx(x);
  embedding_forward<<<blocks_for((long long)N * E), 256>>>(dx.p, demb.p, out.p, N, E);
  dim3 grid(V, blocks_for(E, cr_col_width(E))), cols(cr_col_width(E), cr_col_lanes(N));
  embedding_backward<<<grid, cols>>>(dx.p, dd.p, grad.p, N, V, E);
  CK_LAUNCH();
  std::vector<float> rout((size_t)N * E);
  std::vector<double> rgrad((size_t)V * E, 0.0);
  std::vector<int> count(V, 0);
  for (int n = 0; n < N; n++) {
    count[x[n]]++;
    for (int e = 0; e < E; e++) {
      rout[(size_t)n * E + e] = emb[(size_t)x[n] * E + e];
      rgrad[(size_t)x[n] * E + e] += dout[(size_t)n * E + e];
    }
  }
  compare("embedding_forward", out.down(), rout, 0.0f, 0.0f);
  int most = *std::max_element(count.begin(), count.end());
  /* float sums of up to `most` rows: absolute error grows with them */
  compare("embedding_backward", grad.down(), rgrad, 2e-6f * most + 1e-6f, 1e-5f);
  Dev<float> grad2((size_t)V * E);
  embedding_backward<<<grid, cols>>>(dx.p, dd.p, grad2.p, N, V, E);
  CK_LAUNCH();
  expect(grad2.down() == grad.down(), "embedding_backward deterministic");
  if (cols.x != CR_COL_WIDTH || cols.y != CR_COL_LANES) { /* the host's block is narrower: the full one too */
    embedding_backward<<<dim3(V, blocks_for(E, CR_COL_WIDTH)), dim3(CR_COL_WIDTH, CR_COL_LANES)>>>(dx.p, dd.p, grad2.p, N,
                                                                                                  V, E);
    CK_LAUNCH();
    compare("embedding_backward in full blocks", grad2.down(), rgrad, 2e-6f * most + 1e-6f, 1e-5f);
  }
  auto bias = rand_vec(E, r);
  Dev<float> db(bias);
  add_bias_rows<<<blocks_for((long long)N * E), 256>>>(out.p, db.p, N, E);
  CK_LAUNCH();
  for (int n = 0; n < N; n++) for (int e = 0; e < E; e++) rout[(size_t)n * E + e] += bias[e];
  compare("add_bias_rows", out.down(), rout, 0.0f, 0.0f);
}

/* copy_rows as the orchestration uses it: a state [rows, cols] into slot 0 of rows slots `pitch`
 * apart, and slot `last` back out; everything between the rows must stay as it was. */
static void check_copy_rows(int rows, long long cols, long long pitch, long long last, Rng &r) {
  printf("copy_rows rows=%d cols=%lld pitch=%lld\n", rows, cols, pitch);
  auto state = rand_vec((int)(rows * cols), r);
  auto slots = rand_vec((int)(rows * pitch), r);
  Dev<float> ds(state), dslots(slots), out((size_t)(rows * cols));
  copy_rows<<<blocks_for(rows * cols), 256>>>(dslots.p, pitch, ds.p, cols, rows, cols);
  CK_LAUNCH();
  auto in = slots;
  for (int k = 0; k < rows; k++)
    for (long long j = 0; j < cols; j++) in[(size_t)(k * pitch + j)] = state[(size_t)(k * cols + j)];
  compare("copy_rows in (gaps untouched)", dslots.down(), in, 0.0f, 0.0f);
  copy_rows<<<blocks_for(rows * cols), 256>>>(out.p, cols, dslots.p + last * cols, pitch, rows, cols);
  CK_LAUNCH();
  std::vector<float> back((size_t)(rows * cols));
  for (int k = 0; k < rows; k++)
    for (long long j = 0; j < cols; j++) back[(size_t)(k * cols + j)] = in[(size_t)(k * pitch + last * cols + j)];
  compare("copy_rows out", out.down(), back, 0.0f, 0.0f);
}

static void check_dropout(int n, float p, unsigned seed, unsigned it, unsigned layer, Rng &r) {
  printf("dropout n=%d p=%.2f\n", n, p);
  auto x = rand_vec(n, r);
  Dev<float> dx(x), dy(n), it_dev(1);
  unsigned itv = it;
  CK(cudaMemcpy(it_dev.p, &itv, 4, cudaMemcpyHostToDevice));
  dropout_forward<<<blocks_for(n), 256>>>(dx.p, dy.p, n, 0, seed, it, layer, p);
  CK_LAUNCH();
  std::vector<float> ref(n);
  long dropped = 0;
  for (int i = 0; i < n; i++) {
    float s = ref_dropout_scale(seed, it, layer, (unsigned)i, p);
    ref[i] = x[i] * s;
    dropped += s == 0.0f;
  }
  compare("dropout_forward (bit-exact mask)", dy.down(), ref, 0.0f, 0.0f);
  Dev<float> y2(n);
  dropout_forward_dev<<<blocks_for(n), 256>>>(dx.p, y2.p, n, 0, seed, (const unsigned *)it_dev.p, layer, p);
  CK_LAUNCH();
  compare("dropout_forward_dev", y2.down(), ref, 0.0f, 0.0f);
  /* a chunk from element k on (a pipelined layer's chunk of the window): first = k draws the
   * whole layer's mask for those elements */
  int k = n / 3;
  Dev<float> y3(n);
  CK(cudaMemset(y3.p, 0, (size_t)n * 4));
  dropout_forward_dev<<<blocks_for(n - k), 256>>>(dx.p + k, y3.p + k, n - k, k, seed, (const unsigned *)it_dev.p,
                                                  layer, p);
  CK_LAUNCH();
  if (k > 0) {
    dropout_forward_dev<<<blocks_for(k), 256>>>(dx.p, y3.p, k, 0, seed, (const unsigned *)it_dev.p, layer, p);
    CK_LAUNCH();
  }
  compare("dropout_forward_dev by chunks (first = k)", y3.down(), ref, 0.0f, 0.0f);
  /* backward in place (dx aliases dy) */
  dropout_backward<<<blocks_for(n), 256>>>(dx.p, dx.p, n, 0, seed, it, layer, p);
  CK_LAUNCH();
  compare("dropout_backward in place", dx.down(), ref, 0.0f, 0.0f);
  dx.up(x);
  dropout_backward_dev<<<blocks_for(n), 256>>>(dx.p, dx.p, n, 0, seed, (const unsigned *)it_dev.p, layer, p);
  CK_LAUNCH();
  compare("dropout_backward_dev in place", dx.down(), ref, 0.0f, 0.0f);
  if (n >= 10000) {
    double frac = (double)dropped / n;
    expect(fabs(frac - p) < 0.02, "dropped fraction close to p");
  }
}

int main() {
  Rng r(5678);
  check_gather(1, 1, 65, r);
  check_gather(50, 50, 65, r);
  check_gather(7, 3, 5000, r);
  check_embedding(1, 1, 1, r);
  check_embedding(15, 11, 7, r); /* the parity shapes' window: a block of 8 columns x 2 lanes */
  check_embedding(2500, 65, 64, r);
  check_embedding(33, 257, 33, r); /* 8 lanes of 4 or 5 rows */
  check_embedding(12800, 65, 40, r); /* a B 128 T 100 window; E past one block of columns */
  check_copy_rows(1, 1, 2, 1, r);          /* L 1, S 1, B H 1, T 1 */
  check_copy_rows(6, 33, 33 * 8, 7, r);    /* L 3, S 2, B 1, H 33, T 7 */
  check_copy_rows(4, 12800, 12800 * 51, 50, r); /* L 2 LSTM, B 50 H 256, T 50 */
  check_dropout(1, 0.5f, 42, 0, 0, r);
  check_dropout(50 * 50 * 257, 0.25f, 42, 7, 2, r);
  check_dropout(12345, 0.5f, 0xDEADBEEFu, 123456789u, 1, r);
  int N = 5000, V = 65, E = 256;
  Dev<int> x(N);
  CK(cudaMemset(x.p, 0, N * 4));
  Dev<float> emb((size_t)V * E), out((size_t)N * E), grad((size_t)V * E);
  CK(cudaMemset(out.p, 0, (size_t)N * E * 4)); CK(cudaMemset(emb.p, 0, (size_t)V * E * 4));
  printf("timing N=%d V=%d E=%d\n", N, V, E);
  TIME_IT("embedding_forward", 200, (embedding_forward<<<blocks_for((long long)N * E), 256>>>(x.p, emb.p, out.p, N, E)));
  TIME_IT("embedding_backward", 50, (embedding_backward<<<dim3(V, blocks_for(E, cr_col_width(E))), dim3(cr_col_width(E), cr_col_lanes(N))>>>(x.p, out.p, grad.p, N, V, E)));
  TIME_IT("dropout_forward", 200, (dropout_forward<<<blocks_for((long long)N * E), 256>>>(out.p, out.p, N * E, 0, 1, 2, 3, 0.5f)));
  return finish("test_embedding_dropout");
}
