/* cuda_bf16.h stand-in for the CPU execution layer: the bf16 type and the one conversion the
 * kernels use (and back). __float2bfloat16_rn rounds to nearest, ties to even; NaN stays a (quiet) NaN. */
#ifndef CHARRNN_CRCPU_CUDA_BF16_H
#define CHARRNN_CRCPU_CUDA_BF16_H
#include <stdint.h>
#include <string.h>

struct __nv_bfloat16 {
  uint16_t x;
};

static inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  __nv_bfloat16 r;
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    r.x = (uint16_t)((u >> 16) | 0x0040u);
    return r;
  }
  u += 0x7fffu + ((u >> 16) & 1u);
  r.x = (uint16_t)(u >> 16);
  return r;
}

static inline float __bfloat162float(__nv_bfloat16 h) {
  uint32_t u = (uint32_t)h.x << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}
#endif
