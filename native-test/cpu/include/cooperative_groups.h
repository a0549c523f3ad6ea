/* cooperative_groups.h stand-in for the CPU execution layer: the block and grid groups and their
 * sync(). A grid sync needs a cooperative launch (cudaLaunchCooperativeKernel /
 * cuLaunchCooperativeKernel), where every block runs at once (crcpu::run_cooperative). */
#ifndef CHARRNN_CRCPU_COOPERATIVE_GROUPS_H
#define CHARRNN_CRCPU_COOPERATIVE_GROUPS_H
#include "../crcpu.h"

namespace cooperative_groups {
struct thread_block {
  void sync() const { __syncthreads(); }
  unsigned thread_rank() const { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
  unsigned size() const { return blockDim.x * blockDim.y * blockDim.z; }
};
inline thread_block this_thread_block() { return {}; }

struct grid_group {
  void sync() const { crcpu::grid_sync(); }
  bool is_valid() const { return crcpu::tls_block != nullptr; }
  unsigned long long size() const {
    return (unsigned long long)gridDim.x * gridDim.y * gridDim.z * blockDim.x * blockDim.y * blockDim.z;
  }
  unsigned long long thread_rank() const {
    unsigned long long block = blockIdx.x + (unsigned long long)gridDim.x * (blockIdx.y + (unsigned long long)gridDim.y * blockIdx.z);
    return block * blockDim.x * blockDim.y * blockDim.z + this_thread_block().thread_rank();
  }
};
inline grid_group this_grid() { return {}; }
} /* namespace cooperative_groups */
#endif
