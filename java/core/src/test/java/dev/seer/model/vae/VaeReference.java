package dev.seer.model.vae;

import java.util.Map;

/**
 * An independent float64 implementation of the KL autoencoder, in plain loops, for one sample (C, H, W): the oracle
 * of {@link AutoencoderTest}. It reads the weights by diffusers' names, which it spells out itself, and follows the
 * reference modules op by op (diffusers' Encoder / Decoder, ResnetBlock2D, Attention with one head, Downsample2D
 * with its (0, 1, 0, 1) zero pad, Upsample2D with nearest 2x).
 */
final class VaeReference {
    private final Map<String, float[]> w;
    private final int[] channels;
    private final int layers;
    private final int latent;
    private final int groups;
    private final double scaling;
    private final double shift;
    private final boolean quant;
    private final boolean postQuant;

    VaeReference(Map<String, float[]> weights, int[] channels, int layers, int latent, int groups, double scaling,
                 double shift, boolean quant, boolean postQuant) {
        this.w = weights;
        this.channels = channels;
        this.layers = layers;
        this.latent = latent;
        this.groups = groups;
        this.scaling = scaling;
        this.shift = shift;
        this.quant = quant;
        this.postQuant = postQuant;
    }

    /** A feature map: c channels of h x w, row-major per channel. */
    record Map3(double[] v, int c, int h, int w) {
    }

