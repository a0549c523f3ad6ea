/*
 * window_cpu.cl: one layer's recurrence over a whole [T,B] window in ONE launch, forward and
 * backward, for CPU devices (the CPU variant; GPUs run the per-timestep GEMM and cell kernels).
 *
 * The recurrence is independent per batch row, so no barrier is needed: each work-item owns `rows`
 * consecutive batch rows (the last work-item fewer) and runs all T steps for them in order. A step
 * is the recurrent GEMM of its rows followed by the cell's pointwise math on each row through the
 * *_row16 function that the *_vec16 cell kernels also run (lstm.cl, gru.cl, rnn.cl; those files
 * come before this one in the program). The buffers hold exactly what the stepwise kernels write,
 * so the weight-gradient GEMMs after it read the same.
 *
 * The GEMM walks the columns in blocks of 32 and, within a block, the work-item's rows in
 * sub-blocks of RB (the kernel's suffix) with RB x 32 named float16 accumulators, as gemm_cpu_r*
 * in gemm.cl (PoCL keeps them in registers). The 32 columns of the weight matrix for all K (16
 * KiB at H = 128) stay in the L1 cache across the sub-blocks, so each work-item streams W_hh once
 * per step: few work-items with many rows read it least often (ClWindowKernels chooses).
 *
 * Shapes (row-major, every float* passed as (base, element offset)):
 *   gx [T,B,Gi] input projection without bias; b_ih [Gi], b_hh [Gh]
 *   hs [T+1,B,H] (and cs [T+1,B,H], LSTM): slot 0 holds the initial state, forward writes 1..T (=)
 *   gates [T,B,4H] (=) saved as the stepwise forward saves them: LSTM i,f,g,o activated; GRU
 *     r, z, n, gh_n + b_hn (RNN: none)
 *   forward reads W_hh^T [H,Gh] (the transposed copy OpenClOps keeps on CPU devices), ld = ldw
 *   backward reads W_hh [Gh,H] from the parameters, ld = ldw
 *   dhout [T,B,H] dL/dh_t from above; dhnext [B,H] in: dL/dh_{T-1} from beyond the window, out:
 *     dL/dh_{-1} (=); dc [B,H] (LSTM) likewise for the cell
 *   dgx [T,B,Gi] (=) dL/d pre-activation of the input projection; dgh [T,B,3H] (=, GRU only)
 *     dL/d(h W_hh^T + b_hh)
 * Launch: global (ceil(B / rows)), local (1).
 */

#define WIN_ROWS1(X) X(0)
#define WIN_ROWS2(X) WIN_ROWS1(X) X(1)
#define WIN_ROWS3(X) WIN_ROWS2(X) X(2)
#define WIN_ROWS4(X) WIN_ROWS3(X) X(3)
#define WIN_ROWS5(X) WIN_ROWS4(X) X(4)
#define WIN_ROWS6(X) WIN_ROWS5(X) X(5)
#define WIN_ROWS7(X) WIN_ROWS6(X) X(6)
#define WIN_ROWS8(X) WIN_ROWS7(X) X(7)

/* Row r of the sub-block: its A row (rows past nr read the last valid row and are not stored). */
#define WIN_AROW(r) __global const float* a##r = A + (long)min(r, nr - 1) * lda;
#define WIN_ACC(r) float16 c##r##a = (float16)(0.0f), c##r##b = (float16)(0.0f);
#define WIN_FMA(r) { float16 av = (float16)(a##r[k]); c##r##a = fma(av, b0, c##r##a); c##r##b = fma(av, b1, c##r##b); }
#define WIN_STORE(r) if (r < nr) win_store32(C + (long)r * ldc + j0, c##r##a, c##r##b, nc, accumulate);

/* c[0, nc) (=) acc, or (+=) with accumulate (as gemm_store32 with alpha 1, beta 0 or 1). */
inline void win_store32(__global float* c, float16 va, float16 vb, int nc, int accumulate) {
  if (nc == 32) {
    if (accumulate) {
      va = crv_load16(c) + va;
      vb = crv_load16(c + 16) + vb;
    }
    crv_store16(va, c);
    crv_store16(vb, c + 16);
  } else {
    float t[32];
    vstore16(va, 0, t);
    vstore16(vb, 1, t);
    for (int j = 0; j < nc; j++) c[j] = accumulate ? c[j] + t[j] : t[j];
  }
}

/*
 * win_gemm_rRB: C [nrows,N] (=, or += with accumulate) A [nrows,K] Bm [K,N]; A, Bm, C row-major
 * with leading dimensions lda, ldb, ldc. Columns in blocks of 32 (the last one zero-padded:
 * gemm_load_b_padded of gemm.cl), rows in sub-blocks of RB within each.
 */
