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

/*
 * mut_*_vec16: the six kernels above for CPU devices, same arguments and results (the activations
 * to ~1e-7); a 2-D launch, one work-item per 16 consecutive units j of one row b, float16 vectors
 * (helpers in embedding.cl). The formulas are those of the cr_mut_* functions of cell_math.h; the
 * last H % 16 units of a row call them element by element.
 * Launch: global (>= ceil(H/16), >= B), any local size.
 */
#define MUT_VEC16_PROLOGUE \
  int j = get_global_id(0) * 16, b = get_global_id(1); \
  if (j >= H || b >= B) return; \
  int k = b * H + j; \
  int vec = j + 16 <= H, units = vec ? 16 : H - j;

__kernel void mut_tanh_h_vec16(__global const float* hprev_base, int hprev_off,
                               __global float* saved_base, int saved_off, int B, int H) {
  MUT_VEC16_PROLOGUE
  __global const float* hp = hprev_base + hprev_off + k;
  __global float* th = saved_base + saved_off + b * CR_MUT_SAVED * H + 4 * H + j;
  if (vec) crv_store16(crv_tanh(crv_load16(hp)), th);
  else for (int u = 0; u < units; u++) th[u] = cr_tanh(hp[u]);
}

__kernel void mut_gates_forward_vec16(int v, __global const float* gx_base, int gx_off,
                                      __global const float* gh_base, int gh_off,
                                      __global const float* bih_base, int bih_off,
                                      __global const float* bhh_base, int bhh_off,
                                      __global const float* hprev_base, int hprev_off,
                                      __global const float* x_base, int x_off,
                                      __global float* saved_base, int saved_off, int B, int H) {
  MUT_VEC16_PROLOGUE
  __global const float* gx = gx_base + gx_off + b * cr_mut_in_blocks(v) * H + j;
  __global const float* gh = gh_base + gh_off + b * cr_mut_rec_blocks(v) * H + j;
  __global const float* bih = bih_base + bih_off + j;
  __global const float* bhh = bhh_base + bhh_off + j;
  __global const float* hp = hprev_base + hprev_off + k;
  __global const float* x = x_base + x_off + k;
  __global float* s = saved_base + saved_off + b * CR_MUT_SAVED * H + j;
  int hz = cr_mut_gh_z(v), xr = cr_mut_gx_r(v), hr = cr_mut_gh_r(v);
  if (vec) {
    float16 az = crv_load16(gx) + crv_load16(bih);
    if (hz >= 0) az += crv_load16(gh + hz * H) + crv_load16(bhh + hz * H);
    float16 ar = (xr >= 0 ? crv_load16(gx + xr * H) + crv_load16(bih + xr * H) : crv_load16(x))
                 + crv_load16(gh + hr * H) + crv_load16(bhh + hr * H);
    float16 r = crv_sigmoid(ar);
    crv_store16(crv_sigmoid(az), s);
    crv_store16(r, s + H);
    crv_store16(r * crv_load16(hp), s + 3 * H);
  } else {
    for (int u = 0; u < units; u++) {
      float az = gx[u] + bih[u] + (hz >= 0 ? gh[hz * H + u] + bhh[hz * H + u] : 0.0f);
      float ar = (xr >= 0 ? gx[xr * H + u] + bih[xr * H + u] : x[u]) + gh[hr * H + u] + bhh[hr * H + u];
      float z, r, rh;
      cr_mut_gates_forward(az, ar, hp[u], &z, &r, &rh);
      s[u] = z;
      s[H + u] = r;
      s[3 * H + u] = rh;
    }
  }
}

__kernel void mut_candidate_forward_vec16(int v, __global const float* gx_base, int gx_off,
                                          __global const float* gh_base, int gh_off,
                                          __global const float* bih_base, int bih_off,
                                          __global const float* bhh_base, int bhh_off,
                                          __global const float* hprev_base, int hprev_off,
                                          __global const float* x_base, int x_off,
                                          __global float* saved_base, int saved_off,
                                          __global float* h_base, int h_off, int B, int H) {
  MUT_VEC16_PROLOGUE
  __global const float* gx = gx_base + gx_off + b * cr_mut_in_blocks(v) * H + j;
  __global const float* gh = gh_base + gh_off + b * cr_mut_rec_blocks(v) * H + j;
  __global const float* bih = bih_base + bih_off + j;
  __global const float* bhh = bhh_base + bhh_off + j;
  __global const float* hp = hprev_base + hprev_off + k;
  __global const float* x = x_base + x_off + k;
  __global float* s = saved_base + saved_off + b * CR_MUT_SAVED * H + j;
  __global float* h = h_base + h_off + k;
  int xn = cr_mut_gx_n(v), hn = cr_mut_gh_n(v);
  if (vec) {
    float16 an = crv_load16(gh + hn * H) + crv_load16(bhh + hn * H)
                 + (xn >= 0 ? crv_load16(gx + xn * H) + crv_load16(bih + xn * H) : crv_tanh(crv_load16(x)));
    float16 z = crv_load16(s), n = crv_tanh(an);
    crv_store16(n, s + 2 * H);
    crv_store16(n * z + crv_load16(hp) * (1.0f - z), h);
  } else {
    for (int u = 0; u < units; u++) {
      float an = gh[hn * H + u] + bhh[hn * H + u] + (xn >= 0 ? gx[xn * H + u] + bih[xn * H + u] : cr_tanh(x[u]));
      float n, hv;
      cr_mut_candidate_forward(an, s[u], hp[u], &n, &hv);
      s[2 * H + u] = n;
      h[u] = hv;
    }
  }
}

