/*
 * crcpu.h: runs the CUDA kernels of kernels/cuda on the CPU, unchanged, compiled as C++ by g++.
 *
 * Header-only execution layer used by the native harnesses (native-test/Makefile, target `cpu`)
 * and by the emulated CUDA driver (native-test/emu). Force-include it (g++ -include crcpu.h) before
 * a kernel source; native-test/cpu/include holds stand-ins for <cuda_runtime.h> and <cuda_bf16.h>.
 *
 * Model:
 *   - A grid's blocks run on a pool of OS threads (CRCPU_THREADS, default: the CPU count); one
 *     block runs to completion on one OS thread.
 *   - The threads of a block run as fibers on that OS thread (a 20-instruction x86-64 context
 *     switch, crcpu_switch.h; the stacks, crcpu_fiber.h), so __syncthreads() is a real barrier:
 *     each fiber runs until it reaches a barrier or returns, then the next fiber runs. A barrier
 *     phase ends when every fiber has arrived; then all resume.
 *   - __shared__ is `static thread_local`: one copy per OS thread, hence per running block; the
 *     dynamic shared memory of a launch (Job::shared bytes, <= kMaxDynamicShared) is a per-block
 *     buffer filled with NaN bytes at block start (dynamic_shared(), CR_DYNAMIC_SHARED).
 *   - Thread order within each barrier phase (CRCPU_ORDER): `forward` (0,1,2,...), `reverse`, or
 *     `shuffle[:SEED]` (a new seeded permutation every phase). A kernel whose result depends on
 *     the order has a race inside a block (a missing __syncthreads()).
 *   - Launches are validated: block dimensions (<= 1024 threads, x,y <= 1024, z <= 64), grid
 *     (x < 2^31, y,z <= 65535), and the block size against the kernel's __launch_bounds__ (known
 *     from the table that gen_kernel_table.py generates), failing as CUDA does.
 *   - Aborts (with the kernel, block and source lines) when the threads of a block wait at
 *     different barriers, or when some return while others wait at a barrier.
 *   - Cooperative launches (run_cooperative): every block is resident at once on its own OS
 *     thread, so a grid-wide barrier (cooperative_groups::this_grid().sync(),
 *     include/cooperative_groups.h) works; the blocks take turns between grid barriers in the
 *     thread order's sense (GridBarrier), so a missing grid barrier fails reproducibly; a block
 *     that finishes while others wait at it aborts, as does a grid barrier in an ordinary launch
 *     or a grid larger than max_coresident_blocks (the emulated device's limit).
 *   - Cluster launches (run_clusters; a kernel whose table entry has a cluster size, from its
 *     CR_CLUSTER_KERNEL): one cluster at a time, in the thread order's sense, its blocks resident
 *     at once and taking turns between cluster barriers (crcpu::cluster_sync) as a cooperative
 *     launch's do between grid barriers; a cluster barrier elsewhere aborts.
 *     A block maps a peer's dynamic shared memory (map_shared_rank) while both run.
 *   - Warps only where a kernel asks for them: a tensor-core mma (crcpu_warp.h) parks its lane until
 *     all 32 lanes of the warp stand at the same mma, then computes the warp's tile from their
 *     fragments as the PTX ISA lays them out; a warp whose lanes do not all arrive aborts.
 *   - atomicInc and __threadfence are the host's atomics and fences (the blocks of a grid run on
 *     OS threads at once), so a last-block-done reduction (cr_last_block) works.
 *   - What it does not model: lockstep otherwise (no shuffles), hardware expf/tanhf and tensor-core
 *     rounding, memory ordering between blocks beyond those fences, timing.
 */
#ifndef CHARRNN_CRCPU_H
#define CHARRNN_CRCPU_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define CRCPU_ASAN 1
#else
#define CRCPU_ASAN 0
#endif

/* ------------------------------------------------------------------ CUDA keywords and types */
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __shared__ static thread_local
#define __restrict__ __restrict

/* The bit casts of the CUDA math API. */
static inline unsigned __float_as_uint(float f) {
  unsigned u;
  memcpy(&u, &f, 4);
  return u;
}
static inline float __uint_as_float(unsigned u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* The device atomics and fences the kernels use (cr_last_block): a grid's blocks run on a pool of
 * OS threads, so they are the host's. atomicInc as CUDA's: old >= val ? 0 : old + 1, returns old. */
static inline unsigned atomicInc(unsigned *a, unsigned val) {
  unsigned old = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(a, &old, old >= val ? 0u : old + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
  }
  return old;
}
static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

struct uint3 { unsigned x, y, z; };
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};

