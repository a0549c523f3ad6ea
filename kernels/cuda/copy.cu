/*
 * copy_rows
 *   dst [rows, dst_pitch], src [rows, src_pitch]: dst[r, j] = src[r, j] for j < cols  (=).
 *   One thread per (r, j) of rows x cols. dst and src must not overlap. The orchestration moves
 *   every layer's initial state into slot 0 of its hs / cs (and the last slot back out) with one
 *   launch: the state [L,S,B,H] is L*S rows of B*H floats, the slots (T+1) B H apart.
 *   (OpenCL does the same with clEnqueueCopyBufferRect.)
 */
#include "common.cuh"

extern "C" __global__ void copy_rows(float *dst, long long dst_pitch, const float *src, long long src_pitch, int rows,
                                     long long cols) {
  long long k = cr_gid();
  if (k >= rows * cols) return;
  long long r = k / cols, j = k % cols;
  dst[r * dst_pitch + j] = src[r * src_pitch + j];
}
