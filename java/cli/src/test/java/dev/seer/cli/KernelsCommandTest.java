package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class KernelsCommandTest {
    @Test
    void jsonLinesCarryTheRequiredFields() throws Exception {
        CliRun r = CliRun.of("kernels", "--json", "--quick", "--sizes", "65536", "--ops", "taylor_forecast", "--dtypes", "f32");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), r.out());
        JsonNode o = new ObjectMapper().readTree(lines.getFirst());
        for (String f : List.of("name", "dtype", "bytes", "seconds", "gbps", "fraction_of_triad", "speedup_vs_libtorch")) {
            assertTrue(o.has(f), "missing " + f + " in " + o);
        }
        assertEquals("taylor_forecast", o.get("name").asText());
        assertEquals("f32", o.get("dtype").asText());
        // order 2 forecast in 64 KiB: 4096 elements, 3 factors read and out written
        assertEquals(65536, o.get("bytes").asLong());
        assertTrue(o.get("seconds").asDouble() > 0 && o.get("gbps").asDouble() > 0);
        assertTrue(o.get("fraction_of_triad").asDouble() > 0 && o.get("speedup_vs_libtorch").asDouble() > 0);
    }

    @Test
    void theSumsOpReportsItsStepsAndTheMultiCallsItReplaces() throws Exception {
        CliRun r = CliRun.of("kernels", "--json", "--min-time", "0.02", "--sizes", "1MiB", "--ops", "taylor_forecast_sums",
                "--dtypes", "f32");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), r.out());
        JsonNode o = new ObjectMapper().readTree(lines.getFirst());
        assertEquals("taylor_forecast_sums", o.get("name").asText());
        assertEquals(24, o.get("branches").asInt());
        assertEquals(4, o.get("steps").asInt());
        assertTrue(o.get("validated").asBoolean(), o.toString());
        assertTrue(o.get("per_step_multi_seconds").asDouble() > 0 && o.get("speedup_vs_per_step_multi").asDouble() > 0);
        assertTrue(o.get("shape").asText().endsWith("x 4 steps"), o.toString());
    }

    @Test
    void badOptionsNameTheOptionTheValueAndTheAllowedValues() {
        CliRun r = CliRun.of("kernels", "--dtypes", "f64");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--dtypes") && r.err().contains("f64") && r.err().contains("f32, bf16, f16"), r.err());
        r = CliRun.of("kernels", "--ops", "taylor_magic");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--ops") && r.err().contains("taylor_magic") && r.err().contains("taylor_forecast_residual_multi"), r.err());
        r = CliRun.of("kernels", "--sizes", "64KiB,12x");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--sizes") && r.err().contains("12x") && r.err().contains("KiB"), r.err());
        r = CliRun.of("kernels", "--order", "7");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--order") && r.err().contains("7") && r.err().contains("0..4"), r.err());
        r = CliRun.of("kernels", "--threads", "0");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--threads: 0 is not allowed; allowed: 1..1024"), r.err());
    }
}
