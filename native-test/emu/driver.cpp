/*
 * driver.cpp: libcuda.so.1 for an emulated CUDA device that runs the kernels of kernels/cuda on
 * the CPU (native-test/cpu/crcpu.h), so org.charrnn.backend.cuda.CudaBackend runs unchanged
 * through JCuda with LD_LIBRARY_PATH pointing at the build (native-test/emu/build.sh).
 *
 * Switched on by CHARRNN_CUDA_EMULATOR=1: without it cuInit answers CUDA_ERROR_NO_DEVICE.
 * The device calls itself "charrnn CUDA emulator (emulated)".
 *
 * Semantics (CUDA's, where the backend can observe them):
 *   - one device, its primary context; calls that need a context fail with
 *     CUDA_ERROR_INVALID_CONTEXT on a thread without a current one;
 *   - device memory: guard-paged allocations (crcpu_mem.h); copies, memsets and kernel pointer
 *     arguments are checked against the live allocations (CUDA_ERROR_INVALID_VALUE /
 *     CUDA_ERROR_ILLEGAL_ADDRESS, with a line on stderr); an access past an allocation's end
 *     faults on its guard page;
 *   - each user stream runs its work in order, but late: queued work runs only when something
 *     needs it (a stream, event or context synchronize, a wait on an event recorded after it,
 *     a free; a synchronous copy or memset, on the legacy stream, waits for the blocking
 *     streams only), and a cuStreamWaitEvent entry, when its stream's
 *     work reaches it, first runs the other stream's work up to the event. That is the latest
 *     schedule CUDA allows: work on a
 *     second stream that no later wait joins runs after the other stream's, and a buffer a
 *     second stream reads is seen as the first stream left it when the join came (on a GPU:
 *     anything in between). Events take host timestamps when their record runs;
 *   - cuModuleLoadData accepts a fatbin, cubin or PTX image and resolves kernel names to the
 *     CPU-compiled kernels (kernel_table.inc); cuLaunchKernel unpacks kernelParams with each
 *     kernel's C++ signature and validates the launch shape (crcpu::validate);
 *     cuLaunchCooperativeKernel runs every block at once (crcpu::run_cooperative), so a grid-wide
 *     barrier works, and refuses grids larger than crcpu::max_coresident_blocks, whose share of one
 *     multiprocessor cuOccupancyMaxActiveBlocksPerMultiprocessor answers;
 *   - dynamic shared memory: a launch may ask for up to 48 KiB, or up to the kernel's
 *     CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES (cuFuncSetAttribute, at most the device's
 *     opt-in limit of 227 KiB), as on a GPU;
 *   - stream capture: launches, async copies, memsets, event records and cuBLAS calls on a
 *     capturing stream are recorded, their arguments copied at capture time; synchronous calls
 *     (stream/context synchronize, synchronous copies, allocation and free) from the capturing
 *     thread and pageable host-to-device copies into the capture fail with
 *     CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and invalidate the capture, whose
 *     cuStreamEndCapture then answers CUDA_ERROR_STREAM_CAPTURE_INVALIDATED; a stream that
 *     waits on an event recorded in a capture joins it (a fork), and the origin stream must wait
 *     on an event recorded after that stream's last captured work before cuStreamEndCapture
 *     (else CUDA_ERROR_STREAM_CAPTURE_UNJOINED); the graph holds the operations in the late
 *     schedule above, and cuGraphLaunch replays them in that order;
 *   - every other driver symbol JCuda links against answers CUDA_ERROR_NOT_SUPPORTED (stubs.c,
 *     generated from driver-symbols.txt).
 * Profiler (tests that compare what a step launches with the step cost model's operations):
 * cuProfilerInitialize(config, outputFile, mode) names the file (config and mode are ignored);
 * between cuProfilerStart and cuProfilerStop every operation that runs appends its name to it
 * (state.h, Profiler); without a file, start and stop do nothing, as on a GPU with no profiler.
 * Fault injection (tests of the callers' error paths): CHARRNN_CUDA_EMULATOR_FAIL_CAPTURE=1 makes
 * every stream capture end with CUDA_ERROR_STREAM_CAPTURE_INVALIDATED.
 */
#include "state.h"

using namespace cremu;

/* ====================================================================== internal API (emu.h) */
EXPORT CUresult cremu_enqueue(CUstream stream, const char *what, const char *profiled, std::function<void()> *op) {
  return enqueue(stream, what, std::move(*op), profiled);
}
EXPORT bool cremu_device_range(const void *p, size_t bytes, const char *what) { return device_range(p, bytes, what); }
EXPORT void cremu_parallel_for(long n, void (*fn)(void *, long), void *ctx) {
  if (n <= 0) return;
  struct Ctx { void (*fn)(void *, long); void *ctx; } c{fn, ctx};
  crcpu::Job job{"cublas", dim3((unsigned)n), dim3(1), [](void *p) {
                   Ctx *x = (Ctx *)p;
                   x->fn(x->ctx, (long)blockIdx.x);
                 }, &c};
  crcpu::Pool::get().run(job);
}

