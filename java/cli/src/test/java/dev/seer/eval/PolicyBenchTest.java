package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.seer.cache.CachePolicy;
import dev.seer.cache.ForecastSums;
import dev.seer.io.TextFiles;
import dev.seer.kernel.Variant;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitWeights;
import dev.seer.sampling.SamplerKind;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyBenchTest {
    /** A tiny pixel-space DiT the probe can score (1 x 28 x 28, 10 classes). */
    static final DitConfig TINY = new DitConfig(28, 7, 1, 32, 2, 2, 2.0, 0.1, 10, true);

    /** A bench stopped half-way leaves a valid JSON file in which exactly the finished rows are complete. */
    /**
     * The forecast floor's bytes: with forecast sums a DiT run at N=5 passes over the factors once per 3.9 forecast
     * steps (39 forecast steps in 10 runs of at most 4); without them every forecast step reads every factor.
     */
    @Test
    void forecastBytesCountOneFactorPassPerWindowWithForecastSums() {
        BenchRow n5 = BenchGrid.rows(List.of(new CachePolicy.TaylorSeer(5, 2)), 50, false,
                PolicyBench.flopsConfig(TINY, 1, 1.5)).get(1);
        assertEquals(3.9, PolicyBench.forecastsPerWindow(n5, 50), 1e-12);
        DitConfig s2 = DitConfig.preset("DiT-S/2");
        long elements = 2L * 256 * 384;
        long factors = 24L * 3 * elements * 4;
        long gates = 24L * 2 * 384 * 4;
        assertEquals(factors + 2 * elements * 4 + gates, PolicyBench.forecastBytes(s2, 2, 2, 1, false));
        assertEquals(Math.round(factors / 3.9) + 4 * elements * 4 + gates, PolicyBench.forecastBytes(s2, 2, 2, 3.9, true));
    }

    @Test
    void anInterruptedBenchLeavesItsFinishedRowsMarkedComplete(@TempDir Path dir) throws Exception {
        List<CachePolicy> grid = List.of(new CachePolicy.Fora(2), new CachePolicy.TaylorSeer(2, 1));
        List<BenchRow> rows = BenchGrid.rows(grid, 6, true, PolicyBench.flopsConfig(TINY, 1, 1.5));
        PolicyBench.Settings s = new PolicyBench.Settings(6, SamplerKind.DDIM, 0, 1.5, true, 1, 1, 3, 3, 0, rows, null,
                Variant.AUTO, 0.02, ForecastSums.AUTO);
        Path json = dir.resolve("bench.json");
        float[] features = new float[50 * FashionProbe.FEATURES];
        Random r = new Random(1);
        for (int i = 0; i < features.length; i++) {
            features[i] = (float) r.nextGaussian();
        }
        Metrics.Gaussian reference = Metrics.fit(features, 50, FashionProbe.FEATURES);
        try (Arena arena = Arena.ofShared();
             DitModel model = DitModel.fromStateDict(TINY, DitWeights.random(TINY, 4, arena));
             FashionProbe probe = FashionProbe.loadShipped()) {
            var e = assertThrows(IOException.class, () -> PolicyBench.run(model, probe, reference, s, new PolicyBench.Listener() {
                @Override
                public void progress(int done, int total, String what) {
                }

                @Override
                public void updated(PolicyBench.Report report) throws IOException {
                    TextFiles.writeAtomically(json, BenchReport.json(report, "tiny"));
                    if (report.rows().stream().filter(PolicyBench.RowResult::complete).count() == 2) {
                        throw new IOException("interrupted");
                    }
                }
            }));
            assertEquals("interrupted", e.getMessage());
        }
        JsonNode out = new ObjectMapper().readTree(Files.readString(json));
        JsonNode rowsOut = out.get("rows");
        assertEquals(rows.size(), rowsOut.size());
        for (int i = 0; i < rowsOut.size(); i++) {
            JsonNode row = rowsOut.get(i);
            assertEquals(i < 2, row.get("complete").asBoolean(), row.toString());
            assertTrue(row.get("seconds_median").isNumber(), "every row was timed before the quality phase");
            assertEquals(i < 2, row.get("fd").isNumber(), row.toString());
        }
    }
}
