/*
 * state.h: the emulated driver's handles and shared state (one device, its primary context,
 * live streams, events, modules and graphs) and the helpers both of its translation units use.
 */
#ifndef CHARRNN_EMU_STATE_H
#define CHARRNN_EMU_STATE_H

#include "../cpu/crcpu.h"
#include "../cpu/crcpu_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

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

/* The emulated profiler (driver.cpp: cuProfilerInitialize names the file, cuProfilerStart and
 * cuProfilerStop switch it on and off): while on, every operation that runs appends its name to the
 * file, one a line: a kernel's (a launch, or a graph's kernel node when the graph runs), a cuBLAS
 * call's with its m, n and k ("cublasSgemm 33x9x5", cublas.cpp), cuMemsetD32Async, cuMemcpy*, cuGraphLaunch, cuEventRecord. An operation logs when
 * it runs, not when it is queued: synchronize before cuProfilerStop. */
struct Profiler {
  std::mutex m;
  std::string path;
  FILE *file = nullptr;
  std::atomic<bool> on{false};
};
inline Profiler &profiler() {
  static Profiler p;
  return p;
}
inline void profile(const char *what) {
  Profiler &p = profiler();
  if (!p.on.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> g(p.m);
  if (p.file) fprintf(p.file, "%s\n", what);
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
/* One queued operation of a stream: an operation to run, or (op null) a wait until stream `after`
 * has run its first `mark` entries (cuStreamWaitEvent). */
struct CUstream_st;
struct Entry {
  std::shared_ptr<std::function<void()>> op;
  CUstream_st *after = nullptr;
  size_t mark = 0;
};
struct CUevent_st;
/* A graph's work in order, and the events recorded in its capture (event record nodes): a launch
 * of it records them again, as done when the launch has run. */
struct CUgraph_st {
  std::vector<std::shared_ptr<std::function<void()>>> ops;
  std::vector<CUevent_st *> events;
};
struct CUgraphExec_st {
  std::vector<std::shared_ptr<std::function<void()>>> ops;
  std::vector<CUevent_st *> events;
};
/* A user stream. Its work is queued, not run: entries [done, base + queue.size()) wait until
 * something needs them (a synchronize, a wait on an event after them, a free, a synchronous copy)
 * or, while the stream captures, until the capture ends and becomes a graph. Positions are
 * absolute (base counts the entries dropped after they ran), so marks stay valid. */
struct CUstream_st {
  unsigned flags = 0;
  CUstreamCaptureStatus capture = CU_STREAM_CAPTURE_STATUS_NONE;
  CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_GLOBAL;
  std::thread::id capturing_thread;
  CUgraph graph = nullptr;      /* the capture in progress (owned by its origin stream) */
  CUstream_st *root = nullptr;  /* the capture's origin stream: itself, or the one whose capture it joined */
  std::vector<CUstream_st *> joined; /* (origin) the streams that joined its capture */
  std::vector<Entry> queue;
  size_t base = 0, done = 0;
  size_t end() const { return base + queue.size(); }
  ~CUstream_st() { delete graph; }
};
struct CUevent_st {
  unsigned flags = 0;
  bool recorded = false;
  double ms = 0;
  CUstream_st *stream = nullptr; /* the user stream it was last recorded on, and its position there */
  size_t mark = 0;
  bool captured = false; /* last recorded in a capture, not as an event record node: the host may not wait */
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

/* Runs (or, with a sink, hands over) s's entries up to position mark, first what each wait entry
 * waits for: the latest schedule CUDA allows, so that work on another stream that nothing joins
 * runs late, as it may on a GPU, and a missing cuStreamWaitEvent shows in the results. */
template <class Sink> void drain(CUstream_st *s, size_t mark, Sink &&sink) {
  while (s->done < mark) {
    Entry e = s->queue[s->done - s->base];
    s->done++;
    if (e.op) sink(e.op);
    else drain(e.after, e.mark, sink);
  }
  if (s->done == s->end() && s->capture == CU_STREAM_CAPTURE_STATUS_NONE) {
    s->base = s->done;
    s->queue.clear();
  }
}

inline void run_op(const std::shared_ptr<std::function<void()>> &op) { (*op)(); }

/* Runs the queued work of s, or with s null of every stream (only the blocking ones with
 * blocking_only: what the legacy stream waits for), except work being captured. */
inline void flush(CUstream_st *s = nullptr, bool blocking_only = false) {
  if (s) {
    if (s->capture == CU_STREAM_CAPTURE_STATUS_NONE) drain(s, s->end(), run_op);
    return;
  }
  std::vector<CUstream> all;
  {
    std::lock_guard<std::mutex> g(g_mutex);
    all.assign(g_streams.begin(), g_streams.end());
  }
  for (CUstream x : all)
    if (x->capture == CU_STREAM_CAPTURE_STATUS_NONE && !(blocking_only && (x->flags & CU_STREAM_NON_BLOCKING)))
      drain(x, x->end(), run_op);
}

/* The profiler (above) logs the operation as `profiled` (copied), or as `what` where it is null. */
inline CUresult enqueue(CUstream hs, const char *what, std::function<void()> run, const char *profiled = nullptr) {
  if (!valid_stream(hs)) return CUDA_ERROR_INVALID_HANDLE;
  std::function<void()> op = [name = std::string(profiled ? profiled : what), run = std::move(run)] {
    profile(name.c_str());
    run();
  };
  CUstream_st *s = user_stream(hs);
  if (s && s->capture == CU_STREAM_CAPTURE_STATUS_INVALIDATED) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
  if (s) {
    s->queue.push_back(Entry{std::make_shared<std::function<void()>>(std::move(op))});
    return CUDA_SUCCESS;
  }
  /* the legacy stream waits for every blocking stream's work (not a non-blocking stream's); it may
     not be used while another stream captures in global mode */
  CUresult r = refuse_during_capture(what);
  if (r != CUDA_SUCCESS) return r;
  flush(nullptr, true);
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
