package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The choice between the whole-window recurrence kernels and the per-step ones (made once per
 * backend from the device's kernel variant, the cell and --rnn-kernel), and the row block of a
 * work-item. No OpenCL device needed.
 */
class ClWindowChoiceTest {

    private static ClDevice device(boolean gpu, boolean cpu) {
        return new ClDevice(0, null, null, "platform", "device", 1L << 30, 1L << 28, gpu, cpu, 1024);
    }

    private static String reason(RnnKernel k, ClDevice d, CellType cell) {
        return ClWindowKernels.stepwiseReason(k, ClQueue.variant(d, null), cell);
    }

    @Test
    void aCpuDeviceRunsTheWindowKernelsAndAGpuDeviceStepwise() {
        ClDevice cpu = device(false, true), gpu = device(true, false), accelerator = device(false, false);
        for (CellType c : new CellType[] {CellType.LSTM, CellType.GRU, CellType.RNN}) {
            assertNull(reason(RnnKernel.AUTO, cpu, c), c.id());
            assertNull(reason(RnnKernel.PERSISTENT, cpu, c), c.id());
            assertEquals("the window kernels are for CPU devices", reason(RnnKernel.AUTO, gpu, c));
            assertEquals("the window kernels are for CPU devices", reason(RnnKernel.AUTO, accelerator, c));
            assertEquals("--rnn-kernel stepwise", reason(RnnKernel.STEPWISE, cpu, c));
            assertEquals("--rnn-kernel stepwise", reason(RnnKernel.STEPWISE, gpu, c));
        }
    }

    @Test
    void theMutCellsHaveNoWindowKernel() {
        assertEquals("no window kernel for mut1", reason(RnnKernel.AUTO, device(false, true), CellType.MUT1));
        UserError e =
                assertThrows(UserError.class, () -> reason(RnnKernel.PERSISTENT, device(false, true), CellType.MUT3));
        assertEquals("BackendOptions.rnnKernel persistent: no window kernel for mut3", e.getMessage());
    }

    @Test
    void persistentOnAGpuDeviceSaysWhyNot() {
        UserError e =
                assertThrows(UserError.class, () -> reason(RnnKernel.PERSISTENT, device(true, false), CellType.LSTM));
        assertEquals("BackendOptions.rnnKernel persistent: the window kernels are for CPU devices", e.getMessage());
    }

    @Test
    void theVariantOverrideDecidesAsTheDeviceTypeWould() {
        assertEquals(
                "the window kernels are for CPU devices",
                ClWindowKernels.stepwiseReason(
                        RnnKernel.AUTO, ClQueue.variant(device(false, true), "gpu"), CellType.LSTM));
        assertNull(ClWindowKernels.stepwiseReason(
                RnnKernel.AUTO, ClQueue.variant(device(true, false), "cpu"), CellType.GRU));
    }

    @ParameterizedTest(name = "B={0} on {1} threads: {2} rows a work-item")
    @CsvSource({"1,1,1", "1,2,1", "2,2,1", "3,1,2", "9,2,3", "16,2,4", "50,1,25", "50,2,13", "50,4,7", "64,2,16"})
    void rowsPerItem(int B, int units, int rows) {
        assertEquals(rows, ClWindowKernels.rowsPerItem(B, units));
    }

    @ParameterizedTest(name = "{0} rows a work-item: blocks of {1}")
    @CsvSource({"1,1", "2,2", "3,3", "5,5", "7,7", "8,8", "9,5", "10,5", "13,7", "16,8", "25,5", "50,8"})
    void rowBlock(int rows, int block) {
        assertEquals(block, ClWindowKernels.rowBlock(rows));
    }

    @Test
    void theItemsCoverTheBatchWithinTheKernelsBlocks() {
        for (int units = 1; units <= 8; units++)
            for (int B = 1; B <= 200; B++) {
                int rows = ClWindowKernels.rowsPerItem(B, units), items = (B + rows - 1) / rows;
                int rb = ClWindowKernels.rowBlock(rows);
                assertTrue(
                        items <= units * ClWindowKernels.ITEMS_PER_THREAD && (long) items * rows >= B, B + "/" + units);
                assertTrue(rb >= 1 && rb <= Math.min(rows, ClWindowKernels.MAX_BLOCK), rows + ": " + rb);
            }
    }
}
