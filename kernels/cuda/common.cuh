/*
 * common.cuh: helpers shared by the CUDA kernel families (included once by charrnn.cu).
 *
 * Launch conventions used by the backend and the native tests:
 *   elementwise kernels: 1-D grid, CR_BLOCK threads per block, one thread per element, bounds-checked
 *   (f32_to_bf16 grid-stride, at most cr_wave_blocks(SMs) blocks);
 *   row kernels (softmax_xent): one block of cr_row_block(V) threads per row (a thread for every 4
 *   values, a power of two from 32 to CR_ROW_BLOCK);
 *   global_norm: P = cr_norm_partials(n) blocks of CR_BLOCK threads, grid-stride over n;
 *   sum_final: one block of CR_BLOCK threads;
 *   column sums (column_sum, embedding_backward): blocks of cr_col_width(C) x cr_col_lanes(N)
 *   threads (at most CR_COL_WIDTH x CR_COL_LANES), blockDim.x columns a block, threadIdx.y the row
 *   lane (cr_column_total).
 * Every block reduction below is a fixed-shape tree over shared memory, so results are bit-identical
 * run to run for the same launch configuration. The one atomic (cr_last_block's ticket) only picks
 * which block runs a kernel's final sum; the sum's order is fixed.
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
/* The power of two at or above v, lo at least and hi at most (both powers of two). */
static __host__ __device__ inline int cr_pow2_between(long long v, int lo, int hi) {
  int b = lo;
  while (b < v && b < hi) b *= 2;
  return b;
}
/* The threads of a row block for rows of V values: a thread for every CR_ROW_VALUES_PER_THREAD values,
 * a power of two from one warp to CR_ROW_BLOCK (PyTorch's block softmax gives a thread 4 floats, its
 * ILP, and one warp at least; for V <= 1024 it runs a warp a row). Blocks of 256 threads (three of
 * four idle at V = 65) made softmax_xent half of a small model's training step on the emulated
 * device, where every thread is a fiber switched in at each barrier; a thread a value (128 at V =
 * 65) still paid 7 levels of trees for one value a thread, 32 threads pay 5. The host
 * (LaunchShapes.rowBlock) computes the same. */
#define CR_ROW_VALUES_PER_THREAD 4
static __host__ __device__ inline int cr_row_block(int V) {
  return cr_pow2_between(((long long)V + CR_ROW_VALUES_PER_THREAD - 1) / CR_ROW_VALUES_PER_THREAD, 32, CR_ROW_BLOCK);
}
/* A grid-stride kernel's most blocks on a device of `sms` SMs: one wave of CR_WAVE_THREADS_PER_SM
 * threads an SM (what an SM of sm_80, sm_90 and sm_100 holds at once; sm_75 holds 1024, sm_86/89/120
 * 1536, where it is a wave and a part); more blocks would wait for a later wave to do what the
 * first's threads do in their loops. On the emulated device, which reports its CPU threads as SMs
 * and runs every thread as a fiber, the cap also keeps a conversion of a million values from
 * starting a million fibers. */
#define CR_WAVE_THREADS_PER_SM 2048
static __host__ __device__ inline int cr_wave_blocks(int sms) {
  return (sms < 1 ? 1 : sms) * (CR_WAVE_THREADS_PER_SM / CR_BLOCK);
}
#define CR_MAX_PARTIALS 1024
/* global_norm's blocks for n values: one for every CR_NORM_PER_THREAD * CR_BLOCK values, 1 to
 * CR_MAX_PARTIALS, so each thread adds 8 values or more before the block's tree (a block per 256
 * values gave a 56K-parameter model 219 trees; from n = 2M on the cap rules either way). */
#define CR_NORM_PER_THREAD 8
static __host__ __device__ inline int cr_norm_partials(long long n) {
  long long p = (n + (long long)CR_NORM_PER_THREAD * CR_BLOCK - 1) / ((long long)CR_NORM_PER_THREAD * CR_BLOCK);
  return (int)(p < 1 ? 1 : (p > CR_MAX_PARTIALS ? CR_MAX_PARTIALS : p));
}
/* Column sums: a block sums CR_COL_WIDTH adjacent columns (a warp's coalesced row segment) over
 * CR_COL_LANES row lanes. The kernels this replaced gave each column one thread that read all N
 * rows in turn, a few loads in flight: at an L2 round trip of about 270 clocks, an estimate of 90 us
 * at N 2500 and 420 us at N 12800 (test_reduce_optim's timings measure it on a GPU); a lane here
 * reads N / CR_COL_LANES rows, 8 loads in flight. */
#define CR_COL_WIDTH 32
#define CR_COL_LANES 32
/* A column sum's block for C columns over N rows: a power of two of columns up to CR_COL_WIDTH, no
 * more than there are, and of lanes up to CR_COL_LANES, one for every CR_COL_ROWS_PER_LANE rows (the
 * full block from C >= 32 and N >= 256 on, every real window: B 50 x T 50 is 2500 rows). A block of
 * 32 x 32 over an embedding of 7 columns and a window of 15 rows left 7 of 8 threads idle, and a
 * lane a row over 40 rows paid a barrier and a 32-term sum for one load a lane; on the emulated
 * device, where every thread is a fiber, embedding_backward was a fifth of the CUDA tests' time. */