/* ====================================================================== profiler */
EXPORT CUresult cuProfilerInitialize(const char *, const char *outputFile, int) {
  if (!outputFile || !*outputFile) return CUDA_ERROR_INVALID_VALUE;
  Profiler &p = profiler();
  std::lock_guard<std::mutex> g(p.m);
  if (p.file) fclose(p.file);
  p.file = nullptr;
  p.path = outputFile;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuProfilerStart() {
  Profiler &p = profiler();
  std::lock_guard<std::mutex> g(p.m);
  if (!p.path.empty() && !p.file && !(p.file = fopen(p.path.c_str(), "a"))) {
    say("cuProfilerStart: cannot open %s", p.path.c_str());
    return CUDA_ERROR_UNKNOWN;
  }
  p.on = true;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuProfilerStop() {
  Profiler &p = profiler();
  std::lock_guard<std::mutex> g(p.m);
  p.on = false;
  if (p.file) fflush(p.file);
  return CUDA_SUCCESS;
}

/* ====================================================================== init, device, context */
EXPORT CUresult cuInit(unsigned int flags) {
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  const char *on = getenv("CHARRNN_CUDA_EMULATOR");
  if (!on || strcmp(on, "1") != 0) return CUDA_ERROR_NO_DEVICE;
  g_initialized = true;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDriverGetVersion(int *v) {
  if (!v) return CUDA_ERROR_INVALID_VALUE;
  *v = 13000; // a CUDA 13.0 (R580) driver: what kernels built by nvcc 13.0 need
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetCount(int *n) {
  NEED_INIT();
  if (!n) return CUDA_ERROR_INVALID_VALUE;
  *n = 1;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGet(CUdevice *d, int ordinal) {
  NEED_INIT();
  if (!d) return CUDA_ERROR_INVALID_VALUE;
  if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
  *d = 0;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
  NEED_INIT();
  if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
  if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
  snprintf(name, (size_t)len, "%s", kDeviceName);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceTotalMem(size_t *bytes, CUdevice d) {
  NEED_INIT();
  if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
  *bytes = kTotalMemory;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d) {
  NEED_INIT();
  if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
  if (!v) return CUDA_ERROR_INVALID_VALUE;
  switch (a) {
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: *v = 64; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: *v = 0x7fffffff; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: *v = 65535; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: *v = 65535; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *v = 48 << 10; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = (int)crcpu::kMaxDynamicShared; break;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *v = 32; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = (int)crcpu::settings().threads; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
    case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING: *v = 1; break;
    case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS: *v = 0; break;
    case CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH: *v = 1; break;
    default: *v = 0; break;
  }
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice d) {
  NEED_INIT();
  if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
  g_primary.refs++;
  *ctx = &g_primary;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice d) {
  NEED_INIT();
  if (d != 0) return CUDA_ERROR_INVALID_DEVICE;
  if (g_primary.refs <= 0) return CUDA_ERROR_INVALID_CONTEXT;
  flush();
  g_primary.refs--;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxSetCurrent(CUcontext ctx) {
  NEED_INIT();
  if (ctx && ctx != &g_primary) return CUDA_ERROR_INVALID_CONTEXT;
  if (ctx && g_primary.refs <= 0) return CUDA_ERROR_CONTEXT_IS_DESTROYED;
  t_current = ctx;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxGetCurrent(CUcontext *ctx) {
  NEED_INIT();
  *ctx = t_current;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxGetDevice(CUdevice *d) {
  NEED_CTX();
  *d = 0;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxSynchronize() {
  NEED_CTX();
  if (CUresult r = refuse_during_capture("cuCtxSynchronize")) return r;
  flush();
  return CUDA_SUCCESS;
}

/* ====================================================================== memory */
EXPORT CUresult cuMemAlloc(CUdeviceptr *p, size_t bytes) {
  NEED_CTX();
  if (!p) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = refuse_during_capture("cuMemAlloc")) return r;
  if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  if (crcpu::Memory::get().used() + bytes > kTotalMemory) return CUDA_ERROR_OUT_OF_MEMORY;
  void *m = crcpu::Memory::get().alloc(bytes);
  if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
  *p = (CUdeviceptr)m;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemFree(CUdeviceptr p) {
  NEED_CTX();
  if (CUresult r = refuse_during_capture("cuMemFree")) return r;
  if (p == 0) return CUDA_SUCCESS;
  flush(); /* as on a GPU, a free waits for the work queued before it */
  if (!crcpu::Memory::get().free((void *)p)) {
    say("cuMemFree(%p): not the start of a live allocation", (void *)p);
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemGetInfo(size_t *free_bytes, size_t *total) {
  NEED_CTX();
  size_t used = crcpu::Memory::get().used();
  *total = kTotalMemory;
  *free_bytes = used > kTotalMemory ? 0 : kTotalMemory - used;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemAllocHost(void **p, size_t bytes) {
  NEED_CTX();
  void *m = malloc(bytes ? bytes : 1);
  if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
  std::lock_guard<std::mutex> g(g_mutex);
  g_pinned[(uintptr_t)m] = bytes;
  *p = m;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemFreeHost(void *p) {
  NEED_CTX();
  std::lock_guard<std::mutex> g(g_mutex);
  if (!g_pinned.erase((uintptr_t)p)) return CUDA_ERROR_INVALID_VALUE;
  free(p);
  return CUDA_SUCCESS;
}

static CUresult copy(CUstream s, const char *what, void *dst, const void *src, size_t n, bool dst_dev, bool src_dev,
                     bool async) {
  NEED_CTX();
  if ((dst_dev && !device_range(dst, n, what)) || (src_dev && !device_range(src, n, what))) return CUDA_ERROR_INVALID_VALUE;
  if (!async) {
    if (CUresult r = refuse_during_capture(what)) return r;
    flush(nullptr, true); /* the legacy stream: after the blocking streams */
    memmove(dst, src, n);
    return CUDA_SUCCESS;
  }
  if (!valid_stream(s)) return CUDA_ERROR_INVALID_HANDLE;
  CUstream_st *st = user_stream(s);
  if (st && st->capture == CU_STREAM_CAPTURE_STATUS_ACTIVE && ((!src_dev && !pinned(src, n)) || (!dst_dev && !pinned(dst, n)))) {
    say("%s of pageable host memory into a stream capture: not permitted (the capture is invalidated)", what);
    st->capture = CU_STREAM_CAPTURE_STATUS_INVALIDATED;
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
  }
  if (!src_dev && !pinned(src, n)) { /* pageable source: staged before the call returns */
    auto staged = std::make_shared<std::vector<unsigned char>>((const unsigned char *)src, (const unsigned char *)src + n);
    return enqueue(s, what, [=] { memmove(dst, staged->data(), n); });
  }
  if (!dst_dev && !pinned(dst, n)) { /* pageable destination: the call returns when the copy is done */
    if (CUresult r = enqueue(s, what, [] {})) return r;
    if (st) flush(st);
    memmove(dst, src, n);
    return CUDA_SUCCESS;
  }
  return enqueue(s, what, [=] { memmove(dst, src, n); });
}
EXPORT CUresult cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t n) { return copy(nullptr, "cuMemcpyHtoD", (void *)dst, src, n, true, false, false); }
EXPORT CUresult cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t n) { return copy(nullptr, "cuMemcpyDtoH", dst, (void *)src, n, false, true, false); }
EXPORT CUresult cuMemcpyDtoD(CUdeviceptr dst, CUdeviceptr src, size_t n) { return copy(nullptr, "cuMemcpyDtoD", (void *)dst, (void *)src, n, true, true, false); }
EXPORT CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t n, CUstream s) { return copy(s, "cuMemcpyHtoDAsync", (void *)dst, src, n, true, false, true); }
EXPORT CUresult cuMemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t n, CUstream s) { return copy(s, "cuMemcpyDtoHAsync", dst, (void *)src, n, false, true, true); }
EXPORT CUresult cuMemcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) { return copy(s, "cuMemcpyDtoDAsync", (void *)dst, (void *)src, n, true, true, true); }

static void fill32(void *p, unsigned v, size_t n) {
  unsigned *q = (unsigned *)p;
  for (size_t i = 0; i < n; i++) q[i] = v;
}
EXPORT CUresult cuMemsetD32(CUdeviceptr p, unsigned int v, size_t n) {
  NEED_CTX();
  if ((p & 3) || !device_range((void *)p, n * 4, "cuMemsetD32")) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = refuse_during_capture("cuMemsetD32")) return r;
  flush(nullptr, true); /* the legacy stream: after the blocking streams */
  fill32((void *)p, v, n);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemsetD32Async(CUdeviceptr p, unsigned int v, size_t n, CUstream s) {
  NEED_CTX();
  if ((p & 3) || !device_range((void *)p, n * 4, "cuMemsetD32Async")) return CUDA_ERROR_INVALID_VALUE;
  return enqueue(s, "cuMemsetD32Async", [=] { fill32((void *)p, v, n); });
}
EXPORT CUresult cuMemsetD8(CUdeviceptr p, unsigned char v, size_t n) {
  NEED_CTX();
  if (!device_range((void *)p, n, "cuMemsetD8")) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = refuse_during_capture("cuMemsetD8")) return r;
  flush(nullptr, true); /* the legacy stream: after the blocking streams */
  memset((void *)p, v, n);
  return CUDA_SUCCESS;
}
