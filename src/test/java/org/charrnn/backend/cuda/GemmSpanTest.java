package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The element span the bf16 path converts per operand (no GPU needed). */
class GemmSpanTest {

    @Test
    void spanCoversFirstToLastElementIncludingLeadingDimensionGaps() {
        // op(X) [3,4] stored as is with ld 4 (contiguous), and ld 10 (rows 0..2 at 0, 10, 20)
        assertEquals(12, Gemm.span(false, 3, 4, 4));
        assertEquals(2 * 10 + 4, Gemm.span(false, 3, 4, 10));
        // transposed: op(X) [3,4] is X [4,3]; 4 stored rows of 3 with ld 5
        assertEquals(3 * 5 + 3, Gemm.span(true, 3, 4, 5));
        // one row: no gap counted
        assertEquals(7, Gemm.span(false, 1, 7, 100));
        assertEquals(7, Gemm.span(true, 7, 1, 100));
    }

    @Test
    void emptyOperandsHaveNoSpan() {
        assertEquals(0, Gemm.span(false, 0, 5, 5));
        assertEquals(0, Gemm.span(true, 5, 0, 5));
    }

    @Test
    void spansBeyondIntRangeDoNotOverflow() {
        assertEquals(65535L * 65536 + 65536, Gemm.span(false, 65536, 65536, 65536));
    }
}
