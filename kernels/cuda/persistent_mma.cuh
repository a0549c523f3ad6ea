/*
 * persistent_mma.cuh: the tensor-core product of the persistent kernels (included by
 * persistent_common.cuh, whose plan, CrPersistentPlan with CR_PREC_MMA, it runs): mma.sync m16n8k8
 * (TF32) or m16n8k16 (bf16) over the block's W_hh slice a and the staged right-hand side x, and
 * the resident plan's fragments of a kept in registers (CrResidentA).
 */
#ifndef CHARRNN_CUDA_PERSISTENT_MMA_CUH
#define CHARRNN_CUDA_PERSISTENT_MMA_CUH

/* The 32-bit word w of the slice a (one TF32 or two bf16 elements). */
static __device__ __forceinline__ unsigned cr_word(const void *a, long long w) {
#ifdef CHARRNN_CRCPU_H
  unsigned u;
  memcpy(&u, (const unsigned char *)a + 4 * w, 4);
  return u;
#else
  return ((const unsigned *)a)[w];
#endif
}

/* The word of y [B,K] (row b, elements k, k+1 at bf16) as an mma operand at precision prec: TF32's
 * bits, or two bf16 with element k in the low half; zeros past K and for b >= B. */
static __device__ __forceinline__ unsigned cr_mma_word(const float *y, int b, int k, int B, int K, int prec) {
  if (b >= B) return 0u;
  const float *row = y + (long long)b * K;
  if (cr_prec_rounding(prec) != CR_PREC_BF16) return k < K ? __float_as_uint(cr_round_tf32(row[k])) : 0u;
  unsigned lo = k < K ? __float_as_uint(__bfloat162float(__float2bfloat16_rn(row[k]))) >> 16 : 0u;
  unsigned hi = k + 1 < K ? __float_as_uint(__bfloat162float(__float2bfloat16_rn(row[k + 1]))) & 0xffff0000u : 0u;
  return lo | hi;
}

/*
 * d (+=) the warp's 16 x 8 tile A B: mma.sync.aligned m16n8k8 .tf32 (prec TF32) or m16n8k16 .bf16
 * (BF16), fp32 accumulators, row.col. Fragments as the PTX ISA lays them out (groupID g = lane / 4,
 * t = lane % 4): a[0..3] the words (row g, word t), (g + 8, t), (g, t + 4), (g + 8, t + 4) of A's
 * k-step; b[0..1] words t and t + 4 of B's column g; d[0..3] (row g, columns 2t, 2t + 1), (g + 8,
 * 2t, 2t + 1). Every lane of the warp must call it together (the CPU layer checks that).
 */
static __device__ __forceinline__ void cr_mma(int prec, float d[4], const unsigned a[4], const unsigned b[2]) {
  bool bf16 = cr_prec_rounding(prec) == CR_PREC_BF16;
#ifdef CHARRNN_CRCPU_H
  crcpu::warp_mma(bf16, d, a, b, __FILE__, __LINE__);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if (bf16)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  (void)bf16; (void)d; (void)a; (void)b;
  __trap(); /* the host passes CR_PREC_MMA only to devices of compute capability 8.0 and newer */
#endif
}

/* A warp's item of the tensor-core plan (cr_persistent_product_mma): its k-split s, its group's
 * first tiles rt0 (along a's rows) and nt0 (along b), and the tiles of the group it has, gr x gn. */
struct CrMmaItem {
  int s, rt0, nt0;
};

static __device__ __forceinline__ CrMmaItem cr_mma_item(const CrPersistentPlan &p, int item) {
  const int mr = p.swap ? CR_MMA_N : CR_MMA_M, mb = p.swap ? CR_MMA_M : CR_MMA_N;
  const int RT = p.RP / mr, NT = p.BP / mb, GR = cr_mma_group_side(RT), GN = cr_mma_group_side(NT);
  const int NGN = (NT + GN - 1) / GN, group = item / p.S;
  CrMmaItem it;
  it.s = item % p.S;
  it.rt0 = group / NGN * GR;
  it.nt0 = group % NGN * GN;
  return it;
}

