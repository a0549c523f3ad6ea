/*
 * crcpu_grid.h: the grid-wide barrier of a cooperative launch for the CPU execution layer
 * (crcpu.h, which includes this file where a launch's Job needs it).
 */
#ifndef CHARRNN_CRCPU_GRID_H
#define CHARRNN_CRCPU_GRID_H

namespace crcpu {

/* The grid-wide barrier of a cooperative launch: all blocks arrive, then all go on. The blocks
 * take turns: one runs at a time, from its start or a grid barrier to its next grid barrier or
 * its end, in the phase's block order (CRCPU_ORDER: forward, reverse, or a seeded shuffle drawn
 * anew each phase). A missing grid barrier therefore shows the same way on every run: in forward
 * order block 0 runs ahead of the others, in reverse order behind them. */
class GridBarrier {
 public:
  explicit GridBarrier(long blocks, const char *what = "the grid barrier")
      : what_(what), blocks_(blocks), order_((size_t)blocks) {
    rng_ = (settings().seed * 0x9E3779B97F4A7C15ULL) ^ 0x6A09E667F3BCC909ULL;
    if (rng_ == 0) rng_ = 1;
    reorder();
  }

  /* Before a block starts: wait until it is its turn. */
  void wait_turn(long block) {
    std::unique_lock<std::mutex> g(m_);
    cv_.wait(g, [&] { return my_turn(block); });
  }

  void arrive_and_wait(const char *kernel, long block) {
    std::unique_lock<std::mutex> g(m_);
    if (finished_) abort_finished(kernel);
    long gen = generation_;
    arrived_++;
    pos_++;
    if (arrived_ == blocks_) {
      arrived_ = 0;
      generation_++;
      reorder();
    }
    cv_.notify_all();
    cv_.wait(g, [&] { return (generation_ != gen && my_turn(block)) || finished_; });
    if (generation_ == gen) abort_finished(kernel);
  }

  /* A block has returned: no later grid barrier can complete; the next block takes its turn. */
  void block_finished(const char *kernel) {
    std::lock_guard<std::mutex> g(m_);
    finished_++;
    if (arrived_ > 0) abort_finished(kernel);
    pos_++;
    cv_.notify_all();
  }

 private:
  bool my_turn(long block) const { return pos_ < blocks_ && order_[(size_t)pos_] == block; }

  void reorder() {
    pos_ = 0;
    Order o = settings().order;
    for (long i = 0; i < blocks_; i++) order_[(size_t)i] = o == Order::Reverse ? blocks_ - 1 - i : i;
    if (o == Order::Shuffle)
      for (long i = blocks_; i > 1; i--) {
        rng_ ^= rng_ >> 12; rng_ ^= rng_ << 25; rng_ ^= rng_ >> 27;
        std::swap(order_[(size_t)i - 1], order_[(size_t)((rng_ * 2685821657736338717ULL) % (uint64_t)i)]);
      }
  }

  [[noreturn]] void abort_finished(const char *kernel) const {
    fprintf(stderr, "crcpu: kernel %s: a block returned while others wait at %s\n", kernel, what_);
    abort();
  }
  const char *what_;
  std::mutex m_;
  std::condition_variable cv_;
  long blocks_, arrived_ = 0, generation_ = 0, finished_ = 0, pos_ = 0;
  std::vector<long> order_;
  uint64_t rng_ = 1;
};

}  /* namespace crcpu */
#endif
