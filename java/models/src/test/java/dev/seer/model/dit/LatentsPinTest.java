package dev.seer.model.dit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.ForecastSums;
import dev.seer.models.ShippedModels;
import dev.seer.kernel.NativeKernels;
import dev.seer.kernel.Variant;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pins the latents of the shipped model and of DiT-S/2 (random weights) for the uncached model, FORA and
 * TaylorSeer, as SHA-256 digests of their float bits: any change to the sampling path that moves a single bit
 * fails here. The digests were taken from the code before the model families were put behind one seam.
 */
class LatentsPinTest {
    static String digest(float[] v) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array())).substring(0, 16);
    }

    static Map<String, String> run(DitPipeline pipeline, SampleRequest.Builder base) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("none", digest(pipeline.sample(base.policy(new CachePolicy.None()).build()).latents()));
        out.put("fora:3", digest(pipeline.sample(base.policy(new CachePolicy.Fora(3)).build()).latents()));
        out.put("taylorseer:4:2", digest(pipeline.sample(base.policy(new CachePolicy.TaylorSeer(4, 2)).build()).latents()));
        out.put("taylorseer:5:2+sums", digest(pipeline.sample(base.policy(new CachePolicy.TaylorSeer(5, 2))
                .forecastSums(ForecastSums.ON).build()).latents()));
        return out;
    }

    /** The digests are those of the AVX-512 kernels (other variants round some sums in another order). */
    @BeforeEach
    void avx512Only() {
        Variant best = NativeKernels.cpu().bestVariant();
        Assumptions.assumeTrue(best == Variant.AVX512, "digests pinned for the AVX-512 kernels; this machine runs " + best);
    }

    @Test
    void shippedModel() throws Exception {
        try (DitModel model = ShippedModels.fashionDit(); DitPipeline pipeline = new DitPipeline(model, ShippedModels.FASHION_DIT_SETTINGS.clipDenoised())) {
            Map<String, String> got = run(pipeline, SampleRequest.builder(0, 3, 7).steps(30).cfgScale(ShippedModels.FASHION_DIT_SETTINGS.cfgScale()).seed(5));
            assertEquals(Map.of("none", "847b331cbff04df8", "fora:3", "909de9ae84804874", "taylorseer:4:2", "90e3da04e964d899",
                    "taylorseer:5:2+sums", "47a462fc89e9ec7f"), got);
        }
    }

    @Test
    void ditS2() throws Exception {
        DitConfig config = DitConfig.preset("DiT-S/2");
        try (Arena arena = Arena.ofShared();
             DitModel model = DitModel.fromStateDict(config, DitWeights.random(config, 7, arena));
             DitPipeline pipeline = new DitPipeline(model)) {
            Map<String, String> got = run(pipeline, SampleRequest.builder(207).steps(12).seed(1));
            assertEquals(Map.of("none", "cd24e71a6731a6ef", "fora:3", "6cd6839cd11c7e53", "taylorseer:4:2", "41cc66793f0b6f58",
                    "taylorseer:5:2+sums", "bbf73c4410470376"), got);
        }
    }
}