#define CR_COL_ROWS_PER_LANE 8
static __host__ __device__ inline int cr_col_width(long long C) { return cr_pow2_between(C, 1, CR_COL_WIDTH); }
static __host__ __device__ inline int cr_col_lanes(long long N) {
  return cr_pow2_between((N + CR_COL_ROWS_PER_LANE - 1) / CR_COL_ROWS_PER_LANE, 1, CR_COL_LANES);
}

/* The launch's dynamic shared memory as a T*: `extern __shared__` on a GPU, the CPU execution
 * layer's per-block buffer there (native-test/cpu/crcpu.h, which defines CHARRNN_CRCPU_H). */
#ifdef CHARRNN_CRCPU_H
#define CR_DYNAMIC_SHARED(T, name) T *name = (T *)crcpu::dynamic_shared()
#else
#define CR_DYNAMIC_SHARED(T, name) \
  extern __shared__ __align__(16) unsigned char name##_bytes_[]; \
  T *name = (T *)name##_bytes_
#endif

/* Four consecutive floats of shared memory, 16-byte aligned: one load on a GPU (a misaligned
 * float4 faults there; the CPU execution layer aborts naming it, so CI catches one). */
static __device__ __forceinline__ void cr_load4(const float *p, float &a, float &b, float &c, float &d) {
#ifdef CHARRNN_CRCPU_H
  if ((unsigned long long)p % 16 != 0) crcpu::die("cr_load4: %p is not 16-byte aligned", (const void *)p);
  a = p[0];
  b = p[1];
  c = p[2];
  d = p[3];
#else
  float4 v = *reinterpret_cast<const float4 *>(p);
  a = v.x;
  b = v.y;
  c = v.z;
  d = v.w;
#endif
}

/* A unit's four values into its four columns of a [*, 4H] gate row (=): row[q H] = v_q, q = 0..3,
 * row pointing at the unit's first (&gates[r + j]). */
static __device__ __forceinline__ void cr_store_gates4(float *row, int H, float v0, float v1, float v2, float v3) {
  row[0] = v0;
  row[H] = v1;
  row[2 * H] = v2;
  row[3 * H] = v3;
}

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

/*
 * The sum of v [n] over the block in sum_final's order: thread i adds v[i], v[i + blockDim.x], ...
 * ascending, then cr_block_sum's tree. Valid in every thread; scratch as cr_block_sum's. v is
 * volatile: after cr_last_block it holds other blocks' writes, which no cached copy may hide.
 */
static __device__ __forceinline__ float cr_block_total(const volatile float *v, int n, float *scratch) {
  float s = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) s += v[i];
  return cr_block_sum(s, scratch);
}

/*
 * The last-block-done pattern: a kernel's final reduction without a second launch. Every thread of
 * every block of the grid calls it once, after its block wrote its part of the result to global
 * memory; it returns true in every thread of the one block that arrives last, and that block then
 * sees every other block's writes (each block fences before it takes its ticket; the last fences
 * again after). ticket: a device word that is 0 before the launch and 0 after it (atomicInc wraps
 * at the block count), so a CUDA graph replays it; one word per kernel that may run at the same
 * time as another user. Which block is last varies; what it computes must not depend on it.
 */
static __device__ __forceinline__ bool cr_last_block(unsigned *ticket) {
  __shared__ int last;
  __threadfence(); /* this thread's writes before the block's ticket */
  __syncthreads();
  if (threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0) {
    unsigned blocks = gridDim.x * gridDim.y * gridDim.z;
    last = atomicInc(ticket, blocks - 1) == blocks - 1;
  }
  __syncthreads();
  bool r = last != 0;
  if (r) __threadfence(); /* the other blocks' writes before this block's reads of them */
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

/*
 * The column sum of a [N, ld] over rows n where keep(n), for column c of a block of at most
 * CR_COL_WIDTH x CR_COL_LANES threads (threadIdx.x the column in the block, threadIdx.y the lane, L =
 * blockDim.y lanes): lane y sums rows y, y + L, ... ascending, then the lanes' sums are added in
 * ascending y: a fixed order, so the result is bit-identical run to run for the same block. Every
 * thread of the block must call it, once (it synchronizes, and a second call would overwrite lanes
 * still being read);
 * `in` says whether c is a column of a. The total is valid in threads with threadIdx.y == 0.
 */
template <typename Keep>
static __device__ __forceinline__ float cr_column_total(const float *a, long long ld, int N, long long c, bool in,
                                                        Keep keep) {
  __shared__ float lanes[CR_COL_LANES][CR_COL_WIDTH + 1];
  float s = 0.0f;
  if (in) {
#pragma unroll 8
    for (int n = threadIdx.y; n < N; n += blockDim.y)
      if (keep(n)) s += a[(long long)n * ld + c];
  }
  lanes[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  float total = 0.0f;
  if (threadIdx.y == 0)
    for (unsigned y = 0; y < blockDim.y; y++) total += lanes[y][threadIdx.x];
  return total;
}

#endif