/* The words of a (in units of 32-bit words from a's start) where lane g's rows of the group's tile
 * rt0 + i begin, at the k-tile's first word a0: rows g, g + 8 of the tile (A operand) or row g
 * (B, swap: [1] unused); a missing tile's rows repeat the last tile's, rows past R repeat row R-1. */
static __device__ __forceinline__ void cr_mma_arows(const CrPersistentPlan &p, int rt0, int g, long long a0,
                                                    int per_word, long long arow[CR_MMA_GROUP][2]) {
  const int mr = p.swap ? CR_MMA_N : CR_MMA_M, RT = p.RP / mr, AW = p.AS / per_word;
#pragma unroll
  for (int i = 0; i < CR_MMA_GROUP; i++) {
    int r0 = (rt0 + i < RT ? rt0 + i : RT - 1) * mr;
    int ra = r0 + g < p.R ? r0 + g : p.R - 1, rb = r0 + g + 8 < p.R ? r0 + g + 8 : p.R - 1;
    arow[i][0] = ra * (long long)AW + a0;
    arow[i][1] = rb * (long long)AW + a0;
  }
}

/* f (=) the a-side fragment of one tile at k-word kw (lane t = lane % 4): 4 words as the mma's A
 * operand, or 2 as its B (swap; f[2], f[3] untouched). */
static __device__ __forceinline__ void cr_mma_a_fragment(const CrPersistentPlan &p, const void *a,
                                                         const long long arow[2], int kw, int t, unsigned f[4]) {
  f[0] = cr_word(a, arow[0] + kw + t);
  f[1] = p.swap ? cr_word(a, arow[0] + kw + t + 4) : cr_word(a, arow[1] + kw + t);
  if (p.swap) return;
  f[2] = cr_word(a, arow[0] + kw + t + 4);
  f[3] = cr_word(a, arow[1] + kw + t + 4);
}

/* f (=) this warp's a fragments of the resident mma plan (CrResidentA: w[st][i] those of its
 * group's tile rt0 + i at its st-th k-step, k-word (s + st S) CR_MMA_KW; HALF 1: w[st +
 * CR_MMA_HALF][i]); cr_keep_resident_a's. */
template <typename A, int HALF>
static __device__ __forceinline__ void cr_mma_keep(const CrPersistentPlan &p, const A *a, CrResidentA &f) {
  const int per_word = 4 / (int)sizeof(A), kstep = CR_MMA_KW * per_word;
  const int mr = p.swap ? CR_MMA_N : CR_MMA_M, mb = p.swap ? CR_MMA_M : CR_MMA_N;
  const int RT = p.RP / mr, NT = p.BP / mb, GR = cr_mma_group_side(RT);
  const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32, g = lane >> 2, t = lane & 3;
  const int words = (p.K + kstep - 1) / kstep * CR_MMA_KW;
  if (warp >= cr_mma_groups(RT, NT) * p.S) return; /* an idle warp: no item */
  CrMmaItem it = cr_mma_item(p, warp);
  long long arow[CR_MMA_GROUP][2];
  cr_mma_arows(p, it.rt0, g, 0, per_word, arow);
#pragma unroll
  for (int st = 0; st < CR_MMA_ASTEPS - HALF * CR_MMA_HALF; st++) {
    int kw = (it.s + st * p.S) * CR_MMA_KW;
    if (kw >= words) break; /* warp-uniform */
#pragma unroll
    for (int i = 0; i < CR_MMA_GROUP; i++)
      if (i < GR) cr_mma_a_fragment(p, a, arow[i], kw, t, f.w[st + HALF * CR_MMA_HALF][i]);
  }
}

/* One k-step of a warp's group: the x fragments of its GN tiles at k-word kw, then the group's mma
 * with the a fragments af (the tiles that are not ok skipped, warp-uniform). */
