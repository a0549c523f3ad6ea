/*
 * common.h: helpers of the native kernel tests (in the style of llm.c's dev/cuda): error checks,
 * seeded random data, device buffers, tolerance comparison and cudaEvent timing.
 * Each test program includes the kernel family's .cu directly and exits non-zero on any mismatch.
 */
#ifndef CHARRNN_NATIVE_COMMON_H
#define CHARRNN_NATIVE_COMMON_H
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <cuda_runtime.h>

static int g_failures = 0;

/* Counts a failed check. With CR_FAIL_FAST set in the environment the program stops at the first
 * one (exit 1): cpu/mutation-check.sh only needs to see that a mutant fails, not every check. */
static inline void cr_failed() {
  g_failures++;
  if (getenv("CR_FAIL_FAST")) {
    printf("stopped at the first failed check (CR_FAIL_FAST)\n");
    exit(1);
  }
}

#define CK(call) cr_check((call), #call, __FILE__, __LINE__)
static void cr_check(cudaError_t e, const char *what, const char *file, int line) {
  if (e != cudaSuccess) {
    fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e), file, line, what);
    exit(2);
  }
}
#define CK_LAUNCH() do { CK(cudaGetLastError()); CK(cudaDeviceSynchronize()); } while (0)

/* xorshift64*: seeded, the same data on every run. */
struct Rng {
  unsigned long long s;
  explicit Rng(unsigned long long seed) : s(seed * 2685821657736338717ULL + 1) {}
  unsigned long long next() { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return s * 2685821657736338717ULL; }
  float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 40) * (1.0 / 16777216.0)); }
  int below(int n) { return (int)((next() >> 33) % (unsigned long long)n); }
};

static inline std::vector<float> rand_vec(size_t n, Rng &r, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  for (auto &x : v) x = r.uniform(lo, hi);
  return v;
}

template <typename T> struct Dev {
  T *p = nullptr;
  size_t n = 0;
  explicit Dev(size_t count) : n(count) { CK(cudaMalloc(&p, (count ? count : 1) * sizeof(T))); }
  explicit Dev(const std::vector<T> &h) : Dev(h.size()) { up(h); }
  ~Dev() { cudaFree(p); }
  Dev(const Dev &) = delete;
  Dev &operator=(const Dev &) = delete;
  void up(const std::vector<T> &h) { CK(cudaMemcpy(p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice)); }
  std::vector<T> down() const {
    std::vector<T> h(n);
    CK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }
};

/* |got - ref| <= atol + rtol*|ref| elementwise; prints the max error, counts a failure on mismatch. */
template <typename R>
static bool compare(const char *what, const std::vector<float> &got, const std::vector<R> &ref, float atol, float rtol) {
  double maxerr = 0;
  long bad = 0, first = -1;
  for (size_t i = 0; i < ref.size(); i++) {
    double r = (double)ref[i], g = (double)got[i];
    double err = fabs(g - r);
    bool ok = err <= atol + rtol * fabs(r) || (std::isnan(r) && std::isnan(g)) || (std::isinf(r) && g == r);
    if (!(err <= maxerr) && !std::isnan(err)) maxerr = err;
    if (!ok) { if (first < 0) first = (long)i; bad++; }
  }
  printf("  %-44s max |err| %.3e %s\n", what, maxerr, bad ? "FAIL" : "ok");
  if (bad) {
    printf("    %ld of %zu elements out of tolerance; first at %ld: got %.9g, ref %.9g\n", bad, ref.size(), first,
           (double)got[first], (double)ref[first]);
    cr_failed();
  }
  return bad == 0;
}

/* The operands of the persistent kernels' products as precision prec (CR_PREC_FP32 0, _TF32 1, _BF16 2,
 * any of them | CR_PREC_MMA 4 for tensor cores, which round alike) multiplies them, stated here again on the bits of the float (persistent_common.cuh's cr_round_operand):
 * TF32 keeps 10 mantissa bits, bf16 7, both rounded to nearest, ties to even; Inf and NaN stay. */
