/*
 * test_grid_sync: a grid-wide barrier (cooperative_groups::this_grid().sync()) inside one
 * cooperative launch, as a persistent kernel uses it between timesteps. Each round, every block
 * writes its block sum to partial[block]; after the grid barrier block 0 adds the partials into
 * out[round]; a second barrier lets the next round reuse partial. Without a working grid barrier
 * block 0 reads other blocks' partials of an earlier round (or none).
 */
#include <cooperative_groups.h>
#include "common.h"
#include "../kernels/cuda/common.cuh"

namespace cg = cooperative_groups;

extern "C" __global__ void __launch_bounds__(CR_BLOCK) grid_rounds(float *partial, float *out, int rounds) {
  __shared__ float scratch[CR_BLOCK];
  cg::grid_group grid = cg::this_grid();
  for (int r = 0; r < rounds; r++) {
    float v = (float)((blockIdx.x * 7 + threadIdx.x * 3 + r * 5) % 13);
    float s = cr_block_sum(v, scratch);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
    grid.sync();
    if (blockIdx.x == 0 && threadIdx.x == 0) {
      float t = 0.0f;
      for (unsigned b = 0; b < gridDim.x; b++) t += partial[b];
      out[r] = t;
    }
    grid.sync();
  }
}

static void check(int blocks, int rounds) {
  printf("blocks=%d rounds=%d\n", blocks, rounds);
  Dev<float> partial((size_t)blocks), out((size_t)rounds);
  void *args[] = {&partial.p, &out.p, &rounds};
  CK(cudaLaunchCooperativeKernel(grid_rounds, dim3(blocks), dim3(CR_BLOCK), args));
  CK_LAUNCH();
  std::vector<double> ref((size_t)rounds, 0.0);
  for (int r = 0; r < rounds; r++)
    for (int b = 0; b < blocks; b++)
      for (int t = 0; t < CR_BLOCK; t++) ref[(size_t)r] += (b * 7 + t * 3 + r * 5) % 13;
  compare("sum of every round after grid barriers", out.down(), ref, 0.0f, 0.0f);
}

int main() {
  check(1, 3);
  check(3, 5);
  check(4, 16);
  return finish("test_grid_sync");
}
