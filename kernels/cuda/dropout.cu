/*
 * dropout.cu: inverted dropout with the counter hash of cell_math.h; the mask is regenerated in
 * backward, never stored. One thread per element; element i's mask index is first + i, its flat
 * index into the layer output [T,B,H] (first = 0 for a whole layer, t0 B H for a chunk of the
 * window from step t0: the chunks of a pipelined layer draw the whole layer's mask).
 *
 * dropout_forward   x [n], y [n]:  y = x * cr_dropout_scale(seed, iteration, layer, first + i, p)  (=)
 * dropout_backward  dy [n], dx [n]: dx = dy * the same scale  (=; dx may alias dy)
 * dropout_forward_dev / dropout_backward_dev (CUDA only): identical, but the iteration is read
 *   from device memory (iteration_ptr[0]) so a captured CUDA graph can be replayed with a new
 *   iteration written into that word before each launch.
 */
#include "common.cuh"

extern "C" __global__ void dropout_forward(const float *x, float *y, int n, int first, unsigned int seed,
                                           unsigned int iteration, unsigned int layer, float p) {
  long long i = cr_gid();
  if (i >= n) return;
  y[i] = x[i] * cr_dropout_scale(seed, iteration, layer, (cr_uint)(first + i), p);
}

extern "C" __global__ void dropout_backward(const float *dy, float *dx, int n, int first, unsigned int seed,
                                            unsigned int iteration, unsigned int layer, float p) {
  long long i = cr_gid();
  if (i >= n) return;
  dx[i] = dy[i] * cr_dropout_scale(seed, iteration, layer, (cr_uint)(first + i), p);
}

extern "C" __global__ void dropout_forward_dev(const float *x, float *y, int n, int first, unsigned int seed,
                                               const unsigned int *iteration_ptr, unsigned int layer,
                                               float p) {
  long long i = cr_gid();
  if (i >= n) return;
  y[i] = x[i] * cr_dropout_scale(seed, iteration_ptr[0], layer, (cr_uint)(first + i), p);
}

extern "C" __global__ void dropout_backward_dev(const float *dy, float *dx, int n, int first, unsigned int seed,
                                                const unsigned int *iteration_ptr, unsigned int layer,
                                                float p) {
  long long i = cr_gid();
  if (i >= n) return;
  dx[i] = dy[i] * cr_dropout_scale(seed, iteration_ptr[0], layer, (cr_uint)(first + i), p);
}
