package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.charrnn.backend.Precision;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;

/**
 * The fused decoder's host side: its tile shape and shared memory as decoder.cu computes them
 * (native-test/test_loss.cu pins the same values), the mode's knob, and where the model fuses on
 * the H200 model.
 */
class DecoderXentTest {
    private static final StepCostModel.Rates H200 = StepCostModel.Rates.assumed(RnnCostModel.Device.h200());
    private static final int LIMIT = 227 << 10;

    @Test
    void shapesAreTheKernels() {
        assertEquals(12, DecoderXent.rows(65));
        assertEquals(16, DecoderXent.rows(1));
        assertEquals(4, DecoderXent.rows(300));
        assertEquals(8, DecoderXent.stride(1));
        assertEquals(132, DecoderXent.stride(128));
        assertEquals(4L * (65 * 132 + 12 * 132 + 12 * 66), DecoderXent.sharedBytes(65, 128));
        assertEquals(132, DecoderXent.blocks(2500, 65, 132), "a block an SM");
        assertEquals(1, DecoderXent.blocks(5, 65, 132), "no more blocks than tiles");
    }

    @Test
    void theSmallRowsFuseAndTheLargeOnesDoNot() {
        for (Precision p : new Precision[] {Precision.FP32, Precision.TF32}) {
            // LSTM L1 H128 B50 T50: the fused kernel is priced below the three launches it replaces
            assertTrue(
                    DecoderXent.fusedUs(H200, 2500, 65, 128, true)
                            < DecoderXent.unfusedUs(H200, p, 2500, 65, 128, true),
                    p.toString());
            assertTrue(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, p, 2500, 65, 128, true), p.toString());
            // H256: below them in fp32, above cuBLAS's TF32 GEMMs
            assertEquals(
                    p == Precision.FP32, DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, p, 2500, 65, 256, true));
            // H1024: W_dec alone is 260 KiB, more than a block's shared memory, even when forced
            assertFalse(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, p, 12800, 65, 1024, true));
            assertFalse(DecoderXent.fuses(DecoderXent.Mode.ON, H200, LIMIT, p, 12800, 65, 1024, true));
            assertFalse(DecoderXent.fuses(DecoderXent.Mode.OFF, H200, LIMIT, p, 2500, 65, 128, true));
        }
        // bf16 prices cuBLAS's GEMMs on tensor cores too: H128 fuses, H256 does not
        assertTrue(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, Precision.BF16, 2500, 65, 128, true));
        assertFalse(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, Precision.BF16, 2500, 65, 256, true));
        // TF32 H512 B128 T100: cuBLAS's tensor cores beat the fused kernel's FMAs; forced, it runs
        assertFalse(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, Precision.TF32, 12800, 65, 512, true));
        assertTrue(DecoderXent.fuses(DecoderXent.Mode.ON, H200, LIMIT, Precision.TF32, 12800, 65, 512, true));
        // a block of the default 48 KiB: H128 fits, H256 does not
        assertTrue(DecoderXent.fuses(
                DecoderXent.Mode.ON, H200, PersistentRnn.DEFAULT_SHARED, Precision.FP32, 50, 65, 128, true));
        assertFalse(DecoderXent.fuses(
                DecoderXent.Mode.ON, H200, PersistentRnn.DEFAULT_SHARED, Precision.FP32, 50, 65, 256, true));
    }

    @Test
    void theKnobTakesAutoOnOff() {
        assertEquals(DecoderXent.Mode.AUTO, DecoderXent.mode());
        assertEquals(
                DecoderXent.Mode.OFF, CudaTestSupport.withProperty(DecoderXent.PROPERTY, "off", DecoderXent::mode));
        UserError e = assertThrows(
                UserError.class, () -> CudaTestSupport.withProperty(DecoderXent.PROPERTY, "yes", DecoderXent::mode));
        assertEquals("charrnn.cuda.fusedDecoder must be auto, on or off, not 'yes'", e.getMessage());
    }
}
