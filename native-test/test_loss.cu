/* test_loss: softmax_xent (bias add, loss, in-place gradient, the loss sum) against a double-precision reference. */
#include "common.h"
#include "../kernels/cuda/loss.cu"
#include "../kernels/cuda/reduce.cu"

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

int main() {
  Rng r(4567);
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
  N = 12800; V = 10000;
  Dev<float> l2((size_t)N * V), b2(V), loss2(N);
  Dev<int> y2(N);
  CK(cudaMemset(l2.p, 0, (size_t)N * V * 4)); CK(cudaMemset(b2.p, 0, V * 4)); CK(cudaMemset(y2.p, 0, N * 4));
  printf("timing N=%d V=%d\n", N, V);
  TIME_IT("softmax_xent", 20, (softmax_xent<<<N, cr_row_block(V)>>>(l2.p, b2.p, y2.p, loss2.p, N, V, 1.0f / N, 1, sum.p, ticket.p)));
  return finish("test_loss");
}