namespace crcpu {

#include "crcpu_switch.h"

/* One line "<prefix>: <message>" on stderr (also the emulated driver's diagnostics), in one write:
 * blocks on other OS threads may report at the same time, and their lines must not interleave. */
inline void vreport(const char *prefix, const char *fmt, va_list ap) {
  char line[1024];
  int n = snprintf(line, sizeof line, "%s: ", prefix);
  if (n >= 0 && n < (int)sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  fprintf(stderr, "%s\n", line);
  fflush(stderr);
}

[[noreturn]] inline void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
inline void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("crcpu", fmt, ap);
  va_end(ap);
  abort();
}

enum class Order { Forward, Reverse, Shuffle };

struct Settings {
  Order order = Order::Forward;
  uint64_t seed = 1;
  unsigned threads = 1;
  size_t stack = 64 << 10;
};

inline const Settings &settings() {
  static const Settings s = [] {
    Settings r;
    if (const char *o = getenv("CRCPU_ORDER")) {
      if (!strcmp(o, "forward")) r.order = Order::Forward;
      else if (!strcmp(o, "reverse")) r.order = Order::Reverse;
      else if (!strncmp(o, "shuffle", 7)) {
        r.order = Order::Shuffle;
        if (o[7] == ':') r.seed = strtoull(o + 8, nullptr, 10);
      } else die("CRCPU_ORDER=%s: expected forward, reverse or shuffle[:SEED]", o);
    }
    unsigned hw = std::thread::hardware_concurrency();
    r.threads = hw ? hw : 1;
    if (const char *t = getenv("CRCPU_THREADS")) r.threads = (unsigned)std::max(1, atoi(t));
    r.stack = CRCPU_ASAN ? (256 << 10) : (64 << 10);
    return r;
  }();
  return s;
}

struct Block {
  uint3 idx;
  dim3 dim, grid;
};

enum class State { Ready, Waiting, WaitingGrid, WaitingCluster, WaitingWarp, Done };

struct Fiber {
  void *sp = nullptr;
  uint3 tid{0, 0, 0};
  State state = State::Ready;
  const char *bar_file = nullptr;
  int bar_line = 0;
  char *stack_lo = nullptr;
  const void *warp_op = nullptr; /* at WaitingWarp: its operands (crcpu_warp.h) */
};

}  /* namespace crcpu */

#include "crcpu_grid.h"
#include "crcpu_warp.h"

namespace crcpu {

/* What a launch runs in every thread: thunk(ctx) calls the kernel with its arguments. */
struct Job {
  const char *name;
  dim3 grid, block;
  void (*thunk)(void *ctx);
  void *ctx;
  GridBarrier *grid_barrier = nullptr; /* cooperative launches only */
  size_t shared = 0;                    /* bytes of dynamic shared memory per block */
  int cluster = 0;                      /* blocks per cluster (the kernel's __cluster_dims__), 0: none */
  GridBarrier *cluster_barrier = nullptr; /* cluster launches: the running cluster's barrier */
  void **cluster_shared = nullptr; /* cluster launches: rank r's dynamic shared memory while it runs, else null */
};

/* The most dynamic shared memory a launch may ask for: sm_90's opt-in per-block limit (227 KiB). */
constexpr size_t kMaxDynamicShared = 232448;

}  /* namespace crcpu */

#include "crcpu_fiber.h"

