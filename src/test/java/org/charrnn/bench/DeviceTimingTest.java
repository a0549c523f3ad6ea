package org.charrnn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.charrnn.backend.Backend;
import org.charrnn.backend.BackendOptions;
import org.charrnn.backend.ClipMode;
import org.charrnn.backend.ReferenceBackend;
import org.charrnn.backend.RnnKernel;
import org.charrnn.backend.RnnState;
import org.charrnn.backend.Window;
import org.charrnn.model.CellType;
import org.charrnn.testutil.ForwardingBackend;
import org.junit.jupiter.api.Test;

/**
 * The bench on an asynchronous device, simulated: work is queued by forward/backward/clip/step and
 * only done (here: slept) in synchronize, as on CUDA. The timed region must end with a synchronize,
 * the phases must be separated by synchronizes, no host read-back may happen while timing, windows
 * must advance with the carried state, and device memory must be reported as such.
 */
class DeviceTimingTest {

    /** Logs calls; "executes" queued work in synchronize by sleeping 3 ms per queued step. */
    static final class QueuedDevice extends ForwardingBackend {
        final List<String> log = new ArrayList<>();
        final List<Window> windows = new ArrayList<>();
        final List<RnnState> states = new ArrayList<>();
        final List<Long> updates = new ArrayList<>();
        int queuedSteps;

        QueuedDevice(Backend inner) {
            super(inner);
        }

        @Override
        public String name() {
            return "cuda";
        }

        @Override
        public void forward(RnnState s, Window w, boolean training) {
            log.add("forward");
            windows.add(w);
            states.add(s);
            super.forward(s, w, training);
        }

        @Override
        public void backward() {
            log.add("backward");
            super.backward();
        }

        @Override
        public void clip(ClipMode m, double max) {
            log.add("clip " + m.id() + " " + max);
            super.clip(m, max);
        }

        @Override
        public void step(double lr, long t) {
            log.add("step " + lr);
            updates.add(t);
            queuedSteps++;
            super.step(lr, t);
        }

        @Override
        public double loss() {
            log.add("loss");
            return super.loss();
        }

        @Override
        public double gradNorm() {
            log.add("gradNorm");
            return super.gradNorm();
        }

        @Override
        public void synchronize() {
            log.add("sync");
            try {
                Thread.sleep(3L * queuedSteps);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            queuedSteps = 0;
        }

        @Override
        public long peakMemoryBytes() {
            return 3L << 20;
        }
    }

    @Test
    void timedStepsEndWithSynchronizeAndPhasesAreSeparated() {
        QueuedDevice[] dev = new QueuedDevice[1];
        BenchSpec spec = new BenchSpec(CellType.LSTM, 1, 4, 2, 3);
        BenchResult r = BenchRunner.run(
                spec,
                cfg -> dev[0] = new QueuedDevice(
                        new ReferenceBackend(cfg, BackendOptions.defaults().withThreads(1))),
                new BenchRunner.Settings(3, 2, 2, 5),
                true,
                RnnKernel.AUTO,
                (done, total, detail) -> {});
        List<String> log = dev[0].log;
        List<String> step = List.of("forward", "backward", "clip norm 5.0", "step 0.002");
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 2; i++) expected.addAll(step); // warmup, unsynchronized
        expected.add("sync");
        for (int i = 0; i < 3; i++) { // timed: step, then synchronize
            expected.addAll(step);
            expected.add("sync");
        }
        // instrumented split
        for (int i = 0; i < 2; i++)
            expected.addAll(
                    List.of("sync", "forward", "sync", "backward", "sync", "clip norm 5.0", "step 0.002", "sync"));
        expected.add("loss"); // after all timing
        assertEquals(expected, log);
        assertFalse(log.contains("gradNorm"));

        // the device work (3 ms per step, done in synchronize) is inside every timed step
        assertTrue(r.msMin() >= 3.0, "min " + r.msMin());
        assertTrue(r.updateMs() >= 3.0, "update phase includes its synchronize: " + r.updateMs());

        // windows advance through the tokens as the trainer's, with one carried state and Adam's t = 1, 2, ...
        List<Window> w = dev[0].windows;
        assertEquals(7, w.size());
        long perStream = 7L * 3 + 1;
        for (int k = 0; k < w.size(); k++) {
            assertEquals(k, w.get(k).iteration());
            assertEquals(3, w.get(k).seqLen());
            for (int b = 0; b < 2; b++)
                assertEquals(b * perStream + k * 3L, w.get(k).starts()[b]);
            assertSame(dev[0].states.get(0), dev[0].states.get(k));
        }
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), dev[0].updates);

        assertEquals("charrnn-cuda", r.impl());
        assertTrue(r.graph());
        assertEquals("device", r.memKind());
        assertEquals(3.0, r.peakMemMib(), 1e-12);
    }
}
