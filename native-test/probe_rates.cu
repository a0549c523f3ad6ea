/*
 * probe_rates: measures on the GPU the rates the persistent kernels' cost model assumes
 * (src/main/java/org/charrnn/backend/cuda/RnnCostModel.java; derived in
 * bench/results/persistent-cost-model-2026-12-02.md), with the access patterns of the kernels in
 * ../kernels/cuda/persistent_common.cuh:
 *   grid_barrier_us   one grid.sync() of a cooperative launch of one 256-thread block per SM (and,
 *                     written beside the rates, grid_barrier_half_us: over half as many blocks);
 *   tile_clocks       one k-tile staged from L2 into shared memory between its two block barriers,
 *                     with so few bytes that the latency is all (every block reading the same words,
 *                     as every block reads h_{t-1});
 *   l2_bytes_per_us   the bytes every block stages from the same L2-resident words, all blocks
 *                     together (8192-float tiles, CR_PERSISTENT_STAGE_FLOATS, less the latency);
 *   mma_latency       clocks from one mma.sync to the next that accumulates into the same tile;
 *   mma_fmas_tf32/_bf16  tensor-core FMAs per SM and clock through mma.sync (8 warps, 8 chains each);
 *   cluster_barrier_us  one cluster barrier of the persistent kernels' cluster layout (sm_90:
 *                     cr_persistent_sync<true>, clusters of CR_CLUSTER blocks, one block per SM by its
 *                     shared memory), over as many clusters as are resident at once;
 *   resident_clusters how many such clusters the device holds at once (cudaOccupancyMaxActiveClusters):
 *                     the cluster layout's C beyond it waits for a second wave;
 *   dsmem_bytes_per_us  what one SM stores into the shared memory of the other blocks of its cluster
 *                     (distributed shared memory), as the cluster layout's exchange does
 *                     (persistent_exchange.cuh: each thread its words to every block of the cluster,
 *                     its own block's a plain store not counted), over the resident clusters;
 *   and beside the rates (the model reads none of them yet): fma_product_clocks_vector and _strided,
 *                     one fp32 FMA product of the LSTM H256 B50 forward's cluster block (its slice in
 *                     registers) with x in either layout of persistent_fma.cuh, a block on every SM
 *                     (ProductClocks prices them 1088 and 1280 clocks: 4 warp instructions a clock,
 *                     the FFMAs and the loads); cluster_barrier_2_us and _4_us, the
 *                     same barrier in clusters of 2 and 4 blocks (one block per SM, as many as are
 *                     resident up to one per 2 or 4 SMs): whether smaller clusters meet faster;
 *                     resident_clusters_16, cluster_barrier_16_us and dsmem_16_bytes_per_us, the
 *                     non-portable clusters of 16 blocks (cudaFuncAttributeNonPortableClusterSizeAllowed)
 *                     of the opt-in shared memory each: whether a layout whose cluster holds twice
 *                     the weights (W_hh at H 512 in TF32 needs 16 blocks' shared memory) would run,
 *                     how many at once, and at what barrier and exchange cost.
 * Clocks are the device's reported clock rate (cudaDevAttrClockRate), as the model reads it.
 * Each time is the difference of two launches of different lengths (the launch cancels), the best
 * of five, after a warm-up. Every kernel's result is checked (the barrier's flags, the staged sums,
 * the mma tiles) so a timing of a kernel that went wrong is never reported.
 *
 *   probe_rates [rates.json]   prints a table and writes the rates as one JSON line (the file that
 *                              -Dcharrnn.persistent.rates reads); exit 1 if a check fails.
 * On the CPU execution layer (cpu/) it runs every kernel once at a small size and checks it; it
 * measures nothing there (an emulated kernel's time says nothing about a GPU's).
 */
#include <algorithm>
#include <cooperative_groups.h>
#include "common.h"
#include "../kernels/cuda/persistent_common.cuh"

