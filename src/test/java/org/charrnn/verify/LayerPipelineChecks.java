package org.charrnn.verify;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.charrnn.model.CellType;

/**
 * The device backends' tests of the layers pipelined by chunks of the window
 * (CudaLayerPipelineTest, OpenClLayerPipelineTest): whole training steps against the fp64
 * reference with -Dcharrnn.layerPipeline=on at chunks that do not divide T (the last one
 * shorter), one step per chunk, one chunk for the whole window, T = 1 and B = 1, at L 2, 3 (the
 * third layer back on the main queue) and 4 (two layers on each queue), with layer 0 projected by token (V 11 < N) and by row (V 300),
 * and with dropout (each chunk draws its share of the layer's mask); and with one pass pipelined,
 * the other's layers one after another (=forward, =backward: the one gx / dgx buffer handed between
 * a pass by chunks and one by whole layers).
 */
public final class LayerPipelineChecks {
    private LayerPipelineChecks() {}

    /** One shape and the steps per chunk it runs at. */
    record Case(Verifier.Shape shape, int chunk) {}

    /** Runs every case of {@code cell} on {@code backend} with both passes pipelined; fails with the Verifier's table. */
    public static void run(Verifier.Factory backend, CellType cell, long seed) {
        run(backend, cell, seed, "on", 7);
    }

    /**
     * Runs the first {@code first} cases of {@code cell} on {@code backend} with -Dcharrnn.layerPipeline
     * = {@code mode} (on, forward, backward); fails with the Verifier's table.
     */
    public static void run(Verifier.Factory backend, CellType cell, long seed, String mode, int first) {
        List<Case> cases = List.of(
                new Case(new Verifier.Shape(cell, 11, 7, 33, 2, 3, 7, 0.0), 3),
                new Case(new Verifier.Shape(cell, 11, 6, 12, 3, 2, 5, 0.4), 2),
                new Case(new Verifier.Shape(cell, 11, 5, 10, 4, 2, 6, 0.0), 2),
                new Case(new Verifier.Shape(cell, 11, 5, 9, 3, 1, 5, 0.0), 2),
                new Case(new Verifier.Shape(cell, 300, 8, 20, 3, 2, 4, 0.0), 1),
                new Case(new Verifier.Shape(cell, 11, 6, 17, 2, 4, 3, 0.0), 5),
                new Case(new Verifier.Shape(cell, 6, 5, 9, 2, 1, 1, 0.0), 1));
        String oldOn = System.setProperty("charrnn.layerPipeline", mode);
        String oldChunk = System.getProperty("charrnn.pipelineChunk");
        try {
            for (Case c : cases.subList(0, first)) {
                System.setProperty("charrnn.pipelineChunk", Integer.toString(c.chunk()));
                List<Verifier.Check> checks = Verifier.againstReference(backend)
                        .run(c.shape(), seed + c.shape().label().hashCode());
                assertFalse(checks.isEmpty());
                assertTrue(
                        Verifier.allPassed(checks),
                        () -> mode + ", chunk " + c.chunk() + "\n" + Verifier.table(checks));
            }
        } finally {
            restore("charrnn.layerPipeline", oldOn);
            restore("charrnn.pipelineChunk", oldChunk);
        }
    }

    private static void restore(String key, String old) {
        if (old == null) System.clearProperty(key);
        else System.setProperty(key, old);
    }
}
