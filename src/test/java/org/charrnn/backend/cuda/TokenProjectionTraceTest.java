package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
import org.charrnn.backend.Precision;
import org.charrnn.backend.RnnKernel;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.Properties;
import org.charrnn.util.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Layer 0's input projection by token (device.TokenProjection, -Dcharrnn.tokenProjection), as the
 * step trace sees it: which GEMMs a step runs with and without it, where auto takes it, that the
 * cells feeding their input directly never do, and that the model prices it cheaper on the bench's
 * rows. The numbers it computes are checked against the fp64 reference by
 * CudaTokenProjectionTest and OpenClTokenProjectionTest.
 */
class TokenProjectionTraceTest {
    private static final String PROPERTY = "charrnn.tokenProjection";

    private static ModelConfig config(CellType cell) {
        return new ModelConfig(cell, 65, 128, 128, 1, 0.0);
    }

    /** The names of a B 50 T 50 TF32 step's operations with the property at {@code mode} (null: unset). */
    private static List<String> ops(ModelConfig cfg, String mode) {
        return with(
                mode,
                () -> StepCostModel.trace(cfg, 50, 50, Precision.TF32, RnnKernel.AUTO).ops().stream()
                        .map(StepTrace.Op::name)
                        .toList());
    }

    private static <T> T with(String mode, Supplier<T> work) {
        return Properties.with(PROPERTY, mode, work);
    }

    @Test
    void autoProjectsByTokenWhereTheVocabularyIsSmallerThanTheWindow() {
        ModelConfig cfg = config(CellType.LSTM); // V 65 < N 2500; Gi 512, E 128
        for (String mode : new String[] {null, "auto", "on"}) {
            List<String> ops = ops(cfg, mode);
            // forward: P [65,512] = Emb W_ih^T, its rows gathered; no GEMM over the window's 2500 rows
            assertTrue(ops.contains("gemm 65x512x128"), mode + ": " + ops);
            assertFalse(ops.contains("gemm 2500x512x128"), mode + ": " + ops);
            // backward: dEmb = S W_ih and dW_ih = S^T Emb from the token sums, no dX [2500,128]
            assertTrue(ops.contains("gemm 65x128x512") && ops.contains("gemm 512x128x65"), mode + ": " + ops);
            assertFalse(ops.contains("gemm 2500x128x512"), mode + ": " + ops);
            assertEquals(1, ops.stream().filter("embedding_backward"::equals).count(), mode + ": " + ops);
        }
        List<String> off = ops(cfg, "off");
        assertTrue(off.contains("gemm 2500x512x128") && off.contains("gemm 2500x128x512"), off.toString());
        assertFalse(off.contains("gemm 65x512x128"), off.toString());
    }

    @Test
    void theBiasesSumTheTokenSumsNotTheWindowsRows() {
        ModelConfig cfg = config(CellType.LSTM); // one layer: its bias sums are the step's only pair
        double on = biasSumUs(cfg, "on"), off = biasSumUs(cfg, "off");
        // db_ih, db_hh from S's 65 rows of 512 (by token) against dgx's 2500 rows (by row)
        assertTrue(on < off, "by token " + on + " µs, by row " + off + " µs");
    }

    /** The µs of the one "column_sum (two outputs)" of a B 50 T 50 TF32 step with the property at {@code mode}. */
    private static double biasSumUs(ModelConfig cfg, String mode) {
        List<StepTrace.Op> sums = with(
                mode,
                () -> StepCostModel.trace(cfg, 50, 50, Precision.TF32, RnnKernel.AUTO).ops().stream()
                        .filter(o -> o.name().equals("column_sum (two outputs)"))
                        .toList());
        assertEquals(1, sums.size(), mode + ": " + sums);
        return sums.get(0).us();
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN"})
    void aPersistentForwardReadsTheTableByTokenSoOnlyTheIdsAreGathered(CellType cell) {
        ModelConfig cfg = config(cell);
        for (RnnKernel kernel : new RnnKernel[] {RnnKernel.PERSISTENT, RnnKernel.STEPWISE}) {
            List<String> ops = with(
                    "on",
                    () -> StepCostModel.trace(cfg, 50, 50, Precision.TF32, kernel).ops().stream()
                            .map(StepTrace.Op::name)
                            .toList());
            // persistent: the window's ids, no [2500, Gi] copy of P's rows; stepwise: the cells read those rows
            boolean byToken = kernel == RnnKernel.PERSISTENT;
            assertEquals(byToken, ops.contains("gather_window"), kernel + ": " + ops);
            assertEquals(!byToken, ops.contains("gather_embed"), kernel + ": " + ops);
        }
    }

    @Test
    void autoLeavesWindowsNoLargerThanTheVocabulary() {
        ModelConfig cfg = new ModelConfig(CellType.LSTM, 65, 33, 33, 1, 0.0);
        // N = 5 x 12 = 60 rows, fewer than V 65: the input projection over the window's rows, no table
        List<String> auto = with(
                null,
                () -> StepCostModel.trace(cfg, 5, 12, Precision.FP32, RnnKernel.AUTO).ops().stream()
                        .map(StepTrace.Op::name)
                        .toList());
        assertTrue(auto.contains("gemm 60x132x33") && !auto.contains("gemm 65x132x33"), auto.toString());
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"MUT1", "MUT2"})
    void cellsThatFeedTheirInputDirectlyNeverProjectByToken(CellType cell) {
        ModelConfig cfg = config(cell);
        assertEquals(ops(cfg, "off"), ops(cfg, "on"));
    }

    @ParameterizedTest
    @EnumSource(
            value = CellType.class,
            names = {"LSTM", "GRU", "RNN", "MUT3"})
    void theModelPricesAStepByTokenCheaper(CellType cell) {
        ModelConfig cfg = config(cell);
        for (Precision p : new Precision[] {Precision.FP32, Precision.TF32}) {
            double on = with(
                    "on",
                    () -> StepCostModel.predict(cfg, 50, 50, p, RnnKernel.AUTO).total());
            double off = with(
                    "off",
                    () -> StepCostModel.predict(cfg, 50, 50, p, RnnKernel.AUTO).total());
            assertTrue(on < off, cell + " " + p + ": by token " + on + " ms, by row " + off + " ms");
        }
    }

    @Test
    void aBadValueIsAOneLineError() {
        ModelConfig cfg = config(CellType.LSTM);
        UserError e = assertThrows(UserError.class, () -> ops(cfg, "sometimes"));
        assertEquals("charrnn.tokenProjection must be auto, on or off, not 'sometimes'", e.getMessage());
    }
}
