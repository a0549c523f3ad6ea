/*
 * mut.cl: the MUT1, MUT2, MUT3 cells, variant v = 1, 2, 3, one work-item per (b, j), global size
 * >= B*H. Shapes, block layout and the order of kernels and GEMMs in a step: kernels/cuda/mut.cu
 * and common/cell_math.h. Every float* is (base, element offset); saved [B, 5H] per step holds
 * z, r, n, r*h_prev, tanh(h_prev).
 */

__kernel void mut_tanh_h(__global const float* hprev_base, int hprev_off,
                         __global float* saved_base, int saved_off, int B, int H) {
  int k = get_global_id(0);
  if (k >= B * H) return;
  int b = k / H, j = k - (k / H) * H;
  saved_base[saved_off + b * CR_MUT_SAVED * H + 4 * H + j] = cr_tanh(hprev_base[hprev_off + k]);
}

__kernel void mut_gates_forward(int v, __global const float* gx_base, int gx_off,
                                __global const float* gh_base, int gh_off,
                                __global const float* bih_base, int bih_off,
                                __global const float* bhh_base, int bhh_off,
                                __global const float* hprev_base, int hprev_off,
                                __global const float* x_base, int x_off,
                                __global float* saved_base, int saved_off, int B, int H) {
  int k = get_global_id(0);
  if (k >= B * H) return;
  int b = k / H, j = k - (k / H) * H;
  __global const float* gx = gx_base + gx_off + b * cr_mut_in_blocks(v) * H;
  __global const float* gh = gh_base + gh_off + b * cr_mut_rec_blocks(v) * H;
  __global const float* bih = bih_base + bih_off;
  __global const float* bhh = bhh_base + bhh_off;
  int hz = cr_mut_gh_z(v), xr = cr_mut_gx_r(v), hr = cr_mut_gh_r(v);
  float az = gx[j] + bih[j] + (hz >= 0 ? gh[hz * H + j] + bhh[hz * H + j] : 0.0f);
  float ar = (xr >= 0 ? gx[xr * H + j] + bih[xr * H + j] : x_base[x_off + k]) + gh[hr * H + j] + bhh[hr * H + j];
  __global float* s = saved_base + saved_off + b * CR_MUT_SAVED * H;
  float z, r, rh;
  cr_mut_gates_forward(az, ar, hprev_base[hprev_off + k], &z, &r, &rh);
  s[j] = z;
  s[H + j] = r;
  s[3 * H + j] = rh;
}

__kernel void mut_candidate_forward(int v, __global const float* gx_base, int gx_off,
                                    __global const float* gh_base, int gh_off,
                                    __global const float* bih_base, int bih_off,
                                    __global const float* bhh_base, int bhh_off,
                                    __global const float* hprev_base, int hprev_off,
                                    __global const float* x_base, int x_off,
                                    __global float* saved_base, int saved_off,
                                    __global float* h_base, int h_off, int B, int H) {
  int k = get_global_id(0);
  if (k >= B * H) return;
  int b = k / H, j = k - (k / H) * H;
  __global const float* gx = gx_base + gx_off + b * cr_mut_in_blocks(v) * H;
  __global const float* gh = gh_base + gh_off + b * cr_mut_rec_blocks(v) * H;
  int xn = cr_mut_gx_n(v), hn = cr_mut_gh_n(v);
  float an = gh[hn * H + j] + bhh_base[bhh_off + hn * H + j]
             + (xn >= 0 ? gx[xn * H + j] + bih_base[bih_off + xn * H + j] : cr_tanh(x_base[x_off + k]));
  __global float* s = saved_base + saved_off + b * CR_MUT_SAVED * H;
  float n, h;
  cr_mut_candidate_forward(an, s[j], hprev_base[hprev_off + k], &n, &h);
  s[2 * H + j] = n;
  h_base[h_off + k] = h;
}

__kernel void mut_candidate_backward(int v, __global const float* dhout_base, int dhout_off,
                                     __global float* dhnext_base, int dhnext_off,
                                     __global const float* saved_base, int saved_off,
                                     __global const float* hprev_base, int hprev_off,
                                     __global const float* x_base, int x_off,
                                     __global float* dgx_base, int dgx_off,
                                     __global float* dgh_base, int dgh_off,
                                     __global float* dx_base, int dx_off, int B, int H) {
  int k = get_global_id(0);
  if (k >= B * H) return;
  int b = k / H, j = k - (k / H) * H;
  __global const float* s = saved_base + saved_off + b * CR_MUT_SAVED * H;
  __global float* dgx = dgx_base + dgx_off + b * cr_mut_in_blocks(v) * H;
  __global float* dgh = dgh_base + dgh_off + b * cr_mut_rec_blocks(v) * H;
  float daz, dan, direct;
  cr_mut_candidate_backward(dhout_base[dhout_off + k] + dhnext_base[dhnext_off + k], s[j], s[2 * H + j],
                            hprev_base[hprev_off + k], &daz, &dan, &direct);
  int hz = cr_mut_gh_z(v), xn = cr_mut_gx_n(v), hn = cr_mut_gh_n(v);
  dgx[j] = daz;
  if (hz >= 0) dgh[hz * H + j] = daz;
  dgh[hn * H + j] = dan;
  if (xn >= 0) {
    dgx[xn * H + j] = dan;
  } else {
    float tx = cr_tanh(x_base[x_off + k]);
    dx_base[dx_off + k] = dan * (1.0f - tx * tx);
  }
  dhnext_base[dhnext_off + k] = direct;
}

__kernel void mut_gates_backward(int v, __global const float* drh_base, int drh_off,
                                 __global const float* saved_base, int saved_off,
                                 __global const float* hprev_base, int hprev_off,
                                 __global float* dhnext_base, int dhnext_off,
                                 __global float* dgx_base, int dgx_off,
                                 __global float* dgh_base, int dgh_off,
                                 __global float* dx_base, int dx_off, int B, int H) {
  int k = get_global_id(0);
  if (k >= B * H) return;
  int b = k / H, j = k - (k / H) * H;
  float dar, via;
  cr_mut_gates_backward(drh_base[drh_off + k], saved_base[saved_off + b * CR_MUT_SAVED * H + H + j],
                        hprev_base[hprev_off + k], &dar, &via);
  int xr = cr_mut_gx_r(v), hr = cr_mut_gh_r(v);
  dgh_base[dgh_off + b * cr_mut_rec_blocks(v) * H + hr * H + j] = dar;
  if (xr >= 0) dgx_base[dgx_off + b * cr_mut_in_blocks(v) * H + xr * H + j] = dar;
  else dx_base[dx_off + k] = dar;
  dhnext_base[dhnext_off + k] += via;
}

__kernel void mut_tanh_backward(__global const float* dth_base, int dth_off,
                                __global const float* saved_base, int saved_off,
                                __global float* dhnext_base, int dhnext_off, int B, int H) {
  int k = get_global_id(0);
  if (k >= B * H) return;
  int b = k / H, j = k - (k / H) * H;
  float th = saved_base[saved_off + b * CR_MUT_SAVED * H + 4 * H + j];
  dhnext_base[dhnext_off + k] += dth_base[dth_off + k] * (1.0f - th * th);
}
