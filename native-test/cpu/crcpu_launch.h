/*
 * crcpu_launch.h: how the CPU execution layer (crcpu.h, which includes this file) runs a grid: the
 * block pool, cooperative launches, launch validation, and the typed entry points that unpack
 * CUDA's kernelParams by a kernel's C++ signature.
 */
#ifndef CHARRNN_CRCPU_LAUNCH_H
#define CHARRNN_CRCPU_LAUNCH_H

namespace crcpu {

/* Blocks of `threads` threads that can be resident at once: what a cooperative launch may use
 * (the emulated device has settings().threads multiprocessors of 2048 threads, <= 32 blocks each). */
inline long max_coresident_blocks(unsigned threads) {
  long per_sm = std::min<long>(32, std::max<long>(1, 2048 / std::max(1u, threads)));
  return per_sm * (long)settings().threads;
}

/* Runs a cooperative launch: every block resident at once, each on its own OS thread, taking
 * turns between grid barriers (GridBarrier). */
inline void run_cooperative(Job job) {
  long total = (long)job.grid.x * job.grid.y * job.grid.z;
  GridBarrier barrier(total);
  job.grid_barrier = &barrier;
  std::vector<std::thread> threads;
  threads.reserve((size_t)total);
  for (long b = 0; b < total; b++)
    threads.emplace_back([&job, b] {
      uint3 idx{(unsigned)(b % job.grid.x), (unsigned)((b / job.grid.x) % job.grid.y),
                (unsigned)(b / ((long)job.grid.x * job.grid.y))};
      job.grid_barrier->wait_turn(b);
      run_block(job, idx);
    });
  for (auto &t : threads) t.join();
}

/* The block of linear index b in grid g. */
inline uint3 block_index(dim3 g, long b) {
  return uint3{(unsigned)(b % g.x), (unsigned)((b / g.x) % g.y), (unsigned)(b / ((long)g.x * g.y))};
}

/* Runs a cluster launch (job.cluster blocks a cluster, consecutive along the grid): one cluster at
 * a time, in the thread order's sense (forward, or reverse for `reverse`), so a kernel that reads
 * what another cluster writes in the same launch fails in one order; within a cluster every block
 * is resident at once on its own OS thread, taking turns between cluster barriers (GridBarrier). */
inline void run_clusters(Job job) {
  long total = (long)job.grid.x * job.grid.y * job.grid.z, clusters = total / job.cluster;
  for (long i = 0; i < clusters; i++) {
    long c = settings().order == Order::Reverse ? clusters - 1 - i : i;
    GridBarrier barrier(job.cluster, "the cluster barrier");
    job.cluster_barrier = &barrier;
    std::vector<void *> shared((size_t)job.cluster, nullptr);
    job.cluster_shared = shared.data();
    std::vector<std::thread> threads;
    for (long r = 0; r < job.cluster; r++)
      threads.emplace_back([&job, c, r] {
        job.cluster_barrier->wait_turn(r);
        run_block(job, block_index(job.grid, c * job.cluster + r));
      });
    for (auto &t : threads) t.join();
  }
}

/* ------------------------------------------------------------------ the block pool */
class Pool {
 public:
  static Pool &get() {
    static Pool *p = new Pool(settings().threads); /* never destroyed: workers may outlive statics */
    return *p;
  }

  /* Runs every block of job; returns when all have finished. Serialised: one grid at a time. */
  void run(const Job &job) {
    std::lock_guard<std::mutex> one(launch_);
    long total = (long)job.grid.x * job.grid.y * job.grid.z;
    if (total <= 0) return;
    if (workers_.empty() || total == 1) {
      for (long b = 0; b < total; b++) run_block(job, unflatten(job.grid, b));
      return;
    }
    {
      std::lock_guard<std::mutex> g(m_);
      job_ = &job;
      total_ = total;
      next_.store(0);
      busy_ = (int)workers_.size();
      gen_++;
    }
    cv_.notify_all();
    work(job, total);
    std::unique_lock<std::mutex> g(m_);
    done_.wait(g, [&] { return busy_ == 0; });
    job_ = nullptr;
  }

 private:
  explicit Pool(unsigned threads) {
    for (unsigned i = 1; i < threads; i++) workers_.emplace_back([this] { loop(); });
    for (auto &w : workers_) w.detach();
  }

