package org.charrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * The step block as the device reads it (little-endian): B int64 starts, then lr, bc1, bc2 as
 * floats and the iteration as a 32-bit word; the scalars survive a resize, and the block reports a
 * change once per change.
 */
class StepValuesTest {

    private static ByteBuffer bytes(StepValues v) {
        ByteBuffer b = ByteBuffer.allocate((int) v.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (long w : v.words()) b.putLong(w);
        return b.flip();
    }

    @Test
    void theBlockIsStartsThenLrBiasCorrectionsAndIteration() {
        StepValues v = new StepValues();
        assertTrue(v.takeChanged(), "a new block is copied whole the first time");
        v.resize(3);
        v.starts(new long[] {5, 1L << 40, 7});
        v.iteration(-2); // the kernels read it as uint32: all 32 bits travel
        v.hyper(1e-3f, 0.1f, 0.001f);
        assertEquals(40, v.bytes());
        assertEquals(24, v.scalarsOffset());
        ByteBuffer b = bytes(v);
        assertEquals(5, b.getLong(0));
        assertEquals(1L << 40, b.getLong(8));
        assertEquals(7, b.getLong(16));
        assertEquals(1e-3f, b.getFloat(24));
        assertEquals(0.1f, b.getFloat(28));
        assertEquals(0.001f, b.getFloat(32));
        assertEquals(-2, b.getInt(36));
        assertTrue(v.takeChanged());
        assertFalse(v.takeChanged(), "nothing changed since the last copy");
        v.iteration(4);
        assertTrue(v.takeChanged());
        assertEquals(0.001f, bytes(v).getFloat(32), "the iteration leaves bc2 alone");
    }

    @Test
    void aResizeKeepsTheScalarsAfterTheNewStarts() {
        StepValues v = new StepValues();
        v.hyper(2f, 3f, 4f);
        v.iteration(11);
        long[] before = v.words().clone();
        v.resize(2);
        assertArrayEquals(new long[] {0, 0, before[0], before[1]}, v.words());
        assertEquals(16, v.scalarsOffset());
        v.takeChanged();
        v.resize(1);
        assertTrue(v.takeChanged(), "a moved block is copied whole");
        assertEquals(2f, bytes(v).getFloat(8));
        assertEquals(11, bytes(v).getInt(20));
    }

    @Test
    void startsOfAnotherBatchAreRefused() {
        StepValues v = new StepValues();
        v.resize(4);
        assertThrows(IllegalArgumentException.class, () -> v.starts(new long[3]));
    }
}
