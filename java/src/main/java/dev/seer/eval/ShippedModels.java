package dev.seer.eval;

import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The models that ship inside Seer's jar (sources: java/src/main/resources/dev/seer/models/, see
 * docs/models/fashion-dit.md): the Fashion-MNIST DiT (EMA weights + config JSON) and the Fashion-MNIST probe.
 * Being class-path resources, they are found from a fresh clone once the jar is built, wherever the CLI runs.
 */
public final class ShippedModels {
    /** The DiT's EMA weights (official key names). */
    public static final String DIT_WEIGHTS = "/dev/seer/models/fashion-dit.safetensors";
    /** The DiT's config (official constructor arguments). */
    public static final String DIT_CONFIG = "/dev/seer/models/fashion-dit.json";
    /** The guidance scale the model card documents for the shipped DiT. */
    public static final double DIT_CFG = 4.0;
    /** Fashion-MNIST samples are drawn with pred_x0 clamped to the data range [-1, 1] (pixel space). */
    public static final boolean CLIP_DENOISED = true;

    private ShippedModels() {
    }

    /** Whether this build ships the Fashion-MNIST DiT weights (they are added once its training has finished). */
    public static boolean hasFashionDit() {
        return ShippedModels.class.getResource(DIT_WEIGHTS) != null;
    }

    /** The shipped DiT's config. */
    public static DitConfig fashionDitConfig() throws IOException {
        return DitConfig.fromJson(resourceFile(DIT_CONFIG, "the Fashion-MNIST DiT config"));
    }

    /** Loads the shipped Fashion-MNIST DiT. */
    public static DitModel fashionDit() throws IOException {
        return DitModel.load(fashionDitConfig(), resourceFile(DIT_WEIGHTS, "the Fashion-MNIST DiT weights"));
    }

    /**
     * A class-path resource as a file (copied once per process into a temporary file, deleted at exit).
     *
     * @throws IOException naming the resource and how to get it back when it is missing
     */
    public static synchronized Path resourceFile(String resource, String what) throws IOException {
        try (InputStream in = ShippedModels.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException(what + " (class-path resource " + resource + ") is missing: it ships in "
                        + "java/src/main/resources" + resource + "; rebuild the jar (mvn package) from a complete checkout");
            }
            String name = resource.substring(resource.lastIndexOf('/') + 1);
            Path tmp = Files.createTempFile("seer-", "-" + name);
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        }
    }
}
