/*
 * convert.cu: f32_to_bf16, the operand conversion of --precision bf16 (CUDA only).
 *
 * y[i] = bf16(x[i]) for i < n, rounded to nearest, ties to even (__float2bfloat16_rn): finite values
 * keep their sign (-0 stays -0), values at or beyond the largest bf16 after rounding become +-Inf,
 * +-Inf stay +-Inf, NaN becomes a NaN. Launch: a 1-D grid of CR_BLOCK threads, any number of blocks
 * (grid-stride: thread g converts elements g, g + the grid's threads, ...); the host launches
 * min(ceil(n / CR_BLOCK), cr_wave_blocks(SMs)), one thread an element up to one wave of the device.
 * y must not alias x. The backend converts GEMM operands with it (the weight shadow once per
 * parameter change, activations per GEMM); cuBLAS then multiplies bf16 x bf16 with fp32
 * accumulation into fp32 C.
 */
#include "common.cuh"
#include <cuda_bf16.h>

extern "C" __global__ void f32_to_bf16(const float *x, __nv_bfloat16 *y, int n) {
  long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = cr_gid(); i < n; i += stride) y[i] = __float2bfloat16_rn(x[i]);
}
