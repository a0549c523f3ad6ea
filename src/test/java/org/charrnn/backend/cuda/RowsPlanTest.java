package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The host's copy of the row-stationary backward's layout (persistent_rows.cuh) gives the values
 * that cr_rows_plan, persistent_rows_shared_bytes and persistent_rows_exchange_floats give for the
 * same shapes: a launch with fewer shared bytes, or a smaller exchange, than the kernel's plan would
 * let it write past them, so these must match exactly.
 */
class RowsPlanTest {

    @ParameterizedTest(name = "{0} G={1} U={2} H={3} B={4}")
    @CsvSource({
        // arithmetic, G, U, H, B, BP, P, ND, shared bytes, exchange floats: printed by cr_rows_plan,
        // persistent_rows_shared_bytes and persistent_rows_exchange_floats (2026-12-03)
        "FP32, 4, 2, 256, 50, 52, 128, 128, 61456, 3276800",
        "FP32, 3, 2, 256, 50, 52, 128, 128, 58992, 3276800",
        "FP32, 4, 4, 512, 128, 128, 128, 32, 108544, 16777216",
        "FP32, 4, 8, 1024, 128, 128, 128, 16, 217088, 33554432",
        "FP32, 3, 8, 1024, 128, 128, 128, 16, 180224, 33554432",
        "FP32, 4, 2, 256, 1, 4, 128, 128, 9360, 65536",
        "FP32, 4, 1, 1, 1, 4, 1, 1, 112, 2",
        "FP32, 4, 5, 33, 3, 4, 7, 7, 3456, 1470",
        "FP32, 4, 33, 229, 37, 40, 7, 7, 181120, 119658",
        "FP32, 3, 3, 33, 5, 8, 11, 11, 2224, 3630",
        "FP32, 4, 12, 1500, 128, 128, 125, 10, 380160, 48000000",
        "BF16, 4, 2, 256, 50, 52, 128, 128, 57360, 3276800",
        "BF16, 4, 8, 1024, 128, 128, 128, 16, 151552, 33554432",
        "BF16, 4, 33, 229, 37, 40, 7, 7, 120672, 119658",
        "BF16, 3, 5, 33, 3, 4, 7, 7, 1728, 1470",
        "TF32_MMA, 4, 2, 256, 50, 52, 128, 128, 61456, 3276800",
        "BF16_MMA, 3, 8, 1024, 128, 128, 128, 16, 131072, 33554432",
    })
    void matchesTheKernelsPlan(
            ProductArithmetic a, int g, int u, int h, int b, int bp, int p, int nd, long bytes, long exchange) {
        RowsPlan plan = RowsPlan.of(g, u, h, b, a);
        assertEquals(g * u, plan.rows());
        assertEquals(bp, plan.batchPad());
        assertEquals(p, plan.blocks());
        assertEquals(nd, plan.destinations());
        assertEquals(bytes, plan.bytes());
        assertEquals(exchange, plan.exchangeFloats(1));
        assertEquals((p + nd - 1) / nd, plan.tiles());
    }

    /** A launch in NG batch groups: the plan of one group's ceil(B / NG) rows, the exchange of NG groups. */
    @ParameterizedTest(name = "U={0} H={1} B={2} NG={3}")
    @CsvSource({
        // U, H, B, NG, exchange floats: printed by persistent_rows_exchange_floats(U, H, B, NG) (2026-12-05)
        "17, 33, 7, 3, 1224",
        "8, 256, 50, 4, 851968",
        "2, 256, 50, 1, 3276800",
        "5, 33, 3, 2, 1960",
        "16, 512, 128, 4, 4194304",
    })
    void exchangeOfBatchGroups(int u, int h, int b, int ng, long exchange) {
        assertEquals(
                exchange,
                RowsPlan.of(4, u, h, (b + ng - 1) / ng, ProductArithmetic.FP32).exchangeFloats(ng));
    }
}
