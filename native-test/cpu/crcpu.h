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
 *     switch, below), so __syncthreads() is a real barrier: each fiber runs until it reaches a
 *     barrier or returns, then the next fiber runs. A barrier phase ends when every fiber has
 *     arrived; then all resume.
 *   - __shared__ is `static thread_local`: one copy per OS thread, hence per running block.
 *   - Thread order within each barrier phase (CRCPU_ORDER): `forward` (0,1,2,...), `reverse`, or
 *     `shuffle[:SEED]` (a new seeded permutation every phase). A kernel whose result depends on
 *     the order has a race inside a block (a missing __syncthreads()).
 *   - Launches are validated: block dimensions (<= 1024 threads, x,y <= 1024, z <= 64), grid
 *     (x < 2^31, y,z <= 65535), and the block size against the kernel's __launch_bounds__ (known
 *     from the table that gen_kernel_table.py generates), failing as CUDA does.
 *   - Aborts (with the kernel, block and source lines) when the threads of a block wait at
 *     different barriers, or when some return while others wait at a barrier.
 *   - What it does not model: warps (no lockstep, no shuffles), hardware expf/tanhf rounding,
 *     memory ordering between blocks, timing.
 */
#ifndef CHARRNN_CRCPU_H
#define CHARRNN_CRCPU_H

#include <math.h>
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

struct uint3 { unsigned x, y, z; };
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};

namespace crcpu {

/* ------------------------------------------------------------------ fibers */
extern "C" void crcpu_switch(void **save_sp, void *load_sp);
extern "C" void crcpu_trampoline();
/* Saves the callee-saved registers, MXCSR and the x87 control word on the current stack, stores
 * the stack pointer in *save_sp (rdi), loads load_sp (rsi) and restores the same from there. */
asm(R"(
  .text
  .weak crcpu_switch
  .hidden crcpu_switch
  .type crcpu_switch,@function
crcpu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size crcpu_switch,.-crcpu_switch
  .weak crcpu_trampoline
  .hidden crcpu_trampoline
  .type crcpu_trampoline,@function
crcpu_trampoline:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size crcpu_trampoline,.-crcpu_trampoline
  .section .note.GNU-stack,"",@progbits
  .text
)");

[[noreturn]] inline void die(const char *fmt, const char *a = "", const char *b = "", long x = 0, long y = 0,
                             long z = 0) {
  fprintf(stderr, "crcpu: ");
  fprintf(stderr, fmt, a, b, x, y, z);
  fprintf(stderr, "\n");
  fflush(stderr);
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

enum class State { Ready, Waiting, Done };

struct Fiber {
  void *sp = nullptr;
  uint3 tid{0, 0, 0};
  State state = State::Ready;
  const char *bar_file = nullptr;
  int bar_line = 0;
  char *stack_lo = nullptr;
};

/* What a launch runs in every thread: thunk(ctx) calls the kernel with its arguments. */
struct Job {
  const char *name;
  dim3 grid, block;
  void (*thunk)(void *ctx);
  void *ctx;
};

/* One per OS thread: the fiber stacks (allocated once, guard page below each) and the scheduler. */
struct Sched {
  std::vector<Fiber> fibers;
  char *stacks = nullptr;
  size_t stack_size = 0, capacity = 0;
  void *main_sp = nullptr;
  Fiber *current = nullptr;
  Block block{};
  const Job *job = nullptr;
  uint64_t rng = 0;
#if CRCPU_ASAN
  const void *main_bottom = nullptr;
  size_t main_size = 0;
#endif

  void reserve(size_t n) {
    if (n <= capacity) return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    stack_size = (settings().stack + page - 1) / page * page;
    size_t total = (stack_size + page) * n;
    void *m = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) die("cannot map %s fiber stacks", "", "", (long)n);
    stacks = (char *)m;
    for (size_t i = 0; i < n; i++) mprotect(stacks + i * (stack_size + page), page, PROT_NONE);
    fibers.assign(n, Fiber{});
    for (size_t i = 0; i < n; i++) fibers[i].stack_lo = stacks + i * (stack_size + page) + page;
    capacity = n;
  }
};

inline thread_local Sched *tls_sched = nullptr;
inline thread_local Fiber *tls_fiber = nullptr; /* the running CUDA thread */
inline thread_local Block *tls_block = nullptr;

inline Sched &sched() {
  if (!tls_sched) tls_sched = new Sched(); /* lives as long as its OS thread's process */
  return *tls_sched;
}

inline void switch_to_fiber(Sched &s, Fiber &f) {
  s.current = &f;
  tls_fiber = &f;
#if CRCPU_ASAN
  void *fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack_lo, s.stack_size);
  crcpu_switch(&s.main_sp, f.sp);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
  crcpu_switch(&s.main_sp, f.sp);
#endif
  tls_fiber = nullptr;
}

