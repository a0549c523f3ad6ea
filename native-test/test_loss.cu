/* test_loss: softmax_xent (bias add, loss, in-place gradient, the loss sum) and decoder_xent (the
 * decoder, softmax_xent and dL/dtop in one) against double-precision references. */
#include "common.h"
#include "../kernels/cuda/loss.cu"
#include "../kernels/cuda/reduce.cu"
#include "../kernels/cuda/decoder.cu"
#include "decoder_v1.cuh"

/* softmax_xent in blocks of `block` threads (the host's cr_row_block(V), or another power of two). */
static void check_shape(int N, int V, Rng &r, int write_grad, int block) {
  printf("N=%d V=%d write_grad=%d block=%d\n", N, V, write_grad, block);
  auto logits = rand_vec((size_t)N * V, r, -5, 5), bias = rand_vec(V, r);
  std::vector<int> y(N);
  for (auto &t : y) t = r.below(V);
  Dev<float> dl(logits), db(bias), dloss(N), dl2(logits), dloss2(N), dsum(1), dstaged(1);
  Dev<int> dy(y);
  Dev<unsigned> ticket(std::vector<unsigned>{0});
  float scale = 1.0f / N;
  softmax_xent<<<N, block>>>(dl.p, db.p, dy.p, dloss.p, N, V, scale, write_grad, nullptr, nullptr);
  /* with the loss sum: the same rows and gradient, and the sum sum_final would add */
  softmax_xent<<<N, block>>>(dl2.p, db.p, dy.p, dloss2.p, N, V, scale, write_grad, dsum.p, ticket.p);
  sum_final<<<1, CR_BLOCK>>>(dloss.p, N, dstaged.p, 0);
  CK_LAUNCH();
  expect(dloss2.down() == dloss.down() && dl2.down() == dl.down(), "softmax_xent with the loss sum: rows unchanged");
  expect(dsum.down()[0] == dstaged.down()[0], "softmax_xent loss_sum = sum_final of row_loss");
  expect(ticket.down()[0] == 0, "softmax_xent leaves its ticket at 0");
  std::vector<double> loss(N), out((size_t)N * V);
  for (int n = 0; n < N; n++) {
    double mx = -INFINITY;
    for (int c = 0; c < V; c++) mx = fmax(mx, (double)logits[(size_t)n * V + c] + bias[c]);
    double s = 0;
    for (int c = 0; c < V; c++) s += exp((double)logits[(size_t)n * V + c] + bias[c] - mx);
    loss[n] = log(s) + mx - ((double)logits[(size_t)n * V + y[n]] + bias[y[n]]);
    for (int c = 0; c < V; c++) {
      double z = (double)logits[(size_t)n * V + c] + bias[c];
      out[(size_t)n * V + c] = write_grad ? scale * (exp(z - mx) / s - (c == y[n] ? 1.0 : 0.0)) : z;
    }
  }
  compare("row_loss", dloss.down(), loss, 1e-5f, 1e-5f);
  double total = 0;
  for (double v : loss) total += v;
  compare("loss_sum", dsum.down(), std::vector<double>{total}, 1e-5f * N, 1e-5f);
  compare(write_grad ? "dlogits" : "logits + bias", dl.down(), out, 1e-7f, 1e-4f);
}

/* decoder_xent in `blocks` blocks (row tiles grid-stride) of G groups against the decoder in double,
 * and at every other G and one block bit for bit as at G */
