package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.seer.models.ShippedModels;
import dev.seer.tensor.SeerRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** seer bench-threads and seer extract-natives: their options and a short run (no timing asserted). */
class ServiceCommandsTest {

    @Test
    void benchThreadsRunsBothModes() throws Exception {
        assumeTrue(ShippedModels.hasFashionDit(), "this build does not ship the Fashion-MNIST DiT");
        CliRun r = CliRun.of("bench-threads", "--runs", "2", "--rounds", "1", "--steps", "3", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertEquals(2, o.get("modes").size());
        assertEquals("all-cores", o.get("modes").get(0).get("mode").asText());
        assertEquals("split", o.get("modes").get(1).get("mode").asText());
        assertEquals(2, o.get("modes").get(1).get("samplings").asInt());
        assertEquals(Math.max(1, SeerRuntime.threads() / 2), o.get("modes").get(1).get("threads_per_run").asInt());
    }

    @Test
    void benchThreadsRefusesBadOptions() {
        CliRun runs = CliRun.of("bench-threads", "--runs", "0");
        assertEquals(2, runs.exit());
        assertTrue(runs.err().contains("--runs: 0 is not allowed; allowed: 1..64"), runs.err());
        CliRun modes = CliRun.of("bench-threads", "--modes", "fast");
        assertEquals(2, modes.exit());
        assertTrue(modes.err().contains("--modes: 'fast' is not allowed; allowed: all-cores, split"), modes.err());
        CliRun cache = CliRun.of("bench-threads", "--cache", "lru");
        assertEquals(2, cache.exit());
        assertTrue(cache.err().contains("--cache: 'lru' is not allowed"), cache.err());
    }

    @Test
    void extractNativesChecksItsDirectoryAndNeedsAFreshProcess(@TempDir Path tmp) throws Exception {
        CliRun noParent = CliRun.of("extract-natives", tmp.resolve("no/such/parent").toString());
        assertEquals(2, noParent.exit());
        assertTrue(noParent.err().contains("DIR: ") && noParent.err().contains("a directory whose parent exists"), noParent.err());
        Path file = Files.writeString(tmp.resolve("file"), "x");
        CliRun notADir = CliRun.of("extract-natives", file.toString());
        assertEquals(2, notADir.exit());
        assertTrue(notADir.err().contains("a directory (this is a file)"), notADir.err());
        SeerRuntime.init();
        CliRun started = CliRun.of("extract-natives", tmp.resolve("natives").toString());
        assertEquals(2, started.exit());
        assertTrue(started.err().contains("run extract-natives in a process of its own"), started.err());
    }
}
