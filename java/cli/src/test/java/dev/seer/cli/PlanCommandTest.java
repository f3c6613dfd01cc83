package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.ForecastSums;
import dev.seer.cache.TaylorSeerLite;
import dev.seer.model.MemoryPlan;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitMemoryPlan;
import dev.seer.model.flux.FluxMemoryPlan;
import dev.seer.model.flux.FluxParams;
import dev.seer.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code seer plan} and the memory plans behind it: the cache follows the policy; bad input is one line, exit 2. */
class PlanCommandTest {
    static final DitConfig S2 = DitConfig.preset("DiT-S/2", 32, 4, 1000);

    @TempDir
    Path dir;

    @Test
    void theDitCacheFollowsThePolicy() {
        long rows = 4;
        long stack = rows * 256 * 384;
        assertEquals(0, plan(new CachePolicy.None(), 4).cache());
        assertEquals(24 * stack * 4, plan(new CachePolicy.Fora(4), 4).cache()); // order 0: one factor per branch
        assertEquals(3 * 24 * stack * 4, plan(new CachePolicy.TaylorSeer(4, 2), 4).cache());
        assertEquals(3 * 24 * stack * 2, plan(new CachePolicy.TaylorSeer(4, 2), 2).cache());
        assertEquals(3 * stack * 4, plan(new TaylorSeerLite(4, 2), 4).cache());
        // the forecast sums: one stack-shaped tensor per forecast step of a window, when they apply
        MemoryPlan sums = DitMemoryPlan.of(S2, "DiT-S/2", rows, 50, new CachePolicy.TaylorSeer(4, 2), 4, ForecastSums.ON);
        assertEquals(3 * 24 * stack * 4 + 3 * stack * 4, sums.cache());
        MemoryPlan p = plan(new CachePolicy.TaylorSeer(4, 2), 4);
        assertEquals(MemoryPlan.PROCESS_BYTES + S2.weightBytes() + p.loading() + p.activations() + p.cache(), p.total());
    }

    /** docs/BENCHMARKS.md: FLUX-dev at 1024 x 1024, O = 1, bf16 factors: 2 * 1.076e9 elements, 4.30 GB. */
    @Test
    void theFluxCacheIsTheDocumentedFormula() {
        FluxParams dev = FluxParams.dev();
        MemoryPlan p = FluxMemoryPlan.of(dev, "flux-dev", 1, 512, 4096, 0, 0, new CachePolicy.TaylorSeer(6, 1), 2);
        long elements = 3072L * (19 * (2 * 4096 + 2 * 512) + 38 * (4096 + 512));
        assertEquals(2 * elements * 2, p.cache());
        assertEquals(4.30e9, p.cache(), 0.01e9);
        MemoryPlan lite = FluxMemoryPlan.of(dev, "flux-dev", 1, 512, 4096, 0, 0, new TaylorSeerLite(6, 1), 2);
        assertEquals(2L * 4608 * 3072 * 2, lite.cache());
        assertEquals(0, FluxMemoryPlan.of(dev, "flux-dev", 1, 512, 4096, 0, 0, new CachePolicy.None(), 2).cache());
    }

    /** A checkpoint's file bytes include its header: a float32 file run in float32 is not counted twice. */
    @Test
    void theFluxWeightsCountAConversionOnlyForAnotherDtype() {
        FluxParams small = new FluxParams(64, 64, 32, 48, 128, 4.0, 2, 2, 4, new int[] {16, 24, 24}, 10000, true, true);
        long f32 = FluxMemoryPlan.parameterCount(small) * 4;
        CachePolicy none = new CachePolicy.None();
        assertEquals(f32 + 9000, FluxMemoryPlan.forRun(small, "s", 1, 16, 64, f32 + 9000, DType.F32, none, 4).weights());
        assertEquals(f32, FluxMemoryPlan.forRun(small, "s", 1, 16, 64, null, DType.F32, none, 4).weights());
        // a bf16 file computed in float32: the float32 copies are kept (they are far below the bound)
        assertEquals(f32 / 2 + 9000 + f32, FluxMemoryPlan.forRun(small, "s", 1, 16, 64, f32 / 2 + 9000, DType.F32, none, 4).weights());
        // a float32 file computed in bf16: bf16 copies
        assertEquals(f32 + 9000 + f32 / 2, FluxMemoryPlan.forRun(small, "s", 1, 16, 64, f32 + 9000, DType.BF16, none, 4).weights());
    }

