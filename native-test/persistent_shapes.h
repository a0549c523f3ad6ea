/*
 * The awkward shapes every persistent-kernel harness (test_persistent_{lstm,gru,rnn}.cu) runs,
 * forward and backward: T steps, B rows, H units, U units per block, and whether the initial state
 * is the first slot of one [T+1,B,H] sequence buffer (joined) or a buffer of its own.
 */
#pragma once

#include <algorithm>

#include "../kernels/cuda/persistent_cluster_rows.cuh"

struct Shape {
  int T, B, H, U;
  bool joined; /* h0 (and an LSTM's c0) the first slot of one [T+1,B,H] buffer each */
};

static const Shape PERSISTENT_SHAPES[] = {
    {1, 1, 1, 1, false},     /* the smallest: one unit, one row, one step */
    {1, 1, 33, 8, false},    /* T = 1, B = 1, a last block of one unit */
    {3, 1, 33, 8, true},     /* B = 1 over steps; initial state in the sequence */
    {5, 4, 33, 33, false},   /* one block owns all of H */
    {4, 3, 33, 5, false},    /* 7 blocks, the last with 3 units */
    {6, 50, 64, 8, true},    /* more (b, j) pairs than threads per block */
    {7, 2, 17, 4, false},    /* H prime, 5 blocks */
    {2, 37, 229, 32, false}, /* B H > CR_PERSISTENT_STAGE_FLOATS: h, dgates in k-tiles, a short last one */
    {3, 5, 30, 4, true},     /* B not a multiple of CR_PERSISTENT_RB, 8 blocks */
    {2, 40, 48, 6, false},   /* mma forward transposed (16 rows b by 8 of a) over 3 tiles of a's 24
                                (GRU 18) rows: a ragged group of 2 x 2 tiles */
};

/* A window's input projection as layer 0's by-token path hands it to a persistent forward: the table
 * [V,G] (V = 7, so most rows repeat; values in [-2, 2]), tokens [N] in [0, V), and gx [N,G] (=) the
 * table's rows the tokens name. A forward given (table, tokens) must give its run on gx bit for bit. */
struct TokenProjection {
  std::vector<float> table, gx;
  std::vector<int> tokens;
};

static inline TokenProjection token_projection(size_t N, size_t G, Rng &r) {
  const int V = 7;
  TokenProjection p;
  p.table = rand_vec((size_t)V * G, r, -2, 2);
  p.tokens.resize(N);
  p.gx.resize(N * G);
  for (size_t n = 0; n < N; n++) {
    p.tokens[n] = (int)(r.next() % V);
    std::copy_n(p.table.begin() + (long)((size_t)p.tokens[n] * G), G, p.gx.begin() + (long)(n * G));
  }
  return p;
}

/* The subset the precision checks (TF32, bf16) run, forward and backward: T = 1, B = 1, H = 1; and
 * the k-tiles (a short last one) with B = 37 (not a multiple of CR_PERSISTENT_RB) and a last block of
 * 5 units. */
static const Shape PERSISTENT_PREC_SHAPES[] = {
    {1, 1, 1, 1, false},
    {2, 37, 229, 32, false},
};

/* How far a TF32 (prec 1) or bf16 (prec 2) result must differ from the unrounded products' at a shape
 * of the precision checks, so that a kernel ignoring prec fails: at H 229 they differ by 3e-4 .. 2e-2
 * on the CPU layer, a kernel that ignored prec by about 1e-6. 0: not checked at this shape. */
static inline double prec_min_diff(const Shape &s, int prec) { return s.H < 200 ? 0.0 : (prec & 3) == 1 ? 3e-5 : 3e-4; }

/* Runs check(shape, prec) for every precision check: TF32 (1) and bf16 (2) on FMAs (the rounding for
 * devices before sm_80) at PERSISTENT_PREC_SHAPES, and on tensor cores (| CR_PREC_MMA, 4: the
 * mma.sync plan, what sm_80 and newer run) at every shape of PERSISTENT_SHAPES. */
template <typename F>
static void for_each_precision_check(F check) {
  for (int prec = 1; prec <= 2; prec++)
    for (const Shape &s : PERSISTENT_PREC_SHAPES) check(s, prec);
  for (int prec = 1; prec <= 2; prec++)
    for (const Shape &s : PERSISTENT_SHAPES) check(s, prec | 4);
}

/* The cluster layout (persistent_layout.cuh): with persistent_clusters > 0 the harnesses launch the
 * *_cluster kernels, persistent_clusters clusters of CR_CLUSTER blocks of cluster_units(H, U) units
 * each, with every shape's checks unchanged. 3 clusters give each shape a short last cluster (B 4,
 * 5, 37, 40, 50) or clusters that own no rows (B 1, 2). */
static int persistent_clusters = 0;
static inline int cluster_units(int H, int U) {
  int fewest = (H + CR_CLUSTER - 1) / CR_CLUSTER;
  return U > fewest ? U : fewest;
}
/* With persistent_exchange the cluster launches or CR_PREC_EXCHANGE into prec (persistent_exchange.cuh:
 * h_{t-1} and dgates[t] through distributed shared memory where a plan is one k-tile). */
