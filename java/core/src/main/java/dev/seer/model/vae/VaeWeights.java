package dev.seer.model.vae;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors of a KL autoencoder: their names in diffusers' layout (Seer's own names for them) with the shape a
 * config needs, and their names in the other layouts. The key mapping follows diffusers' conversion of LDM
 * checkpoints ({@code convert_ldm_vae_checkpoint}): {@code down.i.block.j} is {@code down_blocks.i.resnets.j},
 * {@code up.(n-1-i)} is {@code up_blocks.i}, {@code mid.block_1/2} are {@code mid_block.resnets.0/1},
 * {@code mid.attn_1.norm/q/k/v/proj_out} are {@code mid_block.attentions.0.group_norm/to_q/to_k/to_v/to_out.0},
 * {@code nin_shortcut} is {@code conv_shortcut}, {@code norm_out} is {@code conv_norm_out}.
 */
public final class VaeWeights {
    private VaeWeights() {
    }

    /** Every tensor, in module order (encoder, quant_conv, post_quant_conv, decoder), under diffusers' names. */
    public static Map<String, long[]> expectedShapes(VaeConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        int n = c.levels();
        int top = c.channels(n - 1);
        // encoder
        conv(m, "encoder.conv_in", c.channels(0), c.inChannels(), 3);
        int in = c.channels(0);
        for (int i = 0; i < n; i++) {
            int out = c.channels(i);
            for (int j = 0; j < c.layersPerBlock(); j++) {
                resnet(m, "encoder.down_blocks." + i + ".resnets." + j, j == 0 ? in : out, out);
            }
            if (i < n - 1) {
                conv(m, "encoder.down_blocks." + i + ".downsamplers.0.conv", out, out, 3);
            }
            in = out;
        }
        mid(m, "encoder.mid_block", top, c.midBlockAttention());
        norm(m, "encoder.conv_norm_out", top);
        conv(m, "encoder.conv_out", 2 * c.latentChannels(), top, 3);
        if (c.useQuantConv()) {
            conv(m, "quant_conv", 2 * c.latentChannels(), 2 * c.latentChannels(), 1);
        }
        if (c.usePostQuantConv()) {
            conv(m, "post_quant_conv", c.latentChannels(), c.latentChannels(), 1);
        }
        // decoder
        conv(m, "decoder.conv_in", top, c.latentChannels(), 3);
        mid(m, "decoder.mid_block", top, c.midBlockAttention());
        in = top;
        for (int i = 0; i < n; i++) {
            int out = c.channels(n - 1 - i);
            for (int j = 0; j <= c.layersPerBlock(); j++) {
                resnet(m, "decoder.up_blocks." + i + ".resnets." + j, j == 0 ? in : out, out);
            }
            if (i < n - 1) {
                conv(m, "decoder.up_blocks." + i + ".upsamplers.0.conv", out, out, 3);
            }
            in = out;
        }
        norm(m, "decoder.conv_norm_out", c.channels(0));
        conv(m, "decoder.conv_out", c.outChannels(), c.channels(0), 3);
        return m;
    }

    /** True for the mid attention's four linear maps, which are (C, C) in diffusers and (C, C, 1, 1) convs in LDM / BFL. */
    public static boolean isAttentionProjection(String key) {
        return key.contains(".attentions.0.to_") && key.endsWith(".weight");
    }

    /**
     * The name of {@code key} (a diffusers name from {@link #expectedShapes}) in {@code layout}; with
     * {@code deprecatedAttention}, diffusers' older attention names ({@code query}, {@code key}, {@code value},
     * {@code proj_attn}).
     */
    public static String keyIn(VaeLayout layout, String key, VaeConfig c, boolean deprecatedAttention) {
        if (layout == VaeLayout.DIFFUSERS) {
            if (!deprecatedAttention) {
                return key;
            }
            return key.replace(".attentions.0.to_q.", ".attentions.0.query.").replace(".attentions.0.to_k.", ".attentions.0.key.")
                    .replace(".attentions.0.to_v.", ".attentions.0.value.").replace(".attentions.0.to_out.0.", ".attentions.0.proj_attn.");
        }
        String[] p = key.split("\\.");
        StringBuilder sb = new StringBuilder();
        int i = 0;
        if (p[0].equals("encoder") || p[0].equals("decoder")) {
            sb.append(p[0]);
            i = 1;
            switch (p[1]) {
                case "down_blocks" -> {
                    // down_blocks.L.resnets.J.* -> down.L.block.J.*; down_blocks.L.downsamplers.0.conv -> down.L.downsample.conv
                    sb.append(".down.").append(p[2]);
                    if (p[3].equals("resnets")) {
                        sb.append(".block.").append(p[4]);
                        i = 5;
                    } else {
                        sb.append(".downsample");
                        i = 5;
                    }
                }
                case "up_blocks" -> {
                    int level = c.levels() - 1 - Integer.parseInt(p[2]);
                    sb.append(".up.").append(level);
                    if (p[3].equals("resnets")) {
                        sb.append(".block.").append(p[4]);
                    } else {
                        sb.append(".upsample");
                    }
                    i = 5;
                }
                case "mid_block" -> {
                    if (p[2].equals("resnets")) {
                        sb.append(".mid.block_").append(Integer.parseInt(p[3]) + 1);
                        i = 4;
                    } else {
                        // attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}
                        sb.append(".mid.attn_1.");
                        String part = p[4];
                        String rest = p[p.length - 1];
                        sb.append(switch (part) {
                            case "group_norm" -> "norm";
                            case "to_q" -> "q";
                            case "to_k" -> "k";
                            case "to_v" -> "v";
                            case "to_out" -> "proj_out";
                            default -> throw new IllegalArgumentException("no such attention tensor: " + key);
                        }).append('.').append(rest);
                        return sb.toString();
                    }
                }
                case "conv_norm_out" -> {
                    sb.append(".norm_out");
                    i = 2;
                }
                default -> {
                    // conv_in, conv_out
                }
            }
        }
        for (; i < p.length; i++) {
            sb.append(sb.isEmpty() ? "" : ".").append(p[i].equals("conv_shortcut") ? "nin_shortcut" : p[i]);
        }
        return sb.toString();
    }

    private static void conv(Map<String, long[]> m, String prefix, int out, int in, int k) {
        m.put(prefix + ".weight", new long[] {out, in, k, k});
        m.put(prefix + ".bias", new long[] {out});
    }

    private static void norm(Map<String, long[]> m, String prefix, int channels) {
        m.put(prefix + ".weight", new long[] {channels});
        m.put(prefix + ".bias", new long[] {channels});
    }

    private static void resnet(Map<String, long[]> m, String prefix, int in, int out) {
        norm(m, prefix + ".norm1", in);
        conv(m, prefix + ".conv1", out, in, 3);
        norm(m, prefix + ".norm2", out);
        conv(m, prefix + ".conv2", out, out, 3);
        if (in != out) {
            conv(m, prefix + ".conv_shortcut", out, in, 1);
        }
    }

    private static void mid(Map<String, long[]> m, String prefix, int channels, boolean attention) {
        resnet(m, prefix + ".resnets.0", channels, channels);
        if (attention) {
            String a = prefix + ".attentions.0.";
            norm(m, a + "group_norm", channels);
            for (String proj : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) {
                m.put(a + proj + ".weight", new long[] {channels, channels});
                m.put(a + proj + ".bias", new long[] {channels});
            }
        }
        resnet(m, prefix + ".resnets.1", channels, channels);
    }
}
