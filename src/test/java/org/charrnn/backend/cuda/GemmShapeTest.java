package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.charrnn.backend.Precision;
import org.junit.jupiter.api.Test;

/** {@link GemmShape}: the rates file's names of GEMM shapes read back as the shapes they name. */
class GemmShapeTest {
    @Test
    void aKeyNamesItsShape() {
        List<GemmShape> shapes = List.of(
                new GemmShape(Precision.FP32, false, false, 128, 2048, 512, false),
                new GemmShape(Precision.TF32, true, false, 2048, 512, 12800, true),
                new GemmShape(Precision.BF16, false, true, 1, 1, 1, false),
                new GemmShape(Precision.TF32, true, false, 256, 256, 2500, false, true));
        assertEquals("fp32 NN 128x2048x512 =", shapes.get(0).key());
        assertEquals("tf32 TN 2048x512x12800 +=", shapes.get(1).key());
        assertEquals("tf32 TN 256x256x2500 = side", shapes.get(3).key());
        assertEquals(
                new GemmShape(Precision.TF32, true, false, 256, 256, 2500, false),
                shapes.get(3).onMain());
        for (GemmShape s : shapes) assertEquals(s, GemmShape.parse(s.key()));
        assertEquals(2.0 * 128 * 2048 * 512, shapes.get(0).flops());
    }

    @Test
    void leadingDimensionsAreDenseAsGemmReadsThem() {
        // row-major: A [M,K] (lda K) or, transposed, [K,M] (lda M); B [K,N] (ldb N) or [N,K] (ldb K); C [M,N]
        assertArrayEquals(
                new int[] {5, 7, 7}, new GemmShape(Precision.FP32, false, false, 3, 7, 5, false).leadingDimensions());
        assertArrayEquals(
                new int[] {3, 5, 7}, new GemmShape(Precision.FP32, true, true, 3, 7, 5, false).leadingDimensions());
        assertArrayEquals(
                new long[] {15, 35, 21}, new GemmShape(Precision.FP32, true, true, 3, 7, 5, false).operandFloats());
    }

    @Test
    void anythingElseIsRefusedSayingWhatAKeyLooksLike() {
        for (String bad : new String[] {
            "fp32 NN 128x2048 =",
            "fp64 NN 1x1x1 =",
            "fp32 XN 1x1x1 =",
            "fp32 NN 0x1x1 =",
            "fp32 NN 1x1x1",
            "fp32 NN 1x1x1 = main",
            "fp32 NN 1x1x1 =side",
            "fp32 NN 99999999999x1x1 ="
        }) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmShape.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad) || e.getMessage().contains("positive"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new GemmShape(Precision.FP64, false, false, 1, 1, 1, false));
    }
}
