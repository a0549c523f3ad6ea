package org.charrnn.backend;

/**
 * Host-side helpers of the float32 backends (CUDA, OpenCL): transfers between the interface's
 * double arrays and device floats, and the host mirror of the kernels' clip factor.
 */
public final class HostFloats {
    private HostFloats() {}

    /** a rounded to float, element by element. */
    public static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    /** a widened to double, element by element (exact). */
    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** cr_clip_scale of kernels/common/cell_math.h for norm clipping, in float as the kernels compute it. */
    public static float normClipScale(float norm, float max) {
        return Math.min(1.0f, max / (norm + 1e-6f));
    }
}