    @Test
    void printsEveryPartAndTheTotal() {
        CliRun r = CliRun.of("plan", "--model", "DiT-S/2", "--batch", "2", "--policy", "taylorseer-lite:5:2");
        assertEquals(0, r.exit(), r.err());
        for (String part : List.of("process", "weights", "loading", "activations", "cache", "total", "available")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(part)), "no " + part + " line in:\n" + r.out());
        }
        MemoryPlan p = DitMemoryPlan.of(S2, "DiT-S/2", 4, 50, new TaylorSeerLite(5, 2), 4, ForecastSums.AUTO);
        assertTrue(r.out().contains("total        " + MemoryPlan.bytes(p.total())), r.out());
        assertTrue(r.out().contains("3 factors of the stack output (4 x 256 x 384)"), r.out());
    }

    @Test
    void badInputIsOneLineAndExitTwo() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"depth\": -1}");
        String[][] cases = {
            {"--model", "DiT-Q/2"},
            {"--model", bad.toString()},
            {"--model", "DiT-S/2", "--factor-dtype", "f8"},
            {"--model", "DiT-S/2", "--policy", "taylorseer-lite:0:1"},
            {"--model", "DiT-S/2", "--input-size", "33"},
            {"--model", "flux-dev", "--width", "1000"},
        };
        for (String[] c : cases) {
            String[] args = new String[c.length + 1];
            args[0] = "plan";
            System.arraycopy(c, 0, args, 1, c.length);
            CliRun r = CliRun.of(args);
            assertEquals(2, r.exit(), String.join(" ", c) + ": " + r.err());
            assertEquals(1, r.err().lines().filter(l -> l.startsWith("seer plan: ")).count(), r.err());
            assertTrue(r.out().isEmpty(), r.out());
        }
    }

    /** A plan over the memory available is refused with the options that would fit. */
    @Test
    void aRunOverTheMemoryAvailableNamesWhatWouldFit() {
        MemoryPlan one = plan(new CachePolicy.TaylorSeer(4, 2), 4);
        long available = one.total() + 1;
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DitMemoryPlan.requireFits(S2, "DiT-S/2", 64, 2, 50, new CachePolicy.TaylorSeer(4, 2), 4,
                        ForecastSums.OFF, available));
        int most = 0;
        for (int samples = 1; samples < 64; samples++) {
            if (DitMemoryPlan.of(S2, "DiT-S/2", 2L * samples, 50, new CachePolicy.TaylorSeer(4, 2), 4, ForecastSums.OFF)
                    .fits(available)) {
                most = samples;
            }
        }
        assertTrue(most >= 2 && most < 64, "samples that fit: " + most);
        assertTrue(e.getMessage().contains("would fit: at most " + most + " samples"), e.getMessage());
        // at 8 samples TaylorSeer's factors do not fit where Lite's do
        MemoryPlan lite = DitMemoryPlan.of(S2, "DiT-S/2", 16, 50, new TaylorSeerLite(4, 2), 4, ForecastSums.OFF);
        IllegalArgumentException small = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DitMemoryPlan.requireFits(S2, "DiT-S/2", 8, 2, 50, new CachePolicy.TaylorSeer(4, 2), 4,
                        ForecastSums.OFF, lite.total()));
        assertTrue(small.getMessage().contains(" or --policy taylorseer-lite:4:2 "), small.getMessage());
        DitMemoryPlan.requireFits(S2, "DiT-S/2", 2, 2, 50, new CachePolicy.TaylorSeer(4, 2), 4, ForecastSums.OFF, available);
    }

    private static MemoryPlan plan(CachePolicy policy, int elementBytes) {
        return DitMemoryPlan.of(S2, "DiT-S/2", 4, 50, policy, elementBytes, ForecastSums.OFF);
    }
}
