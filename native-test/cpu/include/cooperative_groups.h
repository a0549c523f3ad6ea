/* cooperative_groups.h stand-in for the CPU execution layer: the block, grid and cluster groups,
 * their sync() and the cluster's map_shared_rank. A grid sync needs a cooperative launch
 * (cudaLaunchCooperativeKernel / cuLaunchCooperativeKernel), where every block runs at once
 * (crcpu::run_cooperative); a cluster's, a cluster launch (crcpu::run_clusters). */
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

/* The running block's cluster (a cluster launch): its barrier and its distributed shared memory. */
struct cluster_group {
  void sync() const { crcpu::cluster_sync(); }
  unsigned block_rank() const {
    unsigned long long b = blockIdx.x + (unsigned long long)gridDim.x * (blockIdx.y + (unsigned long long)gridDim.y * blockIdx.z);
    return (unsigned)(b % (unsigned long long)num_blocks());
  }
  unsigned num_blocks() const { return (unsigned)crcpu::sched().job->cluster; }
  template <typename T>
  T *map_shared_rank(T *p, unsigned rank) const {
    return (T *)crcpu::map_shared_rank((void *)p, rank);
  }
};
inline cluster_group this_cluster() { return {}; }
} /* namespace cooperative_groups */
#endif