__kernel void mut_candidate_backward_vec16(int v, __global const float* dhout_base, int dhout_off,
                                           __global float* dhnext_base, int dhnext_off,
                                           __global const float* saved_base, int saved_off,
                                           __global const float* hprev_base, int hprev_off,
                                           __global const float* x_base, int x_off,
                                           __global float* dgx_base, int dgx_off,
                                           __global float* dgh_base, int dgh_off,
                                           __global float* dx_base, int dx_off, int B, int H) {
  MUT_VEC16_PROLOGUE
  __global const float* dhout = dhout_base + dhout_off + k;
  __global float* dhnext = dhnext_base + dhnext_off + k;
  __global const float* s = saved_base + saved_off + b * CR_MUT_SAVED * H + j;
  __global const float* hp = hprev_base + hprev_off + k;
  __global const float* x = x_base + x_off + k;
  __global float* dgx = dgx_base + dgx_off + b * cr_mut_in_blocks(v) * H + j;
  __global float* dgh = dgh_base + dgh_off + b * cr_mut_rec_blocks(v) * H + j;
  __global float* dx = dx_base + dx_off + k;
  int hz = cr_mut_gh_z(v), xn = cr_mut_gx_n(v), hn = cr_mut_gh_n(v);
  if (vec) {
    float16 dh = crv_load16(dhout) + crv_load16(dhnext);
    float16 z = crv_load16(s), n = crv_load16(s + 2 * H);
    float16 daz = dh * (n - crv_load16(hp)) * z * (1.0f - z);
    float16 dan = dh * z * (1.0f - n * n);
    crv_store16(daz, dgx);
    if (hz >= 0) crv_store16(daz, dgh + hz * H);
    crv_store16(dan, dgh + hn * H);
    if (xn >= 0) {
      crv_store16(dan, dgx + xn * H);
    } else {
      float16 tx = crv_tanh(crv_load16(x));
      crv_store16(dan * (1.0f - tx * tx), dx);
    }
    crv_store16(dh * (1.0f - z), dhnext);
  } else {
    for (int u = 0; u < units; u++) {
      float daz, dan, direct;
      cr_mut_candidate_backward(dhout[u] + dhnext[u], s[u], s[2 * H + u], hp[u], &daz, &dan, &direct);
      dgx[u] = daz;
      if (hz >= 0) dgh[hz * H + u] = daz;
      dgh[hn * H + u] = dan;
      if (xn >= 0) {
        dgx[xn * H + u] = dan;
      } else {
        float tx = cr_tanh(x[u]);
        dx[u] = dan * (1.0f - tx * tx);
      }
      dhnext[u] = direct;
    }
  }
}

__kernel void mut_gates_backward_vec16(int v, __global const float* drh_base, int drh_off,
                                       __global const float* saved_base, int saved_off,
                                       __global const float* hprev_base, int hprev_off,
                                       __global float* dhnext_base, int dhnext_off,
                                       __global float* dgx_base, int dgx_off,
                                       __global float* dgh_base, int dgh_off,
                                       __global float* dx_base, int dx_off, int B, int H) {
  MUT_VEC16_PROLOGUE
  __global const float* drh = drh_base + drh_off + k;
  __global const float* r = saved_base + saved_off + b * CR_MUT_SAVED * H + H + j;
  __global const float* hp = hprev_base + hprev_off + k;
  __global float* dhnext = dhnext_base + dhnext_off + k;
  int xr = cr_mut_gx_r(v), hr = cr_mut_gh_r(v);
  __global float* dgh = dgh_base + dgh_off + b * cr_mut_rec_blocks(v) * H + hr * H + j;
  __global float* dar_x = xr >= 0 ? dgx_base + dgx_off + b * cr_mut_in_blocks(v) * H + xr * H + j : dx_base + dx_off + k;
  if (vec) {
    float16 d = crv_load16(drh), rv = crv_load16(r);
    float16 dar = d * crv_load16(hp) * rv * (1.0f - rv);
    crv_store16(dar, dgh);
    crv_store16(dar, dar_x);
    crv_store16(crv_load16(dhnext) + d * rv, dhnext);
  } else {
    for (int u = 0; u < units; u++) {
      float dar, via;
      cr_mut_gates_backward(drh[u], r[u], hp[u], &dar, &via);
      dgh[u] = dar;
      dar_x[u] = dar;
      dhnext[u] += via;
    }
  }
}

__kernel void mut_tanh_backward_vec16(__global const float* dth_base, int dth_off,
                                      __global const float* saved_base, int saved_off,
                                      __global float* dhnext_base, int dhnext_off, int B, int H) {
  MUT_VEC16_PROLOGUE
  __global const float* dth = dth_base + dth_off + k;
  __global const float* th = saved_base + saved_off + b * CR_MUT_SAVED * H + 4 * H + j;
  __global float* dhnext = dhnext_base + dhnext_off + k;
  if (vec) {
    float16 t = crv_load16(th);
    crv_store16(crv_load16(dhnext) + crv_load16(dth) * (1.0f - t * t), dhnext);
  } else {
    for (int u = 0; u < units; u++) dhnext[u] += dth[u] * (1.0f - th[u] * th[u]);
  }
}