namespace crcpu {

inline uint64_t next_rand(uint64_t &s) {
  s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
  return s * 2685821657736338717ULL;
}

/* Runs every thread of one block to completion, barrier phase by barrier phase. */
inline void run_block(const Job &job, uint3 bidx) {
  Sched &s = sched();
  unsigned n = job.block.x * job.block.y * job.block.z;
  s.reserve(n);
  s.job = &job;
  s.block = Block{bidx, job.block, job.grid};
  tls_block = &s.block;
  /* undefined at block start on a GPU: NaN bytes here, so a read before any write shows */
  s.dynamic_shared.assign((job.shared + sizeof(double) - 1) / sizeof(double), 0.0);
  if (job.shared) memset(s.dynamic_shared.data(), 0xff, s.dynamic_shared.size() * sizeof(double));
  uint64_t linear = bidx.x + (uint64_t)job.grid.x * (bidx.y + (uint64_t)job.grid.y * bidx.z);
  if (job.cluster_shared && job.shared) job.cluster_shared[linear % job.cluster] = s.dynamic_shared.data();
  for (unsigned i = 0; i < n; i++) {
    Fiber &f = s.fibers[i];
    init_fiber(s, f);
    f.tid = uint3{i % job.block.x, (i / job.block.x) % job.block.y, i / (job.block.x * job.block.y)};
  }
  const Settings &cfg = settings();
  std::vector<unsigned> order(n);
  /* the shuffle of a block depends only on the seed and the block: reproducible whichever OS
   * thread runs it (the same launch twice gives the same orders) */
  s.rng = (cfg.seed * 0x9E3779B97F4A7C15ULL) ^ (linear * 0xD1B54A32D192ED03ULL) ^ 0x2545F4914F6CDD1DULL;
  if (s.rng == 0) s.rng = 1;
  for (long phase = 0;; phase++) {
    for (unsigned i = 0; i < n; i++) order[i] = cfg.order == Order::Reverse ? n - 1 - i : i;
    if (cfg.order == Order::Shuffle)
      for (unsigned i = n; i > 1; i--) std::swap(order[i - 1], order[next_rand(s.rng) % i]);
    for (unsigned i : order) {
      Fiber &f = s.fibers[i];
      if (f.state == State::Ready) switch_to_fiber(s, f);
    }
    if (resolve_warp_ops(job.name, bidx, s.fibers.data(), n)) continue; /* the warps' mma, then on */
    const Fiber *waiting = nullptr, *done = nullptr, *at_grid = nullptr; /* at_grid: or at the cluster barrier */
    for (unsigned i = 0; i < n; i++) {
      const Fiber &f = s.fibers[i];
      if (f.state == State::Done) { done = done ? done : &f; continue; }
      if (f.state == State::WaitingGrid || f.state == State::WaitingCluster) {
        if (at_grid && f.state != at_grid->state) die("threads of one block wait at the grid and the cluster barrier");
        at_grid = at_grid ? at_grid : &f;
        continue;
      }
      if (!waiting) { waiting = &f; continue; }
      if (f.bar_line != waiting->bar_line || (f.bar_file != waiting->bar_file && strcmp(f.bar_file, waiting->bar_file) != 0)) {
        fprintf(stderr, "crcpu: kernel %s, block (%u,%u,%u): thread (%u,%u,%u) waits at %s:%d, thread (%u,%u,%u) at %s:%d\n",
                job.name, bidx.x, bidx.y, bidx.z, waiting->tid.x, waiting->tid.y, waiting->tid.z, waiting->bar_file,
                waiting->bar_line, f.tid.x, f.tid.y, f.tid.z, f.bar_file, f.bar_line);
        die("threads of one block wait at different barriers");
      }
    }
    if (at_grid) {
      if (waiting || done) {
        const Fiber *other = waiting ? waiting : done;
        fprintf(stderr, "crcpu: kernel %s, block (%u,%u,%u): thread (%u,%u,%u) waits at the grid barrier, thread (%u,%u,%u) %s\n",
                job.name, bidx.x, bidx.y, bidx.z, at_grid->tid.x, at_grid->tid.y, at_grid->tid.z, other->tid.x,
                other->tid.y, other->tid.z, waiting ? "at a block barrier" : "returned");
        die("threads of one block disagree about the grid barrier");
      }
      bool cluster = at_grid->state == State::WaitingCluster;
      GridBarrier *barrier = cluster ? job.cluster_barrier : job.grid_barrier;
      if (!barrier) {
        fprintf(stderr, "crcpu: kernel %s: %s in a launch that is not %s\n", job.name,
                cluster ? "cluster sync" : "grid-wide sync", cluster ? "a cluster launch" : "cooperative");
        die(cluster ? "cluster sync needs a kernel with __cluster_dims__" : "grid sync needs a cooperative launch");
      }
      barrier->arrive_and_wait(job.name, cluster ? (long)(linear % job.cluster) : (long)linear);
      for (unsigned i = 0; i < n; i++) s.fibers[i].state = State::Ready;
      continue;
    }
    if (!waiting) break;
    if (done) {
      fprintf(stderr, "crcpu: kernel %s, block (%u,%u,%u): thread (%u,%u,%u) returned while thread (%u,%u,%u) waits at %s:%d\n",
              job.name, bidx.x, bidx.y, bidx.z, done->tid.x, done->tid.y, done->tid.z, waiting->tid.x, waiting->tid.y,
              waiting->tid.z, waiting->bar_file, waiting->bar_line);
      die("some threads of a block returned while others wait at a barrier");
    }
    for (unsigned i = 0; i < n; i++) s.fibers[i].state = State::Ready;
  }
  tls_block = nullptr;
  s.job = nullptr;
  if (job.cluster_shared) job.cluster_shared[linear % job.cluster] = nullptr; /* its peers may no longer map it */
  if (job.grid_barrier) job.grid_barrier->block_finished(job.name);
  if (job.cluster_barrier) job.cluster_barrier->block_finished(job.name);
}

/* Parks the running fiber in state st (at file:line, with a warp op's operands) and runs the next;
 * returns when run_block readies it again. `what` names the call in the error outside a kernel. */
inline void park(State st, const char *what, const char *file = nullptr, int line = 0, const void *op = nullptr) {
  Sched &s = sched();
  Fiber *f = tls_fiber;
  if (!f) die("%s called outside a kernel", what);
  f->state = st;
  f->bar_file = file;
  f->bar_line = line;
  f->warp_op = op;
  switch_to_main(s, *f, false);
  tls_fiber = f;
  tls_block = &s.block;
  f->warp_op = nullptr;
}

/* __syncthreads(): park this fiber at the barrier (file:line identifies it) and run the next. */
inline void syncthreads(const char *file, int line) { park(State::Waiting, "__syncthreads()", file, line); }

/* The running block's dynamic shared memory (extern __shared__; CR_DYNAMIC_SHARED in common.cuh). */
inline void *dynamic_shared() {
  Sched &s = sched();
  if (!tls_fiber) die("dynamic shared memory used outside a kernel");
  if (s.dynamic_shared.empty()) die("kernel %s uses dynamic shared memory but its launch asked for none", s.job->name);
  return s.dynamic_shared.data();
}

/* cooperative_groups::this_cluster().map_shared_rank(p, rank): the address in block `rank` of the
 * running cluster of what p addresses in this block's dynamic shared memory (distributed shared
 * memory). As on sm_90, the peer must be running: a map before the cluster's first barrier (a
 * peer may not have started) or after the peer returned aborts, as does a pointer outside the
 * dynamic shared memory (static __shared__ is per OS thread here and does not map). Stricter than
 * sm_90, a block mapping its own rank aborts too: the kernels store their own copy through p
 * itself (cr_cluster_dest), and the cost model prices only the peers' copies as distributed
 * shared memory. */
inline void *map_shared_rank(void *p, unsigned rank) {
  Sched &s = sched();
  if (!tls_fiber) die("map_shared_rank called outside a kernel");
  const Job &job = *s.job;
  if (!job.cluster_shared) die("kernel %s: map_shared_rank needs a cluster launch", job.name);
  if (rank >= (unsigned)job.cluster) die("kernel %s: map_shared_rank to rank %u of a cluster of %d", job.name, rank, job.cluster);
  char *base = (char *)s.dynamic_shared.data(), *at = (char *)p;
  if (!job.shared || at < base || at >= base + job.shared)
    die("kernel %s: map_shared_rank maps dynamic shared memory only", job.name);
  void *peer = job.cluster_shared[rank];
  if (peer == base)
    die("kernel %s: map_shared_rank to the block's own rank %u (its own shared memory is p itself: cr_cluster_dest)",
        job.name, rank);
  if (!peer)
    die("kernel %s: rank %u of the cluster is not running (distributed shared memory needs a cluster barrier after "
        "the blocks start and before they return)",
        job.name, rank);
  return (char *)peer + (at - base);
}

/* cooperative_groups::this_grid().sync(): park this fiber at the grid barrier. */
inline void grid_sync() { park(State::WaitingGrid, "grid sync"); }

/* cooperative_groups::this_cluster().sync() (the kernels' cr_persistent_sync<true>): park this
 * fiber at its cluster's barrier. */
inline void cluster_sync() { park(State::WaitingCluster, "cluster sync"); }

/* A warp-collective mma.sync (kernels' cr_mma): park this lane with its operands until every lane
 * of its warp has arrived at the same one; run_block then computes d (+=) A B for the warp. */
inline void warp_mma(bool bf16, float d[4], const unsigned a[4], const unsigned b[2], const char *file, int line) {
  WarpMma op{bf16, d, a, b};
  park(State::WaitingWarp, "mma", file, line, &op);
}

} /* namespace crcpu */

#include "crcpu_launch.h"

#define threadIdx (crcpu::tls_fiber->tid)
#define blockIdx (crcpu::tls_block->idx)
#define blockDim (crcpu::tls_block->dim)
#define gridDim (crcpu::tls_block->grid)
#define __syncthreads() crcpu::syncthreads(__FILE__, __LINE__)

#endif /* CHARRNN_CRCPU_H */
