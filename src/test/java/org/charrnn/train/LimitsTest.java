package org.charrnn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** A run's length from its limits, and the error of a resume with nothing left to train. */
class LimitsTest {
    @Test
    void theRunEndsAtTheFirstLimitItReaches() {
        assertEquals(132, new TrainConfig.Limits(3, 0).total(44));
        assertEquals(100, new TrainConfig.Limits(3, 100).total(44));
        assertEquals(132, new TrainConfig.Limits(3, 500).total(44));
    }

    @Test
    void aResumePastTheEndNamesTheLimitThatEndsIt() {
        assertEquals(
                "the run is already at iteration 100, the end of Limits.maxIters 100: nothing to train; raise"
                        + " Limits.maxIters to continue it",
                new TrainConfig.Limits(3, 100).reachedAt(100, 44).getMessage());
        assertEquals(
                "the run is already at iteration 140, past Limits.maxEpochs 3 (132 iterations): nothing to train;"
                        + " raise Limits.maxEpochs to continue it",
                new TrainConfig.Limits(3, 500).reachedAt(140, 44).getMessage());
        assertEquals(
                "the run is already at iteration 132, the end of Limits.maxEpochs 3 (132 iterations): nothing to"
                        + " train; raise Limits.maxEpochs to continue it",
                new TrainConfig.Limits(3, 0).reachedAt(132, 44).getMessage());
    }
}
