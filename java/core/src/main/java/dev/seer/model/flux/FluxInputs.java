package dev.seer.model.flux;

import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

/**
 * A FLUX run's conditioning, as tensors (the text encoders run elsewhere): {@code txt} (B, L, context_in_dim), the T5
 * encoder's output; {@code vec} (B, vec_in_dim), CLIP's pooled output; optionally {@code noise} (B, C, H, W) initial
 * latents (C = in_channels / 4, H and W even), {@code txt_ids} (B, L, 3), {@code img_ids} (B, H/2 * W/2, 3) and
 * {@code timesteps} (steps + 1 values). Floating-point tensors of any stored width are read as float32 (timesteps as
 * float64); every value must be finite.
 *
 * <p>Such a file comes from a prompt with the reference's own {@code prepare()} (flux/sampling.py): T5-XXL on the
 * prompt padded to 512 tokens (256 for schnell) gives {@code txt}, CLIP-L's pooled output gives {@code vec}; save both
 * with {@code safetensors.torch.save_file} (tools/flux-check/run_official.py writes such files for random inputs).
 *
 * @param txt       (B, L, context_in_dim) row-major
 * @param txtShape  {B, L, context_in_dim}
 * @param vec       (B, vec_in_dim)
 * @param noise     (B, C, H, W) or null
 * @param noiseShape its shape, or null
 * @param txtIds    (B, L, 3) or null (zeros)
 * @param imgIds    (B, H/2 * W/2, 3) or null ((0, row, column))
 * @param timesteps steps + 1 values, or null (the official schedule)
 */
public record FluxInputs(float[] txt, long[] txtShape, float[] vec, float[] noise, long[] noiseShape, float[] txtIds,
                         float[] imgIds, double[] timesteps) {

    /** The keys an inputs file may hold. */
    public static final Set<String> KEYS = Set.of("txt", "vec", "noise", "txt_ids", "img_ids", "timesteps");

    /** The batch size B. */
    public int batch() {
        return (int) txtShape[0];
    }

    /** The text tokens L. */
    public int txtTokens() {
        return (int) txtShape[1];
    }

    /**
     * Reads and checks an inputs file against the model's params.
     *
     * @throws CheckpointException naming the file, the key, what was expected and what was found
     */
    public static FluxInputs read(Path file, FluxParams p) throws IOException {
        try (SafetensorsFile f = Safetensors.open(file)) {
            for (String k : f.keys()) {
                if (!KEYS.contains(k)) {
                    throw new CheckpointException(file, k, "only the keys " + KEYS.stream().sorted().toList(), "an unexpected key");
                }
            }
            Tensor txt = f.get("txt");
            if (txt.shape().rank() != 3 || txt.shape().dim(2) != p.contextInDim() || txt.shape().dim(0) < 1 || txt.shape().dim(1) < 1) {
                throw new CheckpointException(file, "txt", "shape (B, L, " + p.contextInDim() + ") (context_in_dim)", "shape " + txt.shape());
            }
            long b = txt.shape().dim(0);
            long l = txt.shape().dim(1);
            Tensor vec = f.get("vec");
            expectShape(file, "vec", vec, Shape.of(b, p.vecInDim()), "(B = " + b + " as txt, " + p.vecInDim() + ")");
            float[] noise = null;
            long[] noiseShape = null;
            if (f.contains("noise")) {
                Tensor n = f.get("noise");
                Shape s = n.shape();
                if (s.rank() != 4 || s.dim(0) != b || s.dim(1) != p.latentChannels() || s.dim(2) < 2 || s.dim(3) < 2
                        || s.dim(2) % 2 != 0 || s.dim(3) % 2 != 0) {
                    throw new CheckpointException(file, "noise", "shape (B = " + b + " as txt, " + p.latentChannels()
                            + ", H, W) with H and W even and >= 2", "shape " + s);
                }
                noise = floats(file, "noise", n);
                noiseShape = s.toArray();
            }
            float[] txtIds = null;
            if (f.contains("txt_ids")) {
                Tensor t = f.get("txt_ids");
                expectShape(file, "txt_ids", t, Shape.of(b, l, 3), "(B, L, 3) as txt");
                txtIds = floats(file, "txt_ids", t);
            }
            float[] imgIds = null;
            if (f.contains("img_ids")) {
                Tensor t = f.get("img_ids");
                if (t.shape().rank() != 3 || t.shape().dim(0) != b || t.shape().dim(2) != 3
                        || (noiseShape != null && t.shape().dim(1) != noiseShape[2] / 2 * (noiseShape[3] / 2))) {
                    throw new CheckpointException(file, "img_ids", "shape (B = " + b + ", image tokens"
                            + (noiseShape == null ? "" : " = " + noiseShape[2] / 2 * (noiseShape[3] / 2)) + ", 3)", "shape " + t.shape());
                }
                imgIds = floats(file, "img_ids", t);
            }
            double[] timesteps = null;
            if (f.contains("timesteps")) {
                Tensor t = f.get("timesteps");
                if (t.shape().rank() != 1 || t.shape().dim(0) < 2 || (t.dtype() != DType.F64 && t.dtype() != DType.F32)) {
                    throw new CheckpointException(file, "timesteps", "F64 (or F32) of shape (steps + 1,), at least 2 values",
                            t.dtype() + " of shape " + t.shape());
                }
                timesteps = new double[(int) t.numel()];
                for (int i = 0; i < timesteps.length; i++) {
                    timesteps[i] = t.dtype() == DType.F64 ? t.segment().getAtIndex(ValueLayout.JAVA_DOUBLE, i)
                            : t.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    if (!Double.isFinite(timesteps[i])) {
                        throw new CheckpointException(file, "timesteps", "finite values", timesteps[i] + " at index " + i);
                    }
                }
            }
            return new FluxInputs(floats(file, "txt", txt), txt.shape().toArray(), floats(file, "vec", vec), noise, noiseShape,
                    txtIds, imgIds, timesteps);
        }
    }

    private static void expectShape(Path file, String key, Tensor t, Shape want, String described) throws CheckpointException {
        if (!t.shape().equals(want)) {
            throw new CheckpointException(file, key, "shape " + want + " " + described, "shape " + t.shape());
        }
    }

    /** The tensor as float32 values, refusing non-floating types and NaN or infinite values. */
    private static float[] floats(Path file, String key, Tensor t) throws CheckpointException {
        if (!t.dtype().isFloatingPoint()) {
            throw new CheckpointException(file, key, "a floating-point tensor (F32, BF16, F16 or F64)", "dtype " + t.dtype());
        }
        float[] v;
        if (t.dtype() == DType.F32) {
            v = t.toFloatArray();
        } else {
            try (PointerScope scope = new PointerScope()) {
                v = Torch.view(Torch.wrap(t).to(torch.ScalarType.Float).contiguous()).toFloatArray();
            }
        }
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new CheckpointException(file, key, "finite values", v[i] + " at flat index " + i);
            }
        }
        return v;
    }
}
