package org.charrnn.backend;

import java.util.Arrays;
import org.charrnn.data.TokenSequence;

/** The reference backend's recurrent state [L][S][B][H] in one double array. */
final class ReferenceState implements RnnState {
    final int batch;
    final double[] v;

    ReferenceState(int batch, int size) {
        this.batch = batch;
        this.v = new double[size];
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public void reset() {
        Arrays.fill(v, 0.0);
    }

    @Override
    public double[] read() {
        return v.clone();
    }

    @Override
    public void write(double[] values) {
        if (values.length != v.length)
            throw new IllegalArgumentException("state has " + v.length + " elements, got " + values.length);
        System.arraycopy(values, 0, v, 0, v.length);
    }

    @Override
    public void copyFrom(RnnState other) {
        ReferenceState o = (ReferenceState) other;
        if (o.v.length != v.length) throw new IllegalArgumentException("state shapes differ");
        System.arraycopy(o.v, 0, v, 0, v.length);
    }

    @Override
    public void close() {}

    /** A corpus on the reference backend: the token sequence itself, read where it lies. */
    record Tokens(TokenSequence seq) implements TokenBuffer {
        @Override
        public long length() {
            return seq.length();
        }

        @Override
        public void close() {}
    }
}
