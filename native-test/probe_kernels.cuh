/*
 * probe_kernels.cuh: the kernels of probe_rates.cu (which launches, times and checks them; its header
 * says what each rate is). Apart so that the harness reads as its measurements; the CPU layer's
 * kernel table lists them from here too (Makefile).
 */
#ifndef CHARRNN_PROBE_KERNELS_CUH
#define CHARRNN_PROBE_KERNELS_CUH

namespace cg = cooperative_groups;

/* flag [blocks] (=): rounds grid barriers; before each, block b sets flag[b] = round + 1; after it,
 * every block must see its neighbour's flag at least that high (bad[0] = 1 if not). */
extern "C" __global__ void __launch_bounds__(CR_BLOCK) probe_barrier(int *flag, int *bad, int rounds) {
  cg::grid_group grid = cg::this_grid();
  int next = (int)((blockIdx.x + 1) % gridDim.x);
  for (int r = 0; r < rounds; r++) {
    if (threadIdx.x == 0) ((volatile int *)flag)[blockIdx.x] = r + 1;
    grid.sync();
    if (threadIdx.x == 0 && ((volatile int *)flag)[next] < r + 1) *bad = 1;
  }
}

/* flag [blocks] (=): as probe_barrier with the cluster barrier of the cluster layout
 * (persistent_common.cuh) in clusters of N blocks: every block must see the flag of the next block
 * of its own cluster. */
template <int N>
static __device__ __forceinline__ void probe_cluster_rounds(int *flag, int *bad, int rounds) {
  int base = (int)blockIdx.x / N * N, next = base + ((int)blockIdx.x - base + 1) % N;
  for (int r = 0; r < rounds; r++) {
    if (threadIdx.x == 0) ((volatile int *)flag)[blockIdx.x] = r + 1;
    cr_persistent_sync<true>();
    if (threadIdx.x == 0 && ((volatile int *)flag)[next] < r + 1) *bad = 1;
  }
}

/* The layout's clusters of CR_CLUSTER blocks (the model's cluster_barrier_us). */
extern "C" __global__ void __launch_bounds__(CR_BLOCK) CR_CLUSTER_KERNEL probe_cluster_barrier(int *flag, int *bad,
                                                                                               int rounds) {
  probe_cluster_rounds<CR_CLUSTER>(flag, bad, rounds);
}

/* Smaller clusters, 2 and 4 blocks: whether a layout of fewer blocks a cluster would meet at a
 * cheaper barrier (written beside the rates; the model reads none of them yet). */
extern "C" __global__ void __launch_bounds__(CR_BLOCK) CR_CLUSTER_KERNEL_OF(2)
    probe_cluster_barrier_2(int *flag, int *bad, int rounds) {
  probe_cluster_rounds<2>(flag, bad, rounds);
}

extern "C" __global__ void __launch_bounds__(CR_BLOCK) CR_CLUSTER_KERNEL_OF(4)
    probe_cluster_barrier_4(int *flag, int *bad, int rounds) {
  probe_cluster_rounds<4>(flag, bad, rounds);
}

/* A larger, non-portable cluster of 16 blocks (sm_90 runs it where the kernel allows it:
 * allow_cluster_size): whether twice the layout's blocks meet at a barrier not much dearer. */
extern "C" __global__ void __launch_bounds__(CR_BLOCK) CR_CLUSTER_KERNEL_OF(16)
    probe_cluster_barrier_16(int *flag, int *bad, int rounds) {
  probe_cluster_rounds<16>(flag, bad, rounds);
}

/* sink [blocks][CR_BLOCK] (=): after a cluster barrier (every peer runs), per round each block stores n
 * words into its slot [r & 1][rank][n] of the dynamic shared memory of every block of its cluster
 * of N (each thread its words to all N blocks, as cr_exchange_put: its own block's by a plain
 * shared-memory store, the N - 1 peers' through distributed shared memory), a cluster barrier,
 * then each thread adds one word of every slot of round r in its own block (x: its dynamic shared
 * memory).
 * Two slots alternate, as the exchange's buffers: a round's stores never meet the previous round's
 * reads. */
template <int N>
static __device__ __forceinline__ void probe_dsmem_rounds(float *x, float *sink, int rounds, int n) {
  int rank = (int)blockIdx.x % N;
  float acc = 0.0f;
  cr_persistent_sync<true>();
  for (int r = 0; r < rounds; r++) {
    float *slot = x + (long long)((r & 1) * N + rank) * n;
    for (int e = threadIdx.x; e < n; e += blockDim.x)
      for (int q = 0; q < N; q++) /* its own copy a plain store, as cr_cluster_dest's */
        *(q == rank ? slot + e : cr_cluster_peer(slot + e, q)) = (float)(r + rank + e % 7);
    cr_persistent_sync<true>();
    for (int q = 0; q < N && n > 0; q++) acc += x[(long long)((r & 1) * N + q) * n + ((int)threadIdx.x * 5 + q) % n];
  }
  sink[(long long)blockIdx.x * blockDim.x + threadIdx.x] = acc;
}