#include "probe_kernels.cuh"

/* ----------------------------------------------------------------- host */

typedef void (*ProbeClusterKernel)(int *, int *, int);

/* The probe of clusters of `size` blocks (2, 4, 16 or CR_CLUSTER). */
static ProbeClusterKernel probe_cluster_kernel(int size) {
  return size == 2    ? probe_cluster_barrier_2
         : size == 4  ? probe_cluster_barrier_4
         : size == 16 ? probe_cluster_barrier_16
                      : probe_cluster_barrier;
}

/* Launches it over `blocks` blocks (a launch names its kernel: the CPU layer finds it by name). */
static void launch_cluster_probe(int size, int blocks, size_t shmem, int *flag, int *bad, int rounds) {
  if (size == 2)
    probe_cluster_barrier_2<<<dim3(blocks), dim3(CR_BLOCK), shmem>>>(flag, bad, rounds);
  else if (size == 4)
    probe_cluster_barrier_4<<<dim3(blocks), dim3(CR_BLOCK), shmem>>>(flag, bad, rounds);
  else if (size == 16)
    probe_cluster_barrier_16<<<dim3(blocks), dim3(CR_BLOCK), shmem>>>(flag, bad, rounds);
  else
    probe_cluster_barrier<<<dim3(blocks), dim3(CR_BLOCK), shmem>>>(flag, bad, rounds);
}

struct Sizes { /* the GPU's measurement or the CPU layer's check */
  int blocks, rounds, tiles, small_n, big_n, mma_iters, fma_rounds;
};

/* Milliseconds of launch(), the best of five after one warm-up (one run on the CPU layer). */
template <class F> static double best_ms(F launch) {
  launch();
  CK_LAUNCH();
#ifdef CRCPU_RUNTIME
  return 0.0;
#else
  double best = 1e30;
  for (int i = 0; i < 5; i++) {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a)); CK(cudaEventCreate(&b));
    CK(cudaEventRecord(a));
    launch();
    CK(cudaEventRecord(b)); CK(cudaEventSynchronize(b)); CK(cudaGetLastError());
    float ms = 0; CK(cudaEventElapsedTime(&ms, a, b));
    CK(cudaEventDestroy(a)); CK(cudaEventDestroy(b));
    if (ms < best) best = ms;
  }
  return best;
#endif
}

/* µs per grid barrier of `blocks` blocks (two lengths of the same launch), and its check. */
static double barrier_us(const Sizes &s, int blocks) {
  Dev<int> flag((size_t)blocks), bad(1);
  CK(cudaMemset(flag.p, 0, (size_t)blocks * sizeof(int)));
  CK(cudaMemset(bad.p, 0, sizeof(int)));
  auto run = [&](int rounds) {
    return best_ms([&] {
      void *args[] = {&flag.p, &bad.p, &rounds};
      CK(cudaLaunchCooperativeKernel(probe_barrier, dim3(blocks), dim3(CR_BLOCK), args));
    });
  };
  /* the warm-up launch starts from zeros; later ones start from the earlier flags and check less */
  double t1 = run(s.rounds), t2 = run(6 * s.rounds);
  expect(bad.down()[0] == 0, "grid barrier: every block saw its neighbour's flag");
  return 1000.0 * (t2 - t1) / (5.0 * s.rounds);
}

/* Lets `kernel` run clusters of `size` blocks: past the portable 8 the kernel must allow a
 * non-portable size; false where the device refuses (the error cleared: nothing is measured). */
template <class K> static bool allow_cluster_size(K kernel, int size) {
#ifdef CRCPU_RUNTIME
  (void)kernel; (void)size;
  return true;
#else
  if (size <= 8) return true;
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1) == cudaSuccess) return true;
  (void)cudaGetLastError();
  return false;
#endif
}

/* The clusters of `size` blocks of `shmem` bytes a block the device holds at once (the CPU layer: 2,
 * run one after another); 0 where the device runs none of that size. */
