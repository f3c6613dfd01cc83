package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.io.CheckpointException;
import dev.seer.io.FashionMnist;
import dev.seer.io.Safetensors;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.sampling.ProgressListener;
import dev.seer.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The models shipped in the jar: they load, and they are as good as their model card says. */
class ShippedModelsTest {

    static void assumeShippedDit() {
        assumeTrue(ShippedModels.hasFashionDit(), "this build does not ship the Fashion-MNIST DiT weights yet ("
                + ShippedModels.DIT_WEIGHTS + "): they are added when its training run has finished");
    }

    static void assumeData() {
        assumeTrue(Files.isRegularFile(FashionMnist.DEFAULT_DIR.resolve(FashionMnist.Split.TEST.imagesFile())),
                "Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist (files under " + FashionMnist.DEFAULT_DIR + ")");
    }

    @Test
    void probeReachesItsTestAccuracy() throws IOException {
        assumeData();
        try (FashionProbe probe = FashionProbe.loadShipped()) {
            double acc = FashionEval.accuracy(probe, FashionMnist.load(FashionMnist.Split.TEST));
            assertTrue(acc >= 0.89, "probe test accuracy " + acc);
        }
    }

    @Test
    void shippedDitLoadsWithItsConfig() throws IOException {
        assumeShippedDit();
        DitConfig c = ShippedModels.fashionDitConfig();
        assertEquals(1, c.inChannels());
        assertEquals(28, c.inputSize());
        assertEquals(10, c.numClasses());
        try (DitModel m = ShippedModels.fashionDit()) {
            assertEquals(c, m.config());
        }
        assertTrue(ShippedModels.class.getResource(ShippedModels.DIT_WEIGHTS) != null);
    }

    @Test
    void probeWeightsThatDoNotFitAreRefusedByKey(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("probe.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Safetensors.write(bad, Map.of("conv1.weight", Tensor.ofFloats(arena, new float[9], 1, 1, 3, 3)));
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> FashionProbe.load(bad));
        assertTrue(e.getMessage().contains("conv1.weight") && e.getMessage().contains("(32, 1, 3, 3)"), e.getMessage());
    }

    @Test
    @Tag("slow")
    void shippedDitSamplesAreRecognisedByTheProbe() throws IOException {
        assumeShippedDit();
        try (DitModel m = ShippedModels.fashionDit(); FashionProbe probe = FashionProbe.loadShipped()) {
            FashionEval.Generated g = FashionEval.generate(m, 50, 50, ShippedModels.DIT_CFG, new CachePolicy.None(), 0, 50,
                    ProgressListener.NONE);
            FashionProbe.Outputs o = probe.run(g.images(), g.count());
            double cc = Metrics.classConsistency(o.predictions(), g.labels());
            // The model card reports 84.8% over 1000 samples; 50 samples leave room for sampling noise.
            assertTrue(cc > 0.7, "class consistency of 50 uncached samples " + cc);
        }
    }
}