    /** Scaled latents (latent, h, w) to an image (3, h f, w f). */
    Map3 decode(Map3 z) {
        double[] v = new double[z.v().length];
        for (int i = 0; i < v.length; i++) {
            v[i] = z.v()[i] / scaling + shift;
        }
        Map3 h = new Map3(v, z.c(), z.h(), z.w());
        if (postQuant) {
            h = conv(h, "post_quant_conv", 1, 0, 0);
        }
        int n = channels.length;
        h = conv(h, "decoder.conv_in", 1, 1, 1);
        h = mid(h, "decoder.mid_block");
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= layers; j++) {
                h = resnet(h, "decoder.up_blocks." + i + ".resnets." + j);
            }
            if (i < n - 1) {
                h = conv(upsample(h), "decoder.up_blocks." + i + ".upsamplers.0.conv", 1, 1, 1);
            }
        }
        return conv(silu(norm(h, "decoder.conv_norm_out")), "decoder.conv_out", 1, 1, 1);
    }

    /** An image (3, H, W) to scaled latents (latent, H / f, W / f): the posterior mean. */
    Map3 encode(Map3 x) {
        int n = channels.length;
        Map3 h = conv(x, "encoder.conv_in", 1, 1, 1);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < layers; j++) {
                h = resnet(h, "encoder.down_blocks." + i + ".resnets." + j);
            }
            if (i < n - 1) {
                h = conv(h, "encoder.down_blocks." + i + ".downsamplers.0.conv", 2, 0, 1);
            }
        }
        h = mid(h, "encoder.mid_block");
        h = conv(silu(norm(h, "encoder.conv_norm_out")), "encoder.conv_out", 1, 1, 1);
        if (quant) {
            h = conv(h, "quant_conv", 1, 0, 0);
        }
        int plane = h.h() * h.w();
        double[] out = new double[latent * plane];
        for (int i = 0; i < out.length; i++) {
            out[i] = scaling * (h.v()[i] - shift); // the mean: the first half of the channels
        }
        return new Map3(out, latent, h.h(), h.w());
    }

    private Map3 mid(Map3 x, String p) {
        Map3 h = resnet(x, p + ".resnets.0");
        h = attention(h, p + ".attentions.0");
        return resnet(h, p + ".resnets.1");
    }

    private Map3 resnet(Map3 x, String p) {
        Map3 h = conv(silu(norm(x, p + ".norm1")), p + ".conv1", 1, 1, 1);
        h = conv(silu(norm(h, p + ".norm2")), p + ".conv2", 1, 1, 1);
        Map3 s = w.containsKey(p + ".conv_shortcut.weight") ? conv(x, p + ".conv_shortcut", 1, 0, 0) : x;
        double[] out = new double[h.v().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.v()[i] + h.v()[i];
        }
        return new Map3(out, h.c(), h.h(), h.w());
    }

    private Map3 attention(Map3 x, String p) {
        int c = x.c();
        int n = x.h() * x.w();
        Map3 hn = norm(x, p + ".group_norm");
        double[][] q = project(hn.v(), c, n, p + ".to_q");
        double[][] k = project(hn.v(), c, n, p + ".to_k");
        double[][] v = project(hn.v(), c, n, p + ".to_v");
        double scale = 1 / Math.sqrt(c);
        double[] att = new double[c * n]; // channel-major again
        double[] o = new double[c];
        double[] s = new double[n];
        float[] wo = w.get(p + ".to_out.0.weight");
        float[] bo = w.get(p + ".to_out.0.bias");
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                double d = 0;
                for (int e = 0; e < c; e++) {
                    d += q[i][e] * k[j][e];
                }
                s[j] = d * scale;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            java.util.Arrays.fill(o, 0);
            for (int j = 0; j < n; j++) {
                for (int e = 0; e < c; e++) {
                    o[e] += s[j] / sum * v[j][e];
                }
            }
            for (int oc = 0; oc < c; oc++) {
                double a = bo[oc];
                for (int e = 0; e < c; e++) {
                    a += wo[oc * c + e] * o[e];
                }
                att[oc * n + i] = a + x.v()[oc * n + i];
            }
        }
        return new Map3(att, c, x.h(), x.w());
    }

    /** Per position i: W t_i + b, with t_i the channel vector of position i; (n, c). Weights (c, c) or (c, c, 1, 1). */
    private double[][] project(double[] x, int c, int n, String p) {
        float[] wt = w.get(p + ".weight");
        float[] b = w.get(p + ".bias");
        double[][] out = new double[n][c];
        for (int i = 0; i < n; i++) {
            for (int oc = 0; oc < c; oc++) {
                double a = b[oc];
                for (int e = 0; e < c; e++) {
                    a += wt[oc * c + e] * x[e * n + i];
                }
                out[i][oc] = a;
            }
        }
        return out;
    }

    /** GroupNorm with the module's groups, eps 1e-6, biased variance. */
    private Map3 norm(Map3 x, String p) {
        float[] gamma = w.get(p + ".weight");
        float[] beta = w.get(p + ".bias");
        int per = x.c() / groups;
        int plane = x.h() * x.w();
        double[] out = new double[x.v().length];
        for (int g = 0; g < groups; g++) {
            int from = g * per * plane;
            int to = from + per * plane;
            double mean = 0;
            for (int i = from; i < to; i++) {
                mean += x.v()[i];
            }
            mean /= to - from;
            double var = 0;
            for (int i = from; i < to; i++) {
                var += (x.v()[i] - mean) * (x.v()[i] - mean);
            }
            var /= to - from;
            double inv = 1 / Math.sqrt(var + 1e-6);
            for (int i = from; i < to; i++) {
                int ch = i / plane;
                out[i] = (x.v()[i] - mean) * inv * gamma[ch] + beta[ch];
            }
        }
        return new Map3(out, x.c(), x.h(), x.w());
    }

    private static Map3 silu(Map3 x) {
        double[] out = new double[x.v().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = x.v()[i] / (1 + Math.exp(-x.v()[i]));
        }
        return new Map3(out, x.c(), x.h(), x.w());
    }

    private static Map3 upsample(Map3 x) {
        int h = 2 * x.h();
        int wd = 2 * x.w();
        double[] out = new double[x.c() * h * wd];
        for (int c = 0; c < x.c(); c++) {
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < wd; xx++) {
                    out[(c * h + y) * wd + xx] = x.v()[(c * x.h() + y / 2) * x.w() + xx / 2];
                }
            }
        }
        return new Map3(out, x.c(), h, wd);
    }

    /**
     * A k x k convolution (k from the weight) with bias, after zero padding of {@code before} rows and columns at
     * the top and left and {@code after} at the bottom and right (the downsampler: 0 and 1, stride 2).
     */
    private Map3 conv(Map3 x, String p, int stride, int before, int after) {
        float[] wt = w.get(p + ".weight");
        float[] b = w.get(p + ".bias");
        int co = b.length;
        int ci = x.c();
        int k = (int) Math.round(Math.sqrt(wt.length / (double) (co * ci)));
        int ho = (x.h() + before + after - k) / stride + 1;
        int wo = (x.w() + before + after - k) / stride + 1;
        double[] out = new double[co * ho * wo];
        for (int o = 0; o < co; o++) {
            for (int y = 0; y < ho; y++) {
                for (int xx = 0; xx < wo; xx++) {
                    double a = b[o];
                    for (int c = 0; c < ci; c++) {
                        for (int ky = 0; ky < k; ky++) {
                            int iy = y * stride + ky - before;
                            if (iy < 0 || iy >= x.h()) {
                                continue;
                            }
                            for (int kx = 0; kx < k; kx++) {
                                int ix = xx * stride + kx - before;
                                if (ix < 0 || ix >= x.w()) {
                                    continue;
                                }
                                a += wt[((o * ci + c) * k + ky) * k + kx] * x.v()[(c * x.h() + iy) * x.w() + ix];
                            }
                        }
                    }
                    out[(o * ho + y) * wo + xx] = a;
                }
            }
        }
        return new Map3(out, co, ho, wo);
    }
}