static __device__ __forceinline__ void cr_mma_group_step(const CrPersistentPlan &p, int prec, const unsigned *xw,
                                                         const long long xrow[CR_MMA_GROUP][2], int GN, int kw, int t,
                                                         const unsigned af[CR_MMA_GROUP][4],
                                                         const bool ok[CR_MMA_GROUP][CR_MMA_GROUP],
                                                         float d[CR_MMA_GROUP][CR_MMA_GROUP][4]) {
  unsigned xf[CR_MMA_GROUP][4];
#pragma unroll
  for (int j = 0; j < CR_MMA_GROUP; j++) {
    if (j >= GN) break;
    xf[j][0] = xw[xrow[j][0] + kw + t];
    xf[j][1] = p.swap ? xw[xrow[j][1] + kw + t] : xw[xrow[j][0] + kw + t + 4];
    if (!p.swap) continue; /* x is the B operand: two words */
    xf[j][2] = xw[xrow[j][0] + kw + t + 4];
    xf[j][3] = xw[xrow[j][1] + kw + t + 4];
  }
#pragma unroll
  for (int i = 0; i < CR_MMA_GROUP; i++)
#pragma unroll
    for (int j = 0; j < CR_MMA_GROUP; j++) {
      if (!ok[i][j]) continue; /* warp-uniform */
      if (p.swap)
        cr_mma(prec, d[i][j], xf[j], af[i]); /* A: 16 rows b; B: 8 rows of a, words t and t + 4 */
      else
        cr_mma(prec, d[i][j], af[i], xf[j]); /* A: 16 rows of a; B: 8 rows b, words t and t + 4 */
    }
}

/*
 * The tensor-core product (plan with CR_PREC_MMA), what cr_persistent_product runs: the same
 * result as cr_persistent_product_fma's (acc, read with cr_persistent_result), from a [R][AS] (its
 * words as cr_mma reads them) and y [B,K] staged into x one k-tile at a time as words
 * (cr_mma_word). A tile is 16 rows of a (the mma's A) by 8 rows b of x (its B, column-major as x
 * is b-major), or with p.swap 16 rows b of x by 8 rows of a: either way both operands are rows of
 * k-words. The RT x NT tiles (RT along a's rows, NT along b) form groups of GR x GN tiles
 * (cr_mma_group_side); work: the groups times S k-splits, item = group S + s, warp w takes items
 * w, w + CR_WARPS, ...; per k-step a warp loads the fragments of its group's GR tiles of a and GN
 * of x once and runs the group's GR GN mma (a ragged group's missing tiles are skipped, the same
 * for the whole warp); rows of a past R read row R-1 and are never read back. The resident plan
 * (one item a warp, one k-tile) takes the a fragments from f (cr_mma_keep) instead of shared
 * memory: the same words in the same mma, so the same results bit for bit. Every thread of the
 * block must call it; block barriers as the FMA product's.
 */
