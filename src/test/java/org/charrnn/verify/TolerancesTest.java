package org.charrnn.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.charrnn.backend.Precision;
import org.junit.jupiter.api.Test;

/** The tolerance tables: complete, ordered by precision, and chosen per precision. */
class TolerancesTest {

    /** Every row is there and has an absolute part: a relative-only bound fails every value near zero. */
    @Test
    void everyTableHasEveryKind() {
        for (Tolerances t : new Tolerances[] {Tolerances.fp32(), Tolerances.tf32(), Tolerances.bf16()})
            for (Tolerances.Kind k : Tolerances.Kind.values()) {
                Tolerances.Tol tol = t.of(k);
                assertNotNull(tol, k.name());
                assertTrue(tol.atol() > 0 && tol.rtol() >= 0, k + ": " + tol);
            }
    }

    @Test
    void fewerMantissaBitsNeverTightenARow() {
        for (Tolerances.Kind k : Tolerances.Kind.values()) {
            Tolerances.Tol f = Tolerances.fp32().of(k),
                    t = Tolerances.tf32().of(k),
                    b = Tolerances.bf16().of(k);
            assertTrue(t.atol() >= f.atol() && t.rtol() >= f.rtol(), "tf32 vs fp32 " + k);
            assertTrue(b.atol() >= t.atol() && b.rtol() >= t.rtol(), "bf16 vs tf32 " + k);
        }
    }

    @Test
    void bf16RowsAdmitRoundingErrorButNotAWrongValue() {
        Tolerances.Tol grad = Tolerances.bf16().of(Tolerances.Kind.GRAD_WEIGHT_HH);
        Tolerances.Tol state = Tolerances.bf16().of(Tolerances.Kind.STATE);
        Tolerances.Tol loss = Tolerances.bf16().of(Tolerances.Kind.LOSS);
        double u = 1.0 / 256; // one bf16 ulp at 1
        assertTrue(grad.ok(0.05 * (1 + u), 0.05));
        assertFalse(grad.ok(-0.05, 0.05)); // a sign error
        assertFalse(grad.ok(0.05 * 1.2, 0.05)); // 20% off
        assertTrue(state.ok(0.5 * (1 + 2 * u), 0.5));
        assertFalse(state.ok(0.3, 0.5));
        assertTrue(loss.ok(2.9957 + 1e-3, 2.9957));
        assertFalse(loss.ok(2.9957 * 1.01, 2.9957));
    }

    @Test
    void tableFollowsThePrecision() {
        assertEquals(Tolerances.fp32(), Tolerances.forPrecision(Precision.FP32));
        assertEquals(Tolerances.fp32(), Tolerances.forPrecision(Precision.FP64));
        assertEquals(Tolerances.tf32(), Tolerances.forPrecision(Precision.TF32));
        assertEquals(Tolerances.bf16(), Tolerances.forPrecision(Precision.BF16));
    }
}
