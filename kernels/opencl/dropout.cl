/*
 * dropout.cl: inverted dropout with the counter-based hash of common/cell_math.h, so the mask
 * is a pure function of (seed, iteration, layer, index) and is regenerated in backward.
 * element i's mask index is first + i, its flat index in the layer output [T,B,H]: (t*B + b)*H + j
 * (first = 0 for a whole layer, t0 B H for a chunk of the window from step t0).
 * global size >= n, one work-item per element. Every float* is (base, element offset).
 */

/* dropout_forward: y [n] = x [n] * cr_dropout_scale(seed, iteration, layer, first + i, p)   (=) */
__kernel void dropout_forward(__global const float* x_base, int x_off,
                              __global float* y_base, int y_off, int n, int first,
                              uint seed, uint iteration, uint layer, float p) {
  int i = get_global_id(0);
  if (i >= n) return;
  y_base[y_off + i] = x_base[x_off + i] * cr_dropout_scale(seed, iteration, layer, (uint)(first + i), p);
}

/* dropout_backward: dx [n] = dy [n] * the same scale   (=; dx may alias dy) */
__kernel void dropout_backward(__global const float* dy_base, int dy_off,
                               __global float* dx_base, int dx_off, int n, int first,
                               uint seed, uint iteration, uint layer, float p) {
  int i = get_global_id(0);
  if (i >= n) return;
  dx_base[dx_off + i] = dy_base[dy_off + i] * cr_dropout_scale(seed, iteration, layer, (uint)(first + i), p);
}
