package dev.seer.model.dit;

import dev.seer.tensor.Tensor;
import java.util.Map;

/**
 * An independent float64 implementation of the DiT forward pass, written from the paper's and the official
 * code's definitions with plain loops: the oracle for {@link DitModel}'s libtorch op chain.
 */
final class DitReference {
    private final DitConfig c;
    private final Map<String, double[]> w = new java.util.HashMap<>();

    DitReference(DitConfig config, Map<String, Tensor> stateDict) {
        this.c = config;
        for (var e : stateDict.entrySet()) {
            float[] f = e.getValue().toFloatArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            w.put(e.getKey(), d);
        }
    }

    /** x: (B, Cin, H, W) flattened; returns (B, Cout, H, W) flattened. */
    double[] forward(float[] x, int batch, long[] t, long[] y) {
        int C = c.hiddenSize();
        int p = c.patchSize();
        int g = c.gridSize();
        int T = c.tokens();
        int in = c.inChannels();
        int size = c.inputSize();
        int oc = c.outChannels();
        double[] out = new double[batch * oc * size * size];
        for (int b = 0; b < batch; b++) {
            double[][] h = new double[T][C];
            double[] pw = w.get("x_embedder.proj.weight");
            double[] pb = w.get("x_embedder.proj.bias");
            double[] pos = w.get("pos_embed");
            for (int i = 0; i < g; i++) {
                for (int j = 0; j < g; j++) {
                    int tok = i * g + j;
                    for (int ch = 0; ch < C; ch++) {
                        double s = pb[ch];
                        for (int ic = 0; ic < in; ic++) {
                            for (int pi = 0; pi < p; pi++) {
                                for (int pj = 0; pj < p; pj++) {
                                    s += pw[((ch * in + ic) * p + pi) * p + pj]
                                            * x[((b * in + ic) * size + i * p + pi) * size + j * p + pj];
                                }
                            }
                        }
                        h[tok][ch] = s + pos[tok * C + ch];
                    }
                }
            }
            int half = 128;
            double[] freq = new double[2 * half];
            for (int k = 0; k < half; k++) {
                double a = t[b] * Math.exp(-Math.log(10000) * k / half);
                freq[k] = Math.cos(a);
                freq[half + k] = Math.sin(a);
            }
            double[] temb = linear(silu(linear(freq, "t_embedder.mlp.0")), "t_embedder.mlp.2");
            double[] table = w.get("y_embedder.embedding_table.weight");
            double[] cond = new double[C];
            for (int ch = 0; ch < C; ch++) {
                cond[ch] = temb[ch] + table[(int) y[b] * C + ch];
            }
            double[] sc = silu(cond);
            for (int l = 0; l < c.depth(); l++) {
                String pre = "blocks." + l + ".";
                double[] mod = linear(sc, pre + "adaLN_modulation.1");
                double[][] a = new double[T][];
                for (int tok = 0; tok < T; tok++) {
                    a[tok] = modulate(h[tok], mod, 0);
                }
                double[][] att = attention(a, pre);
                for (int tok = 0; tok < T; tok++) {
                    for (int ch = 0; ch < C; ch++) {
                        h[tok][ch] += mod[2 * C + ch] * att[tok][ch];
                    }
                }
                for (int tok = 0; tok < T; tok++) {
                    double[] m = modulate(h[tok], mod, 3 * C);
                    double[] f1 = linear(m, pre + "mlp.fc1");
                    for (int k = 0; k < f1.length; k++) {
                        double v = f1[k];
                        f1[k] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                    }
                    double[] f2 = linear(f1, pre + "mlp.fc2");
                    for (int ch = 0; ch < C; ch++) {
                        h[tok][ch] += mod[5 * C + ch] * f2[ch];
                    }
                }
            }
            double[] fmod = linear(sc, "final_layer.adaLN_modulation.1");
            for (int i = 0; i < g; i++) {
                for (int j = 0; j < g; j++) {
                    double[] o = linear(modulate(h[i * g + j], fmod, 0), "final_layer.linear");
                    for (int pi = 0; pi < p; pi++) {
                        for (int pj = 0; pj < p; pj++) {
                            for (int ch = 0; ch < oc; ch++) {
                                out[((b * oc + ch) * size + i * p + pi) * size + j * p + pj] = o[(pi * p + pj) * oc + ch];
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    private double[][] attention(double[][] a, String pre) {
        int T = a.length;
        int C = c.hiddenSize();
        int H = c.numHeads();
        int d = c.headDim();
        double[][] qkv = new double[T][];
        for (int tok = 0; tok < T; tok++) {
            qkv[tok] = linear(a[tok], pre + "attn.qkv");
        }
        double[][] o = new double[T][C];
        for (int hd = 0; hd < H; hd++) {
            for (int i = 0; i < T; i++) {
                double[] s = new double[T];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < T; j++) {
                    double dot = 0;
                    for (int k = 0; k < d; k++) {
                        dot += qkv[i][hd * d + k] * qkv[j][C + hd * d + k];
                    }
                    s[j] = dot / Math.sqrt(d);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < T; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < T; j++) {
                    for (int k = 0; k < d; k++) {
                        o[i][hd * d + k] += s[j] / sum * qkv[j][2 * C + hd * d + k];
                    }
                }
            }
        }
        double[][] r = new double[T][];
        for (int tok = 0; tok < T; tok++) {
            r[tok] = linear(o[tok], pre + "attn.proj");
        }
        return r;
    }

    private double[] modulate(double[] x, double[] mod, int shiftOffset) {
        int C = x.length;
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= C;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= C;
        double[] r = new double[C];
        for (int ch = 0; ch < C; ch++) {
            double n = (x[ch] - mean) / Math.sqrt(var + 1e-6);
            r[ch] = n * (1 + mod[shiftOffset + C + ch]) + mod[shiftOffset + ch];
        }
        return r;
    }

    private double[] linear(double[] x, String prefix) {
        double[] wt = w.get(prefix + ".weight");
        double[] bias = w.get(prefix + ".bias");
        int outF = bias.length;
        int inF = x.length;
        double[] r = new double[outF];
        for (int o = 0; o < outF; o++) {
            double s = bias[o];
            for (int i = 0; i < inF; i++) {
                s += wt[o * inF + i] * x[i];
            }
            r[o] = s;
        }
        return r;
    }

    private static double[] silu(double[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = x[i] / (1 + Math.exp(-x[i]));
        }
        return r;
    }
}
