/*
 * crcpu_fiber.h: the fibers of the CPU execution layer (crcpu.h): each OS thread's scheduler with
 * its fiber stacks (mapped once, a guard page below each, cached across OS threads), and the switch
 * between an OS thread's own stack and a CUDA thread's fiber (crcpu_switch.h), told to ASan where
 * it runs.
 */
#ifndef CHARRNN_CRCPU_FIBER_H
#define CHARRNN_CRCPU_FIBER_H

namespace crcpu {

/* One per OS thread: the fiber stacks (allocated once, guard page below each) and the scheduler. */
struct Sched {
  std::vector<Fiber> fibers;
  char *stacks = nullptr;
  size_t stack_size = 0, capacity = 0;
  void *main_sp = nullptr;
  Block block{};
  const Job *job = nullptr;
  uint64_t rng = 0;
  std::vector<double> dynamic_shared; /* the running block's dynamic shared memory (aligned) */
#if CRCPU_ASAN
  const void *main_bottom = nullptr;
  size_t main_size = 0;
#endif

  ~Sched() {
    if (stacks) munmap(stacks, (stack_size + (size_t)sysconf(_SC_PAGESIZE)) * capacity);
  }

  void reserve(size_t n) {
    if (n <= capacity) return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    stack_size = (settings().stack + page - 1) / page * page;
    size_t total = (stack_size + page) * n;
    void *m = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) die("cannot map the stacks of %zu fibers", n);
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

/* The schedulers of OS threads that have exited, for the next threads to take: a cooperative or
 * cluster launch starts an OS thread a block, and mapping (and faulting in) fresh fiber stacks for
 * each cost more than the blocks' work at the harnesses' shapes. Never freed: the cache holds at most
 * as many as there were OS threads alive at once. */
struct SchedCache {
  std::mutex m;
  std::vector<Sched *> free;
};
inline SchedCache &sched_cache() {
  static SchedCache *c = new SchedCache(); /* never destroyed: threads may exit after statics */
  return *c;
}

/* Returns an OS thread's scheduler (its fiber stacks) to the cache when the thread exits. */
struct SchedOwner {
  ~SchedOwner() {
    if (!tls_sched) return;
    SchedCache &c = sched_cache();
    std::lock_guard<std::mutex> g(c.m);
    c.free.push_back(tls_sched);
    tls_sched = nullptr;
  }
};
inline thread_local SchedOwner tls_sched_owner;

inline Sched &sched() {
  if (!tls_sched) {
    (void)&tls_sched_owner; /* odr-use: registers the destructor for this thread */
    SchedCache &c = sched_cache();
    std::lock_guard<std::mutex> g(c.m);
    if (c.free.empty()) {
      tls_sched = new Sched();
    } else {
      tls_sched = c.free.back();
      c.free.pop_back();
    }
  }
  return *tls_sched;
}

inline void switch_to_fiber(Sched &s, Fiber &f) {
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

} /* namespace crcpu */

#endif