static void check_decoder(int N, int V, int H, int write_grad, int blocks, int G, Rng &r) {
  printf("decoder_xent N=%d V=%d H=%d write_grad=%d blocks=%d groups=%d\n", N, V, H, write_grad, blocks, G);
  auto top = rand_vec((size_t)N * H, r), w = rand_vec((size_t)V * H, r, -0.5f, 0.5f), bias = rand_vec(V, r);
  std::vector<int> y(N);
  for (auto &t : y) t = r.below(V);
  Dev<float> dtop_(top), dw(w), db(bias), dl((size_t)N * V), dloss(N), ddtop((size_t)N * H), dsum(1), dstaged(1);
  Dev<int> dy(y);
  Dev<unsigned> ticket(std::vector<unsigned>{0});
  float scale = 1.0f / N;
  auto launch = [&](int grid, int g, Dev<float> &l, Dev<float> &loss, Dev<float> &dt) {
    long long shmem = cr_decoder_shared_bytes(V, H, g);
    CK(cudaFuncSetAttribute(decoder_xent, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
    decoder_xent<<<grid, CR_BLOCK, shmem>>>(dtop_.p, dw.p, db.p, dy.p, l.p, loss.p, write_grad ? dt.p : nullptr, N, V,
                                            H, g, scale, write_grad, dsum.p, ticket.p);
    CK_LAUNCH();
  };
  launch(blocks, G, dl, dloss, ddtop);
  sum_final<<<1, CR_BLOCK>>>(dloss.p, N, dstaged.p, 0);
  CK_LAUNCH();
  expect(dsum.down()[0] == dstaged.down()[0], "decoder_xent loss_sum = sum_final of row_loss");
  expect(ticket.down()[0] == 0, "decoder_xent leaves its ticket at 0");
  for (int g : {1, 3, CR_DEC_MAX_GROUPS}) { /* other tiles: the same sums in the same order */
    if (g == G) continue;
    Dev<float> l2((size_t)N * V), loss2(N), dt2((size_t)N * H);
    launch(1, g, l2, loss2, dt2);
    expect(l2.down() == dl.down() && loss2.down() == dloss.down() && (!write_grad || dt2.down() == ddtop.down()),
           "decoder_xent at another tile size and one block: bit for bit");
  }
  std::vector<double> loss(N), out((size_t)N * V), dtop((size_t)N * H, 0.0), z(V);
  for (int n = 0; n < N; n++) {
    double mx = -INFINITY, s = 0;
    for (int c = 0; c < V; c++) {
      z[c] = bias[c];
      for (int k = 0; k < H; k++) z[c] += (double)top[(size_t)n * H + k] * w[(size_t)c * H + k];
      mx = fmax(mx, z[c]);
    }
    for (int c = 0; c < V; c++) s += exp(z[c] - mx);
    loss[n] = log(s) + mx - z[y[n]];
    for (int c = 0; c < V; c++) {
      double g = scale * (exp(z[c] - mx) / s - (c == y[n] ? 1.0 : 0.0));
      out[(size_t)n * V + c] = write_grad ? g : z[c];
      for (int k = 0; k < H && write_grad; k++) dtop[(size_t)n * H + k] += g * w[(size_t)c * H + k];
    }
  }
  compare("decoder row_loss", dloss.down(), loss, 1e-5f, 1e-5f);
  compare(write_grad ? "decoder dlogits" : "decoder logits + bias", dl.down(), out, 1e-6f, 1e-4f);
  if (write_grad) compare("decoder dtop", ddtop.down(), dtop, 1e-7f, 1e-4f);
  /* version 1 (decoder_v1.cuh), timed beside version 2 below: the same reference */
  Dev<float> l1((size_t)N * V), loss1(N), dt1((size_t)N * H);
  long long shmem1 = cr_decoder_v1_shared_bytes(V, H);
  CK(cudaFuncSetAttribute(decoder_xent_v1, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem1));
  decoder_xent_v1<<<blocks, CR_BLOCK, shmem1>>>(dtop_.p, dw.p, db.p, dy.p, l1.p, loss1.p, write_grad ? dt1.p : nullptr,
                                               N, V, H, scale, write_grad, nullptr, nullptr);
  CK_LAUNCH();
  compare("decoder version 1 row_loss", loss1.down(), loss, 1e-5f, 1e-5f);
  compare("decoder version 1 logits", l1.down(), out, 1e-6f, 1e-4f);
  if (write_grad) compare("decoder version 1 dtop", dt1.down(), dtop, 1e-7f, 1e-4f);
}

int main() {
  Rng r(4567);
  expect(cr_decoder_groups(2500, 132) == 5 && cr_decoder_groups(1, 132) == 1 && cr_decoder_groups(12800, 132) == 5 &&
             cr_decoder_groups(64, 1) == CR_DEC_MAX_GROUPS && cr_decoder_rows(5) == 20 && cr_decoder_stride(1) == 8 &&
             cr_decoder_stride(128) == 132 && cr_decoder_shared_bytes(65, 128, 5) == 4LL * (65 * 132 + 20 * 132 + 20 * 66),
         "decoder_xent's row groups, tile rows, stride and shared memory (DecoderXent holds the same)");
  /* awkward shapes: one row, H = 1 and 33 (padding, an odd number of column chunks), V = 1 and odd
   * (a last item of one column), V > CR_BLOCK (items past the block's threads), a ragged last tile,
   * fewer blocks than tiles (grid-stride), the most groups a tile */
  int dshapes[][5] = {{1, 1, 1, 1, 1},    {1, 65, 33, 1, 1},  {7, 65, 128, 1, 2},  {50, 65, 257, 3, 2},
                      {13, 300, 20, 2, 1}, {33, 5, 1, 4, 3},   {100, 65, 64, 2, 5}, {70, 66, 36, 1, CR_DEC_MAX_GROUPS}};
  for (auto &s : dshapes) {
    check_decoder(s[0], s[1], s[2], 1, s[3], s[4], r);
    check_decoder(s[0], s[1], s[2], 0, s[3], s[4], r);
  }
  expect(cr_row_block(1) == 32 && cr_row_block(65) == 32 && cr_row_block(128) == 32 && cr_row_block(129) == 64 &&
             cr_row_block(257) == 128 && cr_row_block(1024) == CR_ROW_BLOCK && cr_row_block(5000) == CR_ROW_BLOCK,
         "cr_row_block: the power of two at or above V / 4, from 32 to CR_ROW_BLOCK");
  int shapes[][2] = {{1, 1}, {1, 65}, {7, 65}, {33, 257}, {100, 1000}, {3, 5000}, {5, 20}, {4, 129}};
  for (auto &s : shapes) {
    check_shape(s[0], s[1], r, 1, cr_row_block(s[1]));
    check_shape(s[0], s[1], r, 0, cr_row_block(s[1]));
  }
  /* other blocks than the host's: a full block over a short row (and a thread a value), one warp
   * over a long one */
  check_shape(7, 65, r, 1, CR_ROW_BLOCK);
  check_shape(7, 65, r, 1, 128);
  check_shape(3, 5000, r, 1, 32);
  int N = 2500, V = 65;
  Dev<float> l((size_t)N * V), b(V), loss(N), sum(1);
  Dev<int> y(N);
  Dev<unsigned> ticket(std::vector<unsigned>{0});
  CK(cudaMemset(l.p, 0, (size_t)N * V * 4)); CK(cudaMemset(b.p, 0, V * 4)); CK(cudaMemset(y.p, 0, N * 4));
  printf("timing N=%d V=%d\n", N, V);
  TIME_IT("softmax_xent", 200, (softmax_xent<<<N, cr_row_block(V)>>>(l.p, b.p, y.p, loss.p, N, V, 1.0f / N, 1, sum.p, ticket.p)));
  TIME_IT("softmax_xent, 128 threads (a thread a value)", 200,
          (softmax_xent<<<N, 128>>>(l.p, b.p, y.p, loss.p, N, V, 1.0f / N, 1, sum.p, ticket.p)));
  TIME_IT("softmax_xent, CR_ROW_BLOCK threads", 200,
          (softmax_xent<<<N, CR_ROW_BLOCK>>>(l.p, b.p, y.p, loss.p, N, V, 1.0f / N, 1, sum.p, ticket.p)));
  int sms = 1; /* the backend's launch: a block an SM (DecoderXent.blocks), no more than the tiles */
#ifndef CRCPU_RUNTIME
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
#endif
  for (int H : {128, 256}) { /* the rows where the backend fuses the decoder: LSTM L1 H128, L2 H256 */
    int G = cr_decoder_groups(N, std::max(1, sms)), RT = cr_decoder_rows(G);
    int blocks = std::min((N + RT - 1) / RT, std::max(1, sms));
    long long shmem = cr_decoder_shared_bytes(V, H, G);
    Dev<float> top((size_t)N * H), w((size_t)V * H), dtop((size_t)N * H);
    CK(cudaMemset(top.p, 0, (size_t)N * H * 4)); CK(cudaMemset(w.p, 0, (size_t)V * H * 4));
    CK(cudaFuncSetAttribute(decoder_xent, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
    printf("timing N=%d V=%d H=%d\n", N, V, H);
    TIME_IT("decoder_xent (the decoder GEMM, softmax_xent and the dtop GEMM in one)", 200,
            (decoder_xent<<<blocks, CR_BLOCK, shmem>>>(top.p, w.p, b.p, y.p, l.p, loss.p, dtop.p, N, V, H, G, 1.0f / N,
                                                      1, sum.p, ticket.p)));
    /* version 1 as the backend launched it: tiles of 12 rows, a block an SM */
    int rt1 = cr_decoder_v1_rows(V), blocks1 = std::min((N + rt1 - 1) / rt1, std::max(1, sms));
    long long shmem1 = cr_decoder_v1_shared_bytes(V, H);
    CK(cudaFuncSetAttribute(decoder_xent_v1, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem1));
    TIME_IT("decoder_xent version 1 (decoder_v1.cuh: tiles of 4 min(4, 256 / V) rows, an item a column)", 200,
            (decoder_xent_v1<<<blocks1, CR_BLOCK, shmem1>>>(top.p, w.p, b.p, y.p, l.p, loss.p, dtop.p, N, V, H,
                                                           1.0f / N, 1, sum.p, ticket.p)));
  }
  N = 12800; V = 10000;
  Dev<float> l2((size_t)N * V), b2(V), loss2(N);
  Dev<int> y2(N);
  CK(cudaMemset(l2.p, 0, (size_t)N * V * 4)); CK(cudaMemset(b2.p, 0, V * 4)); CK(cudaMemset(y2.p, 0, N * 4));
  printf("timing N=%d V=%d\n", N, V);
  TIME_IT("softmax_xent", 20, (softmax_xent<<<N, cr_row_block(V)>>>(l2.p, b2.p, y2.p, loss2.p, N, V, 1.0f / N, 1, sum.p, ticket.p)));
  return finish("test_loss");
}
