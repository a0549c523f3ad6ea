/*
 * persistent_layout.cuh: the layouts of the persistent kernels' launches (included by
 * persistent_common.cuh): which units and batch rows a block owns and how the blocks meet between
 * timesteps.
 */
#ifndef CHARRNN_CUDA_PERSISTENT_LAYOUT_CUH
#define CHARRNN_CUDA_PERSISTENT_LAYOUT_CUH

#include <cooperative_groups.h>

/*
 * The two layouts of a persistent launch: which units and batch rows a block owns, and how the
 * blocks meet between timesteps (the kernels take the layout as a template argument CLUSTER):
 *   grid: a cooperative launch of G ceil(H / U) blocks, G >= 1 batch groups of NB = ceil(H / U)
 *     blocks: group g owns the batch rows [g PB, min(B, (g+1) PB)), PB = ceil(B / G), and its block
 *     of rank k (block g NB + k) the units [k U, min(H, (k+1) U)) of those rows; all blocks meet at
 *     a grid barrier (cooperative_groups::this_grid()). A block stages only its group's PB rows of
 *     h_{t-1} (backward: of dgates[t]; the row-stationary backward exchanges its shares of dh with
 *     its group's blocks only), so the grid reads G NB PB rows from L2 a step instead of NB
 *     B; each group keeps its own copy of W_hh. G = 1 is one group of every row. The host launches
 *     no group without rows (G = ceil(B / ceil(B / G0))): every block must reach every grid barrier.
 *   cluster (sm_90 and newer): an ordinary launch of C clusters of CR_CLUSTER blocks (the kernels'
 *     compile-time __cluster_dims__, CR_CLUSTER_KERNEL), U >= ceil(H / CR_CLUSTER). Cluster c owns
 *     the batch rows [c PB, min(B, (c+1) PB)), PB = ceil(B / C), and its block of rank k the units
 *     [k U, min(H, (k+1) U)) of those rows; the blocks of a cluster meet at a cluster barrier
 *     (barrier.cluster, release / acquire at cluster scope, so h_t written to global memory before it
 *     is seen after it) and clusters never meet: the rows b of a recurrence are independent. So no
 *     block waits for the whole grid, no launch needs every block resident at once, and a block
 *     stages only its cluster's PB rows of h_{t-1} (backward: of dgates[t]), not all B, or with
 *     the exchange (persistent_exchange.cuh) receives them from its cluster's blocks through
 *     distributed shared memory. Each cluster keeps its own copy of W_hh, one slice a block, so
 *     W_hh must fit in CR_CLUSTER blocks.
 */
#define CR_CLUSTER 8

/* The cluster kernels' compile-time cluster size (CR_CLUSTER_KERNEL_OF(n): n blocks, up to the
 * portable 8, or 16 where the host allows the kernel the non-portable size; only native-test's
 * probes take another than CR_CLUSTER): nothing where clusters do not exist (before sm_90, where
 * nvcc rejects the attribute, and on the CPU execution layer, which reads the size from the kernel
 * table that gen_kernel_table.py makes of the sources). */
#if defined(CHARRNN_CRCPU_H) || (defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900)
#define CR_CLUSTER_KERNEL_OF(n)
#else
#define CR_CLUSTER_KERNEL_OF(n) __cluster_dims__(n, 1, 1)
#endif
#define CR_CLUSTER_KERNEL CR_CLUSTER_KERNEL_OF(CR_CLUSTER)

/* What a block owns in its layout: units [j0, j0 + units), batch rows [b0, b0 + rows); PB the rows
 * of its plan (the most rows any block owns: B in the grid layout's one group). */
struct CrPersistentSlice {
  int j0, units, b0, rows, PB;
};

template <bool CLUSTER>
static __device__ __forceinline__ CrPersistentSlice cr_persistent_slice(int H, int B, int U) {
  CrPersistentSlice s;
  /* the blocks of a cluster (a batch group of the grid layout) and how many of them the launch has */
  int per = CLUSTER ? CR_CLUSTER : (H + U - 1) / U, groups = (int)gridDim.x / per;
  int k = (int)blockIdx.x % per, left = H - k * U;
  s.j0 = k * U;
  s.units = left < 0 ? 0 : left < U ? left : U;
  s.PB = (B + groups - 1) / groups;
  s.b0 = (int)blockIdx.x / per * s.PB;
  s.rows = B - s.b0 <= 0 ? 0 : B - s.b0 < s.PB ? B - s.b0 : s.PB;
  return s;
}

/* The barrier between timesteps of the layout, the cluster's or the grid's, in two halves so that a
 * block can do work of its own between them: cr_persistent_arrive says this block is past the step
 * (the cluster's barrier.cluster.arrive, with release: what it wrote before is seen by a peer after
 * that peer's wait), cr_persistent_wait waits for every block of the cluster to arrive
 * (barrier.cluster.wait, acquire); cr_persistent_sync is both at once. Every thread of every block
 * of the cluster (grid) must call them. Between the halves a block may read only what no other
 * block writes meanwhile (its own outputs, the pass's inputs) and write nothing another block
 * reads. The grid layout has no split barrier: its arrive is the whole grid barrier and its wait
 * nothing. The CPU execution layer runs the work between them before the barrier (its arrive is
 * nothing, its wait the cluster barrier): the weakest order the hardware allows there, so work that
 * read a peer's step there would see it unwritten in some thread order. */
template <bool CLUSTER>
static __device__ __forceinline__ void cr_persistent_arrive() {
  if (CLUSTER) {
#if defined(CHARRNN_CRCPU_H)
    /* nothing: the wait is the barrier */
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    cooperative_groups::cluster_group::barrier_arrive();
#else
    __trap(); /* the host launches the cluster kernels only on compute capability 9.0 and newer */
#endif
  } else {
    cooperative_groups::this_grid().sync();
  }
}

template <bool CLUSTER>
static __device__ __forceinline__ void cr_persistent_wait() {
  if (CLUSTER) {
#if defined(CHARRNN_CRCPU_H)
    crcpu::cluster_sync();
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    cooperative_groups::cluster_group::barrier_wait();
#else
    __trap();
#endif
  }
}

template <bool CLUSTER>
static __device__ __forceinline__ void cr_persistent_sync() {
  cr_persistent_arrive<CLUSTER>();
  cr_persistent_wait<CLUSTER>();
}

/* What p addresses in this block's dynamic shared memory, in the block of rank `rank` of its
 * cluster (distributed shared memory, sm_90): where a block writes what a peer reads after the next
 * cluster barrier. Both blocks must be running: a cluster barrier after the blocks start, and one
 * before any returns, around every use. */
template <typename T>
static __device__ __forceinline__ T *cr_cluster_peer(T *p, int rank) {
#if defined(CHARRNN_CRCPU_H) || (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900)
  return cooperative_groups::this_cluster().map_shared_rank(p, (unsigned)rank);
#else
  __trap(); /* the host launches the cluster kernels only on compute capability 9.0 and newer */
  return p;
#endif
}

/* Where a block of the layout's clusters (CR_CLUSTER blocks) stores what the block of rank `rank`
 * reads: p itself where that is this block (a store into its own shared memory, not through the
 * cluster's window), else p in that peer (cr_cluster_peer). So of the CR_CLUSTER copies of a value
 * only CR_CLUSTER - 1 cross to other multiprocessors, as RnnCostModel.clusterStoresUs prices them. */
template <typename T>
static __device__ __forceinline__ T *cr_cluster_dest(T *p, int rank) {
  return rank == (int)blockIdx.x % CR_CLUSTER ? p : cr_cluster_peer(p, rank);
}

#endif
