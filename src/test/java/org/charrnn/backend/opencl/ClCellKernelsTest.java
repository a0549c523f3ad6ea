package org.charrnn.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.charrnn.backend.device.CellKernels;
import org.charrnn.backend.device.Ref;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU variant's *_vec16 cell kernels against the per-element kernels of the GPU variant (which
 * the whole-step parity tests hold to the reference) on the same inputs: H below, at and past the
 * 16 units of a work-item, every tensor at an odd offset (unaligned vectors), pre-activations wide
 * enough to saturate the activations.
 */
@Tag("opencl")
class ClCellKernelsTest {

    @BeforeAll
    static void requireOpenCl() {
        OpenClTestSupport.assumeOpenCl();
    }

    /** Both variants' outputs agree to the fast activations' error (~1e-7) and float rounding. */
    private static final double ATOL = 2e-6, RTOL = 1e-5;

    /** The offset of every tensor in its buffer. */
    private static final int OFF = 3;

    /** One run of a cell's kernels on one queue: inputs uploaded, outputs read back in a fixed order. */
    private static final class Run implements AutoCloseable {
        final ClQueue q;
        final List<ClBuffer> buffers = new ArrayList<>();

        Run(ClQueue.Variant v) {
            q = OpenClTestSupport.queue(v);
        }

        Ref upload(float[] a) {
            ClBuffer b = q.alloc(OFF + a.length, "test");
            q.write(b, OFF, a);
            buffers.add(b);
            return new Ref(b, OFF);
        }

        /** A zero tensor of n floats, its padding before and after set to a marker. */
        Ref out(int n) {
            float[] padded = new float[OFF + n + 1];
            padded[0] = padded[OFF + n] = 12345f;
            ClBuffer b = q.alloc(padded.length, "test");
            q.write(b, 0, padded);
            buffers.add(b);
            return new Ref(b, OFF);
        }

        /** The whole buffer behind r, padding included. */
        float[] read(Ref r) {
            ClBuffer b = (ClBuffer) r.array();
            return q.read(b, 0, (int) b.floats());
        }

        CellKernels cells() {
            return q.cells();
        }

        @Override
        public void close() {
            q.close();
        }
    }

    private static float[] random(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (scale * (2 * r.nextDouble() - 1));
        return a;
    }

