/*
 * selftest.cu: checks the CPU execution layer's own checks (run by cpu/selftest.sh):
 *   selftest order        CRCPU_ORDER really permutes the threads of a barrier phase
 *   selftest bounds       a block larger than __launch_bounds__ is refused with
 *                         cudaErrorLaunchOutOfResources, an oversized block with
 *                         cudaErrorInvalidConfiguration, and neither kernel runs
 *   selftest divergent    threads of a block at different __syncthreads(): must abort
 *   selftest early-return some threads return while others wait: must abort
 *   selftest grid-sync    a grid barrier in an ordinary launch: must abort
 *   selftest cluster      a cluster kernel (CR_CLUSTER_KERNEL) runs every block of 2 clusters past
 *                         their cluster barriers; a grid of 12 blocks (not whole clusters of 8) is
 *                         refused with cudaErrorInvalidClusterSize and does not run
 *   selftest cluster-sync a cluster barrier in a kernel without a cluster size: must abort
 *   selftest dsmem        every block of 2 clusters writes into each peer's dynamic shared memory
 *                         and its own (cr_cluster_dest) between cluster barriers, and reads what
 *                         they wrote
 *   selftest dsmem-early  a write into a peer before the first cluster barrier: must abort
 *   selftest dsmem-late   a write into a peer after the last one (it may have returned): must abort
 *   selftest dsmem-self   a block maps its own rank (cr_cluster_peer, not cr_cluster_dest): must abort
 *   selftest mma          one warp's mma (cr_mma) at TF32 and bf16 against a host product, each
 *                         lane loading its fragments as the PTX ISA lays them out
 *   selftest mma-divergent half a warp at an mma, the other half returned: must abort
 * Exit 0 = the check behaved; the abort cases are expected to die with SIGABRT.
 */
#include <cooperative_groups.h>
#include "common.h"
#include "../kernels/cuda/persistent_common.cuh"

/* Each thread records the order in which it passed the barrier phase. */
extern "C" __global__ void __launch_bounds__(64) arrival_order(int *order) {
  __shared__ int next;
  if (threadIdx.x == 0) next = 0;
  __syncthreads();
  order[threadIdx.x] = next++;
  __syncthreads();
}

extern "C" __global__ void divergent_barriers(int *out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

extern "C" __global__ void early_return(int *out) {
  if (threadIdx.x == 0) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

/* out[block * 32 + thread] (=) 1 + the sum of flag over the block's cluster, after a cluster barrier
 * that every block's flag (1) is set before. */
extern "C" __global__ void CR_CLUSTER_KERNEL cluster_marks(int *flag, int *out) {
  if (threadIdx.x == 0) flag[blockIdx.x] = 1;
  cr_persistent_sync<true>();
  int base = (int)blockIdx.x / CR_CLUSTER * CR_CLUSTER, sum = 0;
  for (int k = 0; k < CR_CLUSTER; k++) sum += flag[base + k];
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1 + sum;
}

/* Thread k < CR_CLUSTER of each block writes block + 1 into slot `rank` of rank k's dynamic shared
 * memory; after a cluster barrier thread 0 sums its slots into out[block]. mode 1 leaves out the
 * barrier before the writes (a peer may not have started), mode 2 writes after the last barrier
 * instead (a peer may have returned), mode 3 maps every rank, its own too. */
extern "C" __global__ void CR_CLUSTER_KERNEL cluster_exchange(int *out, int mode) {
  CR_DYNAMIC_SHARED(int, slots);
  int rank = (int)blockIdx.x % CR_CLUSTER, q = (int)threadIdx.x;
  if (mode != 1) cr_persistent_sync<true>();
  if (mode != 2 && q < CR_CLUSTER) (mode == 3 ? cr_cluster_peer(slots, q) : cr_cluster_dest(slots, q))[rank] = (int)blockIdx.x + 1;
  cr_persistent_sync<true>();
  if (threadIdx.x == 0) {
    int sum = 0;
    for (int k = 0; k < CR_CLUSTER; k++) sum += slots[k];
    out[blockIdx.x] = sum;
  }
  cr_persistent_sync<true>();
  if (mode == 2 && threadIdx.x < CR_CLUSTER) cr_cluster_dest(slots, (int)threadIdx.x)[rank] = 0;
}

extern "C" __global__ void cluster_sync_plain(int *out) {
  cr_persistent_sync<true>();
  out[threadIdx.x] = 1;
}

extern "C" __global__ void grid_sync_plain(int *out) {
  cooperative_groups::this_grid().sync();
  out[threadIdx.x] = 1;
}

/* d [16][8] (=) a [16][K] b^T + c, b [8][K] (K = 8 at TF32, 16 at bf16, prec | CR_PREC_MMA), one
 * warp, each lane loading and storing its fragment registers by the layout cr_mma states. */
extern "C" __global__ void mma_tile(const float *a, const float *b, const float *c, float *d, int prec) {
  int lane = threadIdx.x, g = lane >> 2, t = lane & 3, K = cr_prec_rounding(prec) == CR_PREC_BF16 ? 16 : 8;
  unsigned af[4], bf[2];
  float acc[4];
  for (int r = 0; r < 4; r++) {
    int row = g + 8 * (r & 1), word = t + 4 * (r >> 1);
    af[r] = cr_mma_word(a, row, word * (K / 8), 16, K, prec);
  }
  for (int r = 0; r < 2; r++) bf[r] = cr_mma_word(b, g, (t + 4 * r) * (K / 8), 8, K, prec);
  for (int i = 0; i < 4; i++) acc[i] = c[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)];
  cr_mma(prec, acc, af, bf);
  for (int i = 0; i < 4; i++) d[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)] = acc[i];
}

