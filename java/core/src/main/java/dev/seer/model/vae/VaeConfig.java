package dev.seer.model.vae;

import dev.seer.io.ConfigJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A KL autoencoder's architecture and latent scaling, in diffusers' {@code AutoencoderKL} terms. The BFL
 * {@code AutoEncoderParams} map onto it: {@code ch * ch_mult} is {@code block_out_channels}, {@code num_res_blocks}
 * is {@code layers_per_block}, {@code z_channels} is {@code latent_channels}, {@code scale_factor} and
 * {@code shift_factor} are {@code scaling_factor} and {@code shift_factor}; BFL has 32 norm groups and no quant
 * convs.
 *
 * <p>Decoding computes {@code decoder(post_quant_conv(z / scaling + shift))}, encoding
 * {@code scaling * (mean - shift)} of the posterior of {@code quant_conv(encoder(x))}.
 *
 * @param inChannels        image channels into the encoder (3)
 * @param outChannels       image channels out of the decoder (3)
 * @param blockOutChannels  channels of each resolution level, highest resolution first
 * @param layersPerBlock    ResNet blocks per encoder level (the decoder has one more)
 * @param latentChannels    latent channels (4 for SD-VAE, 16 for FLUX)
 * @param normGroups        GroupNorm groups (32)
 * @param scalingFactor     latent scale (0.18215 for SD-VAE, 0.3611 for FLUX)
 * @param shiftFactor       latent shift (0 for SD-VAE, 0.1159 for FLUX)
 * @param useQuantConv      a 1x1 conv after the encoder (SD-VAE: yes, FLUX: no)
 * @param usePostQuantConv  a 1x1 conv before the decoder
 * @param midBlockAttention whether the mid blocks have their attention layer (always in SD-VAE and FLUX)
 */