    private static void assertClose(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++)
            assertTrue(
                    Math.abs(got[i] - want[i]) <= ATOL + RTOL * Math.abs(want[i]),
                    what + "[" + i + "] = " + got[i] + ", per-element kernel " + want[i]);
    }

    @ParameterizedTest(name = "lstm B={0} H={1}")
    @CsvSource({"1,1", "3,15", "2,16", "3,17", "2,40", "1,64"})
    void lstmVec16MatchesPerElementKernels(int B, int H) {
        SplittableRandom r = new SplittableRandom(B * 100L + H);
        float[] gx = random(r, B * 4 * H, 12), gh = random(r, B * 4 * H, 4), bih = random(r, 4 * H, 1);
        float[] bhh = random(r, 4 * H, 1), cprev = random(r, B * H, 3), dhout = random(r, B * H, 1);
        float[] dhnext = random(r, B * H, 1), dc = random(r, B * H, 1);
        List<float[]> want = null;
        for (ClQueue.Variant v : new ClQueue.Variant[] {ClQueue.Variant.GPU, ClQueue.Variant.CPU}) {
            try (Run run = new Run(v)) {
                Ref gates = run.out(B * 4 * H), c = run.out(B * H), h = run.out(B * H), cp = run.upload(cprev);
                run.cells()
                        .lstmForward(
                                run.upload(gx),
                                run.upload(gh),
                                run.upload(bih),
                                run.upload(bhh),
                                cp,
                                gates,
                                c,
                                h,
                                B,
                                H);
                Ref dgates = run.out(B * 4 * H), dhn = run.upload(dhnext), dcr = run.upload(dc);
                run.cells().lstmBackward(run.upload(dhout), dhn, dcr, gates, cp, c, dgates, B, H);
                List<float[]> got = List.of(
                        run.read(gates), run.read(c), run.read(h), run.read(dgates), run.read(dhn), run.read(dcr));
                if (want == null) want = got;
                else for (int i = 0; i < got.size(); i++) assertClose("lstm output " + i, want.get(i), got.get(i));
            }
        }
    }

    @ParameterizedTest(name = "gru B={0} H={1}")
    @CsvSource({"1,1", "3,15", "2,16", "3,17", "2,40", "1,64"})
    void gruVec16MatchesPerElementKernels(int B, int H) {
        SplittableRandom r = new SplittableRandom(B * 100L + H + 7);
        float[] gx = random(r, B * 3 * H, 12), gh = random(r, B * 3 * H, 4), bih = random(r, 3 * H, 1);
        float[] bhh = random(r, 3 * H, 1), hprev = random(r, B * H, 1), dhout = random(r, B * H, 1);
        float[] dhnext = random(r, B * H, 1);
        List<float[]> want = null;
        for (ClQueue.Variant v : new ClQueue.Variant[] {ClQueue.Variant.GPU, ClQueue.Variant.CPU}) {
            try (Run run = new Run(v)) {
                Ref gates = run.out(B * 4 * H), h = run.out(B * H), hp = run.upload(hprev);
                run.cells()
                        .gruForward(
                                run.upload(gx), run.upload(gh), run.upload(bih), run.upload(bhh), hp, gates, h, B, H);
                Ref dgx = run.out(B * 3 * H), dgh = run.out(B * 3 * H), dhn = run.upload(dhnext);
                run.cells().gruBackward(run.upload(dhout), dhn, gates, hp, dgx, dgh, B, H);
                List<float[]> got = List.of(run.read(gates), run.read(h), run.read(dgx), run.read(dgh), run.read(dhn));
                if (want == null) want = got;
                else for (int i = 0; i < got.size(); i++) assertClose("gru output " + i, want.get(i), got.get(i));
            }
        }
    }

    @ParameterizedTest(name = "rnn B={0} H={1}")
    @CsvSource({"1,1", "3,15", "2,16", "3,17", "2,40", "1,64"})
    void rnnVec16MatchesPerElementKernels(int B, int H) {
        SplittableRandom r = new SplittableRandom(B * 100L + H + 13);
        float[] gx = random(r, B * H, 12), gh = random(r, B * H, 4), bih = random(r, H, 1), bhh = random(r, H, 1);
        float[] dhout = random(r, B * H, 1), dhnext = random(r, B * H, 1);
        List<float[]> want = null;
        for (ClQueue.Variant v : new ClQueue.Variant[] {ClQueue.Variant.GPU, ClQueue.Variant.CPU}) {
            try (Run run = new Run(v)) {
                Ref h = run.out(B * H);
                run.cells().rnnForward(run.upload(gx), run.upload(gh), run.upload(bih), run.upload(bhh), h, B, H);
                Ref dgates = run.out(B * H), dhn = run.upload(dhnext);
                run.cells().rnnBackward(run.upload(dhout), dhn, h, dgates, B, H);
                List<float[]> got = List.of(run.read(h), run.read(dgates), run.read(dhn));
                if (want == null) want = got;
                else for (int i = 0; i < got.size(); i++) assertClose("rnn output " + i, want.get(i), got.get(i));
            }
        }
    }

    @ParameterizedTest(name = "mut{0} B={1} H={2}")
    @CsvSource({"1,1,15", "2,3,16", "3,2,17", "1,1,40", "2,1,40", "3,3,33"})
    void mutVec16MatchesPerElementKernels(int v, int B, int H) {
        SplittableRandom r = new SplittableRandom(v * 10_000L + B * 100L + H);
        int gi = v == 3 ? 3 : 2, gr = v == 1 ? 2 : 3;
        float[] gx = random(r, B * gi * H, 12), gh = random(r, B * gr * H, 4), bih = random(r, gi * H, 1);
        float[] bhh = random(r, gr * H, 1), hprev = random(r, B * H, 1), x = random(r, B * H, 3);
        float[] dhout = random(r, B * H, 1), dhnext = random(r, B * H, 1), drh = random(r, B * H, 1);
        float[] dth = random(r, B * H, 1);
        List<float[]> want = null;
        for (ClQueue.Variant variant : new ClQueue.Variant[] {ClQueue.Variant.GPU, ClQueue.Variant.CPU}) {
            try (Run run = new Run(variant)) {
                CellKernels k = run.cells();
                Ref saved = run.out(B * 5 * H), h = run.out(B * H), hp = run.upload(hprev), xr = run.upload(x);
                Ref gxr = run.upload(gx), ghr = run.upload(gh), bi = run.upload(bih), bh = run.upload(bhh);
                if (v == 3) k.mutTanhH(hp, saved, B, H);
                k.mutGatesForward(v, gxr, ghr, bi, bh, hp, xr, saved, B, H);
                k.mutCandidateForward(v, gxr, ghr, bi, bh, hp, xr, saved, h, B, H);
                Ref dgx = run.out(B * gi * H), dgh = run.out(B * gr * H), dx = run.out(B * H);
                Ref dhn = run.upload(dhnext);
                k.mutCandidateBackward(v, run.upload(dhout), dhn, saved, hp, xr, dgx, dgh, dx, B, H);
                k.mutGatesBackward(v, run.upload(drh), saved, hp, dhn, dgx, dgh, dx, B, H);
                if (v == 3) k.mutTanhBackward(run.upload(dth), saved, dhn, B, H);
                List<float[]> got = List.of(
                        run.read(saved), run.read(h), run.read(dgx), run.read(dgh), run.read(dx), run.read(dhn));
                if (want == null) want = got;
                else for (int i = 0; i < got.size(); i++) assertClose("mut output " + i, want.get(i), got.get(i));
            }
        }
    }
}
