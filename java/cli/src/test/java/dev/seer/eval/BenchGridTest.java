package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.model.dit.DitFlops;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BenchGridTest {
    @Test
    void rangesExpandInOrderWithoutDuplicates() {
        List<CachePolicy> p = BenchGrid.parse(List.of("fora:2..3", "taylorseer:4..5:1..2", "FORA:3"));
        assertEquals(List.of(new CachePolicy.Fora(2), new CachePolicy.Fora(3), new CachePolicy.TaylorSeer(4, 1),
                new CachePolicy.TaylorSeer(4, 2), new CachePolicy.TaylorSeer(5, 1), new CachePolicy.TaylorSeer(5, 2)), p);
        assertEquals(20, BenchGrid.parse(BenchGrid.FULL).size());
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "teacache:3; 'teacache:3' is not a cache policy; allowed: none, fora:N, taylorseer:N:O",
        "fora; 'fora' is not a cache policy",
        "taylorseer:3; 'taylorseer:3' is not a cache policy",
        "none; the uncached row is always the first",
        "fora:6..2; is empty",
        "fora:x; must be a number or a range",
        "fora:0; must be >= 1",
        "taylorseer:3:5; order must be in 0..4",
        "taylorseer:3:-1; must be >= 0",
    })
    void badSpecsAreRejectedWithTheReason(String spec, String message) {
        var e = assertThrows(IllegalArgumentException.class, () -> BenchGrid.parse(List.of(spec)));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertTrue(e.getMessage().contains("--policies"), e.getMessage());
    }

    @Test
    void anEmptyGridIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> BenchGrid.parse(List.of()));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    /** The paper's DiT-XL/2 FLOPs speed-ups 2.77x / 3.57x / 4.53x for N = 3 / 4 / 5 give 18 / 14 / 11 steps. */
    @Test
    void equalFlopsStepsFollowTheOfficialCount() {
        DitFlops.Config xl = DitFlops.Config.ditXl2(32, 2);
        assertEquals(18, BenchGrid.equalFlopsSteps(new CachePolicy.TaylorSeer(3, 2), 50, xl));
        assertEquals(14, BenchGrid.equalFlopsSteps(new CachePolicy.TaylorSeer(4, 2), 50, xl));
        assertEquals(11, BenchGrid.equalFlopsSteps(new CachePolicy.TaylorSeer(5, 2), 50, xl));
        List<BenchRow> rows = BenchGrid.rows(List.of(new CachePolicy.Fora(5), new CachePolicy.TaylorSeer(5, 2),
                new CachePolicy.TaylorSeer(3, 2)), 50, true, xl);
        assertEquals(List.of(BenchRow.uncached(50), BenchRow.cached(new CachePolicy.Fora(5), 50),
                BenchRow.cached(new CachePolicy.TaylorSeer(5, 2), 50), BenchRow.cached(new CachePolicy.TaylorSeer(3, 2), 50),
                BenchRow.fewerSteps(18), BenchRow.fewerSteps(11)), rows);
    }
}