template <typename A, int HALF>
static __device__ __forceinline__ void cr_persistent_product_mma(const CrPersistentPlan &p, const A *a,
                                                                 const CrResidentA &f, const float *y, float *x,
                                                                 float *acc, int prec) {
  const int per_word = 4 / (int)sizeof(A), kstep = CR_MMA_KW * per_word, S = p.S, BP = p.BP;
  const int mr = p.swap ? CR_MMA_N : CR_MMA_M, mb = p.swap ? CR_MMA_M : CR_MMA_N; /* a tile's rows of a, of b */
  const int RT = p.RP / mr, NT = BP / mb, GR = cr_mma_group_side(RT), GN = cr_mma_group_side(NT);
  const int items = cr_mma_groups(RT, NT) * S;
  const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32, g = lane >> 2, t = lane & 3;
  unsigned *xw = (unsigned *)x;
  for (int k0 = 0; k0 < p.K; k0 += p.KT) {
    int kn = p.K - k0 < p.KT ? p.K - k0 : p.KT, words = (kn + kstep - 1) / kstep * CR_MMA_KW;
    __syncthreads(); /* x and acc are free for the mma: the previous tile's (or call's) readers are done */
    for (long long e = threadIdx.x; y && e < (long long)BP * words; e += blockDim.x) {
      int b = (int)(e / words), w = (int)(e % words);
      xw[(long long)b * p.XS + w] = cr_mma_word(y, b, k0 + w * per_word, p.rows, p.K, prec);
    }
    __syncthreads(); /* the tile of words is complete */
    long long a0 = k0 / per_word; /* the k-tile's first word in a row of a (x holds this tile alone) */
    for (int item = warp; item < items; item += CR_WARPS) {
      CrMmaItem it = cr_mma_item(p, item);
      int s = it.s, rt0 = it.rt0, nt0 = it.nt0;
      /* x side: rows g (B) or g, g + 8 (A, swap) of tile nt0 + j; a missing tile's rows repeat the
       * last tile's */
      long long arow[CR_MMA_GROUP][2], xrow[CR_MMA_GROUP][2];
      bool ok[CR_MMA_GROUP][CR_MMA_GROUP];
      float d[CR_MMA_GROUP][CR_MMA_GROUP][4];
      int out[CR_MMA_GROUP][CR_MMA_GROUP][4];
      cr_mma_arows(p, rt0, g, a0, per_word, arow);
      /* this tile's words that can be nonzero: a group whose rows all lie below p.ra ends at p.ka
       * (rounded up to a k-step), warp-uniform */
      int wl = words;
      if ((rt0 + GR < RT ? rt0 + GR : RT) * mr <= p.ra) {
        int ke = p.ka - k0, w = ke <= 0 ? 0 : (ke + kstep - 1) / kstep * CR_MMA_KW;
        wl = w < words ? w : words;
      }
#pragma unroll
      for (int i = 0; i < CR_MMA_GROUP; i++) {
        int b0 = (nt0 + i < NT ? nt0 + i : NT - 1) * mb; /* x's rows b0 + g + 8 exist only with swap */
        xrow[i][0] = (long long)(b0 + g) * p.XS;
        xrow[i][1] = p.swap ? (long long)(b0 + g + 8) * p.XS : xrow[i][0];
      }
#pragma unroll
      for (int i = 0; i < CR_MMA_GROUP; i++)
#pragma unroll
        for (int j = 0; j < CR_MMA_GROUP; j++) {
          ok[i][j] = i < GR && j < GN && rt0 + i < RT && nt0 + j < NT;
          int r0 = (rt0 + i) * mr, b0 = (nt0 + j) * mb;
#pragma unroll
          for (int q = 0; q < 4; q++) { /* d[q]: row g + 8 (q >> 1), column 2t + (q & 1) of the tile */
            int m = g + 8 * (q >> 1), n = 2 * t + (q & 1);
            int r = p.swap ? r0 + n : r0 + m, b = p.swap ? b0 + m : b0 + n;
            out[i][j][q] = (r * BP + b) * S + s;
            d[i][j][q] = k0 == 0 || !ok[i][j] ? 0.0f : acc[out[i][j][q]];
          }
        }
      if (p.resident) {
#pragma unroll
        for (int st = 0; st < CR_MMA_ASTEPS - HALF * CR_MMA_HALF; st++) {
          int kw = (s + st * S) * CR_MMA_KW;
          if (kw >= wl) break; /* warp-uniform */
          cr_mma_group_step(p, prec, xw, xrow, GN, kw, t, f.w[st + HALF * CR_MMA_HALF], ok, d);
        }
      } else {
        for (int kw = s * CR_MMA_KW; kw < wl; kw += S * CR_MMA_KW) {
          unsigned af[CR_MMA_GROUP][4];
#pragma unroll
          for (int i = 0; i < CR_MMA_GROUP; i++)
            if (i < GR) cr_mma_a_fragment(p, a, arow[i], kw, t, af[i]);
          cr_mma_group_step(p, prec, xw, xrow, GN, kw, t, af, ok, d);
        }
      }
#pragma unroll
      for (int i = 0; i < CR_MMA_GROUP; i++)
#pragma unroll
        for (int j = 0; j < CR_MMA_GROUP; j++)
          if (ok[i][j])
#pragma unroll
            for (int q = 0; q < 4; q++) acc[out[i][j][q]] = d[i][j][q];
    }
  }
  cr_persistent_sum_lanes(p, acc);
}

#endif
