/*
 * state.h: the emulated driver's handles and shared state (one device, its primary context,
 * live streams, events, modules and graphs) and the helpers both of its translation units use.
 */
#ifndef CHARRNN_EMU_STATE_H
#define CHARRNN_EMU_STATE_H

#include "../cpu/crcpu.h"
#include "../cpu/crcpu_mem.h"

#include <stdarg.h>
#include <time.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "emu.h"

#define EXPORT extern "C" __attribute__((visibility("default")))

struct KernelEntry;

namespace cremu {

inline const char kDeviceName[] = "charrnn CUDA emulator (emulated)";
inline const size_t kTotalMemory = 16ull << 30;

inline double now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

inline void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
inline void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  crcpu::vreport("cuda emulator", fmt, ap);
  va_end(ap);
}

}  // namespace cremu

struct CUctx_st {
  int refs = 0;
};
struct CUmod_st {
  std::set<CUfunction> functions; /* owned */
  ~CUmod_st();
};
struct CUfunc_st {
  const KernelEntry *kernel;
  unsigned max_dynamic_shared = 48 << 10; /* raised by cuFuncSetAttribute, as on a GPU */
};
inline CUmod_st::~CUmod_st() {
  for (CUfunction f : functions) delete f;
}
struct CUgraph_st {
  std::vector<std::shared_ptr<std::function<void()>>> ops;
};
struct CUgraphExec_st {
  std::vector<std::shared_ptr<std::function<void()>>> ops;
};
struct CUstream_st {
  unsigned flags = 0;
  CUstreamCaptureStatus capture = CU_STREAM_CAPTURE_STATUS_NONE;
  CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_GLOBAL;
  std::thread::id capturing_thread;
  CUgraph graph = nullptr; /* the capture in progress (owned) */
  ~CUstream_st() { delete graph; }
};
struct CUevent_st {
  unsigned flags = 0;
  bool recorded = false;
  double ms = 0;
};

namespace cremu {

inline CUctx_st g_primary;
inline bool g_initialized = false;
inline thread_local CUcontext t_current = nullptr;
inline std::mutex g_mutex; /* guards the handle sets below */
inline std::set<CUstream> g_streams;
inline std::set<CUevent> g_events;
inline std::set<CUmodule> g_modules;
inline std::set<CUgraph> g_graphs;
inline std::set<CUgraphExec> g_execs;
inline std::map<uintptr_t, size_t> g_pinned; /* page-locked host ranges (cuMemAllocHost) */

template <class T> bool live(const std::set<T> &s, T h) {
  std::lock_guard<std::mutex> g(g_mutex);
  return s.count(h) != 0;
}

/* Registers a new handle h in s and hands it out through *out. */
template <class T> CUresult track(std::set<T> &s, T h, T *out) {
  std::lock_guard<std::mutex> g(g_mutex);
  s.insert(h);
  *out = h;
  return CUDA_SUCCESS;
}

/* Unregisters and deletes h; CUDA_ERROR_INVALID_HANDLE when it is not live. */
template <class T> CUresult destroy(std::set<T> &s, T h) {
  {
    std::lock_guard<std::mutex> g(g_mutex);
    if (!s.erase(h)) return CUDA_ERROR_INVALID_HANDLE;
  }
  delete h;
  return CUDA_SUCCESS;
}

#define NEED_INIT() do { if (!g_initialized) return CUDA_ERROR_NOT_INITIALIZED; } while (0)
#define NEED_CTX() do { NEED_INIT(); if (!t_current) return CUDA_ERROR_INVALID_CONTEXT; } while (0)

/* The stream object behind a handle, or nullptr for the legacy and per-thread default streams. */
inline CUstream_st *user_stream(CUstream s) {
  return (s == nullptr || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD) ? nullptr : s;
}

inline bool valid_stream(CUstream s) { return user_stream(s) == nullptr || live(g_streams, s); }

/* The capture this thread is running in global or thread-local mode, if any: "potentially
 * unsafe" calls from this thread invalidate it and fail. */
inline CUstream_st *unsafe_capture() {
  std::lock_guard<std::mutex> g(g_mutex);
  for (CUstream s : g_streams)
    if (s->capture == CU_STREAM_CAPTURE_STATUS_ACTIVE && s->mode != CU_STREAM_CAPTURE_MODE_RELAXED &&
        (s->mode == CU_STREAM_CAPTURE_MODE_GLOBAL || s->capturing_thread == std::this_thread::get_id()))
      return s;
  return nullptr;
}

inline CUresult refuse_during_capture(const char *call) {
  CUstream_st *s = unsafe_capture();
  if (!s) return CUDA_SUCCESS;
  say("%s during stream capture: not permitted (the capture is invalidated)", call);
  s->capture = CU_STREAM_CAPTURE_STATUS_INVALIDATED;
  return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

inline bool pinned(const void *p, size_t n) {
  std::lock_guard<std::mutex> g(g_mutex);
  auto it = g_pinned.upper_bound((uintptr_t)p);
  if (it == g_pinned.begin()) return false;
  --it;
  return (uintptr_t)p >= it->first && (uintptr_t)p + n <= it->first + it->second;
}

inline CUresult enqueue(CUstream hs, const char *what, std::function<void()> op) {
  if (!valid_stream(hs)) return CUDA_ERROR_INVALID_HANDLE;
  CUstream_st *s = user_stream(hs);
  if (s && s->capture == CU_STREAM_CAPTURE_STATUS_INVALIDATED) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
  if (s && s->capture == CU_STREAM_CAPTURE_STATUS_ACTIVE) {
    s->graph->ops.push_back(std::make_shared<std::function<void()>>(std::move(op)));
    return CUDA_SUCCESS;
  }
  if (!s) { /* the legacy stream waits for every blocking stream: nothing to wait for here, but
               it may not be used while another stream captures in global mode */
    CUresult r = refuse_during_capture(what);
    if (r != CUDA_SUCCESS) return r;
  }
  op();
  return CUDA_SUCCESS;
}

inline bool device_range(const void *p, size_t n, const char *what) {
  if (n == 0 || crcpu::Memory::get().find(p, n)) return true;
  say("%s: %zu bytes at %p are not inside one device allocation", what, n, p);
  return false;
}

}  // namespace cremu


#endif