#define WIN_GEMM(RB) \
inline void win_gemm_r##RB(__global const float* A0, int lda, int nrows, __global const float* Bm, int ldb, \
                           int K, int N, __global float* C0, int ldc, int accumulate) { \
  for (int j0 = 0; j0 < N; j0 += 32) { \
   int nc = min(32, N - j0); \
   __global const float* Bj = Bm + j0; \
   for (int r0 = 0; r0 < nrows; r0 += RB) { \
    int nr = min(RB, nrows - r0); \
    __global const float* A = A0 + (long)r0 * lda; \
    __global float* C = C0 + (long)r0 * ldc; \
    WIN_ROWS##RB(WIN_AROW) \
    WIN_ROWS##RB(WIN_ACC) \
    if (nc == 32) { \
      for (int k = 0; k < K; k++) { \
        __global const float* brow = Bj + (long)k * ldb; \
        float16 b0 = crv_load16(brow), b1 = crv_load16(brow + 16); \
        WIN_ROWS##RB(WIN_FMA) \
      } \
    } else { \
      for (int k = 0; k < K; k++) { \
        float16 b0, b1; \
        gemm_load_b_padded(Bj + (long)k * ldb, nc, &b0, &b1); \
        WIN_ROWS##RB(WIN_FMA) \
      } \
    } \
    WIN_ROWS##RB(WIN_STORE) \
   } \
  } \
}

/* ---------------------------------------------------------------- pointwise, nrows rows of a step */
/* Each row runs the cell's *_row16 function (lstm.cl, gru.cl, rnn.cl) over all H units. */

/*
 * LSTM forward: gates [nrows,4H] in: h_prev W_hh^T, out (=): i,f,g,o activated; c, h [nrows,H] (=).
 * gx [nrows,4H]; c_prev [nrows,H].
 */
inline void win_lstm_cell(__global const float* gx, __global const float* bih, __global const float* bhh,
                          __global const float* cprev, __global float* gates, __global float* c,
                          __global float* h, int nrows, int H) {
  for (int r = 0; r < nrows; r++)
    lstm_forward_row16(gx + (long)r * 4 * H, gates + (long)r * 4 * H, bih, bhh, cprev + (long)r * H,
                       gates + (long)r * 4 * H, c + (long)r * H, h + (long)r * H, 0, H, H);
}

/*
 * LSTM backward: dh = dhout + dhnext [nrows,H]; dgx [nrows,4H] (=) dL/d pre-activation; dc
 * [nrows,H] in: dL/dc_t, out: dL/dc_{t-1}. dhnext is left for the GEMM to overwrite.
 */
inline void win_lstm_cell_backward(__global const float* dhout, __global const float* dhnext, __global float* dc,
                                   __global const float* gates, __global const float* cprev,
                                   __global const float* c, __global float* dgx, int nrows, int H) {
  for (int r = 0; r < nrows; r++)
    lstm_backward_row16(dhout + (long)r * H, dhnext + (long)r * H, dc + (long)r * H, gates + (long)r * 4 * H,
                        cprev + (long)r * H, c + (long)r * H, dgx + (long)r * 4 * H, 0, H, H);
}

/*
 * GRU forward: gates [nrows,4H] in: blocks 0, 1, 3 = h_prev W_hr^T, W_hz^T, W_hn^T (block 2
 * unused); out (=) r, z, n, gh_n + b_hn; h [nrows,H] (=). gx [nrows,3H], h_prev [nrows,H].
 */
inline void win_gru_cell(__global const float* gx, __global const float* bih, __global const float* bhh,
                         __global const float* hprev, __global float* gates, __global float* h, int nrows, int H) {
  for (int r = 0; r < nrows; r++) {
    __global float* g4 = gates + (long)r * 4 * H;
    gru_forward_row16(gx + (long)r * 3 * H, g4, g4 + 3 * H, bih, bhh, hprev + (long)r * H, g4, h + (long)r * H, 0,
                      H, H);
  }
}

/*
 * GRU backward: dh = dhout + dhnext [nrows,H]; dgx, dgh [nrows,3H] (=); dhnext (=) dh z, the part
 * of dL/dh_{t-1} that does not pass through W_hh (the GEMM then adds dgh W_hh).
 */
