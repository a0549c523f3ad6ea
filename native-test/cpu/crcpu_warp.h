/*
 * crcpu_warp.h: the warp-collective instruction of the CPU execution layer (crcpu.h): the kernels'
 * mma.sync (cr_mma in kernels/cuda/persistent_common.cuh).
 *
 * A lane that reaches an mma parks (State::WaitingWarp) with pointers to its fragments. When every
 * fiber of the block has run as far as it can, run_block calls resolve_warp_ops: each warp with a
 * parked lane must have all 32 lanes parked at the same mma (source line and type), as
 * mma.sync.aligned requires, or the run aborts naming a lane that is elsewhere; then the warp's
 * A (16 x K), B (K x 8) and C (16 x 8) are gathered from the lanes' registers as the PTX ISA lays
 * them out (groupID g = lane >> 2, t = lane & 3):
 *   m16n8k8 .tf32:  a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4); b0 (t, g), b1 (t+4, g);
 *   m16n8k16 .bf16: register i of a holds two elements (low half first): a0 (g, 2t..2t+1),
 *                   a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..); b0 (2t..2t+1, g), b1 (2t+8.., g);
 *   c, d (f32):     c0 (g, 2t), c1 (g, 2t+1), c2 (g+8, 2t), c3 (g+8, 2t+1);
 * and D = A B + C goes back to the lanes' d the same way. The products are exact (as a tensor
 * core's are) and summed with C in double, rounded once to fp32; a GPU's adder rounds its own way
 * (not modelled, as the hardware's expf is not). TF32 operands drop their low 13 bits, as the
 * hardware ignores them.
 */
#ifndef CHARRNN_CRCPU_WARP_H
#define CHARRNN_CRCPU_WARP_H

namespace crcpu {

/* One lane's operands of an mma (kernels' cr_mma), on its fiber's stack while it is parked. */
struct WarpMma {
  bool bf16;           /* m16n8k16 .bf16, else m16n8k8 .tf32 */
  float *d;            /* [4] in: C, out: D */
  const unsigned *a;   /* [4] */
  const unsigned *b;   /* [2] */
};

inline float warp_tf32(unsigned u) {
  u &= ~0x1fffu;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

inline float warp_bf16(unsigned half) {
  unsigned u = (half & 0xffffu) << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* D = A B + C for one warp whose 32 lanes are parked at the same mma. */
inline void warp_mma_compute(Fiber *lanes) {
  bool bf16 = ((const WarpMma *)lanes[0].warp_op)->bf16;
  int K = bf16 ? 16 : 8;
  float A[16][16], B[16][8];
  double C[16][8];
  for (int l = 0; l < 32; l++) {
    const WarpMma &op = *(const WarpMma *)lanes[l].warp_op;
    int g = l >> 2, t = l & 3;
    for (int r = 0; r < 4; r++) {
      int row = g + 8 * (r & 1), col = bf16 ? 2 * t + 8 * (r >> 1) : t + 4 * (r >> 1);
      if (bf16) {
        A[row][col] = warp_bf16(op.a[r]);
        A[row][col + 1] = warp_bf16(op.a[r] >> 16);
      } else {
        A[row][col] = warp_tf32(op.a[r]);
      }
    }
    for (int r = 0; r < 2; r++) {
      if (bf16) {
        B[2 * t + 8 * r][g] = warp_bf16(op.b[r]);
        B[2 * t + 8 * r + 1][g] = warp_bf16(op.b[r] >> 16);
      } else {
        B[t + 4 * r][g] = warp_tf32(op.b[r]);
      }
    }
    for (int i = 0; i < 4; i++) C[g + 8 * (i >> 1)][2 * t + (i & 1)] = op.d[i];
  }
  for (int r = 0; r < 16; r++)
    for (int c = 0; c < 8; c++)
      for (int k = 0; k < K; k++) C[r][c] += (double)A[r][k] * B[k][c];
  for (int l = 0; l < 32; l++) {
    const WarpMma &op = *(const WarpMma *)lanes[l].warp_op;
    int g = l >> 2, t = l & 3;
    for (int i = 0; i < 4; i++) op.d[i] = (float)C[g + 8 * (i >> 1)][2 * t + (i & 1)];
  }
}

/* After a pass over the block's fibers (none Ready): runs the mma of every warp whose lanes are
 * parked at one and readies those lanes; true if there was any. Aborts when a warp's lanes are not
 * all at the same mma. */
inline bool resolve_warp_ops(const char *kernel, uint3 bidx, Fiber *fibers, unsigned n) {
  bool any = false;
  for (unsigned w0 = 0; w0 < n; w0 += 32) {
    unsigned w1 = std::min(n, w0 + 32);
    const Fiber *at = nullptr;
    for (unsigned i = w0; i < w1 && !at; i++)
      if (fibers[i].state == State::WaitingWarp) at = &fibers[i];
    if (!at) continue;
    for (unsigned i = w0; i < w1; i++) {
      const Fiber &f = fibers[i];
      bool same = f.state == State::WaitingWarp && f.bar_line == at->bar_line && !strcmp(f.bar_file, at->bar_file) &&
                  ((const WarpMma *)f.warp_op)->bf16 == ((const WarpMma *)at->warp_op)->bf16;
      if (same && w1 - w0 == 32) continue;
      fprintf(stderr, "crcpu: kernel %s, block (%u,%u,%u), warp %u: thread (%u,%u,%u) waits at the mma at %s:%d, ",
              kernel, bidx.x, bidx.y, bidx.z, w0 / 32, at->tid.x, at->tid.y, at->tid.z, at->bar_file, at->bar_line);
      if (w1 - w0 < 32) fprintf(stderr, "but the warp has only %u threads\n", w1 - w0);
      else
        fprintf(stderr, "thread (%u,%u,%u) %s\n", f.tid.x, f.tid.y, f.tid.z,
                f.state == State::Done ? "returned" : f.state == State::WaitingWarp ? "at another mma" : "at a barrier");
      die("an mma needs all 32 lanes of the warp at the same instruction");
    }
    warp_mma_compute(fibers + w0);
    for (unsigned i = w0; i < w1; i++) fibers[i].state = State::Ready;
    any = true;
  }
  return any;
}

} /* namespace crcpu */

#endif
