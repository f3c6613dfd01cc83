package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.seer.cache.CachePolicy;
import dev.seer.eval.ProcessMemory;
import dev.seer.eval.Soak;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `seer soak` in miniature: a few short samplings, the report's fields, the pass/fail rule. */
class SoakCommandTest {
    @Test
    void reportsMemoryAfterTheWarmUpAndAtTheEnd() throws Exception {
        CliRun r = CliRun.of("soak", "--samplings", "3", "--warmup", "1", "--read-every", "1", "--steps", "4", "--batch", "2",
                "--uncached-every", "2", "--max-growth", "1000", "--json");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("3/3 samplings"), "progress bar on stderr: " + r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(3, j.get("samplings").asInt());
        assertEquals(2, j.get("cached_samplings").asInt(), "samplings 1 and 3 use the policy");
        assertEquals(1, j.get("uncached_samplings").asInt(), "every second sampling runs uncached");
        assertEquals("taylorseer:5:2", j.get("policy").asText());
        for (String reading : new String[] {"warm", "end", "max"}) {
            JsonNode m = j.get(reading);
            for (String field : new String[] {"rss_bytes", "peak_rss_bytes", "javacpp_bytes", "javacpp_pointers",
                    "javacpp_physical_bytes", "heap_used_bytes"}) {
                assertTrue(m.has(field), reading + " lacks " + field + ": " + m);
            }
            assertTrue(m.get("rss_bytes").asLong() > 64L << 20, "libtorch alone is resident: " + m);
            assertTrue(m.get("peak_rss_bytes").asLong() >= m.get("rss_bytes").asLong(), m.toString());
            assertTrue(m.get("javacpp_pointers").asLong() >= 0 && m.get("heap_used_bytes").asLong() > 0, m.toString());
        }
        assertTrue(j.get("max").get("rss_bytes").asLong() >= j.get("end").get("rss_bytes").asLong());
        assertEquals(3, j.get("trace").size(), "readings after samplings 1 (warm-up), 2 and 3: " + j.get("trace"));
        for (String g : new String[] {"rss", "javacpp_bytes", "javacpp_pointers", "heap_used"}) {
            assertTrue(j.get("growth_percent").has(g), "growth of " + g);
        }
        assertTrue(j.get("passed").asBoolean());
        assertEquals(0, j.get("nonfinite_fallbacks").asInt());
    }

    @Test
    void growthIsMeasuredFromTheBaselineAndJudgedOnRssAndJavacpp() {
        assertEquals(10.0, ProcessMemory.growthPercent(100, 110), 1e-12);
        assertEquals(-50.0, ProcessMemory.growthPercent(100, 50), 1e-12);
        assertEquals(0.0, ProcessMemory.growthPercent(0, 0));
        assertEquals(Double.POSITIVE_INFINITY, ProcessMemory.growthPercent(0, 8), "something from nothing");
        var settings = new Soak.Settings(10, 2, 1, 5, 4, new CachePolicy.TaylorSeer(5, 2), 3, 1, 0);
        ProcessMemory warm = new ProcessMemory(1000, 1000, 520, 65, 900, 5000);
        var steady = report(settings, warm, new ProcessMemory(1040, 1100, 520, 65, 930, 9000));
        assertTrue(steady.within(5), "4% RSS growth; the heap is reported but not judged");
        assertFalse(report(settings, warm, new ProcessMemory(1060, 1100, 520, 65, 930, 5000)).within(5), "6% RSS");
        assertFalse(report(settings, warm, new ProcessMemory(1000, 1000, 520, 69, 900, 5000)).within(5), "6% more live pointers");
        assertFalse(report(settings, warm, new ProcessMemory(1000, 1000, 600, 65, 900, 5000)).within(5), "15% more JavaCPP bytes");
        assertTrue(settings.uncached(2) && settings.uncached(5) && !settings.uncached(0) && !settings.uncached(3),
                "every third sampling (1-based) is uncached");
    }

    private static Soak.Report report(Soak.Settings s, ProcessMemory warm, ProcessMemory end) {
        return new Soak.Report(s, warm, end, warm.max(end), List.of(new Soak.Reading(2, warm), new Soak.Reading(10, end)),
                7, 3, 1.0, 0);
    }
}