inline void win_gru_cell_backward(__global const float* dhout, __global float* dhnext, __global const float* gates,
                                  __global const float* hprev, __global float* dgx, __global float* dgh, int nrows,
                                  int H) {
  for (int r = 0; r < nrows; r++)
    gru_backward_row16(dhout + (long)r * H, dhnext + (long)r * H, gates + (long)r * 4 * H, hprev + (long)r * H,
                       dgx + (long)r * 3 * H, dgh + (long)r * 3 * H, 0, H, H);
}

/* RNN forward: h [nrows,H] in: h_prev W_hh^T, out (=) tanh(gx + b_ih + gh + b_hh); gx [nrows,H]. */
inline void win_rnn_cell(__global const float* gx, __global const float* bih, __global const float* bhh,
                         __global float* h, int nrows, int H) {
  for (int r = 0; r < nrows; r++)
    rnn_forward_row16(gx + (long)r * H, h + (long)r * H, bih, bhh, h + (long)r * H, 0, H);
}

/* RNN backward: dgx [nrows,H] (=) (dhout + dhnext)(1 - h^2), h [nrows,H] this step's output. */
inline void win_rnn_cell_backward(__global const float* dhout, __global const float* dhnext,
                                  __global const float* h, __global float* dgx, int nrows, int H) {
  for (int r = 0; r < nrows; r++)
    rnn_backward_row16(dhout + (long)r * H, dhnext + (long)r * H, h + (long)r * H, dgx + (long)r * H, 0, H);
}

/* ---------------------------------------------------------------- the kernels, per RB */

/* The work-item's first row i0 and row count nrows (`rows` but the last); returns past B. */
#define WIN_ROWS_OF_ITEM \
  int i0 = get_global_id(0) * rows; \
  if (i0 >= B) return; \
  int nrows = min(rows, B - i0);

/* Element offset of row i0 of step slot t in a [*,B,width] buffer. */
#define WIN_AT(t, width) (((long)(t) * B + i0) * (width))

