package dev.seer.model.dit;

import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/** The state-dict keys of an official DiT checkpoint and the shape each must have for a config. */
public final class DitWeights {
    /** Frequency embedding size of the timestep embedder (official default). */
    public static final int FREQUENCY_EMBEDDING_SIZE = 256;

    private DitWeights() {
    }

    /** Every expected key, in the official module order, with its shape. */
    public static Map<String, long[]> expectedShapes(DitConfig c) {
        long C = c.hiddenSize();
        long p = c.patchSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("pos_embed", new long[] {1, c.tokens(), C});
        m.put("x_embedder.proj.weight", new long[] {C, c.inChannels(), p, p});
        m.put("x_embedder.proj.bias", new long[] {C});
        m.put("t_embedder.mlp.0.weight", new long[] {C, FREQUENCY_EMBEDDING_SIZE});
        m.put("t_embedder.mlp.0.bias", new long[] {C});
        m.put("t_embedder.mlp.2.weight", new long[] {C, C});
        m.put("t_embedder.mlp.2.bias", new long[] {C});
        m.put("y_embedder.embedding_table.weight", new long[] {c.numClasses() + (c.hasNullClass() ? 1 : 0), C});
        for (int i = 0; i < c.depth(); i++) {
            String b = "blocks." + i + ".";
            m.put(b + "attn.qkv.weight", new long[] {3 * C, C});
            m.put(b + "attn.qkv.bias", new long[] {3 * C});
            m.put(b + "attn.proj.weight", new long[] {C, C});
            m.put(b + "attn.proj.bias", new long[] {C});
            m.put(b + "mlp.fc1.weight", new long[] {c.mlpHidden(), C});
            m.put(b + "mlp.fc1.bias", new long[] {c.mlpHidden()});
            m.put(b + "mlp.fc2.weight", new long[] {C, c.mlpHidden()});
            m.put(b + "mlp.fc2.bias", new long[] {C});
            m.put(b + "adaLN_modulation.1.weight", new long[] {6 * C, C});
            m.put(b + "adaLN_modulation.1.bias", new long[] {6 * C});
        }
        m.put("final_layer.linear.weight", new long[] {p * p * c.outChannels(), C});
        m.put("final_layer.linear.bias", new long[] {p * p * c.outChannels()});
        m.put("final_layer.adaLN_modulation.1.weight", new long[] {2 * C, C});
        m.put("final_layer.adaLN_modulation.1.bias", new long[] {2 * C});
        return m;
    }

    /**
     * A float32 copy of a state-dict tensor in memory libtorch owns, its values checked finite. The bytes are
     * copied by Java first: a state dict from a file is a view of the mapped file, and if the file is truncated
     * or rewritten meanwhile, a Java copy fails with an {@link InternalError} (turned into a refusal here)
     * where libtorch's native copy would crash the JVM with SIGBUS.
     *
     * @throws WeightsMismatchException naming the key, when the memory cannot be read or holds NaN or infinity
     */
    static org.bytedeco.pytorch.Tensor ownedFloatCopy(String key, Tensor t) {
        org.bytedeco.pytorch.Tensor owned = torch.empty(t.shape().toArray(), new TensorOptions(t.dtype().torchType()),
                new MemoryFormatOptional());
        if (t.byteSize() > 0) {
            try {
                MemorySegment.copy(t.segment(), 0, Torch.view(owned).segment(), 0, t.byteSize());
            } catch (InternalError e) {
                throw new WeightsMismatchException(key, "tensor data that stays readable while it loads", "memory that "
                        + "could not be read: the file was truncated or rewritten during the load");
            }
        }
        org.bytedeco.pytorch.Tensor f = owned.to(torch.ScalarType.Float).contiguous();
        if (!torch.isfinite(f).all().item_bool()) {
            float[] v = Torch.view(f).toFloatArray();
            int i = 0;
            while (Float.isFinite(v[i])) {
                i++;
            }
            throw new WeightsMismatchException(key, "finite values", v[i] + " at element " + i + " (of " + v.length + ")");
        }
        return f;
    }

    /**
     * The fixed 2-D sin-cos position embedding of the official code (MAE's get_2d_sincos_pos_embed), computed in
     * float64 and rounded to float32: for token (row i, column j) the first half of the channels encodes j and
     * the second half i, each as [sin(pos * omega), cos(pos * omega)] with omega_k = 1 / 10000^(k / (D/4)).
     */
    public static float[] sincosPositionEmbedding(int hidden, int grid) {
        int quarter = hidden / 4;
        double[] omega = new double[quarter];
        for (int k = 0; k < quarter; k++) {
            omega[k] = 1.0 / Math.pow(10000.0, k / (double) quarter);
        }
        float[] out = new float[grid * grid * hidden];
        for (int i = 0; i < grid; i++) {
            for (int j = 0; j < grid; j++) {
                int base = (i * grid + j) * hidden;
                for (int k = 0; k < quarter; k++) {
                    out[base + k] = (float) Math.sin(j * omega[k]);
                    out[base + quarter + k] = (float) Math.cos(j * omega[k]);
                    out[base + 2 * quarter + k] = (float) Math.sin(i * omega[k]);
                    out[base + 3 * quarter + k] = (float) Math.cos(i * omega[k]);
                }
            }
        }
        return out;
    }
}
