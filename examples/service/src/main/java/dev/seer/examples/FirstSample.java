package dev.seer.examples;

import dev.seer.cache.CachePolicy;
import dev.seer.io.Images;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitPipeline;
import dev.seer.model.dit.SampleRequest;
import dev.seer.models.ShippedModels;
import dev.seer.sampling.SampleResult;
import java.nio.file.Path;
import java.util.Arrays;

/** One sample of each Fashion-MNIST class from the shipped DiT with TaylorSeer, written as a PNG strip. */
public final class FirstSample {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "first-sample.png");
        try (DitModel model = ShippedModels.fashionDit(); DitPipeline pipeline = new DitPipeline(model)) {
            SampleResult r = pipeline.sample(SampleRequest.builder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
                    .settings(ShippedModels.FASHION_DIT_SETTINGS)      // 50 DDIM steps, guidance 4, clipping
                    .policy(CachePolicy.parse("taylorseer:5:2"))
                    .seed(0)
                    .build());
            float[] images = r.latents();                                // (10, 1, 28, 28) in [-1, 1]
            Images.Grid strip = Images.grid(1, 10).scale(3);
            for (int i = 0; i < 10; i++) {
                strip.set(0, i, Images.gray(Arrays.copyOfRange(images, i * 28 * 28, (i + 1) * 28 * 28), 28, 28));
            }
            Images.writePng(out, strip.render());
            System.out.printf("%s: %d full steps of 50, %.2f s%n", out, r.stats().fullSteps().size(), r.stats().seconds());
        }
    }
}
