package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.device.DeviceOps;
import org.charrnn.backend.device.Ref;
import org.charrnn.model.CellType;
import org.charrnn.model.ModelConfig;
import org.charrnn.testutil.Models;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The side stream's marks ({@link DeviceOps#sideMark}, {@link DeviceOps#joinSide(long)}) as the
 * layer pipeline uses them: a join of a mark orders the main stream after the side work queued
 * before the mark, and only that; a mark from before a join of all the side work is refused; with
 * no side work since such a join there is nothing to mark.
 */
@Tag("gpu")
class CudaSideMarksTest {
    private static final int N = 4;
    private static final ModelConfig CONFIG = Models.config(CellType.LSTM, 5, 4, 4, 2, 0.0);

    @Test
    void aMarkOrdersTheMainStreamAfterTheSideWorkBeforeIt() {
        CudaTestSupport.assumeCuda();
        try (CudaOps ops = new CudaOps(CONFIG, BackendOptions.defaults())) {
            ops.pipelinesLayers(1, true, true); // opens the side stream
            Ref a = Ref.of(ops.alloc(4L * N, "a")), c = Ref.of(ops.alloc(4L * N, "c"));
            assertEquals(DeviceOps.NO_SIDE_MARK, ops.sideMark(), "no side work yet");
            ops.onSide(() -> ops.fill(a, N, 1f));
            long mark = ops.sideMark();
            ops.joinSide(mark);
            ops.copy(c, a, N);
            assertArrayEquals(new float[] {1, 1, 1, 1}, ops.download(c, N));
            ops.joinSide();
            assertEquals(DeviceOps.NO_SIDE_MARK, ops.sideMark(), "no side work since the join");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ops.joinSide(mark));
            assertEquals("a mark of the side stream joined after a join of all its work", e.getMessage());
        }
    }

    /** On the emulated device the side work runs as late as CUDA allows: what comes after a mark has not. */
    @Test
    @Tag("emulator") // skips on a GPU: gpu-check.sh's junit step leaves it out
    void aMarkDoesNotWaitForTheSideWorkAfterIt() {
        CudaTestSupport.assumeEmulated();
        try (CudaOps ops = new CudaOps(CONFIG, BackendOptions.defaults())) {
            ops.pipelinesLayers(1, true, true);
            Ref a = Ref.of(ops.alloc(4L * N, "a")), b = Ref.of(ops.alloc(4L * N, "b"));
            Ref c = Ref.of(ops.alloc(4L * N, "c")), d = Ref.of(ops.alloc(4L * N, "d"));
            ops.onSide(() -> ops.fill(a, N, 1f));
            long first = ops.sideMark();
            ops.onSide(() -> ops.fill(b, N, 2f));
            ops.joinSide(first);
            ops.copy(c, a, N);
            ops.copy(d, b, N);
            assertArrayEquals(new float[] {1, 1, 1, 1}, ops.download(c, N));
            assertArrayEquals(new float[N], ops.download(d, N), "the second side fill ran before its join");
            ops.joinSide();
        }
    }
}
