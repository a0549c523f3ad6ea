/*
 * cuda_runtime.h stand-in: the slice of the CUDA runtime API the native harnesses use, on the CPU
 * execution layer (../crcpu.h). Device memory is guard-paged host memory (../crcpu_mem.h); copies
 * are plain memcpy checked against the live allocations; events read the host clock (the harnesses
 * print no timing on the CPU, see TIME_IT in ../../common.h). Kernel launches come from the
 * harnesses' <<<grid, block>>> syntax, which the Makefile rewrites to CRCPU_LAUNCH(kernel, grid, block).
 */
#ifndef CHARRNN_CRCPU_CUDA_RUNTIME_H
#define CHARRNN_CRCPU_CUDA_RUNTIME_H

#include <time.h>

#include "../crcpu.h"
#include "../crcpu_mem.h"

#define CRCPU_RUNTIME 1

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorCooperativeLaunchTooLarge = 720,
  cudaErrorInvalidClusterSize = 912,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};
typedef struct CUstream_st *cudaStream_t;
typedef struct crcpu_event { double ms; } *cudaEvent_t;

namespace crcpu {
inline cudaError_t &last_error() {
  static thread_local cudaError_t e = cudaSuccess;
  return e;
}
inline cudaError_t record(cudaError_t e) {
  if (e != cudaSuccess) last_error() = e;
  return e;
}
/* __launch_bounds__ of a kernel by name (0: none) and its cluster size (CR_CLUSTER_KERNEL; 0: none);
 * defined by the generated kernel table. */
extern "C" int crcpu_launch_bound(const char *name);
extern "C" int crcpu_launch_cluster(const char *name);

template <class... P> struct Launcher {
  void (*kernel)(P...);
  const char *name;
  dim3 grid, block;
  size_t shmem;
  template <class... A> void operator()(A &&...a) const {
    char why[256];
    int cluster = crcpu_launch_cluster(name);
    LaunchError e = validate(grid, block, crcpu_launch_bound(name), why, sizeof why);
    if (e == LaunchError::None) e = validate_cluster(grid, cluster, why, sizeof why);
    if (e == LaunchError::None && shmem > kMaxDynamicShared) {
      snprintf(why, sizeof why, "%zu bytes of dynamic shared memory exceed %zu", shmem, kMaxDynamicShared);
      e = LaunchError::TooManyThreads;
    }
    if (e != LaunchError::None) {
      fprintf(stderr, "crcpu: launch of %s refused: %s\n", name, why);
      record(e == LaunchError::TooManyThreads ? cudaErrorLaunchOutOfResources
             : e == LaunchError::ClusterSize  ? cudaErrorInvalidClusterSize
                                              : cudaErrorInvalidConfiguration);
      return;
    }
    struct Ctx {
      void (*kernel)(P...);
      std::tuple<P...> args;
    } ctx{kernel, std::tuple<P...>(std::forward<A>(a)...)};
    Job job{name, grid, block, [](void *c) { std::apply(((Ctx *)c)->kernel, ((Ctx *)c)->args); }, &ctx};
    job.shared = shmem;
    job.cluster = cluster;
    run_launch(job);
  }
};
template <class... P>
Launcher<P...> make_launcher(void (*k)(P...), const char *name, dim3 g, dim3 b, size_t shmem = 0,
                             cudaStream_t = nullptr) {
  return Launcher<P...>{k, name, g, b, shmem};
}
inline bool device_range(const void *p, size_t n, const char *what) {
  if (n == 0 || Memory::get().find(p, n)) return true;
  fprintf(stderr, "crcpu: %s of %zu bytes at %p is outside every device allocation\n", what, n, p);
  return false;
}
} /* namespace crcpu */

#define CRCPU_LAUNCH(k, ...) crcpu::make_launcher(k, #k, __VA_ARGS__)

inline const char *cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorCooperativeLaunchTooLarge: return "too many blocks in cooperative launch";
    case cudaErrorInvalidClusterSize: return "invalid cluster size";
  }
  return "unknown error";
}
/* Every block at once, so cooperative_groups::this_grid().sync() works (crcpu::run_cooperative). */
template <class... P>
cudaError_t cudaLaunchCooperativeKernel(void (*k)(P...), dim3 grid, dim3 block, void **args, size_t shmem = 0,
                                        cudaStream_t = nullptr) {
  char why[256];
  if (shmem > crcpu::kMaxDynamicShared) return crcpu::record(cudaErrorLaunchOutOfResources);
  if (crcpu::validate(grid, block, 0, why, sizeof why) != crcpu::LaunchError::None)
    return crcpu::record(cudaErrorInvalidConfiguration);
  if ((long)grid.x * grid.y * grid.z > crcpu::max_coresident_blocks(block.x * block.y * block.z))
    return crcpu::record(cudaErrorCooperativeLaunchTooLarge);
  struct Ctx {
    void (*k)(P...);
    void **args;
  } ctx{k, args};
  crcpu::Job job{"cooperative kernel", grid, block, [](void *c) {
                   Ctx *x = (Ctx *)c;
                   crcpu::Kernel<void (*)(P...)>::invoke((void *)x->k, x->args);
                 }, &ctx};
  job.shared = shmem;
  crcpu::run_cooperative(job);
  return cudaSuccess;
}

enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
/* Only the dynamic shared memory limit, which every launch here may use up to kMaxDynamicShared. */
template <class K> cudaError_t cudaFuncSetAttribute(K, cudaFuncAttribute, int value) {
  return value < 0 || (size_t)value > crcpu::kMaxDynamicShared ? crcpu::record(cudaErrorInvalidValue) : cudaSuccess;
}

inline cudaError_t cudaGetLastError() {
  cudaError_t e = crcpu::last_error();
  crcpu::last_error() = cudaSuccess;
  return e;
}
inline cudaError_t cudaDeviceSynchronize() { return crcpu::last_error(); }
template <class T> cudaError_t cudaMalloc(T **p, size_t bytes) {
  void *m = crcpu::Memory::get().alloc(bytes);
  if (!m) return crcpu::record(cudaErrorMemoryAllocation);
  *p = (T *)m;
  return cudaSuccess;
}
inline cudaError_t cudaFree(void *p) {
  if (!p) return cudaSuccess;
  return crcpu::Memory::get().free(p) ? cudaSuccess : crcpu::record(cudaErrorInvalidValue);
}
inline cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind kind) {
  bool ok = true;
  if (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice) ok &= crcpu::device_range(dst, n, "copy destination");
  if (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice) ok &= crcpu::device_range(src, n, "copy source");
  if (!ok) return crcpu::record(cudaErrorInvalidValue);
  memmove(dst, src, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void *p, int v, size_t n) {
  if (!crcpu::device_range(p, n, "memset")) return crcpu::record(cudaErrorInvalidValue);
  memset(p, v, n);
  return cudaSuccess;
}
inline double crcpu_now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}
inline cudaError_t cudaEventCreate(cudaEvent_t *e) { *e = new crcpu_event{0}; return cudaSuccess; }
inline cudaError_t cudaEventDestroy(cudaEvent_t e) { delete e; return cudaSuccess; }
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t = nullptr) { e->ms = crcpu_now_ms(); return cudaSuccess; }
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
inline cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b) { *ms = (float)(b->ms - a->ms); return cudaSuccess; }

#endif
