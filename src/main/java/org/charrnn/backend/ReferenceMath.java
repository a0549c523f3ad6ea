package org.charrnn.backend;

import java.util.Locale;

/**
 * The reference backend's GEMMs and activations: {@link #SCALAR} ({@link DenseMath}, plain Java
 * loops and {@link Math}) or {@link #VECTOR} ({@link VectorMath}, the Java Vector API).
 * {@link #select()} picks VECTOR where the JVM was started with {@code --add-modules
 * jdk.incubator.vector} (the {@code charrnn} launcher, the Maven build's tests) and SCALAR
 * otherwise, so a library user who does not add the module still runs, only slower. The system
 * property {@value #PROPERTY} = {@code false} forces SCALAR. Both compute in double precision;
 * they differ in rounding only (VECTOR fuses each multiply-add, and its exp and tanh are within 2
 * ulp of Math's).
 */
enum ReferenceMath {
    SCALAR {
        @Override
        void ab(
                double[] a,
                int aOff,
                double[] b,
                int bOff,
                double[] c,
                int cOff,
                int rowFrom,
                int rowTo,
                int n,
                int k,
                boolean accumulate) {
            DenseMath.ab(a, aOff, b, bOff, c, cOff, rowFrom, rowTo, n, k, accumulate);
        }

        @Override
        void aTb(
                double[] a,
                int aOff,
                double[] b,
                int bOff,
                double[] c,
                int cOff,
                int rowFrom,
                int rowTo,
                int m,
                int n,
                int k) {
            DenseMath.aTb(a, aOff, b, bOff, c, cOff, rowFrom, rowTo, m, n, k);
        }

        @Override
        void sigmoid(double[] x, int off, int n) {
            DenseMath.sigmoid(x, off, n);
        }

        @Override
        void tanh(double[] x, int xOff, double[] y, int yOff, int n) {
            DenseMath.tanh(x, xOff, y, yOff, n);
        }

        @Override
        String description() {
            return "";
        }
    },
    VECTOR {
        @Override
        void ab(
                double[] a,
                int aOff,
                double[] b,
                int bOff,
                double[] c,
                int cOff,
                int rowFrom,
                int rowTo,
                int n,
                int k,
                boolean accumulate) {
            VectorMath.ab(a, aOff, b, bOff, c, cOff, rowFrom, rowTo, n, k, accumulate);
        }

        @Override
        void aTb(
                double[] a,
                int aOff,
                double[] b,
                int bOff,
                double[] c,
                int cOff,
                int rowFrom,
                int rowTo,
                int m,
                int n,
                int k) {
            VectorMath.aTb(a, aOff, b, bOff, c, cOff, rowFrom, rowTo, m, n, k);
        }

        /*
         * The activations stay scalar (Math.exp, Math.tanh): the Vector API's EXP and TANH give
         * SVML's results once C2 compiles them and Math's before, up to 2 ulp apart, so one run
         * would not be bit-for-bit the same as another (nor a resumed run as a straight one).
         */
        @Override
        void sigmoid(double[] x, int off, int n) {
            DenseMath.sigmoid(x, off, n);
        }

        @Override
        void tanh(double[] x, int xOff, double[] y, int yOff, int n) {
            DenseMath.tanh(x, xOff, y, yOff, n);
        }

        @Override
        String description() {
            return VectorMath.bits() + "-bit SIMD";
        }
    };

    /** System property: {@code false} makes {@link #select()} return {@link #SCALAR}. */
    static final String PROPERTY = "charrnn.reference.vector";

    /** The Vector API's module, present only where the JVM was started with --add-modules for it. */
    static final String MODULE = "jdk.incubator.vector";

    /** See {@link DenseMath#ab}. */
    abstract void ab(
            double[] a,
            int aOff,
            double[] b,
            int bOff,
            double[] c,
            int cOff,
            int rowFrom,
            int rowTo,
            int n,
            int k,
            boolean accumulate);

    /** See {@link DenseMath#aTb}. */
    abstract void aTb(
            double[] a,
            int aOff,
            double[] b,
            int bOff,
            double[] c,
            int cOff,
            int rowFrom,
            int rowTo,
            int m,
            int n,
            int k);

    /** See {@link DenseMath#sigmoid}. */
    abstract void sigmoid(double[] x, int off, int n);

    /** See {@link DenseMath#tanh}. */
    abstract void tanh(double[] x, int xOff, double[] y, int yOff, int n);

    /** What the device name of the backend says of this implementation ("" for the scalar one). */
    abstract String description();

    /**
     * VECTOR where the module is loaded, its vectors hold at least two doubles and {@value #PROPERTY}
     * is not {@code false}; else SCALAR.
     */
    static ReferenceMath select() {
        String p = System.getProperty(PROPERTY, "true").strip().toLowerCase(Locale.ROOT);
        if (!p.equals("true") && !p.equals("false"))
            throw new IllegalArgumentException("system property " + PROPERTY + " must be true or false, not " + p);
        return p.equals("true") && vectorModuleLoaded() && VectorMath.bits() >= 128 ? VECTOR : SCALAR;
    }

    /** Whether the JVM resolved {@value #MODULE} at start (classes of the class path then read it). */
    static boolean vectorModuleLoaded() {
        return ModuleLayer.boot().findModule(MODULE).isPresent();
    }
}
