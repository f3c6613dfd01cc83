package dev.seer.eval;

import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import java.io.IOException;

/**
 * The shipped models for the CLI and the evaluation code: the Fashion-MNIST DiT through the public API
 * {@link dev.seer.models.ShippedModels} (use that one from applications).
 */
public final class ShippedModels {
    /** The DiT's EMA weights (official key names). */
    public static final String DIT_WEIGHTS = dev.seer.models.ShippedModels.FASHION_DIT_WEIGHTS;
    /** The DiT's config (official constructor arguments). */
    public static final String DIT_CONFIG = dev.seer.models.ShippedModels.FASHION_DIT_CONFIG;
    /** The guidance scale the model card documents for the shipped DiT. */
    public static final double DIT_CFG = dev.seer.models.ShippedModels.FASHION_DIT_SETTINGS.cfgScale();
    /** Fashion-MNIST samples are drawn with pred_x0 clamped to the data range [-1, 1] (pixel space). */
    public static final boolean CLIP_DENOISED = dev.seer.models.ShippedModels.FASHION_DIT_SETTINGS.clipDenoised();

    private ShippedModels() {
    }

    /** Whether this build ships the Fashion-MNIST DiT weights. */
    public static boolean hasFashionDit() {
        return dev.seer.models.ShippedModels.hasFashionDit();
    }

    /** The shipped DiT's config. */
    public static DitConfig fashionDitConfig() throws IOException {
        return dev.seer.models.ShippedModels.fashionDitConfig();
    }

    /** Loads the shipped Fashion-MNIST DiT (from the class path, into memory). */
    public static DitModel fashionDit() throws IOException {
        return dev.seer.models.ShippedModels.fashionDit();
    }
}
