/*
 * test_convert: f32_to_bf16 bit-exact against a C reference of round-to-nearest-even on the bits
 * (ties, carries into the exponent, overflow to Inf, subnormals, signed zeros, Inf, NaN), over
 * hand-picked patterns, random bit patterns and random values in the ranges the backend converts.
 */
#include <cstdint>
#include "common.h"
#include "../kernels/cuda/convert.cu"

/* bf16 bits of f, round to nearest, ties to even; NaN maps to a quiet NaN with f's sign. */
static uint16_t ref_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)(((u >> 16) & 0x8000u) | 0x7fc0u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

static bool is_nan16(uint16_t h) { return (h & 0x7f80u) == 0x7f80u && (h & 0x7fu) != 0; }

static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* The host's grid for n values on a device of `sms` SMs (Kernels.f32ToBf16): a thread a value up to one wave. */
static int convert_blocks(int n, int sms) { return std::min((int)blocks_for(n), cr_wave_blocks(sms)); }

/* Converts x on the device in `blocks` blocks (grid-stride) and compares every element bit for bit
 * (NaN: any NaN). */
static void check(const char *what, const std::vector<float> &x, int blocks) {
  int n = (int)x.size();
  Dev<float> dx(x);
  Dev<unsigned short> dy((size_t)n);
  f32_to_bf16<<<blocks, CR_BLOCK>>>(dx.p, (__nv_bfloat16 *)dy.p, n);
  CK_LAUNCH();
  std::vector<unsigned short> y = dy.down();
  long bad = 0, first = -1;
  for (int i = 0; i < n; i++) {
    uint16_t want = ref_bf16(x[i]), got = y[i];
    bool ok = is_nan16(want) ? is_nan16(got) : got == want;
    if (!ok) { if (first < 0) first = i; bad++; }
  }
  printf("  %-44s %d values, %d blocks %s\n", what, n, blocks, bad ? "FAIL" : "ok");
  if (bad) {
    uint32_t u;
    memcpy(&u, &x[first], 4);
    printf("    %ld mismatches; first at %ld: x = 0x%08x, got 0x%04x, want 0x%04x\n", bad, first, u,
           (unsigned)y[first], (unsigned)ref_bf16(x[first]));
    cr_failed();
  }
}

int main() {
  /* the reference itself on known cases, so a wrong reference cannot hide a wrong kernel */
  expect(ref_bf16(1.0f) == 0x3f80 && ref_bf16(-2.0f) == 0xc000, "reference: exact values");
  expect(ref_bf16(from_bits(0x3f808000u)) == 0x3f80, "reference: tie to even (down)");
  expect(ref_bf16(from_bits(0x3f818000u)) == 0x3f82, "reference: tie to even (up)");
  expect(ref_bf16(from_bits(0x3f808001u)) == 0x3f81, "reference: above the tie");
  expect(ref_bf16(from_bits(0x7f7fffffu)) == 0x7f80, "reference: FLT_MAX rounds to Inf");
  expect(ref_bf16(from_bits(0x80000000u)) == 0x8000, "reference: -0");
  expect(is_nan16(ref_bf16(from_bits(0x7fc00000u))) && is_nan16(ref_bf16(from_bits(0x7f800001u))), "reference: NaN");

  const uint32_t special[] = {
      0x00000000u, 0x80000000u,                           /* +-0 */
      0x3f800000u, 0xbf800000u, 0x40490fdbu, 0xc0490fdbu, /* +-1, +-pi */
      0x7f800000u, 0xff800000u,                           /* +-Inf */
      0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u, 0x7fffffffu, /* quiet and signalling NaNs */
      0x3f808000u, 0x3f818000u, 0xbf808000u, 0xbf818000u, /* exact ties, both parities, both signs */
      0x3f807fffu, 0x3f808001u, 0xbf807fffu, 0xbf808001u, /* either side of a tie */
      0x3fffffffu, 0x3fff8000u, 0x3fff7fffu,              /* carries into the exponent */
      0x7f7fffffu, 0x7f7f8000u, 0x7f7f7fffu, 0xff7fffffu, /* near FLT_MAX: overflow to Inf, or not */
      0x00000001u, 0x00008000u, 0x00018000u, 0x00007fffu, 0x007fffffu, 0x80018000u, /* subnormals */
      0x00800000u, 0x00808000u, 0x80800000u,              /* smallest normals */
  };
  std::vector<float> s;
  for (uint32_t u : special) s.push_back(from_bits(u));
  check("special values", s, convert_blocks((int)s.size(), 132));

  Rng r(4242);
  std::vector<float> bits(1 << 20);
  for (auto &v : bits) v = from_bits((uint32_t)(r.next() >> 32));
  check("random bit patterns", bits, convert_blocks((int)bits.size(), 132)); /* an H100's wave: 4 values a thread */
  check("random bit patterns, a thread a value", bits, blocks_for((int)bits.size()));

  std::vector<float> small = rand_vec((1 << 20) + 37, r, -0.3f, 0.3f); /* weights, activations, odd n */
  check("uniform(-0.3, 0.3)", small, convert_blocks((int)small.size(), 2)); /* the emulated device's: 16 blocks */
  check("uniform(-0.3, 0.3), 3 blocks", small, 3);
  std::vector<float> grads = rand_vec(100003, r, -1e-3f, 1e-3f);
  check("uniform(-1e-3, 1e-3)", grads, convert_blocks((int)grads.size(), 132));
  expect(convert_blocks(37, 132) == 1 && convert_blocks(100003, 132) == 391 && convert_blocks(1 << 20, 132) == 1056 &&
             convert_blocks(1 << 20, 2) == 16 && cr_wave_blocks(0) == 8,
         "cr_wave_blocks: 8 blocks of 256 an SM; the host's grid: a thread a value up to one wave");

  int n = 1 << 24;
  Dev<float> x((size_t)n);
  Dev<unsigned short> y((size_t)n);
  CK(cudaMemset(x.p, 0, (size_t)n * 4));
#ifdef CRCPU_RUNTIME
  int sms = 2;
#else
  int sms = 0;
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
#endif
  printf("timing n=%d, %d SMs\n", n, sms);
  TIME_IT("f32_to_bf16, one wave (the host's grid)", 50,
          (f32_to_bf16<<<convert_blocks(n, sms), CR_BLOCK>>>(x.p, (__nv_bfloat16 *)y.p, n)));
  TIME_IT("f32_to_bf16, a thread a value", 50, (f32_to_bf16<<<blocks_for(n), CR_BLOCK>>>(x.p, (__nv_bfloat16 *)y.p, n)));
  return finish("test_convert");
}