#define WIN_KERNELS(RB) \
WIN_GEMM(RB) \
__kernel void win_lstm_forward_r##RB(__global const float* gx_base, int gx_off, \
                                     __global const float* w_base, int w_off, int ldw, \
                                     __global const float* bih_base, int bih_off, \
                                     __global const float* bhh_base, int bhh_off, \
                                     __global float* hs_base, int hs_off, \
                                     __global float* cs_base, int cs_off, \
                                     __global float* gates_base, int gates_off, int T, int B, int H, int rows) { \
  WIN_ROWS_OF_ITEM \
  __global const float* gx = gx_base + gx_off; \
  __global float* hs = hs_base + hs_off; \
  __global float* cs = cs_base + cs_off; \
  __global float* gates = gates_base + gates_off; \
  for (int t = 0; t < T; t++) { \
    __global float* pre = gates + WIN_AT(t, 4 * H); \
    win_gemm_r##RB(hs + WIN_AT(t, H), H, nrows, w_base + w_off, ldw, H, 4 * H, pre, 4 * H, 0); \
    win_lstm_cell(gx + WIN_AT(t, 4 * H), bih_base + bih_off, bhh_base + bhh_off, cs + WIN_AT(t, H), pre, \
                  cs + WIN_AT(t + 1, H), hs + WIN_AT(t + 1, H), nrows, H); \
  } \
} \
__kernel void win_lstm_backward_r##RB(__global const float* dhout_base, int dhout_off, \
                                      __global const float* w_base, int w_off, int ldw, \
                                      __global float* dhnext_base, int dhnext_off, \
                                      __global float* dc_base, int dc_off, \
                                      __global const float* gates_base, int gates_off, \
                                      __global const float* cs_base, int cs_off, \
                                      __global float* dgx_base, int dgx_off, int T, int B, int H, int rows) { \
  WIN_ROWS_OF_ITEM \
  __global float* dhnext = dhnext_base + dhnext_off + (long)i0 * H; \
  __global float* dc = dc_base + dc_off + (long)i0 * H; \
  __global const float* cs = cs_base + cs_off; \
  for (int t = T - 1; t >= 0; t--) { \
    __global float* dgx = dgx_base + dgx_off + WIN_AT(t, 4 * H); \
    win_lstm_cell_backward(dhout_base + dhout_off + WIN_AT(t, H), dhnext, dc, gates_base + gates_off + WIN_AT(t, 4 * H), \
                           cs + WIN_AT(t, H), cs + WIN_AT(t + 1, H), dgx, nrows, H); \
    win_gemm_r##RB(dgx, 4 * H, nrows, w_base + w_off, ldw, 4 * H, H, dhnext, H, 0); \
  } \
} \
__kernel void win_gru_forward_r##RB(__global const float* gx_base, int gx_off, \
                                    __global const float* w_base, int w_off, int ldw, \
                                    __global const float* bih_base, int bih_off, \
                                    __global const float* bhh_base, int bhh_off, \
                                    __global float* hs_base, int hs_off, \
                                    __global float* gates_base, int gates_off, int T, int B, int H, int rows) { \
  WIN_ROWS_OF_ITEM \
  __global float* hs = hs_base + hs_off; \
  __global const float* w = w_base + w_off; \
  for (int t = 0; t < T; t++) { \
    __global float* pre = gates_base + gates_off + WIN_AT(t, 4 * H); \
    __global const float* hp = hs + WIN_AT(t, H); \
    win_gemm_r##RB(hp, H, nrows, w, ldw, H, 2 * H, pre, 4 * H, 0); \
    win_gemm_r##RB(hp, H, nrows, w + 2 * H, ldw, H, H, pre + 3 * H, 4 * H, 0); \
    win_gru_cell(gx_base + gx_off + WIN_AT(t, 3 * H), bih_base + bih_off, bhh_base + bhh_off, hp, pre, \
                 hs + WIN_AT(t + 1, H), nrows, H); \
  } \
} \
__kernel void win_gru_backward_r##RB(__global const float* dhout_base, int dhout_off, \
                                     __global const float* w_base, int w_off, int ldw, \
                                     __global float* dhnext_base, int dhnext_off, \
                                     __global const float* gates_base, int gates_off, \
                                     __global const float* hs_base, int hs_off, \
                                     __global float* dgx_base, int dgx_off, \
                                     __global float* dgh_base, int dgh_off, int T, int B, int H, int rows) { \
  WIN_ROWS_OF_ITEM \
  __global float* dhnext = dhnext_base + dhnext_off + (long)i0 * H; \
  for (int t = T - 1; t >= 0; t--) { \
    __global float* dgh = dgh_base + dgh_off + WIN_AT(t, 3 * H); \
    win_gru_cell_backward(dhout_base + dhout_off + WIN_AT(t, H), dhnext, gates_base + gates_off + WIN_AT(t, 4 * H), \
                          hs_base + hs_off + WIN_AT(t, H), dgx_base + dgx_off + WIN_AT(t, 3 * H), dgh, nrows, H); \
    win_gemm_r##RB(dgh, 3 * H, nrows, w_base + w_off, ldw, 3 * H, H, dhnext, H, 1); \
  } \
} \
__kernel void win_rnn_forward_r##RB(__global const float* gx_base, int gx_off, \
                                    __global const float* w_base, int w_off, int ldw, \
                                    __global const float* bih_base, int bih_off, \
                                    __global const float* bhh_base, int bhh_off, \
                                    __global float* hs_base, int hs_off, int T, int B, int H, int rows) { \
  WIN_ROWS_OF_ITEM \
  __global float* hs = hs_base + hs_off; \
  for (int t = 0; t < T; t++) { \
    __global float* h = hs + WIN_AT(t + 1, H); \
    win_gemm_r##RB(hs + WIN_AT(t, H), H, nrows, w_base + w_off, ldw, H, H, h, H, 0); \
    win_rnn_cell(gx_base + gx_off + WIN_AT(t, H), bih_base + bih_off, bhh_base + bhh_off, h, nrows, H); \
  } \
} \
__kernel void win_rnn_backward_r##RB(__global const float* dhout_base, int dhout_off, \
                                     __global const float* w_base, int w_off, int ldw, \
                                     __global float* dhnext_base, int dhnext_off, \
                                     __global const float* hs_base, int hs_off, \
                                     __global float* dgx_base, int dgx_off, int T, int B, int H, int rows) { \
  WIN_ROWS_OF_ITEM \
  __global float* dhnext = dhnext_base + dhnext_off + (long)i0 * H; \
  for (int t = T - 1; t >= 0; t--) { \
    __global float* dgx = dgx_base + dgx_off + WIN_AT(t, H); \
    win_rnn_cell_backward(dhout_base + dhout_off + WIN_AT(t, H), dhnext, hs_base + hs_off + WIN_AT(t + 1, H), dgx, \
                          nrows, H); \
    win_gemm_r##RB(dgx, H, nrows, w_base + w_off, ldw, H, H, dhnext, H, 0); \
  } \
}

WIN_KERNELS(1)
WIN_KERNELS(2)
WIN_KERNELS(3)
WIN_KERNELS(4)
WIN_KERNELS(5)
WIN_KERNELS(6)
WIN_KERNELS(7)
WIN_KERNELS(8)