extern "C" __global__ void mma_divergent(float *out) {
  unsigned a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  float d[4] = {0, 0, 0, 0};
  if (threadIdx.x >= 16) return;
  cr_mma(CR_PREC_TF32 | CR_PREC_MMA, d, a, b);
  out[threadIdx.x] = d[0];
}

/* The mma of small integers (exact at TF32 and bf16) against the host's product. */
static int check_mma() {
  for (int prec : {CR_PREC_TF32 | CR_PREC_MMA, CR_PREC_BF16 | CR_PREC_MMA}) {
    int K = prec == (CR_PREC_BF16 | CR_PREC_MMA) ? 16 : 8;
    std::vector<float> a(16 * K), b(8 * K), c(16 * 8), want(16 * 8);
    for (int i = 0; i < 16 * K; i++) a[i] = (float)(i % 7 - 3);
    for (int i = 0; i < 8 * K; i++) b[i] = (float)(i % 5 - 2);
    for (int i = 0; i < 16 * 8; i++) c[i] = (float)(i % 3);
    for (int r = 0; r < 16; r++)
      for (int n = 0; n < 8; n++) {
        double s = c[r * 8 + n];
        for (int k = 0; k < K; k++) s += (double)a[r * K + k] * b[n * K + k];
        want[r * 8 + n] = (float)s;
      }
    Dev<float> da(a), db(b), dc(c), dd(16 * 8);
    mma_tile<<<1, 32>>>(da.p, db.p, dc.p, dd.p, prec);
    CK_LAUNCH();
    compare(prec_name(prec), dd.down(), want, 0.0f, 0.0f);
  }
  return finish("selftest mma");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  Dev<int> buf(1024);
  CK(cudaMemset(buf.p, 0, 1024 * sizeof(int)));
  if (!strcmp(mode, "order")) {
    const char *o = getenv("CRCPU_ORDER");
    arrival_order<<<1, 64>>>(buf.p);
    CK_LAUNCH();
    std::vector<int> got = buf.down();
    bool forward = true, reverse = true;
    for (int t = 0; t < 64; t++) {
      forward &= got[t] == t;
      reverse &= got[t] == 63 - t;
    }
    if (!o || !strcmp(o, "forward")) expect(forward, "forward order: thread t arrives t-th");
    else if (!strcmp(o, "reverse")) expect(reverse, "reverse order: thread t arrives (63-t)-th");
    else expect(!forward && !reverse, "shuffled order: neither forward nor reverse");
    return finish("selftest order");
  }
  if (!strcmp(mode, "bounds")) {
    arrival_order<<<1, 128>>>(buf.p);
    expect(cudaGetLastError() == cudaErrorLaunchOutOfResources, "128 threads > __launch_bounds__(64) refused");
    early_return<<<1, 2048>>>(buf.p);
    expect(cudaGetLastError() == cudaErrorInvalidConfiguration, "2048 threads per block refused");
    early_return<<<dim3(1, 70000), 32>>>(buf.p);
    expect(cudaGetLastError() == cudaErrorInvalidConfiguration, "grid.y = 70000 refused");
    expect(buf.down()[1] == 0, "no refused kernel ran");
    return finish("selftest bounds");
  }
  if (!strcmp(mode, "mma")) return check_mma();
  if (!strcmp(mode, "cluster")) {
    Dev<int> flag(2 * CR_CLUSTER);
    CK(cudaMemset(flag.p, 0, 2 * CR_CLUSTER * sizeof(int)));
    cluster_marks<<<12, 32>>>(flag.p, buf.p);
    expect(cudaGetLastError() == cudaErrorInvalidClusterSize, "12 blocks (not whole clusters of 8) refused");
    expect(buf.down()[0] == 0, "the refused kernel did not run");
    cluster_marks<<<2 * CR_CLUSTER, 32>>>(flag.p, buf.p);
    CK_LAUNCH();
    std::vector<int> got = buf.down();
    bool all = true;
    for (int e = 0; e < 2 * CR_CLUSTER * 32; e++) all &= got[(size_t)e] == 1 + CR_CLUSTER;
    expect(all, "every block of 2 clusters saw its cluster's 8 flags after the cluster barrier");
    return finish("selftest cluster");
  }
  if (!strcmp(mode, "dsmem")) {
    cluster_exchange<<<2 * CR_CLUSTER, 32, CR_CLUSTER * sizeof(int)>>>(buf.p, 0);
    CK_LAUNCH();
    std::vector<int> got = buf.down();
    bool all = true;
    for (int b = 0; b < 2 * CR_CLUSTER; b++) {
      int c = b / CR_CLUSTER, want = 0;
      for (int k = 0; k < CR_CLUSTER; k++) want += c * CR_CLUSTER + k + 1;
      all &= got[(size_t)b] == want;
    }
    expect(all, "every block read the 8 values its cluster's blocks wrote into its shared memory");
    return finish("selftest dsmem");
  }
  if (!strcmp(mode, "dsmem-early")) cluster_exchange<<<CR_CLUSTER, 32, CR_CLUSTER * sizeof(int)>>>(buf.p, 1);
  else if (!strcmp(mode, "dsmem-late")) cluster_exchange<<<CR_CLUSTER, 32, CR_CLUSTER * sizeof(int)>>>(buf.p, 2);
  else if (!strcmp(mode, "dsmem-self")) cluster_exchange<<<CR_CLUSTER, 32, CR_CLUSTER * sizeof(int)>>>(buf.p, 3);
  else if (!strcmp(mode, "divergent")) divergent_barriers<<<1, 32>>>(buf.p);
  else if (!strcmp(mode, "mma-divergent")) mma_divergent<<<1, 32>>>((float *)buf.p);
  else if (!strcmp(mode, "early-return")) early_return<<<1, 32>>>(buf.p);
  else if (!strcmp(mode, "grid-sync")) grid_sync_plain<<<2, 32>>>(buf.p);
  else if (!strcmp(mode, "cluster-sync")) cluster_sync_plain<<<1, 32>>>(buf.p);
  else {
    fprintf(stderr, "usage: selftest order|bounds|mma|cluster|dsmem|divergent|early-return|grid-sync|cluster-sync|"
                    "mma-divergent|dsmem-early|dsmem-late|dsmem-self\n");
    return 2;
  }
  CK_LAUNCH();
  printf("selftest %s: the kernel completed, but it should have aborted\n", mode);
  return 1;
}
