package org.charrnn.model;

import java.util.SplittableRandom;

/**
 * Parameter initialisation as PyTorch does it: every recurrent weight and bias uniform(-k, k)
 * with k = 1/sqrt(H); LSTM forget-gate bias then set to 1.0 in total (b_ih = 1, b_hh = 0);
 * embedding N(0,1) as nn.Embedding; decoder weight and bias uniform(+-1/sqrt(H)) as nn.Linear.
 * Seeded: the same seed gives the same parameters on every backend.
 */
public final class Init {
    private Init() {}

    /** Returns freshly initialised flat parameters for {@code layout}. */
    public static double[] initialize(ParamLayout layout, long seed) {
        ModelConfig c = layout.config();
        double[] p = new double[layout.size()];
        SplittableRandom rng = new SplittableRandom(seed);
        double k = 1.0 / Math.sqrt(c.hidden());
        for (ParamLayout.Tensor t : layout.tensors()) {
            int off = t.offset(), n = t.size();
            if (t.name().equals("embedding.weight")) {
                for (int i = 0; i < n; i++) p[off + i] = gaussian(rng);
            } else {
                for (int i = 0; i < n; i++) p[off + i] = (2 * rng.nextDouble() - 1) * k;
            }
        }
        if (c.cell() == CellType.LSTM) {
            int H = c.hidden();
            for (int l = 0; l < c.layers(); l++) {
                // forget gate is the second block; b_ih + b_hh = 1.0 for it
                int ih = layout.biasIh(l).offset(), hh = layout.biasHh(l).offset();
                for (int j = 0; j < H; j++) {
                    p[ih + H + j] = 1.0;
                    p[hh + H + j] = 0.0;
                }
            }
        }
        return p;
    }

    private static double gaussian(SplittableRandom rng) {
        // Box-Muller; deterministic for a given generator state.
        double u1 = rng.nextDouble(), u2 = rng.nextDouble();
        if (u1 < 1e-300) u1 = 1e-300;
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
