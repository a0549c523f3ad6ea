/*
 * mut.cu: the MUT1, MUT2, MUT3 cells (Jozefowicz et al. 2015), variant v = 1, 2, 3; the math and the
 * block layout of gx / gh / W_ih / W_hh are in common/cell_math.h ("MUT1, MUT2, MUT3"). One thread per
 * (b, j), k = b*H + j; Gi = cr_mut_in_blocks(v), Gh = cr_mut_rec_blocks(v); saved [B, 5H] per step
 * holds z, r, n, r*h_prev, tanh(h_prev).
 *
 * Forward step (the host runs the GEMMs in between):
 *   mut_tanh_h            saved.th (=) tanh(h_prev)                                  MUT3, before the z GEMM
 *   [GEMMs]               gh [B,Gh*H] blocks other than n (=) h_prev W_hh^T (MUT3's z block: th W_hz^T)
 *   mut_gates_forward     saved.z, saved.r, saved.rh (=) from gx [B,Gi*H], gh, b_ih [Gi*H], b_hh [Gh*H],
 *                         h_prev [B,H], x [B,H] (read by MUT2 only)
 *   [GEMM]                gh.n (=) saved.rh W_hn^T
 *   mut_candidate_forward saved.n, h [B,H] (=); reads x by MUT1 only. h must not alias h_prev.
 * Backward step (dh = dh_out + dh_next):
 *   mut_candidate_backward dgx.z, dgx.n / dgh.z, dgh.n (=) (the blocks the variant has); dx [B,H] (=)
 *                          dL/dx through tanh(x) (MUT1); dh_next (=) dh (1 - z)
 *   [GEMM]                 drh [B,H] (=) dgh.n W_hn
 *   mut_gates_backward     dgx.r or dx (MUT2: r takes x directly) and dgh.r (=); dh_next (+=) drh r
 *   [GEMMs]                dh_next (+=) dgh.{z,r} W_h{z,r} (MUT3's z: dth (=) dgh.z W_hz instead, then)
 *   mut_tanh_backward      dh_next (+=) dth (1 - th^2)                                MUT3
 */
#include "common.cuh"

extern "C" __global__ void mut_tanh_h(const float *h_prev, float *saved, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  saved[(long long)b * CR_MUT_SAVED * H + 4 * H + j] = cr_tanh(h_prev[k]);
}

extern "C" __global__ void mut_gates_forward(int v, const float *gx, const float *gh, const float *b_ih,
                                             const float *b_hh, const float *h_prev, const float *x,
                                             float *saved, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  const float *gxr = gx + (long long)b * cr_mut_in_blocks(v) * H, *ghr = gh + (long long)b * cr_mut_rec_blocks(v) * H;
  int hz = cr_mut_gh_z(v), xr = cr_mut_gx_r(v), hr = cr_mut_gh_r(v);
  float az = gxr[j] + b_ih[j] + (hz >= 0 ? ghr[hz * H + j] + b_hh[hz * H + j] : 0.0f);
  float ar = (xr >= 0 ? gxr[xr * H + j] + b_ih[xr * H + j] : x[k]) + ghr[hr * H + j] + b_hh[hr * H + j];
  float *s = saved + (long long)b * CR_MUT_SAVED * H;
  float z, r, rh;
  cr_mut_gates_forward(az, ar, h_prev[k], &z, &r, &rh);
  s[j] = z;
  s[H + j] = r;
  s[3 * H + j] = rh;
}

extern "C" __global__ void mut_candidate_forward(int v, const float *gx, const float *gh, const float *b_ih,
                                                 const float *b_hh, const float *h_prev, const float *x,
                                                 float *saved, float *h, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  const float *gxr = gx + (long long)b * cr_mut_in_blocks(v) * H, *ghr = gh + (long long)b * cr_mut_rec_blocks(v) * H;
  int xn = cr_mut_gx_n(v), hn = cr_mut_gh_n(v);
  float an = ghr[hn * H + j] + b_hh[hn * H + j] + (xn >= 0 ? gxr[xn * H + j] + b_ih[xn * H + j] : cr_tanh(x[k]));
  float *s = saved + (long long)b * CR_MUT_SAVED * H;
  float n, hh;
  cr_mut_candidate_forward(an, s[j], h_prev[k], &n, &hh);
  s[2 * H + j] = n;
  h[k] = hh;
}

extern "C" __global__ void mut_candidate_backward(int v, const float *dh_out, float *dh_next, const float *saved,
                                                  const float *h_prev, const float *x, float *dgx, float *dgh,
                                                  float *dx, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  const float *s = saved + (long long)b * CR_MUT_SAVED * H;
  float *dxr = dgx + (long long)b * cr_mut_in_blocks(v) * H, *dhr = dgh + (long long)b * cr_mut_rec_blocks(v) * H;
  float daz, dan, direct;
  cr_mut_candidate_backward(dh_out[k] + dh_next[k], s[j], s[2 * H + j], h_prev[k], &daz, &dan, &direct);
  int hz = cr_mut_gh_z(v), xn = cr_mut_gx_n(v), hn = cr_mut_gh_n(v);
  dxr[j] = daz;
  if (hz >= 0) dhr[hz * H + j] = daz;
  dhr[hn * H + j] = dan;
  if (xn >= 0) {
    dxr[xn * H + j] = dan;
  } else {
    float tx = cr_tanh(x[k]);
    dx[k] = dan * (1.0f - tx * tx);
  }
  dh_next[k] = direct;
}

extern "C" __global__ void mut_gates_backward(int v, const float *drh, const float *saved, const float *h_prev,
                                              float *dh_next, float *dgx, float *dgh, float *dx, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  const float *s = saved + (long long)b * CR_MUT_SAVED * H;
  float dar, via;
  cr_mut_gates_backward(drh[k], s[H + j], h_prev[k], &dar, &via);
  int xr = cr_mut_gx_r(v), hr = cr_mut_gh_r(v);
  dgh[(long long)b * cr_mut_rec_blocks(v) * H + hr * H + j] = dar;
  if (xr >= 0) dgx[(long long)b * cr_mut_in_blocks(v) * H + xr * H + j] = dar;
  else dx[k] = dar;
  dh_next[k] += via;
}

extern "C" __global__ void mut_tanh_backward(const float *dth, const float *saved, float *dh_next, int B, int H) {
  long long k = cr_gid();
  if (k >= (long long)B * H) return;
  int b = (int)(k / H), j = (int)(k % H);
  float th = saved[(long long)b * CR_MUT_SAVED * H + 4 * H + j];
  dh_next[k] += dth[k] * (1.0f - th * th);
}
