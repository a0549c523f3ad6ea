package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * LaunchShapes, the host's launch shapes that follow the problem's size, are common.cuh's (the
 * native test_loss and test_reduce_optim check the same values, and the kernels at these shapes and
 * others).
 */
class LaunchShapesTest {

    /** softmax_xent's block (cr_row_block): a thread for every 4 values, one warp to CR_ROW_BLOCK. */
    @ParameterizedTest(name = "V={0}")
    @CsvSource({"1, 32", "20, 32", "65, 32", "128, 32", "129, 64", "256, 64", "257, 128", "1024, 256", "5000, 256"})
    void rowBlockIsAThreadForEveryFourValuesFromOneWarpToTheRowBlock(int V, int threads) {
        assertEquals(threads, LaunchShapes.rowBlock(V));
    }

    /**
     * A column sum's block (cr_col_width, cr_col_lanes): powers of two up to 32 columns, no more than
     * C, and up to 32 lanes, a lane for every 8 rows.
     */
    @ParameterizedTest(name = "C={0} N={1}")
    @CsvSource({
        "1, 0, 1, 1",
        "7, 8, 8, 1",
        "7, 15, 8, 2",
        "32, 32, 32, 4",
        "16, 35, 16, 8",
        "64, 128, 32, 16",
        "64, 129, 32, 32",
        "33, 2500, 32, 32",
        "1024, 12800, 32, 32"
    })
    void columnBlocksAreNoWiderOrTallerThanTheColumnsAndRows(long C, long N, int width, int lanes) {
        assertEquals(width, LaunchShapes.colWidth(C));
        assertEquals(lanes, LaunchShapes.colLanes(N));
    }

    /** A grid-stride kernel's most blocks (cr_wave_blocks): one wave of 2048 threads an SM, in blocks of 256. */
    @ParameterizedTest(name = "SMs={0}")
    @CsvSource({"0, 8", "1, 8", "2, 16", "132, 1056"})
    void waveBlocksAreEightBlocksOfTwoHundredFiftySixAnSm(int sms, int blocks) {
        assertEquals(blocks, LaunchShapes.waveBlocks(sms));
    }

    /** global_norm's blocks (cr_norm_partials): one per 8 x 256 values, 1 to CR_MAX_PARTIALS. */
    @ParameterizedTest(name = "n={0}")
    @CsvSource({"0, 1", "2048, 1", "2049, 2", "56000, 28", "2097152, 1024", "3221225472, 1024"})
    void normPartialsAreABlockPerEightValuesAThreadUpToTheCap(long n, int blocks) {
        assertEquals(blocks, LaunchShapes.partials(n));
    }
}
