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
        assertEquals(5, DecoderXent.groups(2500, 132), "one round of 125 tiles of 20 rows, not two of 12");
        assertEquals(1, DecoderXent.groups(1, 132));
        assertEquals(5, DecoderXent.groups(12800, 132), "5 rounds of 20 rows, not 4 of 32");
        assertEquals(DecoderXent.MAX_GROUPS, DecoderXent.groups(64, 1));
        assertEquals(20, DecoderXent.rows(5));
        assertEquals(8, DecoderXent.stride(1));
        assertEquals(132, DecoderXent.stride(128));
        assertEquals(4L * (65 * 132 + 20 * 132 + 20 * 66), DecoderXent.sharedBytes(65, 128, 5));
        assertEquals(125, DecoderXent.blocks(2500, 5, 132), "a block a tile");
        assertEquals(132, DecoderXent.blocks(2500, 1, 132), "a block an SM");
        assertEquals(2, DecoderXent.blocks(5, 1, 132), "no more blocks than tiles");
    }

    /** Where the preferred tile's block outgrows the limit the launch takes fewer groups: 4 of H128 in 48 KiB. */
    @Test
    void aLaunchTakesTheGroupsThatFit() {
        int limit = PersistentRnn.DEFAULT_SHARED;
        assertTrue(DecoderXent.sharedBytes(65, 128, 5) > limit);
        assertEquals(4, DecoderXent.groups(2500, 65, 128, 132, limit));
        assertTrue(DecoderXent.sharedBytes(65, 128, 4) <= limit);
        assertEquals(1, DecoderXent.groups(2500, 65, 256, 132, limit), "none fits: the fewest");
        assertEquals(5, DecoderXent.groups(2500, 65, 256, 132, LIMIT));
    }

    @Test
    void theSmallRowsFuseAndTheLargeOnesDoNot() {
        for (Precision p : new Precision[] {Precision.FP32, Precision.TF32}) {
            // LSTM L1 H128 B50 T50: the fused kernel is priced below the three launches it replaces
            assertTrue(
                    DecoderXent.fusedUs(H200, LIMIT, 2500, 65, 128, true)
                            < DecoderXent.unfusedUs(H200, p, 2500, 65, 128, true),
                    p.toString());
            assertTrue(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, p, 2500, 65, 128, true), p.toString());
            // H256 (8.4 µs against cuBLAS's 12.9 fp32, 10.4 TF32); H512 below them in fp32 only
            assertTrue(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, p, 2500, 65, 256, true), p.toString());
            assertEquals(
                    p == Precision.FP32, DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, p, 2500, 65, 512, true));
            // H1024: W_dec alone is 260 KiB, more than a block's shared memory, even when forced
            assertFalse(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, p, 12800, 65, 1024, true));
            assertFalse(DecoderXent.fuses(DecoderXent.Mode.ON, H200, LIMIT, p, 12800, 65, 1024, true));
            assertFalse(DecoderXent.fuses(DecoderXent.Mode.OFF, H200, LIMIT, p, 2500, 65, 128, true));
        }
        // bf16 prices cuBLAS's GEMMs on tensor cores too: H256 fuses, H512 does not
        assertTrue(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, Precision.BF16, 2500, 65, 256, true));
        assertFalse(DecoderXent.fuses(DecoderXent.Mode.AUTO, H200, LIMIT, Precision.BF16, 2500, 65, 512, true));
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
