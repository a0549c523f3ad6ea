package org.charrnn.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void parsesWhatPeopleWrite() {
        assertEquals(Duration.ofSeconds(90), Durations.parse("90s"));
        assertEquals(Duration.ofMinutes(45), Durations.parse("45m"));
        assertEquals(Duration.ofMinutes(90), Durations.parse("1h30m"));
        assertEquals(Duration.ofMinutes(90), Durations.parse("1.5h"));
        assertEquals(Duration.ofHours(36), Durations.parse("1d12h"));
        assertEquals(Duration.ZERO, Durations.parse("0"));
    }

    @Test
    void formatReadsBack() {
        for (Duration d : new Duration[] {
            Duration.ZERO, Duration.ofSeconds(45), Duration.ofMinutes(90), Duration.ofHours(49), Duration.ofMillis(1500)
        }) assertEquals(d, Durations.parse(Durations.format(d)), Durations.format(d));
        assertEquals("1h30m", Durations.format(Duration.ofMinutes(90)));
    }

    @Test
    void rejectsWhatItCannotRead() {
        for (String bad : new String[] {"", "10", "h", "1x", "1h 30m", "-5m", "1h30"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
            assertTrue(e.getMessage().contains("e.g. 90s, 45m, 2h"), e.getMessage());
        }
    }

    /** A duration must fit Duration.toNanos, which the trainer's clock uses; the limit is far above any run. */
    @Test
    void rejectsWhatNoClockHolds() {
        assertEquals(Duration.ofDays(Durations.MAX_DAYS), Durations.parse(Durations.MAX_DAYS + "d"));
        assertEquals(
                Durations.MAX_DAYS * 86_400_000_000_000L,
                Durations.parse(Durations.MAX_DAYS + "d").toNanos());
        for (String bad : new String[] {"100001d", "99999999999h", "1" + "0".repeat(400) + "s"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
            assertEquals("duration '" + bad + "' is longer than 100000d", e.getMessage());
        }
    }
}
