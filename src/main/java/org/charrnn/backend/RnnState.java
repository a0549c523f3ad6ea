package org.charrnn.backend;

/**
 * The recurrent state of B independent streams, resident where its backend computes.
 * Host layout of {@link #read()} / {@link #write(double[])}: [L][S][B][H], S = 2 for LSTM
 * (h then c), else 1 (h); element ((l*S + s)*B + b)*H + j.
 */
public interface RnnState extends AutoCloseable {

    /** B, number of streams. */
    int batch();

    /** Sets every element to zero. */
    void reset();

    /** Host copy, [L][S][B][H]. */
    double[] read();

    /** Overwrites the state from a host array [L][S][B][H]. */
    void write(double[] values);

    /** this = other (same backend and batch), without a host round trip. */
    void copyFrom(RnnState other);

    /** Releases device memory (no-op on the reference backend). */
    @Override
    void close();
}
