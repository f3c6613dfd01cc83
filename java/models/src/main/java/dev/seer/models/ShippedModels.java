package dev.seer.models;

import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.model.WeightsMismatchException;
import dev.seer.sampling.SamplerKind;
import dev.seer.model.dit.SamplingSettings;
import dev.seer.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The models that ship in the seer-models jar, loaded from the class path (no file needed, none written):
 * the Fashion-MNIST DiT (docs/models/fashion-dit.md), a small class-conditional DiT in pixel space, 1 x 28 x 28,
 * 10 classes.
 *
 * <pre>{@code
 * SamplingSettings s = ShippedModels.FASHION_DIT_SETTINGS;
 * try (DitModel model = ShippedModels.fashionDit(); DitPipeline pipeline = new DitPipeline(model)) {
 *     SampleResult r = pipeline.sample(SampleRequest.builder(0, 1, 2).settings(s).seed(0).build());
 *     float[] images = r.latents();           // (3, 1, 28, 28) in [-1, 1]
 * }
 * }</pre>
 */
public final class ShippedModels {
    /** Class-path resource of the Fashion-MNIST DiT's EMA weights (safetensors, official DiT key names). */
    public static final String FASHION_DIT_WEIGHTS = "/dev/seer/models/fashion-dit.safetensors";
    /** Class-path resource of its config (the official DiT constructor arguments). */
    public static final String FASHION_DIT_CONFIG = "/dev/seer/models/fashion-dit.json";
    /**
     * The settings the model card documents and {@code seer sample} uses: 50 DDIM steps (eta 0), guidance scale 4,
     * pred_x0 clamped to the data range [-1, 1] at every step.
     */
    public static final SamplingSettings FASHION_DIT_SETTINGS = new SamplingSettings(50, SamplerKind.DDIM, 0.0, 4.0, false, true);
    /** The weights are 7.5 MB; a resource far larger than that is not them. */
    static final long MAX_WEIGHTS_BYTES = 256L << 20;

    private ShippedModels() {
    }

    /** Whether this build ships the Fashion-MNIST DiT. */
    public static boolean hasFashionDit() {
        return ShippedModels.class.getResource(FASHION_DIT_WEIGHTS) != null
                && ShippedModels.class.getResource(FASHION_DIT_CONFIG) != null;
    }

    /** The Fashion-MNIST DiT's config. */
    public static DitConfig fashionDitConfig() throws IOException {
        return ClassPathResources.withPath(FASHION_DIT_CONFIG, "the Fashion-MNIST DiT config", DitConfig::fromJson);
    }

    /**
     * Loads the Fashion-MNIST DiT: the weights are read from the class path into memory and copied into the model
     * (no temporary file). Thread-safe; each call returns a new model, which the caller closes (or a pipeline does).
     *
     * @throws IOException naming the resource when it is missing or not the expected weights
     */
    public static DitModel fashionDit() throws IOException {
        DitConfig config = fashionDitConfig();
        Path source = ClassPathResources.name(FASHION_DIT_WEIGHTS);
        try (InputStream in = ClassPathResources.open(FASHION_DIT_WEIGHTS, "the Fashion-MNIST DiT weights");
             SafetensorsFile f = Safetensors.read(in, source, MAX_WEIGHTS_BYTES)) {
            Map<String, Tensor> stateDict = new LinkedHashMap<>();
            for (String key : f.keys()) {
                stateDict.put(key, f.get(key));
            }
            return DitModel.fromStateDict(config, stateDict);
        } catch (WeightsMismatchException e) {
            throw new CheckpointException(source, e.key(), e.expected(), e.found(), e);
        }
    }
}