static int resident_clusters(int size, int wanted, size_t shmem) {
#ifdef CRCPU_RUNTIME
  (void)size; (void)wanted; (void)shmem;
  return 2;
#else
  ProbeClusterKernel kernel = probe_cluster_kernel(size);
  if (!allow_cluster_size(kernel, size)) return 0;
  CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3((unsigned)(wanted * size));
  cfg.blockDim = dim3(CR_BLOCK);
  cfg.dynamicSmemBytes = shmem;
  int n = 0;
  if (cudaOccupancyMaxActiveClusters(&n, kernel, &cfg) != cudaSuccess) {
    (void)cudaGetLastError(); /* a size the device does not schedule: none resident */
    return 0;
  }
  return n;
#endif
}

/* µs per cluster barrier over `clusters` clusters of `size` blocks of `shmem` bytes (two lengths), and
 * its check. */
static double cluster_barrier_us(const Sizes &s, int size, int clusters, size_t shmem) {
  int blocks = clusters * size;
  Dev<int> flag((size_t)blocks), bad(1);
  CK(cudaMemset(flag.p, 0, (size_t)blocks * sizeof(int)));
  CK(cudaMemset(bad.p, 0, sizeof(int)));
  CK(cudaFuncSetAttribute(probe_cluster_kernel(size), cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  auto run = [&](int rounds) {
    return best_ms([&] { launch_cluster_probe(size, blocks, shmem, flag.p, bad.p, rounds); });
  };
  double t1 = run(s.rounds), t2 = run(6 * s.rounds);
  char what[96];
  snprintf(what, sizeof what, "cluster barrier (%d blocks): every block saw its cluster neighbour's flag", size);
  expect(bad.down()[0] == 0, what);
  return 1000.0 * (t2 - t1) / (5.0 * s.rounds);
}

/* The cluster barrier of `size`-block clusters of one block per SM (`shmem` bytes each) over as many
 * of them as are resident at once, up to one per `size` SMs; 0 where none is. */
static double cluster_barrier_at(const Sizes &s, int size, int sms, size_t shmem) {
  int wanted = std::max(1, sms / size);
  int clusters = std::min(resident_clusters(size, wanted, shmem), wanted);
  return clusters > 0 ? cluster_barrier_us(s, size, clusters, shmem) : 0;
}

/* Bytes an SM stores into the shared memory of its cluster's other blocks per µs (its own block's
 * copy, a plain store beside them, not counted): probe_dsmem (size CR_CLUSTER) or probe_dsmem_16
 * over `clusters` clusters with n_big and n_small words a round (the difference cancels the
 * barrier), and the sums' check. */
static double dsmem_bytes_per_us(const Sizes &s, int size, int clusters, int n_small, int n_big) {
  int blocks = clusters * size;
  Dev<float> sink((size_t)blocks * CR_BLOCK);
  size_t shmem = (size_t)2 * size * n_big * sizeof(float);
  auto kernel = size == 16 ? probe_dsmem_16 : probe_dsmem;
  if (!allow_cluster_size(kernel, size)) return 0;
  CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  auto run = [&](int n) {
    return best_ms([&] {
      if (size == 16) /* a launch names its kernel: the CPU layer finds it by name */
        probe_dsmem_16<<<dim3(blocks), dim3(CR_BLOCK), shmem>>>(sink.p, s.rounds, n);
      else
        probe_dsmem<<<dim3(blocks), dim3(CR_BLOCK), shmem>>>(sink.p, s.rounds, n);
    });
  };
  double t_small = run(n_small), t_big = run(n_big);
  std::vector<double> ref((size_t)blocks * CR_BLOCK, 0.0);
  for (size_t e = 0; e < ref.size(); e++)
    for (int r = 0; r < s.rounds; r++)
      for (int q = 0; q < size; q++) ref[e] += r + q + (int)(((e % CR_BLOCK) * 5 + q) % n_big) % 7;
  char what[80];
  snprintf(what, sizeof what, "distributed shared memory (%d blocks): every peer's words", size);
  compare(what, sink.down(), ref, 0.0f, 0.0f);
  double us = 1000.0 * (t_big - t_small) / s.rounds; /* per round */
  return (double)(n_big - n_small) * (size - 1) * sizeof(float) / us;
}

/* µs per k-tile of n floats (launches with and without the tiles), and the staged sums' check. */
static double tile_us(const Sizes &s, int n) {
  int slots = (int)std::max<long long>(1, (1LL << 20) / ((long long)s.tiles * n)); /* 4 MB: past any L1 */
  std::vector<float> h((size_t)slots * s.tiles * n);
  for (size_t i = 0; i < h.size(); i++) h[i] = (float)((int)(i % 7) - 3);
  Dev<float> src(h), sink((size_t)s.blocks * CR_BLOCK);
  size_t shmem = (size_t)n * sizeof(float);
  CK(cudaFuncSetAttribute(probe_stage, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  auto run = [&](int tiles) {
    return best_ms([&] {
      int rounds = s.rounds;
      void *args[] = {&src.p, &sink.p, &rounds, &tiles, &n, &slots};
      CK(cudaLaunchCooperativeKernel(probe_stage, dim3(s.blocks), dim3(CR_BLOCK), args, shmem));
    });
  };
  double t0 = run(0), t1 = run(s.tiles);
  std::vector<double> ref((size_t)s.blocks * CR_BLOCK, 0.0);
  for (int b = 0; b < s.blocks; b++)
    for (int t = 0; t < CR_BLOCK; t++)
      for (int r = 0; r < s.rounds; r++)
        for (int k = 0; k < s.tiles; k++)
          ref[(size_t)b * CR_BLOCK + t] +=
              h[((size_t)(r % slots) * s.tiles + k) * n + (size_t)((t * 5 + k) % n)];
  char what[64];
  snprintf(what, sizeof what, "staged sums, tiles of %d floats", n);
  compare(what, sink.down(), ref, 0.0f, 0.0f);
  return 1000.0 * (t1 - t0) / ((double)s.rounds * s.tiles);
}

/* µs per iteration of `chains` mma.sync in every warp of `blocks` blocks of `threads`, and the tiles' check. */
static double mma_us(const Sizes &s, int prec, int chains, int blocks, int threads) {
  int kstep = prec == CR_PREC_BF16 ? 16 : 8;
  unsigned one = prec == CR_PREC_BF16 ? 0x3f803f80u : 0x3f800000u; /* 1.0 as two bf16, or as TF32 */
  Dev<float> out((size_t)blocks * threads * PROBE_CHAINS * 4);
  int iters = s.mma_iters;
  auto run = [&](int n) {
    return best_ms([&] { probe_mma<<<blocks, threads>>>(prec, n, chains, one, out.p); });
  };
  double t1 = run(iters), t2 = run(2 * iters);
  std::vector<double> ref(out.n, 0.0);
  for (size_t e = 0; e < ref.size(); e++)
    if ((int)(e / 4 % PROBE_CHAINS) < chains) ref[e] = 2.0 * iters * kstep;
  char what[64];
  snprintf(what, sizeof what, "mma %s, %d chain(s) a warp", prec == CR_PREC_BF16 ? "bf16" : "tf32", chains);
  compare(what, out.down(), ref, 0.0f, 0.0f);
  return 1000.0 * (t2 - t1) / iters;
}

/* µs of one fp32 FMA product of the LSTM H256 B50 forward's cluster block (128 rows of K 256 against
 * 4 rows b, its slice resident in registers) with x in the vector or the strided layout, a block on
 * every SM, and the products' check (exact: sixteenths, sums under 2^24 / 256). */
static double fma_product_us(const Sizes &s, bool vector) {
  const int R = 128, K = 256, B = 4;
  CrPersistentPlan p = cr_persistent_plan(R, K, B, vector ? CR_PREC_VECTOR_X : CR_PREC_FP32);
  expect(p.resident && p.KT == K, "the probe's FMA plan is one k-tile, its slice resident");
  size_t shmem = (size_t)cr_persistent_plan_bytes(p);
  std::vector<float> w((size_t)R * K), y((size_t)B * K);
  for (size_t e = 0; e < w.size(); e++) w[e] = (float)((int)(e * 37 % 17) - 8) / 16.0f;
  for (size_t e = 0; e < y.size(); e++) y[e] = (float)((int)(e * 11 % 13) - 6) / 16.0f;
  Dev<float> dw(w), dy(y), out((size_t)s.blocks * R * B);
  CK(cudaFuncSetAttribute(vector ? probe_fma_vector : probe_fma_strided, cudaFuncAttributeMaxDynamicSharedMemorySize,
                          (int)shmem));
  auto run = [&](int n) {
    return best_ms([&] {
      if (vector)
        probe_fma_vector<<<s.blocks, CR_BLOCK, shmem>>>(dw.p, dy.p, out.p, n, R, K, B);
      else
        probe_fma_strided<<<s.blocks, CR_BLOCK, shmem>>>(dw.p, dy.p, out.p, n, R, K, B);
    });
  };
  double t1 = run(s.fma_rounds), t2 = run(2 * s.fma_rounds);
  std::vector<double> ref(out.n, 0.0);
  for (size_t e = 0; e < ref.size(); e++) {
    int r = (int)(e / B % R), b = (int)(e % B);
    for (int k = 0; k < K; k++) ref[e] += (double)w[(size_t)r * K + k] * y[(size_t)b * K + k];
  }
  compare(vector ? "FMA product, x in the vector layout" : "FMA product, x strided", out.down(), ref, 0.0f, 0.0f);
  return 1000.0 * (t2 - t1) / s.fma_rounds;
}

int main(int argc, char **argv) {
#ifdef CRCPU_RUNTIME
  Sizes s{4, 3, 2, 256, 1024, 4, 1};
  (void)argc; (void)argv;
#else
  int sms = 0, clock_khz = 0, major = 0;
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  CK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0));
  CK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
  if (clock_khz <= 0 || major < 8) {
    fprintf(stderr, "probe_rates: needs a device of compute capability 8.0 or newer that reports its clock\n");
    return 2;
  }
  Sizes s{sms, 200, 8, 256, CR_PERSISTENT_STAGE_FLOATS, 4096, 1000};
#endif
  double barrier = barrier_us(s, s.blocks);
  /* over half the SMs: whether fewer, larger persistent blocks pay a cheaper barrier (not a model rate yet) */
  double half_barrier = barrier_us(s, (s.blocks + 1) / 2);
  double small = tile_us(s, s.small_n), big = tile_us(s, s.big_n);
  double lat_tf32 = mma_us(s, CR_PREC_TF32, 1, 1, 32), lat_bf16 = mma_us(s, CR_PREC_BF16, 1, 1, 32);
  double thr_tf32 = mma_us(s, CR_PREC_TF32, PROBE_CHAINS, s.blocks, CR_BLOCK);
  double thr_bf16 = mma_us(s, CR_PREC_BF16, PROBE_CHAINS, s.blocks, CR_BLOCK);
  /* the FMA product's two layouts of x (beside the rates: ProductClocks prices them 1088 and 1280
   * clocks, issue-bound; 1024 and 1056 without the loads' issue slots) */
  double fma_vector = fma_product_us(s, true), fma_strided = fma_product_us(s, false);
  /* the cluster layout (sm_90): clusters of one block per SM (the opt-in shared memory each), as many
   * as are resident at once, and their barrier */
  int resident = 0;
  double cluster_barrier = 0, dsmem = 0, barrier_2 = 0, barrier_4 = 0;
#ifdef CRCPU_RUNTIME
  resident = resident_clusters(CR_CLUSTER, 2, 0);
  cluster_barrier = cluster_barrier_us(s, CR_CLUSTER, resident, 0);
  barrier_2 = cluster_barrier_at(s, 2, 6, 0);
  barrier_4 = cluster_barrier_at(s, 4, 12, 0);
  dsmem = dsmem_bytes_per_us(s, CR_CLUSTER, resident, 8, 40);
  /* the non-portable clusters of 16 blocks */
  int resident_16 = resident_clusters(16, 2, 0);
  (void)cluster_barrier_us(s, 16, resident_16, 0);
  (void)dsmem_bytes_per_us(s, 16, resident_16, 8, 40);
  (void)argc; (void)argv;
  (void)barrier; (void)half_barrier; (void)small; (void)big; (void)lat_tf32; (void)lat_bf16; (void)thr_tf32; (void)thr_bf16;
  (void)cluster_barrier; (void)dsmem; (void)barrier_2; (void)barrier_4; (void)fma_vector; (void)fma_strided;
  printf("  rates: not measured (CPU emulation: every probe ran once and was checked)\n");
#else
  int optin = 0;
  if (major >= 9) {
    CK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
    resident = resident_clusters(CR_CLUSTER, std::max(1, sms / CR_CLUSTER), (size_t)optin);
    int clusters = std::min(resident, std::max(1, sms / CR_CLUSTER));
    if (resident > 0) cluster_barrier = cluster_barrier_us(s, CR_CLUSTER, clusters, (size_t)optin);
    barrier_2 = cluster_barrier_at(s, 2, sms, (size_t)optin);
    barrier_4 = cluster_barrier_at(s, 4, sms, (size_t)optin);
    /* a round's words to 8 blocks, two slots of them in the opt-in shared memory: 3072 words at 227 KiB */
    int n_big = (int)std::min<long long>(3072, optin / (2LL * CR_CLUSTER * (long long)sizeof(float)) / 256 * 256);
    if (resident > 0 && n_big > 256) dsmem = dsmem_bytes_per_us(s, CR_CLUSTER, clusters, 256, n_big);
  }
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  double per_us = clock_khz / 1000.0; /* clocks per µs */
  double fmas = (double)(CR_BLOCK / 32) * PROBE_CHAINS * 16 * 8; /* a block's FMAs an iteration, per k-step element */
  double rates[] = {
      barrier,
      small * per_us,
      (double)s.blocks * 4.0 * (s.big_n - s.small_n) / (big - small),
      0.5 * (lat_tf32 + lat_bf16) * per_us,
      fmas * 8 / (thr_tf32 * per_us),
      fmas * 16 / (thr_bf16 * per_us),
  };
  const char *names[] = {"grid_barrier_us", "tile_clocks", "l2_bytes_per_us", "mma_latency", "mma_fmas_tf32",
                         "mma_fmas_bf16"};
  bool sane = true;
  for (double r : rates) sane &= std::isfinite(r) && r > 0;
  expect(sane, "every rate positive and finite");
  printf("%s, %d SMs at %.3f GHz (reported clock)\n", prop.name, sms, clock_khz / 1e6);
  printf("  mma latency: tf32 %.1f, bf16 %.1f clocks\n", lat_tf32 * per_us, lat_bf16 * per_us);
  printf("  grid barrier over %d blocks: %.3f us\n", (s.blocks + 1) / 2, half_barrier);
  printf("  FMA product (LSTM H256 B50 forward block): x vector %.0f, strided %.0f clocks (model: 1088, 1280)\n",
         fma_vector * per_us, fma_strided * per_us);
  for (int i = 0; i < 6; i++) printf("  %-16s %12.4g\n", names[i], rates[i]);
  /* written only where measured (sm_90 and newer); the model assumes them otherwise */
  const char *cluster_names[] = {"cluster_barrier_us", "resident_clusters", "dsmem_bytes_per_us"};
  double cluster_rates[] = {cluster_barrier, (double)resident, dsmem};
  bool clusters = resident > 0 && std::isfinite(cluster_barrier) && cluster_barrier > 0 && std::isfinite(dsmem) &&
                  dsmem > 0;
  if (clusters) {
    for (int i = 0; i < 3; i++) printf("  %-16s %12.4g\n", cluster_names[i], cluster_rates[i]);
    printf("  cluster barrier of 2 blocks: %.3f us, of 4: %.3f us (0: none resident)\n", barrier_2, barrier_4);
  } else
    printf("  cluster layout: not measured (%s)\n", major >= 9 ? "no cluster of 8 blocks resident" : "before sm_90");
  /* the JSON line, extra: more fields ("" or ",\"name\":value..."); written twice, before and after
   * the 16-block clusters, so that a device refusing those still leaves the rates */
  auto write = [&](const char *extra) {
    if (argc <= 1 || !sane || g_failures) return true;
    FILE *f = fopen(argv[1], "w");
    if (!f) { fprintf(stderr, "probe_rates: cannot write %s\n", argv[1]); return false; }
    fprintf(f, "{\"probe\":\"probe_rates\",\"device\":\"%s\",\"sms\":%d,\"clock_ghz\":%.4f", prop.name, sms,
            clock_khz / 1e6);
    for (int i = 0; i < 6; i++) fprintf(f, ",\"%s\":%.6g", names[i], rates[i]);
    if (clusters)
      for (int i = 0; i < 3; i++) fprintf(f, ",\"%s\":%.6g", cluster_names[i], cluster_rates[i]);
    fprintf(f, ",\"grid_barrier_half_us\":%.6g", half_barrier);
    fprintf(f, ",\"fma_product_clocks_vector\":%.6g,\"fma_product_clocks_strided\":%.6g", fma_vector * per_us,
            fma_strided * per_us);
    if (clusters && barrier_2 > 0 && barrier_4 > 0)
      fprintf(f, ",\"cluster_barrier_2_us\":%.6g,\"cluster_barrier_4_us\":%.6g", barrier_2, barrier_4);
    fprintf(f, "%s}\n", extra);
    fclose(f);
    printf("  wrote %s\n", argv[1]);
    return true;
  };
  if (!write("")) return 2;
  /* 16 blocks a cluster, where the device schedules them (1792 words a round at 227 KiB) */
  if (clusters) {
    int wanted_16 = std::max(1, sms / 16);
    int resident_16 = resident_clusters(16, wanted_16, (size_t)optin);
    int clusters_16 = std::min(resident_16, wanted_16);
    int n_big_16 = (int)std::min<long long>(3072, optin / (2LL * 16 * (long long)sizeof(float)) / 256 * 256);
    double barrier_16 = 0, dsmem_16 = 0;
    if (clusters_16 > 0) {
      barrier_16 = cluster_barrier_us(s, 16, clusters_16, (size_t)optin);
      if (n_big_16 > 256) dsmem_16 = dsmem_bytes_per_us(s, 16, clusters_16, 256, n_big_16);
    }
    printf("  clusters of 16 blocks: %d resident, barrier %.3f us, DSMEM %.4g bytes/us (0: none resident)\n",
           resident_16, barrier_16, dsmem_16);
    if (resident_16 > 0 && std::isfinite(barrier_16) && barrier_16 > 0 && std::isfinite(dsmem_16) && dsmem_16 > 0) {
      char extra[160];
      snprintf(extra, sizeof extra,
               ",\"resident_clusters_16\":%d,\"cluster_barrier_16_us\":%.6g,\"dsmem_16_bytes_per_us\":%.6g",
               resident_16, barrier_16, dsmem_16);
      if (!write(extra)) return 2;
    }
  }
#endif
  return finish("probe_rates");
}
