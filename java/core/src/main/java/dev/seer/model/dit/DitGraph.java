package dev.seer.model.dit;

import java.util.function.Function;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The DiT op chain on libtorch tensors, over weights looked up by their official key names: the training path
 * (autograd differentiates it). Inference ({@link DitModel}) takes its modulation and gate ops and runs the rest
 * in Seer's native ops. Every op is out-of-place; the residual adds are left to the caller.
 */
public final class DitGraph {
    private final DitConfig config;
    private final Function<String, Tensor> weights;
    private final Tensor frequencies;

    /**
     * @param weights   the weight for a key; must know every key of {@link DitWeights#expectedShapes}
     * @param frequencies the timestep embedding's frequencies, from {@link #timestepFrequencies()}
     */
    public DitGraph(DitConfig config, Function<String, Tensor> weights, Tensor frequencies) {
        this.config = config;
        this.weights = weights;
        this.frequencies = frequencies;
    }

    public DitConfig config() {
        return config;
    }

    Tensor w(String key) {
        return weights.apply(key);
    }

    Tensor linear(Tensor x, String prefix) {
        return torch.linear(x, w(prefix + ".weight"), new TensorOptional(w(prefix + ".bias")));
    }

    /**
     * x_embedder + the fixed position embedding: (B, T, C), contiguous. The official conv with kernel = stride
     * = patch is computed as what it is, one linear map per patch: patches (B, T, Cin*p*p) in the conv weight's
     * (in channel, row, column) order, times the flattened weight (a conv call costs more than the whole map).
     */
    public Tensor embed(Tensor x) {
        long p = config.patchSize();
        long g = config.gridSize();
        long in = config.inChannels();
        Tensor patches = x.reshape(x.size(0), in, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(x.size(0), g * g, in * p * p);
        Tensor weight = w("x_embedder.proj.weight").reshape(config.hiddenSize(), in * p * p);
        return torch.linear(patches, weight, new TensorOptional(w("x_embedder.proj.bias"))).add(w("pos_embed"));
    }

    /** c = t_emb + y_emb: (B, C). t: (B,) timesteps (any numeric dtype), y: (B,) int64 labels. */
    public Tensor conditioning(Tensor t, Tensor y) {
        Tensor args = t.to(torch.ScalarType.Float).unsqueeze(1).mul(frequencies.unsqueeze(0));
        Tensor tFreq = torch.cat(new TensorVector(args.cos(), args.sin()), -1);
        Tensor tEmb = linear(torch.silu(linear(tFreq, "t_embedder.mlp.0")), "t_embedder.mlp.2");
        return tEmb.add(w("y_embedder.embedding_table.weight").index_select(0, y));
    }

    /** Block i's adaLN modulation from silu(c): (B, 6C) = shift, scale, gate (attention), shift, scale, gate (MLP). */
    public Tensor blockModulation(Tensor siluC, int i) {
        return linear(siluC, "blocks." + i + ".adaLN_modulation.1");
    }

    /** LayerNorm (no affine, eps 1e-6), then x * (1 + scale) + shift with shift/scale read from the modulation. */
    public Tensor modulate(Tensor x, Tensor mods, long shiftOffset) {
        int C = config.hiddenSize();
        Tensor shift = mods.narrow(1, shiftOffset, C).unsqueeze(1);
        Tensor scale = mods.narrow(1, shiftOffset + C, C).unsqueeze(1);
        Tensor n = torch.layer_norm(x, new long[] {C}, new TensorOptional(), new TensorOptional(), 1e-6, false);
        return n.mul(scale.add(new Scalar(1.0))).add(shift);
    }

    /** Block i's attention branch on modulated input: qkv -> heads -> softmax(q k^T / sqrt(d)) v -> proj. */
    public Tensor attention(Tensor x, int i) {
        long B = x.size(0);
        long N = x.size(1);
        String b = "blocks." + i + ".";
        Tensor qkv = linear(x, b + "attn.qkv").reshape(B, N, 3, config.numHeads(), config.headDim()).permute(2, 0, 3, 1, 4);
        Tensor o = torch.scaled_dot_product_attention(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2));
        return linear(o.transpose(1, 2).reshape(B, N, config.hiddenSize()), b + "attn.proj");
    }

    /** Block i's MLP branch on modulated input: fc1 -> tanh-GELU -> fc2. */
    public Tensor mlp(Tensor x, int i) {
        String b = "blocks." + i + ".";
        return linear(torch.gelu(linear(x, b + "mlp.fc1"), "tanh"), b + "mlp.fc2");
    }

    /** The gate of a branch, shaped to broadcast over tokens: (B, 1, C). */
    public Tensor gate(Tensor mods, long gateOffset) {
        return mods.narrow(1, gateOffset, config.hiddenSize()).unsqueeze(1);
    }

    /** One block out of place, x + gate * branch twice: the training path. */
    public Tensor block(Tensor x, Tensor siluC, int i) {
        int C = config.hiddenSize();
        Tensor mods = blockModulation(siluC, i);
        x = x.add(gate(mods, 2L * C).mul(attention(modulate(x, mods, 0), i)));
        return x.add(gate(mods, 5L * C).mul(mlp(modulate(x, mods, 3L * C), i)));
    }

    /** Final layer (adaLN shift/scale, LayerNorm, linear) and unpatchify: (B, out_channels, H, W), contiguous. */
    public Tensor finalLayer(Tensor x, Tensor siluC) {
        long p = config.patchSize();
        Tensor fm = linear(siluC, "final_layer.adaLN_modulation.1");
        Tensor out = linear(modulate(x, fm, 0), "final_layer.linear");
        long batch = out.size(0);
        long g = config.gridSize();
        long oc = config.outChannels();
        return out.reshape(batch, g, g, p, p, oc).permute(0, 5, 1, 3, 2, 4).reshape(batch, oc, g * p, g * p).contiguous();
    }

    /** The whole network out of place (training): x (B, C, H, W), t (B,), y (B,) -> (B, out_channels, H, W). */
    public Tensor forward(Tensor x, Tensor t, Tensor y) {
        Tensor h = embed(x);
        Tensor siluC = torch.silu(conditioning(t, y));
        for (int i = 0; i < config.depth(); i++) {
            h = block(h, siluC, i);
        }
        return finalLayer(h, siluC);
    }

    /** exp(-ln(10000) * k / half) for k &lt; half, in the reference's float32 op order. */
    public static Tensor timestepFrequencies() {
        int half = DitWeights.FREQUENCY_EMBEDDING_SIZE / 2;
        Tensor k = torch.arange(new Scalar(0), new Scalar(half), new TensorOptions(torch.ScalarType.Float));
        return k.mul(new Scalar(-Math.log(10000.0))).div(new Scalar(half)).exp();
    }
}