  static uint3 unflatten(dim3 g, long b) { return block_index(g, b); }

  void work(const Job &job, long total) {
    for (long b; (b = next_.fetch_add(1)) < total;) run_block(job, unflatten(job.grid, b));
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      const Job *job;
      long total;
      {
        std::unique_lock<std::mutex> g(m_);
        cv_.wait(g, [&] { return gen_ != seen; });
        seen = gen_;
        job = job_;
        total = total_;
      }
      work(*job, total);
      std::lock_guard<std::mutex> g(m_);
      if (--busy_ == 0) done_.notify_all();
    }
  }

  std::mutex launch_, m_;
  std::condition_variable cv_, done_;
  std::vector<std::thread> workers_;
  const Job *job_ = nullptr;
  long total_ = 0;
  std::atomic<long> next_{0};
  int busy_ = 0;
  uint64_t gen_ = 0;
};

/* An ordinary launch: its clusters one at a time where the kernel has a cluster size, else the pool. */
inline void run_launch(const Job &job) {
  if (job.cluster > 0) run_clusters(job);
  else Pool::get().run(job);
}

/* ------------------------------------------------------------------ launch validation */
enum class LaunchError { None, InvalidConfig, TooManyThreads, ClusterSize };

/* A cluster launch's grid: along x only, a whole number of clusters (cluster: the kernel's size, 0 none). */
inline LaunchError validate_cluster(dim3 grid, int cluster, char *why, size_t why_len) {
  if (cluster <= 0 || (grid.x % (unsigned)cluster == 0 && grid.y == 1 && grid.z == 1)) return LaunchError::None;
  snprintf(why, why_len, "grid (%u,%u,%u) is not a whole number of clusters of (%d,1,1) blocks", grid.x, grid.y,
           grid.z, cluster);
  return LaunchError::ClusterSize;
}

/* bound: the kernel's __launch_bounds__ (0 = none, 1024 applies). */
inline LaunchError validate(dim3 grid, dim3 block, int bound, char *why, size_t why_len) {
  unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
  if (block.x == 0 || block.y == 0 || block.z == 0 || grid.x == 0 || grid.y == 0 || grid.z == 0) {
    snprintf(why, why_len, "grid (%u,%u,%u) / block (%u,%u,%u) has a zero dimension", grid.x, grid.y, grid.z,
             block.x, block.y, block.z);
    return LaunchError::InvalidConfig;
  }
  if (block.x > 1024 || block.y > 1024 || block.z > 64 || threads > 1024) {
    snprintf(why, why_len, "block (%u,%u,%u) exceeds the 1024-thread / (1024,1024,64) limits", block.x, block.y,
             block.z);
    return LaunchError::InvalidConfig;
  }
  if (grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535) {
    snprintf(why, why_len, "grid (%u,%u,%u) exceeds (2^31-1, 65535, 65535)", grid.x, grid.y, grid.z);
    return LaunchError::InvalidConfig;
  }
  if (bound > 0 && threads > (unsigned long long)bound) {
    snprintf(why, why_len, "%llu threads per block exceed __launch_bounds__(%d)", threads, bound);
    return LaunchError::TooManyThreads;
  }
  return LaunchError::None;
}

/* ------------------------------------------------------------------ typed kernel entry points */
/* For a kernel `void k(P...)`: parameter count, sizes, which are pointers, and a call that
 * unpacks CUDA's kernelParams (an array of pointers to each argument's value). */
template <class F> struct Kernel;
template <class... P> struct Kernel<void (*)(P...)> {
  static constexpr int arity = (int)sizeof...(P);
  static constexpr size_t sizes[sizeof...(P) + 1] = {sizeof(P)..., 0};
  static constexpr bool pointers[sizeof...(P) + 1] = {std::is_pointer<P>::value..., false};
  template <size_t... I> static void call(void *fn, void **params, std::index_sequence<I...>) {
    ((void (*)(P...))fn)(*(const std::remove_cv_t<P> *)params[I]...);
  }
  static void invoke(void *fn, void **params) { call(fn, params, std::index_sequence_for<P...>{}); }
};

} /* namespace crcpu */
#endif