static int persistent_exchange = 0;
static inline int cluster_prec(int prec) { return persistent_exchange ? prec | CR_PREC_EXCHANGE : prec; }
/* The grid layout's batch groups (persistent_layout.cuh): with persistent_groups > 0 the grid
 * launches of the forward and of both backwards (column- and row-stationary) run grid_groups(B, NB)
 * groups of NB = ceil(H / U) blocks, each group its own rows of the batch, with every shape's checks
 * unchanged: at most persistent_groups, at most GROUP_BLOCKS blocks in all, and as the host launches
 * them, no group without rows (B 1 takes one group; B 3 at two groups rows 2 and 1; B 4 at three
 * groups two of 2). */
static int persistent_groups = 0;
/* Blocks of a grouped launch at most: what the CPU layer holds at once on two threads (8 blocks of
 * CR_BLOCK threads each), so the checks run there on a two-core machine. */
static const int GROUP_BLOCKS = 16;
static inline int grid_groups(int B, int NB) {
  if (!persistent_groups) return 1;
  int c = std::max(1, std::min(std::min(persistent_groups, GROUP_BLOCKS / NB), B)), rows = (B + c - 1) / c;
  return (B + rows - 1) / rows;
}
static inline const char *layout_name() {
  if (persistent_groups) return " grid groups";
  return !persistent_clusters ? "" : persistent_exchange ? " cluster exchange" : " cluster";
}

/* Whether the device runs the cluster kernels: compute capability 9.0 and newer (the CPU layer runs them). */
static inline bool clusters_supported() {
#ifdef CRCPU_RUNTIME
  return true;
#else
  int major = 0;
  CK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
  return major >= 9;
#endif
}

/* The resident plans (persistent_common.cuh, CrPersistentPlan.resident: each thread's part of a in
 * its registers for the whole launch, the tensor-core plan's fragments or the FMA plan's rows). The
 * launches count the passes whose plan is resident (count_resident, with the arguments of
 * persistent_shared_bytes), and the precision checks' second run of a pass reads a from shared
 * memory every step instead (CR_PREC_SHARED_A) and must give the first run's results bit for bit.
 * main requires a resident forward and backward of each plan (tensor cores, FMA) and (LSTM, GRU,
 * where the device has clusters) a resident cluster row-stationary backward among the launches
 * (expect_resident); not in the _tiled builds, whose 40-float tiles split nearly every plan into
 * k-tiles, which the resident plans never take. */
static int resident_passes[6]; /* tensor cores: forward, backward, cluster rows; FMA: forward, backward, cluster rows */
static inline void count_resident(bool forward, int G, int U, int H, int B, int prec) {
  CrPersistentPlan p = forward ? cr_persistent_plan(G * U, H, B, prec) : cr_persistent_plan(U, G * H, B, prec);
  if (p.resident) resident_passes[(p.mma ? 0 : 3) + (forward ? 0 : 1)]++;
}
static inline int second_run_prec(int prec) { return prec | CR_PREC_SHARED_A; }
static inline const char *second_run_label(const char *what, int prec) {
  static char label[96];
  snprintf(label, sizeof label, "%s, a second run%s bit for bit", what,
           prec & CR_PREC_SHARED_A ? " (a from shared memory)" : "");
  return label;
}
static inline void count_resident_rows(int G, int U, int H, int PB, int prec) {
  CrClusterRowsPlan p = cr_cluster_rows_plan(G, U, H, PB, prec);
  if (p.resident) resident_passes[p.mma ? 2 : 5]++;
}
/* rows: the harness runs the cluster layout's row-stationary backward (the LSTM's and GRU's) */
static inline void expect_resident(bool rows) {
  printf("resident a: tensor cores %d forward launches, %d backward, %d row-stationary backward in clusters; "
         "FMA %d forward, %d backward, %d row-stationary backward in clusters\n",
         resident_passes[0], resident_passes[1], resident_passes[2], resident_passes[3], resident_passes[4],
         resident_passes[5]);
#if CR_PERSISTENT_STAGE_FLOATS != 8192
  return;
#endif
  expect(resident_passes[0] > 0, "a forward launch with the resident plan");
  expect(resident_passes[1] > 0, "a backward launch with the resident plan");
  expect(resident_passes[3] > 0, "a forward launch with the resident FMA plan");
  expect(resident_passes[4] > 0, "a backward launch with the resident FMA plan");
  if (rows && clusters_supported()) {
    expect(resident_passes[2] > 0, "a cluster rows launch with the resident plan");
    expect(resident_passes[5] > 0, "a cluster rows launch with the resident FMA plan");
  }
}

/* What a layout runs (the cluster layout, the grid layout's batch groups): a harness's check and
 * check_backward at every shape, and its check_prec and check_backward_prec on tensor cores (TF32 and
 * bf16 | CR_PREC_MMA) at the precision shapes. */
