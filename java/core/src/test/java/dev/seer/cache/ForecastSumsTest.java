package dev.seer.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ForecastSumsTest {
    @Test
    void autoSumsOnlyAboveTheThresholdOnAlwaysOffNever() {
        long t = ForecastSums.AUTO_MIN_FACTOR_BYTES;
        assertFalse(ForecastSums.AUTO.appliesTo(t));
        assertTrue(ForecastSums.AUTO.appliesTo(t + 1));
        // DiT-S/2 with guidance at order 2: 24 branches x 3 factors x (2 x 256 x 384) floats, 56.6 MB
        assertTrue(ForecastSums.AUTO.appliesTo(24L * 3 * 2 * 256 * 384 * 4));
        // the shipped Fashion-MNIST DiT, batch 20: 12 x 3 x (20 x 49 x 128) floats, 18.1 MB
        assertFalse(ForecastSums.AUTO.appliesTo(12L * 3 * 20 * 49 * 128 * 4));
        assertTrue(ForecastSums.ON.appliesTo(0));
        assertFalse(ForecastSums.OFF.appliesTo(Long.MAX_VALUE));
    }

    @Test
    void parsesItsThreeNamesAndRefusesOthers() {
        assertEquals(ForecastSums.AUTO, ForecastSums.parse("auto"));
        assertEquals(ForecastSums.ON, ForecastSums.parse("ON"));
        assertEquals(ForecastSums.OFF, ForecastSums.parse("Off"));
        var e = assertThrows(IllegalArgumentException.class, () -> ForecastSums.parse("yes"));
        assertEquals("forecast sums must be auto, on or off, found 'yes'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ForecastSums.parse(null));
    }
}
