package org.charrnn.backend;

/**
 * The counter-based dropout mask of {@code kernels/common/cell_math.h}, bit for bit: a pure
 * function of (seed, iteration, layer, element index), so masks are regenerated in backward and
 * every backend drops the same units. Java ints wrap like C's uint32 arithmetic; {@code >>>} is
 * the unsigned shift.
 */
public final class Dropout {
    private Dropout() {}

    /** murmur3's 32-bit finalizer. */
    static int fmix32(int h) {
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        h ^= h >>> 16;
        return h;
    }

    /** cr_hash4: hash of (seed, iteration, layer, index). */
    public static int hash4(int seed, int iteration, int layer, int index) {
        int h = fmix32(seed + 0x9E3779B9);
        h = fmix32(h ^ (iteration * 0x85EBCA77 + 0x165667B1));
        h = fmix32(h ^ (layer * 0xC2B2AE3D + 0x27D4EB2F));
        h = fmix32(h ^ (index * 0x9E3779B1 + 0x61C88647));
        return h;
    }

    /** Inverted-dropout multiplier: 0 when dropped, 1/(1-p) when kept (cr_dropout_scale). */
    public static double scale(int seed, int iteration, int layer, int index, double p) {
        double u = (hash4(seed, iteration, layer, index) >>> 8) * (1.0 / 16777216.0);
        // compare against p rounded to float, as the kernels do, so the same units drop
        return u < (float) p ? 0.0 : 1.0 / (1.0 - p);
    }

    /** The 32-bit seed the kernels receive for a 64-bit --seed. */
    public static int seed32(long seed) {
        return (int) (seed ^ (seed >>> 32));
    }
}
