package org.charrnn.backend.device;

import org.charrnn.model.ParamLayout;

/**
 * Rows {@code first ..} of a weight matrix W [rows, cols] held in the flat parameters at element
 * {@code offset}: the B operand of {@link DeviceOps#gemmWeight}. A device that keeps another copy
 * of W (transposed, bf16) addresses the same rows in it from these numbers.
 */
public record WeightRows(long offset, int rows, int cols, int first) {

    /** All of the parameter matrix {@code t}. */
    public static WeightRows of(ParamLayout.Tensor t) {
        return new WeightRows(t.offset(), t.shape()[0], t.shape()[1], 0);
    }

    /** The rows from {@code r} on (relative to this block's first row). */
    public WeightRows fromRow(int r) {
        return new WeightRows(offset, rows, cols, first + r);
    }

    /** Element offset of row {@code first} in the row-major matrix. */
    public long rowOffset() {
        return offset + (long) first * cols;
    }
}