template <typename C, typename CB, typename P, typename PB>
static void run_layout_shapes(Rng &r, C check, CB check_backward, P check_prec, PB check_backward_prec) {
  for (const Shape &s : PERSISTENT_SHAPES) {
    check(s, r);
    check_backward(s, r);
  }
  for (int prec : {CR_PREC_TF32 | CR_PREC_MMA, CR_PREC_BF16 | CR_PREC_MMA})
    for (const Shape &s : PERSISTENT_PREC_SHAPES) {
      check_prec(s, r, prec, prec_min_diff(s, prec));
      check_backward_prec(s, r, prec, prec_min_diff(s, prec));
    }
}

/* The cluster layout's checks, where the device has clusters: a harness's check and check_backward at
 * every shape, and its check_prec and check_backward_prec on tensor cores (TF32 and bf16 |
 * CR_PREC_MMA) at the precision shapes, with the *_cluster kernels and the exchange; then check and
 * check_backward at the precision shapes without it. */
template <typename C, typename CB, typename P, typename PB>
static void run_cluster_checks(Rng &r, C check, CB check_backward, P check_prec, PB check_backward_prec) {
  if (!clusters_supported()) {
    printf("cluster layout: skipped (compute capability below 9.0)\n");
    return;
  }
  persistent_clusters = 3;
  persistent_exchange = 1;
  run_layout_shapes(r, check, check_backward, check_prec, check_backward_prec);
  /* without the exchange: what plans of several k-tiles take anyway (in the _tiled builds, whose
   * 40-float tiles split nearly every plan, at every shape) */
  persistent_exchange = 0;
  for (const Shape &s : PERSISTENT_PREC_SHAPES) {
    check(s, r);
    check_backward(s, r);
  }
  persistent_clusters = 0;
}

/* The grid layout in batch groups (up to 3; grid_groups), where the caller runs the column-stationary
 * backward: run_layout_shapes. */
template <typename C, typename CB, typename P, typename PB>
static void run_group_checks(Rng &r, C check, CB check_backward, P check_prec, PB check_backward_prec) {
  persistent_groups = 3;
  run_layout_shapes(r, check, check_backward, check_prec, check_backward_prec);
  persistent_groups = 0;
}

/* The grid layout's row-stationary backward (persistent_rows.cuh; the caller has set its
 * backward_rows) in batch groups (up to 3; grid_groups): check_backward at the shapes whose groups
 * differ (B 1 in one group; one block a group; a short last group, of 1 row, whose last block has 3
 * units; groups of one row; 8 blocks a group; a short last group whose shares take several tiles of
 * ND blocks in the _tiled builds). Its arithmetic is the one-group kernel's, which the other checks
 * cover at every precision. */
template <typename CB>
static void run_group_rows_checks(Rng &r, CB check_backward) {
  static const Shape shapes[] = {
      {3, 1, 33, 8, true}, {5, 4, 33, 33, false}, {4, 3, 33, 5, false},
      {7, 2, 17, 4, false}, {3, 5, 30, 4, true},  {2, 37, 229, 32, false},
  };
  persistent_groups = 3;
  for (const Shape &s : shapes) check_backward(s, r);
  persistent_groups = 0;
}

/* The cluster layout's row-stationary backward (persistent_cluster_rows.cuh; the caller has set its
 * backward_rows), in 3 clusters: check_backward at the shapes that differ for it (one unit, one row;
 * B 1 over 3 steps, so clusters without rows and blocks without units; a last block of 3 units; B
 * 50, 17 rows a cluster, 3 mma tiles of rows; H prime), and check_backward_prec on TF32 tensor cores at
 * both precision shapes and at B 50 (the resident plan), in TF32 and bf16 FMAs at H 229 (bf16 with
 * CR_PREC_MMA runs the same FMAs). */
template <typename CB, typename PB>
static void run_cluster_rows_checks(Rng &r, CB check_backward, PB check_backward_prec) {
#if CR_PERSISTENT_STAGE_FLOATS != 8192 /* a _tiled harness: the kernel stages nothing in k-tiles */
  printf("cluster layout, row-stationary backward: in the untiled harness only (it stages nothing in k-tiles)\n");
  return;
#endif
  if (!clusters_supported()) {
    printf("cluster layout, row-stationary backward: skipped (compute capability below 9.0)\n");
    return;
  }
  persistent_clusters = 3;
  for (int i : {0, 2, 4, 5, 6}) check_backward(PERSISTENT_SHAPES[i], r);
  for (const Shape &s : PERSISTENT_PREC_SHAPES)
    check_backward_prec(s, r, CR_PREC_TF32 | CR_PREC_MMA, prec_min_diff(s, CR_PREC_TF32 | CR_PREC_MMA));
  /* B 50, 17 rows a cluster: 12 mma tiles (two for some warps) over 4 k-steps (LSTM; GRU 3), the
   * resident plan's A fragments in registers */
  check_backward_prec(PERSISTENT_SHAPES[5], r, CR_PREC_TF32 | CR_PREC_MMA, 0.0);
  for (int prec : {CR_PREC_TF32, CR_PREC_BF16})
    check_backward_prec(PERSISTENT_PREC_SHAPES[1], r, prec, prec_min_diff(PERSISTENT_PREC_SHAPES[1], prec));
  persistent_clusters = 0;
}
