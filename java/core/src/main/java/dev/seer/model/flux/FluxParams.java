package dev.seer.model.flux;

import dev.seer.io.ConfigJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A FLUX transformer's architecture, with the official field names of {@code flux/model.py}'s {@code FluxParams}.
 *
 * @param inChannels        packed latent width of the input tokens (16 latent channels x 2 x 2 = 64)
 * @param outChannels       packed width of the prediction; equal to inChannels for text-to-image
 * @param vecInDim          width of the pooled text vector (CLIP: 768)
 * @param contextInDim      width of the text tokens (T5: 4096)
 * @param hiddenSize        model width C
 * @param mlpRatio          MLP hidden width = int(C * mlpRatio)
 * @param numHeads          attention heads; C / numHeads is the head width
 * @param depth             double-stream blocks
 * @param depthSingleBlocks single-stream blocks
 * @param axesDim           rotary widths per position axis (3 axes: index, row, column); they sum to the head width
 * @param theta             rotary base
 * @param qkvBias           whether the double blocks' qkv maps have biases
 * @param guidanceEmbed     whether the model embeds a guidance value (dev: yes; schnell: no)
 */
public record FluxParams(int inChannels, int outChannels, int vecInDim, int contextInDim, int hiddenSize,
                         double mlpRatio, int numHeads, int depth, int depthSingleBlocks, int[] axesDim, int theta,
                         boolean qkvBias, boolean guidanceEmbed) {

    /** The official field names, as a params JSON file spells them. */
    public static final Set<String> FIELDS = Set.of("in_channels", "out_channels", "vec_in_dim", "context_in_dim",
            "hidden_size", "mlp_ratio", "num_heads", "depth", "depth_single_blocks", "axes_dim", "theta", "qkv_bias",
            "guidance_embed");

    /** Validates the architecture: every bound the model and the packing rely on. */
    public FluxParams {
        positive("in_channels", inChannels, 1 << 16);
        positive("out_channels", outChannels, 1 << 16);
        positive("vec_in_dim", vecInDim, 1 << 20);
        positive("context_in_dim", contextInDim, 1 << 20);
        positive("hidden_size", hiddenSize, 1 << 16);
        positive("num_heads", numHeads, 1 << 12);
        if (depth < 0 || depth > 1000 || depthSingleBlocks < 0 || depthSingleBlocks > 1000) {
            throw new IllegalArgumentException("depth and depth_single_blocks must be in 0..1000, found " + depth + " and "
                    + depthSingleBlocks);
        }
        if (!(mlpRatio > 0 && mlpRatio <= 64)) {
            throw new IllegalArgumentException("mlp_ratio must be in (0, 64], found " + mlpRatio);
        }
        if ((int) (hiddenSize * mlpRatio) < 1) {
            throw new IllegalArgumentException("int(hidden_size * mlp_ratio) must be >= 1, found " + (int) (hiddenSize * mlpRatio));
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " must be divisible by num_heads " + numHeads);
        }
        if (inChannels % 4 != 0 || outChannels != inChannels) {
            throw new IllegalArgumentException("in_channels must be a multiple of 4 (2x2 packed latents) and out_channels equal"
                    + " to it, found in_channels " + inChannels + ", out_channels " + outChannels);
        }
        if (axesDim == null || axesDim.length != 3) {
            throw new IllegalArgumentException("axes_dim must hold 3 widths (index, row, column), found "
                    + (axesDim == null ? "none" : Arrays.toString(axesDim)));
        }
        axesDim = axesDim.clone();
        int sum = 0;
        for (int a : axesDim) {
            if (a < 2 || a % 2 != 0) {
                throw new IllegalArgumentException("axes_dim entries must be even and >= 2, found " + Arrays.toString(axesDim));
            }
            sum += a;
        }
        if (sum != hiddenSize / numHeads) {
            throw new IllegalArgumentException("axes_dim " + Arrays.toString(axesDim) + " sums to " + sum
                    + "; expected the head width hidden_size / num_heads = " + hiddenSize / numHeads);
        }
        positive("theta", theta, Integer.MAX_VALUE);
    }

    /** FLUX.1 [dev]: guidance-distilled, 50 steps with the shifted schedule. */
    public static FluxParams dev() {
        return new FluxParams(64, 64, 768, 4096, 3072, 4.0, 24, 19, 38, new int[] {16, 56, 56}, 10_000, true, true);
    }

    /** FLUX.1 [schnell]: timestep-distilled, 4 steps without shift, no guidance embedding. */
    public static FluxParams schnell() {
        return new FluxParams(64, 64, 768, 4096, 3072, 4.0, 24, 19, 38, new int[] {16, 56, 56}, 10_000, true, false);
    }

    /** The preset names {@link #resolve} knows. */
    public static List<String> presetNames() {
        return List.of("flux-dev", "flux-schnell");
    }

    /**
     * A preset name (flux-dev, flux-schnell; case-insensitive) or the path of a params JSON file.
     *
     * @throws IllegalArgumentException for an unknown preset or a bad file (naming the key)
     */
    public static FluxParams resolve(String nameOrFile) throws IOException {
        switch (nameOrFile.toLowerCase(Locale.ROOT)) {
            case "flux-dev":
                return dev();
            case "flux-schnell":
                return schnell();
            default:
                Path p = Path.of(nameOrFile);
                if (!java.nio.file.Files.isRegularFile(p)) {
                    throw new IllegalArgumentException("'" + nameOrFile + "' is neither a preset (" + String.join(", ", presetNames())
                            + ") nor an existing params JSON file");
                }
                return fromJson(p);
        }
    }

    /** A params JSON file with every official field and no other (the strict reader of {@link ConfigJson}). */
    public static FluxParams fromJson(Path file) throws IOException {
        ConfigJson j = ConfigJson.read(file, FIELDS, Set.of());
        for (String f : FIELDS.stream().sorted().toList()) {
            if (!j.has(f)) {
                throw new IllegalArgumentException(file + ": missing key '" + f + "'; a FLUX params file needs all of "
                        + FIELDS.stream().sorted().toList());
            }
        }
        try {
            return new FluxParams(j.intField("in_channels", 4, 1 << 16), j.intField("out_channels", 4, 1 << 16),
                    j.intField("vec_in_dim", 1, 1 << 20), j.intField("context_in_dim", 1, 1 << 20),
                    j.intField("hidden_size", 1, 1 << 16), j.doubleField("mlp_ratio", 1e-3, 64),
                    j.intField("num_heads", 1, 1 << 12), j.intField("depth", 0, 1000),
                    j.intField("depth_single_blocks", 0, 1000), j.intListField("axes_dim", 3, 3, 2, 1 << 16),
                    j.intField("theta", 1, Integer.MAX_VALUE), j.booleanField("qkv_bias", true),
                    j.booleanField("guidance_embed", false));
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(file.toString()) ? e : new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** The diffusers {@code config.json} keys of {@code FluxTransformer2DModel}. */
    static final Set<String> DIFFUSERS_FIELDS = Set.of("patch_size", "in_channels", "out_channels", "num_layers",
            "num_single_layers", "attention_head_dim", "num_attention_heads", "joint_attention_dim",
            "pooled_projection_dim", "guidance_embeds", "axes_dims_rope");

    /**
     * A diffusers {@code transformer/config.json} (FluxTransformer2DModel): the same architecture under diffusers'
     * names; mlp_ratio 4, theta 10000 and qkv biases are fixed there.
     */
    public static FluxParams fromDiffusersConfig(Path file) throws IOException {
        ConfigJson j = ConfigJson.read(file, DIFFUSERS_FIELDS, Set.of("_class_name", "_diffusers_version", "_name_or_path"));
        j.intField("patch_size", 1, 1, 1); // FLUX packs 2x2 outside the transformer: patch 1 inside it
        int in = j.intField("in_channels", 64, 4, 1 << 16);
        int headDim = j.intField("attention_head_dim", 128, 2, 1 << 16);
        int heads = j.intField("num_attention_heads", 24, 1, 1 << 12);
        int[] axes = j.has("axes_dims_rope") ? j.intListField("axes_dims_rope", 3, 3, 2, 1 << 16) : new int[] {16, 56, 56};
        try {
            return new FluxParams(in, j.intField("out_channels", in, 4, 1 << 16), j.intField("pooled_projection_dim", 768, 1, 1 << 20),
                    j.intField("joint_attention_dim", 4096, 1, 1 << 20), headDim * heads, 4.0, heads,
                    j.intField("num_layers", 19, 0, 1000), j.intField("num_single_layers", 38, 0, 1000), axes, 10_000, true,
                    j.booleanField("guidance_embeds", false));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** The head width C / numHeads. */
    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** The MLP hidden width, int(C * mlp_ratio) as the reference truncates it. */
    public int mlpHiddenDim() {
        return (int) (hiddenSize * mlpRatio);
    }

    /** Latent channels before packing (in_channels / 4). */
    public int latentChannels() {
        return inChannels / 4;
    }

    @Override
    public int[] axesDim() {
        return axesDim.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FluxParams p && inChannels == p.inChannels && outChannels == p.outChannels
                && vecInDim == p.vecInDim && contextInDim == p.contextInDim && hiddenSize == p.hiddenSize
                && Double.compare(mlpRatio, p.mlpRatio) == 0 && numHeads == p.numHeads && depth == p.depth
                && depthSingleBlocks == p.depthSingleBlocks && Arrays.equals(axesDim, p.axesDim) && theta == p.theta
                && qkvBias == p.qkvBias && guidanceEmbed == p.guidanceEmbed;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(inChannels, hiddenSize, depth, depthSingleBlocks, Arrays.hashCode(axesDim), guidanceEmbed);
    }

    /** The params as JSON with the official field names (readable by {@link #fromJson}). */
    public String toJson() {
        return String.format(Locale.ROOT, "{\"in_channels\": %d, \"out_channels\": %d, \"vec_in_dim\": %d, \"context_in_dim\": %d, "
                        + "\"hidden_size\": %d, \"mlp_ratio\": %s, \"num_heads\": %d, \"depth\": %d, \"depth_single_blocks\": %d, "
                        + "\"axes_dim\": [%d, %d, %d], \"theta\": %d, \"qkv_bias\": %b, \"guidance_embed\": %b}",
                inChannels, outChannels, vecInDim, contextInDim, hiddenSize, Double.toString(mlpRatio), numHeads, depth,
                depthSingleBlocks, axesDim[0], axesDim[1], axesDim[2], theta, qkvBias, guidanceEmbed);
    }

    @Override
    public String toString() {
        return "FluxParams" + toJson();
    }

    private static void positive(String name, long v, long max) {
        if (v < 1 || v > max) {
            throw new IllegalArgumentException(name + " must be in 1.." + max + ", found " + v);
        }
    }
}
