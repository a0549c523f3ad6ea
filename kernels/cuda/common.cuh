/*
 * common.cuh: helpers shared by the CUDA kernel families (included once by charrnn.cu).
 *
 * Launch conventions used by the backend and the native tests:
 *   elementwise kernels: 1-D grid, CR_BLOCK threads per block, one thread per element, bounds-checked;
 *   row kernels (softmax_xent): one block of CR_ROW_BLOCK threads per row;
 *   sum_squares_partial: P blocks of CR_BLOCK threads (P <= CR_MAX_PARTIALS), grid-stride over n;
 *   sum_final: one block of CR_BLOCK threads.
 * Every block reduction below is a fixed-shape tree over shared memory, so results are bit-identical
 * run to run for the same launch configuration (no atomics anywhere).
 */
#ifndef CHARRNN_CUDA_COMMON_CUH
#define CHARRNN_CUDA_COMMON_CUH

#include "../common/cell_math.h"

#define CR_BLOCK 256
#define CR_ROW_BLOCK 256
/* The block reductions below are fixed trees over a power-of-two block; the kernels that use them
 * are declared __launch_bounds__ of their block size (CR_BLOCK, CR_ROW_BLOCK), so a larger block
 * fails to launch instead of overrunning their shared scratch of that many floats. */
static_assert((CR_BLOCK & (CR_BLOCK - 1)) == 0, "CR_BLOCK must be a power of two");
static_assert((CR_ROW_BLOCK & (CR_ROW_BLOCK - 1)) == 0, "CR_ROW_BLOCK must be a power of two");
#define CR_MAX_PARTIALS 1024

/* The launch's dynamic shared memory as a T*: `extern __shared__` on a GPU, the CPU execution
 * layer's per-block buffer there (native-test/cpu/crcpu.h, which defines CHARRNN_CRCPU_H). */
#ifdef CHARRNN_CRCPU_H
#define CR_DYNAMIC_SHARED(T, name) T *name = (T *)crcpu::dynamic_shared()
#else
#define CR_DYNAMIC_SHARED(T, name) \
  extern __shared__ __align__(16) unsigned char name##_bytes_[]; \
  T *name = (T *)name##_bytes_
#endif

/* Global thread index as a 64-bit value (grids may exceed 2^31 threads in theory). */
static __device__ __forceinline__ long long cr_gid() {
  return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

/*
 * Sum of one float per thread over the block (blockDim.x a power of two <= 1024), fixed tree order.
 * scratch holds blockDim.x floats. The result is valid in every thread; scratch is reusable afterwards.
 */
static __device__ __forceinline__ float cr_block_sum(float v, float *scratch) {
  scratch[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = blockDim.x >> 1; s > 0; s >>= 1) {
    if (threadIdx.x < s) scratch[threadIdx.x] += scratch[threadIdx.x + s];
    __syncthreads();
  }
  float r = scratch[0];
  __syncthreads();
  return r;
}

/* Maximum over the block, same shape as cr_block_sum. */
static __device__ __forceinline__ float cr_block_max(float v, float *scratch) {
  scratch[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = blockDim.x >> 1; s > 0; s >>= 1) {
    if (threadIdx.x < s) scratch[threadIdx.x] = fmaxf(scratch[threadIdx.x], scratch[threadIdx.x + s]);
    __syncthreads();
  }
  float r = scratch[0];
  __syncthreads();
  return r;
}

#endif