public record VaeConfig(int inChannels, int outChannels, int[] blockOutChannels, int layersPerBlock, int latentChannels,
                        int normGroups, double scalingFactor, double shiftFactor, boolean useQuantConv,
                        boolean usePostQuantConv, boolean midBlockAttention) {

    /** The GroupNorm epsilon of every norm in these autoencoders. */
    public static final double NORM_EPS = 1e-6;
    /** The largest channel count and level count accepted from a config file. */
    static final int MAX_CHANNELS = 1 << 14;
    static final int MAX_LEVELS = 8;

    private static final Set<String> DIFFUSERS_KEYS = Set.of("in_channels", "out_channels", "down_block_types",
            "up_block_types", "block_out_channels", "layers_per_block", "act_fn", "latent_channels", "norm_num_groups",
            "sample_size", "scaling_factor", "shift_factor", "latents_mean", "latents_std", "force_upcast",
            "use_quant_conv", "use_post_quant_conv", "mid_block_add_attention");
    private static final Set<String> BFL_KEYS = Set.of("resolution", "in_channels", "ch", "out_ch", "ch_mult",
            "num_res_blocks", "z_channels", "scale_factor", "shift_factor");
    private static final Set<String> IGNORED = Set.of("_class_name", "_diffusers_version", "_name_or_path");

    public VaeConfig {
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("layers_per_block", layersPerBlock);
        positive("latent_channels", latentChannels);
        positive("norm_num_groups", normGroups);
        if (blockOutChannels == null || blockOutChannels.length == 0 || blockOutChannels.length > MAX_LEVELS) {
            throw new IllegalArgumentException("block_out_channels must list 1.." + MAX_LEVELS + " channel counts, found "
                    + (blockOutChannels == null ? "none" : Arrays.toString(blockOutChannels)));
        }
        blockOutChannels = blockOutChannels.clone();
        for (int c : blockOutChannels) {
            if (c < 1 || c > MAX_CHANNELS || c % normGroups != 0) {
                throw new IllegalArgumentException("block_out_channels " + Arrays.toString(blockOutChannels)
                        + ": every count must be in 1.." + MAX_CHANNELS + " and divisible by norm_num_groups " + normGroups
                        + ", found " + c);
            }
        }
        if (!(scalingFactor > 0) || Double.isInfinite(scalingFactor)) {
            throw new IllegalArgumentException("scaling_factor must be a finite number > 0, found " + scalingFactor);
        }
        if (!Double.isFinite(shiftFactor)) {
            throw new IllegalArgumentException("shift_factor must be finite, found " + shiftFactor);
        }
    }

    /** Preset names: {@code sd} (sd-vae-ft-ema / -mse, the DiT autoencoder) and {@code flux} (FLUX.1's ae). */
    public static List<String> presetNames() {
        return List.of("sd", "flux");
    }

    /**
     * {@code sd}: block_out_channels [128, 256, 512, 512], 2 layers per block, 4 latent channels, scaling 0.18215,
     * quant convs. {@code flux}: the official AutoEncoderParams (ch 128, ch_mult [1, 2, 4, 4], num_res_blocks 2,
     * z_channels 16, scale 0.3611, shift 0.1159), no quant convs.
     */
    public static VaeConfig preset(String name) {
        return switch (name) {
            case "sd" -> new VaeConfig(3, 3, new int[] {128, 256, 512, 512}, 2, 4, 32, 0.18215, 0, true, true, true);
            case "flux" -> new VaeConfig(3, 3, new int[] {128, 256, 512, 512}, 2, 16, 32, 0.3611, 0.1159, false, false, true);
            default -> throw new IllegalArgumentException("unknown autoencoder preset '" + name + "'; expected one of "
                    + presetNames() + " or a config JSON file");
        };
    }

    /** Number of resolution levels. */
    public int levels() {
        return blockOutChannels.length;
    }

    /** Image pixels per latent pixel along each side: 2^(levels - 1). */
    public int downsampling() {
        return 1 << (levels() - 1);
    }

    /** Channels of level {@code i} (0: highest resolution). */
    public int channels(int level) {
        return blockOutChannels[level];
    }

    @Override
    public int[] blockOutChannels() {
        return blockOutChannels.clone();
    }

    /**
     * Reads a config file: diffusers' {@code config.json} of an {@code AutoencoderKL} (told by
     * {@code block_out_channels}) or a JSON object of BFL {@code AutoEncoderParams} fields (told by {@code ch}).
     * Unknown keys, the other convention's keys, and fields the implementation does not have (another activation
     * or block type, {@code latents_mean}) are refused, naming the file and the key.
     */
    public static VaeConfig fromJson(Path file) throws IOException {
        Set<String> known = new LinkedHashSet<>(DIFFUSERS_KEYS);
        known.addAll(BFL_KEYS);
        ConfigJson json = ConfigJson.read(file, known, IGNORED);
        boolean diffusers = json.has("block_out_channels");
        boolean bfl = json.has("ch");
        if (diffusers == bfl) {
            throw new IllegalArgumentException(file + ": expected either 'block_out_channels' (a diffusers AutoencoderKL "
                    + "config) or 'ch' (BFL AutoEncoderParams), found " + (diffusers ? "both" : "neither"));
        }
        Set<String> own = diffusers ? DIFFUSERS_KEYS : BFL_KEYS;
        for (String key : known) {
            if (json.has(key) && !own.contains(key)) {
                throw new IllegalArgumentException(file + ": key '" + key + "' is not a field of "
                        + (diffusers ? "a diffusers AutoencoderKL config" : "BFL AutoEncoderParams"));
            }
        }
        return diffusers ? fromDiffusers(json) : fromBfl(json);
    }

    private static VaeConfig fromDiffusers(ConfigJson json) {
        Path file = json.file();
        int[] channels = json.intListField("block_out_channels", 1, MAX_LEVELS, 1, MAX_CHANNELS);
        String act = json.stringField("act_fn", "silu");
        if (!act.equals("silu") && !act.equals("swish")) {
            throw new IllegalArgumentException(file + ": 'act_fn' must be \"silu\", found \"" + act + "\"");
        }
        blockTypes(json, "down_block_types", "DownEncoderBlock2D", channels.length);
        blockTypes(json, "up_block_types", "UpDecoderBlock2D", channels.length);
        for (String key : List.of("latents_mean", "latents_std")) {
            if (json.has(key)) {
                throw new IllegalArgumentException(file + ": '" + key + "' must be null (per-channel latent statistics "
                        + "are not supported), found a value");
            }
        }
        json.booleanField("force_upcast", true); // checked for type only: Seer decodes in float32 anyway
        try {
            return new VaeConfig(json.intField("in_channels", 3, 1, MAX_CHANNELS), json.intField("out_channels", 3, 1, MAX_CHANNELS),
                    channels, json.intField("layers_per_block", 1, 1, 64), json.intField("latent_channels", 4, 1, MAX_CHANNELS),
                    json.intField("norm_num_groups", 32, 1, MAX_CHANNELS),
                    json.doubleField("scaling_factor", 0.18215, Double.MIN_VALUE, Double.MAX_VALUE),
                    json.doubleField("shift_factor", 0, -Double.MAX_VALUE, Double.MAX_VALUE),
                    json.booleanField("use_quant_conv", true), json.booleanField("use_post_quant_conv", true),
                    json.booleanField("mid_block_add_attention", true));
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(file.toString()) ? e : new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Every entry of a block type list must be the one type this architecture has, one per level when present. */
    private static void blockTypes(ConfigJson json, String key, String type, int levels) {
        if (!json.has(key)) {
            return;
        }
        List<String> types = json.stringListField(key, levels, levels);
        for (String t : types) {
            if (!t.equals(type)) {
                throw new IllegalArgumentException(json.file() + ": '" + key + "' must list \"" + type + "\" " + levels
                        + " times, found \"" + t + "\"");
            }
        }
    }

    private static VaeConfig fromBfl(ConfigJson json) {
        Path file = json.file();
        json.intField("resolution", 256, 1, 1 << 20); // the training resolution: no part of the computation
        int ch = json.intField("ch", 1, MAX_CHANNELS);
        int[] mult = json.intListField("ch_mult", 1, MAX_LEVELS, 1, MAX_CHANNELS);
        int[] channels = new int[mult.length];
        for (int i = 0; i < mult.length; i++) {
            long c = (long) ch * mult[i];
            if (c > MAX_CHANNELS) {
                throw new IllegalArgumentException(file + ": 'ch' * 'ch_mult' must stay within " + MAX_CHANNELS
                        + " channels, found " + c);
            }
            channels[i] = (int) c;
        }
        try {
            return new VaeConfig(json.intField("in_channels", 3, 1, MAX_CHANNELS), json.intField("out_ch", 3, 1, MAX_CHANNELS),
                    channels, json.intField("num_res_blocks", 1, 64), json.intField("z_channels", 1, MAX_CHANNELS), 32,
                    json.doubleField("scale_factor", Double.MIN_VALUE, Double.MAX_VALUE),
                    json.doubleField("shift_factor", -Double.MAX_VALUE, Double.MAX_VALUE), false, false, true);
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(file.toString()) ? e : new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VaeConfig c && inChannels == c.inChannels && outChannels == c.outChannels
                && Arrays.equals(blockOutChannels, c.blockOutChannels) && layersPerBlock == c.layersPerBlock
                && latentChannels == c.latentChannels && normGroups == c.normGroups
                && Double.compare(scalingFactor, c.scalingFactor) == 0 && Double.compare(shiftFactor, c.shiftFactor) == 0
                && useQuantConv == c.useQuantConv && usePostQuantConv == c.usePostQuantConv
                && midBlockAttention == c.midBlockAttention;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(blockOutChannels) * 31 + latentChannels;
    }

    @Override
    public String toString() {
        return "VaeConfig[block_out_channels " + Arrays.toString(blockOutChannels) + ", layers_per_block " + layersPerBlock
                + ", latent_channels " + latentChannels + ", norm_num_groups " + normGroups + ", scaling " + scalingFactor
                + ", shift " + shiftFactor + (useQuantConv ? ", quant_conv" : "") + (usePostQuantConv ? ", post_quant_conv" : "")
                + (midBlockAttention ? "" : ", no mid attention") + "]";
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, found " + v);
        }
    }
}