/* The layout's clusters of CR_CLUSTER blocks (the model's dsmem_bytes_per_us). */
extern "C" __global__ void __launch_bounds__(CR_BLOCK) CR_CLUSTER_KERNEL probe_dsmem(float *sink, int rounds, int n) {
  CR_DYNAMIC_SHARED(float, x);
  probe_dsmem_rounds<CR_CLUSTER>(x, sink, rounds, n);
}

/* The non-portable clusters of 16 blocks (beside the rates). */
extern "C" __global__ void __launch_bounds__(CR_BLOCK) CR_CLUSTER_KERNEL_OF(16)
    probe_dsmem_16(float *sink, int rounds, int n) {
  CR_DYNAMIC_SHARED(float, x);
  probe_dsmem_rounds<16>(x, sink, rounds, n);
}

/* sink [blocks][CR_BLOCK] (=): per round, tiles k-tiles of n floats staged from src [slots][tiles][n]
 * (slot round % slots, the same words for every block, as h_{t-1}) into shared memory between two
 * block barriers, each thread adding one staged word per tile; a grid barrier ends the round. */
extern "C" __global__ void __launch_bounds__(CR_BLOCK) probe_stage(const float *src, float *sink, int rounds,
                                                                   int tiles, int n, int slots) {
  CR_DYNAMIC_SHARED(float, x);
  cg::grid_group grid = cg::this_grid();
  float acc = 0.0f;
  for (int r = 0; r < rounds; r++) {
    const float *slot = src + (long long)(r % slots) * tiles * n;
    for (int k = 0; k < tiles; k++) {
      __syncthreads(); /* the previous tile's readers are done */
      for (int e = threadIdx.x; e < n; e += blockDim.x) x[e] = slot[(long long)k * n + e];
      __syncthreads(); /* the tile is staged */
      acc += x[(threadIdx.x * 5 + k) % n];
    }
    grid.sync();
  }
  sink[(long long)blockIdx.x * blockDim.x + threadIdx.x] = acc;
}

/* out [blocks * threads][PROBE_CHAINS][4] (=): each warp runs `chains` (<= PROBE_CHAINS) independent
 * chains of iters mma.sync (prec: CR_PREC_TF32 or CR_PREC_BF16) on all-ones fragments (one: 1.0 as
 * the operand word), so every accumulator of a chain ends at iters * k-step; the others stay 0. */
#define PROBE_CHAINS 8
extern "C" __global__ void __launch_bounds__(CR_BLOCK) probe_mma(int prec, int iters, int chains, unsigned one,
                                                                 float *out) {
  float d[PROBE_CHAINS][4] = {};
  unsigned a[4] = {one, one, one, one}, b[2] = {one, one};
  for (int it = 0; it < iters; it++)
#pragma unroll
    for (int c = 0; c < PROBE_CHAINS; c++)
      if (c < chains) cr_mma(prec | CR_PREC_MMA, d[c], a, b);
  float *o = out + ((long long)blockIdx.x * blockDim.x + threadIdx.x) * PROBE_CHAINS * 4;
  for (int c = 0; c < PROBE_CHAINS; c++)
    for (int i = 0; i < 4; i++) o[c * 4 + i] = d[c][i];
}


/* out [blocks][R][B] (=): each block stages a [R][K] = w and, in the first round, x from y [B][K]
 * (row-major), keeps its rows of a in registers where the plan is resident, and runs `rounds` fp32
 * FMA products of the plan (R, K, B) with x in layout X, nothing restaged after the first (the
 * exchange's product, y null): a step's product with its lanes' sums and block barriers alone. */
template <int X>
static __device__ __forceinline__ void probe_fma_body(const float *w, const float *y, float *out, int rounds, int R,
                                                      int K, int B) {
  CR_DYNAMIC_SHARED(unsigned char, smem);
  CrPersistentPlan p = cr_persistent_plan(R, K, B, X == CR_X_VECTOR ? CR_PREC_VECTOR_X : CR_PREC_FP32);
  float *a = (float *)smem, *x = cr_persistent_x(smem, p), *acc = cr_persistent_acc(smem, p);
  for (long long e = threadIdx.x; e < (long long)R * K; e += blockDim.x) a[e] = w[e];
  __syncthreads();
  CrResidentA f;
  cr_keep_resident_a<float>(p, a, f);
  for (int r = 0; r < rounds; r++)
    cr_persistent_product<float, 0, X>(p, a, f, r == 0 ? y : nullptr, x, acc, CR_PREC_FP32);
  for (long long e = threadIdx.x; e < (long long)R * B; e += blockDim.x)
    out[(long long)blockIdx.x * R * B + e] = cr_persistent_result(acc, p, (int)(e / B), (int)(e % B));
}

/* The vector layout's (the LSTM's and GRU's forward, the RNN pair) and the strided one's products. */
extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) probe_fma_vector(const float *w, const float *y, float *out,
                                                                           int rounds, int R, int K, int B) {
  probe_fma_body<CR_X_VECTOR>(w, y, out, rounds, R, K, B);
}
extern "C" __global__ void __launch_bounds__(CR_BLOCK, 1) probe_fma_strided(const float *w, const float *y, float *out,
                                                                            int rounds, int R, int K, int B) {
  probe_fma_body<CR_X_STRIDED>(w, y, out, rounds, R, K, B);
}
#endif