inline void switch_to_main(Sched &s, Fiber &f, bool exiting) {
#if CRCPU_ASAN
  void *fake = nullptr;
  __sanitizer_start_switch_fiber(exiting ? nullptr : &fake, s.main_bottom, s.main_size);
  crcpu_switch(&f.sp, s.main_sp);
  __sanitizer_finish_switch_fiber(fake, &s.main_bottom, &s.main_size);
#else
  (void)exiting;
  crcpu_switch(&f.sp, s.main_sp);
#endif
}

extern "C" inline void crcpu_fiber_entry(Fiber *f) {
  Sched &s = sched();
#if CRCPU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &s.main_bottom, &s.main_size);
#endif
  s.job->thunk(s.job->ctx);
  f->state = State::Done;
  switch_to_main(s, *f, true);
  __builtin_unreachable();
}

/* Lays out a fresh frame on f's stack that crcpu_switch "returns" into crcpu_trampoline with. */
inline void init_fiber(Sched &s, Fiber &f) {
  uintptr_t top = ((uintptr_t)(f.stack_lo + s.stack_size)) & ~(uintptr_t)15;
  uint64_t *ret = (uint64_t *)(top - 24); /* 8 mod 16: the callee sees an ABI-aligned stack */
  uint64_t *sp = ret - 7;
  uint32_t csr;
  uint16_t cw;
  asm volatile("stmxcsr %0" : "=m"(csr));
  asm volatile("fnstcw %0" : "=m"(cw));
  memset(sp, 0, 8);
  memcpy(sp, &csr, 4);
  memcpy((char *)sp + 4, &cw, 2);
  sp[1] = 0;                                 /* r15 */
  sp[2] = 0;                                 /* r14 */
  sp[3] = (uint64_t)(void *)&crcpu_fiber_entry; /* r13 */
  sp[4] = (uint64_t)&f;                      /* r12 */
  sp[5] = 0;                                 /* rbx */
  sp[6] = 0;                                 /* rbp */
  ret[0] = (uint64_t)(void *)&crcpu_trampoline;
  f.sp = sp;
  f.state = State::Ready;
  f.bar_file = nullptr;
  f.bar_line = 0;
}

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
  for (unsigned i = 0; i < n; i++) {
    Fiber &f = s.fibers[i];
    init_fiber(s, f);
    f.tid = uint3{i % job.block.x, (i / job.block.x) % job.block.y, i / (job.block.x * job.block.y)};
  }
  const Settings &cfg = settings();
  std::vector<unsigned> order(n);
  if (cfg.order == Order::Shuffle && s.rng == 0)
    s.rng = cfg.seed * 0x9E3779B97F4A7C15ULL + (uint64_t)(uintptr_t)&s + 1;
  for (long phase = 0;; phase++) {
    for (unsigned i = 0; i < n; i++) order[i] = cfg.order == Order::Reverse ? n - 1 - i : i;
    if (cfg.order == Order::Shuffle)
      for (unsigned i = n; i > 1; i--) std::swap(order[i - 1], order[next_rand(s.rng) % i]);
    for (unsigned i : order) {
      Fiber &f = s.fibers[i];
      if (f.state == State::Ready) switch_to_fiber(s, f);
    }
    const Fiber *waiting = nullptr, *done = nullptr;
    for (unsigned i = 0; i < n; i++) {
      const Fiber &f = s.fibers[i];
      if (f.state == State::Done) { done = done ? done : &f; continue; }
      if (!waiting) { waiting = &f; continue; }
      if (f.bar_line != waiting->bar_line || strcmp(f.bar_file, waiting->bar_file) != 0) {
        fprintf(stderr, "crcpu: kernel %s, block (%u,%u,%u): thread (%u,%u,%u) waits at %s:%d, thread (%u,%u,%u) at %s:%d\n",
                job.name, bidx.x, bidx.y, bidx.z, waiting->tid.x, waiting->tid.y, waiting->tid.z, waiting->bar_file,
                waiting->bar_line, f.tid.x, f.tid.y, f.tid.z, f.bar_file, f.bar_line);
        die("threads of one block wait at different barriers");
      }
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
}

/* __syncthreads(): park this fiber at the barrier (file:line identifies it) and run the next. */
inline void syncthreads(const char *file, int line) {
  Sched &s = sched();
  Fiber *f = tls_fiber;
  if (!f) die("__syncthreads() called outside a kernel");
  f->state = State::Waiting;
  f->bar_file = file;
  f->bar_line = line;
  switch_to_main(s, *f, false);
  tls_fiber = f;
  tls_block = &s.block;
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

  static uint3 unflatten(dim3 g, long b) {
    return uint3{(unsigned)(b % g.x), (unsigned)((b / g.x) % g.y), (unsigned)(b / ((long)g.x * g.y))};
  }

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

/* ------------------------------------------------------------------ launch validation */
enum class LaunchError { None, InvalidConfig, TooManyThreads };

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

#define threadIdx (crcpu::tls_fiber->tid)
#define blockIdx (crcpu::tls_block->idx)
#define blockDim (crcpu::tls_block->dim)
#define gridDim (crcpu::tls_block->grid)
#define __syncthreads() crcpu::syncthreads(__FILE__, __LINE__)

#endif /* CHARRNN_CRCPU_H */
