/*
 * crcpu_mem.h: emulated device memory for the CPU execution layer (harness runtime and emulated
 * driver alike). Every allocation gets its own mapping whose end touches a PROT_NONE guard page,
 * so a kernel or copy reading or writing one element past the end faults at once. The start is
 * aligned to the largest power of two (<= 256) that divides the size, so a buffer of elements of
 * any type ends exactly at the guard page. Live allocations are tracked, so copies, memsets and
 * kernel pointer arguments can be checked against them.
 */
#ifndef CHARRNN_CRCPU_MEM_H
#define CHARRNN_CRCPU_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iterator>
#include <map>
#include <mutex>

namespace crcpu {

struct Allocation {
  uintptr_t base;  /* first byte handed out */
  size_t bytes;    /* requested size */
  void *map;       /* the mapping (data pages + one guard page) */
  size_t map_len;
};

class Memory {
 public:
  static Memory &get() {
    static Memory *m = new Memory();
    return *m;
  }

  /* nullptr when the mapping fails. A zero-byte request gets one byte (CUDA returns a pointer). */
  void *alloc(size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = bytes ? bytes : 1;
    size_t align = 1;
    while (align < 256 && (n & align) == 0) align <<= 1;
    size_t data_pages = (n + align - 1 + page - 1) / page; /* room for n bytes at the aligned start */
    size_t len = (data_pages + 1) * page;
    void *m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    char *guard = (char *)m + data_pages * page;
    mprotect(guard, page, PROT_NONE);
    uintptr_t base = ((uintptr_t)guard - n) & ~(uintptr_t)(align - 1);
    std::lock_guard<std::mutex> g(m_);
    live_[base] = Allocation{base, n, m, len};
    used_ += n;
    return (void *)base;
  }

  /* false when p is not the start of a live allocation. */
  bool free(void *p) {
    std::lock_guard<std::mutex> g(m_);
    auto it = live_.find((uintptr_t)p);
    if (it == live_.end()) return false;
    munmap(it->second.map, it->second.map_len);
    used_ -= it->second.bytes;
    live_.erase(it);
    return true;
  }

  /* The allocation holding [p, p+bytes), or nullptr. */
  const Allocation *find(const void *p, size_t bytes = 1) {
    std::lock_guard<std::mutex> g(m_);
    uintptr_t a = (uintptr_t)p;
    auto it = live_.upper_bound(a);
    if (it == live_.begin()) return nullptr;
    --it;
    const Allocation &al = it->second;
    if (a < al.base || a + bytes > al.base + al.bytes) return nullptr;
    return &al;
  }

  size_t used() {
    std::lock_guard<std::mutex> g(m_);
    return used_;
  }

 private:
  std::mutex m_;
  std::map<uintptr_t, Allocation> live_;
  size_t used_ = 0;
};

} /* namespace crcpu */
#endif