static inline float round_tf32(float v) {
  unsigned u;
  memcpy(&u, &v, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu;
  memcpy(&v, &u, 4);
  return v;
}
static inline float round_bf16(float v) {
  unsigned u;
  memcpy(&u, &v, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return v; /* NaN */
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  memcpy(&v, &u, 4);
  return v;
}
static inline float round_operand(float v, int prec) {
  return (prec & 3) == 1 ? round_tf32(v) : (prec & 3) == 2 ? round_bf16(v) : v;
}
static inline std::vector<float> round_operands(const float *v, size_t n, int prec) {
  std::vector<float> r(n);
  for (size_t i = 0; i < n; i++) r[i] = round_operand(v[i], prec);
  return r;
}
static inline const char *prec_name(int prec) {
  static const char *names[] = {"fp32", "tf32", "bf16", "?", "fp32 mma", "tf32 mma", "bf16 mma", "?"};
  return names[prec & 7];
}

/* out [B,R] (=) x W^T in double, stored as float: x [B,K], W [R,K] row-major (a recurrent product, forward). */
static inline void ref_xwt(const float *x, const float *w, int B, int R, int K, float *out) {
  for (int b = 0; b < B; b++)
    for (int r = 0; r < R; r++) {
      double acc = 0;
      for (int k = 0; k < K; k++) acc += (double)w[(size_t)r * K + k] * x[(size_t)b * K + k];
      out[(size_t)b * R + r] = (float)acc;
    }
}

/* out [B,K] (=) init + x W in double, stored as float: x [B,R], W [R,K] row-major, init [B,K] or null for
 * zeros (the backward's product); init may be out. */
static inline void ref_xw(const float *x, const float *w, int B, int R, int K, const float *init, float *out) {
  for (int b = 0; b < B; b++)
    for (int k = 0; k < K; k++) {
      double acc = init ? init[(size_t)b * K + k] : 0.0;
      for (int r = 0; r < R; r++) acc += (double)x[(size_t)b * R + r] * w[(size_t)r * K + k];
      out[(size_t)b * K + k] = (float)acc;
    }
}

/* Requires max |a - b| > min_diff: two results that must differ (a product rounded as a reduced
 * precision multiplies it against the unrounded one); prints the difference, counts a failure if not. */
static inline bool expect_differ(const char *what, const std::vector<float> &a, const std::vector<float> &b,
                                 double min_diff) {
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
  bool ok = d > min_diff;
  printf("  %-44s max |diff| %.3e %s\n", what, d, ok ? "ok" : "FAIL");
  if (!ok) cr_failed();
  return ok;
}

static inline void expect(bool cond, const char *what) {
  printf("  %-44s %s\n", what, cond ? "ok" : "FAIL");
  if (!cond) cr_failed();
}

static inline unsigned blocks_for(long long n, int block = 256) { return (unsigned)((n + block - 1) / block); }

/* Times `stmt` (a kernel launch) over reps after warm-up, prints the mean in microseconds.
 * On the CPU execution layer (cpu/, CRCPU_RUNTIME) it runs `stmt` once and prints no time: an
 * emulated kernel's duration says nothing about a GPU's. */
#ifdef CRCPU_RUNTIME
#define TIME_IT(label, reps, stmt)                                                        \
  do {                                                                                    \
    (void)(reps);                                                                         \
    stmt;                                                                                 \
    CK_LAUNCH();                                                                          \
    printf("  time %-39s (ran once: CPU emulation, no timing)\n", label);                \
  } while (0)
#else
#define TIME_IT(label, reps, stmt)                                                        \
  do {                                                                                    \
    for (int w_ = 0; w_ < 3; w_++) { stmt; }                                              \
    CK_LAUNCH();                                                                          \
    cudaEvent_t a_, b_;                                                                   \
    CK(cudaEventCreate(&a_)); CK(cudaEventCreate(&b_));                                   \
    CK(cudaEventRecord(a_));                                                              \
    for (int r_ = 0; r_ < (reps); r_++) { stmt; }                                         \
    CK(cudaEventRecord(b_)); CK(cudaEventSynchronize(b_)); CK(cudaGetLastError());        \
    float ms_ = 0; CK(cudaEventElapsedTime(&ms_, a_, b_));                                \
    printf("  time %-39s %9.2f us\n", label, 1000.0f * ms_ / (reps));                   \
    CK(cudaEventDestroy(a_)); CK(cudaEventDestroy(b_));                                   \
  } while (0)
#endif

static int finish(const char *name) {
  if (g_failures) printf("%s: %d check(s) FAILED\n", name, g_failures);
  else printf("%s: all checks passed\n", name);
  return g_failures ? 1 : 0;
}
#endif
