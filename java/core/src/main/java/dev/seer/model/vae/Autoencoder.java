package dev.seer.model.vae;

import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.model.WeightsMismatchException;
import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * A KL autoencoder (the LDM / BFL architecture of SD-VAE and FLUX's ae), float32 on libtorch, inference only.
 * Loads diffusers {@code AutoencoderKL} directories and files as well as original LDM / BFL files
 * ({@link VaeLayout}) into one implementation. Float32 weights in a safetensors file are used where the file maps
 * them, without a copy; other floating-point dtypes are converted once.
 *
 * <p>{@link #decode} turns scaled latents into images in [-1, 1] (unclamped): {@code z / scaling + shift},
 * {@code post_quant_conv} where present, the decoder; optionally in overlapping tiles ({@link Tiling}).
 * {@link #encode} turns images in [-1, 1] into scaled latents: the posterior mean of {@code quant_conv(encoder(x))},
 * {@code scaling * (mean - shift)}, without sampling, so it is deterministic. Samples of a batch are decoded one at a
 * time (the result is the same; the memory of one).
 *
 * <p>Thread-safe: weights are only read. Close it to free the weights (and unmap the file).
 */
public final class Autoencoder implements AutoCloseable {
    /** diffusers' weight file inside an AutoencoderKL directory. */
    public static final String DIFFUSERS_WEIGHTS = "diffusion_pytorch_model.safetensors";
    /** diffusers' config file inside an AutoencoderKL directory. */
    public static final String DIFFUSERS_CONFIG = "config.json";

    private final VaeConfig config;
    private final VaeLayout sourceLayout;
    /** Every weight under its diffusers name; the attention projections as (C, C). */
    private final Map<String, org.bytedeco.pytorch.Tensor> weights;
    /** The mapped file whose memory float32 weights use, or null when the weights are owned copies. */
    private final SafetensorsFile file;
    private volatile boolean closed;

    /**
     * Overlapping tiles for decoding large latents, as diffusers' {@code tiled_decode}: tiles of {@code tile} x
     * {@code tile} latents every {@code tile - overlap} latents, each decoded alone; where tiles overlap, a tile's
     * first {@code overlap * f} rows (columns) are blended linearly with the tile above (to the left), which has
     * already been blended itself, and each tile keeps its first {@code (tile - overlap) * f} rows and columns.
     * Latents no larger than one tile are decoded whole. With {@code overlap = tile / 4} and tile a multiple of 4 this
     * is diffusers' tiling with {@code tile_latent_min_size = tile}.
     */
    public record Tiling(int tile, int overlap) {
        public Tiling {
            if (tile < 1 || overlap < 0 || overlap >= tile) {
                throw new IllegalArgumentException("a tiling needs tile >= 1 and 0 <= overlap < tile, found tile " + tile
                        + ", overlap " + overlap);
            }
        }
    }

    private Autoencoder(VaeConfig config, VaeLayout sourceLayout, Map<String, org.bytedeco.pytorch.Tensor> weights,
                        SafetensorsFile file) {
        this.config = config;
        this.sourceLayout = sourceLayout;
        this.weights = weights;
        this.file = file;
    }

    // ---- loading ----------------------------------------------------------------------------------------------

    /**
     * Loads an autoencoder: a diffusers {@code AutoencoderKL} directory ({@value #DIFFUSERS_CONFIG} and
     * {@value #DIFFUSERS_WEIGHTS}), or a single {@code .safetensors} file in either layout (FLUX's
     * {@code ae.safetensors}, an LDM VAE, a diffusers weight file).
     *
     * @param config the architecture; null: the directory's {@value #DIFFUSERS_CONFIG}, or the {@code flux} preset for
     *               a single file in the original layout (a diffusers file alone has no config: then it is required)
     * @throws CheckpointException naming the file, the tensor key, what was expected and what was found
     */
    public static Autoencoder load(Path path, VaeConfig config) throws IOException {
        SeerRuntime.init();
        Path weightsFile = path;
        if (Files.isDirectory(path)) {
            weightsFile = path.resolve(DIFFUSERS_WEIGHTS);
            if (!Files.isRegularFile(weightsFile)) {
                throw new CheckpointException(path, null, "a diffusers AutoencoderKL directory with " + DIFFUSERS_WEIGHTS,
                        "no such file in the directory");
            }
            if (config == null) {
                Path cfg = path.resolve(DIFFUSERS_CONFIG);
                if (!Files.isRegularFile(cfg)) {
                    throw new CheckpointException(path, null, "a diffusers AutoencoderKL directory with " + DIFFUSERS_CONFIG,
                            "no such file in the directory");
                }
                config = VaeConfig.fromJson(cfg);
            }
        }
        SafetensorsFile f = Safetensors.open(weightsFile);
        try {
            VaeLayout layout = detectLayout(f.keys());
            if (layout == null) {
                throw new CheckpointException(weightsFile, null, "the tensors of a KL autoencoder (decoder.up_blocks.* as "
                        + "diffusers names them, or decoder.up.* as LDM / BFL do)", describeKeys(f.keys()));
            }
            if (config == null) {
                if (layout == VaeLayout.DIFFUSERS) {
                    throw new IllegalArgumentException(weightsFile + ": a diffusers weight file alone has no config: give its "
                            + DIFFUSERS_CONFIG + " (or load its directory)");
                }
                config = VaeConfig.preset("flux");
            }
            Map<String, Tensor> source = new LinkedHashMap<>();
            for (String key : f.keys()) {
                source.put(key, f.get(key));
            }
            Map<String, org.bytedeco.pytorch.Tensor> w;
            try {
                w = bind(config, layout, source, false);
            } catch (WeightsMismatchException e) {
                throw new CheckpointException(weightsFile, e.key(), e.expected(), e.found(), e);
            }
            return new Autoencoder(config, layout, w, f);
        } catch (IOException | RuntimeException | Error e) {
            f.close();
            throw e;
        }
    }

    /**
     * An autoencoder from a state dict in either layout (told by its key names), copied into memory the model owns.
     *
     * @throws WeightsMismatchException naming the key, the expected and the found shape or name
     */
    public static Autoencoder fromStateDict(VaeConfig config, Map<String, Tensor> stateDict) {
        SeerRuntime.init();
        VaeLayout layout = detectLayout(stateDict.keySet());
        if (layout == null) {
            throw new WeightsMismatchException("decoder.conv_in.weight", "the tensors of a KL autoencoder (decoder.up_blocks.* "
                    + "or decoder.up.*)", describeKeys(stateDict.keySet()));
        }
        return new Autoencoder(config, layout, bind(config, layout, stateDict, true), null);
    }

    /**
     * Random weights, for speed measurements and tests (the pictures are noise): conv and attention weights
     * ~ N(0, 1/fan_in), biases ~ N(0, 0.02^2), norm scales 1 + N(0, 0.1^2) and shifts N(0, 0.1^2).
     */
    public static Autoencoder random(VaeConfig config, long seed) {
        SeerRuntime.init();
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, org.bytedeco.pytorch.Tensor> w = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            for (var e : VaeWeights.expectedShapes(config).entrySet()) {
                long[] shape = e.getValue();
                float[] v = new float[Math.toIntExact(Shape.of(shape).numel())];
                boolean norm = e.getKey().contains("norm");
                boolean bias = e.getKey().endsWith(".bias");
                double std = norm ? 0.1 : bias ? 0.02 : 1.0 / Math.sqrt(v.length / (double) shape[0]);
                double mean = norm && !bias ? 1 : 0;
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (mean + std * rnd.nextGaussian());
                }
                org.bytedeco.pytorch.Tensor t = torch.empty(shape); // float32, the default dtype
                Torch.view(t).copyFrom(v);
                w.put(e.getKey(), keep(t));
            }
        }
        return new Autoencoder(config, VaeLayout.DIFFUSERS, w, null);
    }

    /** The layout of a checkpoint's keys, or null when they are not an autoencoder's. */
    public static VaeLayout detectLayout(Set<String> keys) {
        for (String k : keys) {
            if (k.startsWith("decoder.up_blocks.") || k.startsWith("decoder.mid_block.") || k.startsWith("encoder.down_blocks.")) {
                return VaeLayout.DIFFUSERS;
            }
            if (k.startsWith("decoder.up.") || k.startsWith("decoder.mid.") || k.startsWith("encoder.down.")) {
                return VaeLayout.ORIGINAL;
            }
        }
        return null;
    }

    /**
     * Every tensor the config needs, from {@code source} in {@code layout}: present, of its shape (the attention
     * projections as (C, C) or (C, C, 1, 1) in either layout), floating point; no other tensor may be present (a
     * config with fewer layers than the file would otherwise load a part of it). Float32 tensors are wrapped
     * without copying unless {@code copy}.
     */
    private static Map<String, org.bytedeco.pytorch.Tensor> bind(VaeConfig config, VaeLayout layout,
                                                                  Map<String, Tensor> source, boolean copy) {
        boolean deprecated = layout == VaeLayout.DIFFUSERS && (source.containsKey("decoder.mid_block.attentions.0.query.weight")
                || source.containsKey("encoder.mid_block.attentions.0.query.weight"));
        Set<String> unused = new LinkedHashSet<>(source.keySet());
        Map<String, org.bytedeco.pytorch.Tensor> out = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            for (var e : VaeWeights.expectedShapes(config).entrySet()) {
                String key = VaeWeights.keyIn(layout, e.getKey(), config, deprecated);
                Shape want = Shape.of(e.getValue());
                Tensor t = source.get(key);
                if (t == null) {
                    throw new WeightsMismatchException(key, "shape " + want + " (" + config + ")", "the key is missing");
                }
                unused.remove(key);
                boolean projection = VaeWeights.isAttentionProjection(e.getKey());
                Shape asConv = projection ? Shape.of(want.dim(0), want.dim(1), 1, 1) : want;
                if (!t.shape().equals(want) && !(projection && t.shape().equals(asConv))) {
                    throw new WeightsMismatchException(key, "shape " + want + (projection ? " or " + asConv : "")
                            + " (" + config + ")", "shape " + t.shape());
                }
                if (!t.dtype().isFloatingPoint()) {
                    throw new WeightsMismatchException(key, "a floating-point tensor", "dtype " + t.dtype());
                }
                org.bytedeco.pytorch.Tensor w = Torch.wrap(t.reshape(want.toArray()));
                if (t.dtype() != DType.F32) {
                    w = w.to(torch.ScalarType.Float);
                } else if (copy) {
                    w = w.clone();
                }
                out.put(e.getKey(), keep(w));
            }
        } catch (RuntimeException e) {
            out.values().forEach(org.bytedeco.pytorch.Tensor::close);
            throw e;
        }
        if (!unused.isEmpty()) {
            out.values().forEach(org.bytedeco.pytorch.Tensor::close);
            String key = unused.iterator().next();
            throw new WeightsMismatchException(key, "no such tensor in an autoencoder of " + config, "an unexpected tensor ("
                    + unused.size() + " such)");
        }
        return out;
    }

    /** Takes a tensor out of the current PointerScope so it lives until {@link #close()}. */
    private static org.bytedeco.pytorch.Tensor keep(org.bytedeco.pytorch.Tensor t) {
        PointerScope inner = PointerScope.getInnerScope();
        if (inner != null) {
            t.retainReference();
            inner.detach(t);
        }
        return t;
    }

    private static String describeKeys(Set<String> keys) {
        if (keys.isEmpty()) {
            return "no tensors";
        }
        return keys.size() + " tensors, e.g. '" + keys.iterator().next() + "'";
    }

    /** The architecture and latent scaling. */
    public VaeConfig config() {
        return config;
    }

    /** The layout the weights were loaded from. */
    public VaeLayout sourceLayout() {
        return sourceLayout;
    }

    /** True when float32 weights are used from the mapped file rather than copied. */
    public boolean isMapped() {
        return file != null;
    }

    /**
     * The weights under their names in {@code layout} (attention projections in that layout's shape): views of the
     * model's memory, valid until {@link #close()}; e.g. to write a checkpoint with {@code Safetensors.write}.
     */
    public Map<String, Tensor> stateDict(VaeLayout layout) {
        ensureOpen();
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (var e : weights.entrySet()) {
            Tensor t = Torch.view(e.getValue());
            if (layout == VaeLayout.ORIGINAL && VaeWeights.isAttentionProjection(e.getKey())) {
                t = t.reshape(t.shape().dim(0), t.shape().dim(1), 1, 1);
            }
            m.put(VaeWeights.keyIn(layout, e.getKey(), config, false), t);
        }
        return m;
    }

    // ---- decode / encode --------------------------------------------------------------------------------------

    /** As {@link #decode(Arena, Tensor, Tiling)} without tiling. */
    public Tensor decode(Arena arena, Tensor latents) {
        return decode(arena, latents, null);
    }

    /**
     * Scaled latents (B, latent_channels, h, w), float32 and finite, to images (B, out_channels, h f, w f) in
     * [-1, 1] (not clamped), f = {@link VaeConfig#downsampling()}, allocated in {@code arena}.
     *
     * @param tiling null: decode whole
     * @throws IllegalArgumentException naming the shape, dtype or first non-finite value that is wrong
     */
    public Tensor decode(Arena arena, Tensor latents, Tiling tiling) {
        ensureOpen();
        checkInput("latents", latents, config.latentChannels(), 1);
        long[] d = latents.shape().toArray();
        int f = config.downsampling();
        Tensor out = Tensor.allocate(arena, DType.F32, d[0], config.outChannels(), d[2] * f, d[3] * f);
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            org.bytedeco.pytorch.Tensor z = Torch.wrap(latents);
            org.bytedeco.pytorch.Tensor y = Torch.wrap(out);
            for (long b = 0; b < d[0]; b++) {
                org.bytedeco.pytorch.Tensor zb = z.narrow(0, b, 1);
                org.bytedeco.pytorch.Tensor img = tiling != null && (d[2] > tiling.tile() || d[3] > tiling.tile())
                        ? decodeTiled(zb, tiling) : scoped(() -> decodeWhole(zb));
                y.narrow(0, b, 1).copy_(img);
                img.close(); // one sample's picture at a time
            }
        }
        return out;
    }

    /**
     * Images (B, in_channels, H, W) in [-1, 1], float32 and finite, H and W multiples of
     * {@link VaeConfig#downsampling()}, to scaled latents (B, latent_channels, H / f, W / f) in {@code arena}: the
     * posterior mean, so the same images always give the same latents.
     */
    public Tensor encode(Arena arena, Tensor images) {
        ensureOpen();
        int f = config.downsampling();
        checkInput("images", images, config.inChannels(), f);
        long[] d = images.shape().toArray();
        int zc = config.latentChannels();
        Tensor out = Tensor.allocate(arena, DType.F32, d[0], zc, d[2] / f, d[3] / f);
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            org.bytedeco.pytorch.Tensor x = Torch.wrap(images);
            org.bytedeco.pytorch.Tensor y = Torch.wrap(out);
            for (long b = 0; b < d[0]; b++) {
                org.bytedeco.pytorch.Tensor xb = x.narrow(0, b, 1);
                org.bytedeco.pytorch.Tensor z = scoped(() -> {
                    org.bytedeco.pytorch.Tensor moments = encoder(channelsLast(xb));
                    if (config.useQuantConv()) {
                        moments = conv(moments, "quant_conv", 1, 0);
                    }
                    // the posterior's mean is the first half of the channels, its log-variance the second
                    org.bytedeco.pytorch.Tensor mean = moments.narrow(1, 0, zc);
                    return mean.sub(scalar(config.shiftFactor())).mul(scalar(config.scalingFactor()));
                });
                y.narrow(0, b, 1).copy_(z);
                z.close();
            }
        }
        return out;
    }

    private void checkInput(String what, Tensor t, int channels, int multiple) {
        long[] d = t.shape().toArray();
        if (d.length != 4 || d[1] != channels || d[0] < 1 || d[2] < 1 || d[3] < 1) {
            throw new IllegalArgumentException(what + " must be (B, " + channels + ", H, W) for this autoencoder ("
                    + config.latentChannels() + " latent channels), found shape " + t.shape());
        }
        if (d[2] % multiple != 0 || d[3] % multiple != 0) {
            throw new IllegalArgumentException(what + ": height and width must be multiples of " + multiple
                    + " (the autoencoder's downsampling), found " + d[2] + " x " + d[3]);
        }
        if (t.dtype() != DType.F32 || !t.device().isCpu()) {
            throw new IllegalArgumentException(what + " must be a float32 host tensor, found " + t.dtype() + " on " + t.device());
        }
        MemorySegment s = t.segment();
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            float v = s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException(what + " must be finite, found " + v + " at flat index " + i + " of shape "
                        + t.shape());
            }
        }
    }

    private org.bytedeco.pytorch.Tensor decodeWhole(org.bytedeco.pytorch.Tensor latents) {
        org.bytedeco.pytorch.Tensor z = latents.div(scalar(config.scalingFactor()));
        if (config.shiftFactor() != 0) {
            z = z.add(scalar(config.shiftFactor()));
        }
        if (config.usePostQuantConv()) {
            z = conv(z, "post_quant_conv", 1, 0);
        }
        return decoder(channelsLast(z));
    }

    /**
     * The decoder: (1, latent_channels, h, w) to (1, out_channels, h f, w f). Each stage's input is freed as soon as
     * its output exists: at 1024 x 1024 pixels one activation is 512 MiB to 1 GiB.
     */
    private org.bytedeco.pytorch.Tensor decoder(org.bytedeco.pytorch.Tensor z) {
        int n = config.levels();
        org.bytedeco.pytorch.Tensor h = scoped(() -> conv(z, "decoder.conv_in", 1, 1));
        h = replace(h, mid(h, "decoder.mid_block"));
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= config.layersPerBlock(); j++) {
                h = replace(h, resnet(h, "decoder.up_blocks." + i + ".resnets." + j));
            }
            if (i < n - 1) {
                org.bytedeco.pytorch.Tensor in = h;
                String conv = "decoder.up_blocks." + i + ".upsamplers.0.conv";
                h = replace(h, scoped(() -> conv(torch.upsample_nearest2d(in, new long[] {2 * in.size(2), 2 * in.size(3)}), conv, 1, 1)));
            }
        }
        return replace(h, out(h, "decoder"));
    }

    /** The encoder: (1, in_channels, H, W) to the posterior's moments (1, 2 latent_channels, H / f, W / f). */
    private org.bytedeco.pytorch.Tensor encoder(org.bytedeco.pytorch.Tensor x) {
        int n = config.levels();
        org.bytedeco.pytorch.Tensor h = scoped(() -> conv(x, "encoder.conv_in", 1, 1));
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < config.layersPerBlock(); j++) {
                h = replace(h, resnet(h, "encoder.down_blocks." + i + ".resnets." + j));
            }
            if (i < n - 1) {
                org.bytedeco.pytorch.Tensor in = h;
                String conv = "encoder.down_blocks." + i + ".downsamplers.0.conv";
                // stride 2 without padding after a zero pad of one row and column at the bottom and right
                h = replace(h, scoped(() -> conv(torch.constant_pad_nd(in, 0, 1, 0, 1), conv, 2, 0)));
            }
        }
        h = replace(h, mid(h, "encoder.mid_block"));
        return replace(h, out(h, "encoder"));
    }

    /**
     * Frees {@code old}, a stage's input made by this class (its only reference is the enclosing scope's, so the
     * memory goes now; the scope's later release is a no-op), and returns the stage's output.
     */
    private static org.bytedeco.pytorch.Tensor replace(org.bytedeco.pytorch.Tensor old, org.bytedeco.pytorch.Tensor next) {
        old.close();
        return next;
    }

    /** conv_norm_out, SiLU, conv_out. */
    private org.bytedeco.pytorch.Tensor out(org.bytedeco.pytorch.Tensor h, String prefix) {
        return scoped(() -> conv(torch.silu_(groupNorm(h, prefix + ".conv_norm_out")), prefix + ".conv_out", 1, 1));
    }

    private org.bytedeco.pytorch.Tensor mid(org.bytedeco.pytorch.Tensor x, String prefix) {
        org.bytedeco.pytorch.Tensor h = resnet(x, prefix + ".resnets.0");
        if (config.midBlockAttention()) {
            h = replace(h, attention(h, prefix + ".attentions.0."));
        }
        return replace(h, resnet(h, prefix + ".resnets.1"));
    }

    /**
     * x + conv2(silu(norm2(conv1(silu(norm1(x)))))), x through a 1x1 conv where the channels change. Each
     * intermediate is freed as soon as the next exists (at 1024 x 1024 pixels one is 512 MiB).
     */
    private org.bytedeco.pytorch.Tensor resnet(org.bytedeco.pytorch.Tensor x, String prefix) {
        return scoped(() -> {
            org.bytedeco.pytorch.Tensor h = scoped(() -> {
                org.bytedeco.pytorch.Tensor h1 = scoped(() -> conv(torch.silu_(groupNorm(x, prefix + ".norm1")), prefix + ".conv1", 1, 1));
                return conv(torch.silu_(groupNorm(h1, prefix + ".norm2")), prefix + ".conv2", 1, 1);
            });
            org.bytedeco.pytorch.Tensor shortcut = weights.containsKey(prefix + ".conv_shortcut.weight")
                    ? conv(x, prefix + ".conv_shortcut", 1, 0) : x;
            // the reference computes x + h; float addition commutes, so adding in place into h gives the same bits
            return h.add_(shortcut);
        });
    }

    /**
     * Single-head self-attention over the h w positions with a residual: x + to_out(softmax(q k^T / sqrt(C)) v),
     * q, k, v = to_q/k/v(group_norm(x)) per position.
     */
    private org.bytedeco.pytorch.Tensor attention(org.bytedeco.pytorch.Tensor x, String prefix) {
        return scoped(() -> {
            long b = x.size(0);
            long c = x.size(1);
            long hh = x.size(2);
            long ww = x.size(3);
            org.bytedeco.pytorch.Tensor t = groupNorm(x, prefix + "group_norm").reshape(b, c, hh * ww).transpose(1, 2); // (B, N, C)
            org.bytedeco.pytorch.Tensor q = linear(t, prefix + "to_q").unsqueeze(1); // (B, 1, N, C)
            org.bytedeco.pytorch.Tensor k = linear(t, prefix + "to_k").unsqueeze(1);
            org.bytedeco.pytorch.Tensor v = linear(t, prefix + "to_v").unsqueeze(1);
            org.bytedeco.pytorch.Tensor o = torch.scaled_dot_product_attention(q, k, v).squeeze(1); // (B, N, C)
            org.bytedeco.pytorch.Tensor proj = linear(o, prefix + "to_out.0"); // (B, N, C)
            return proj.transpose(1, 2).reshape(b, c, hh, ww).add(x);
        });
    }

    private org.bytedeco.pytorch.Tensor linear(org.bytedeco.pytorch.Tensor x, String prefix) {
        return torch.linear(x, weights.get(prefix + ".weight"), new TensorOptional(weights.get(prefix + ".bias")));
    }

    private org.bytedeco.pytorch.Tensor conv(org.bytedeco.pytorch.Tensor x, String prefix, long stride, long padding) {
        return torch.conv2d(x, weights.get(prefix + ".weight"), new TensorOptional(weights.get(prefix + ".bias")),
                new long[] {stride, stride}, new long[] {padding, padding}, new long[] {1, 1}, 1);
    }

    private org.bytedeco.pytorch.Tensor groupNorm(org.bytedeco.pytorch.Tensor x, String prefix) {
        return torch.group_norm(x, config.normGroups(), new TensorOptional(weights.get(prefix + ".weight")),
                new TensorOptional(weights.get(prefix + ".bias")), VaeConfig.NORM_EPS, true);
    }

    /**
     * The activations in channels-last layout: every op keeps it (the convs' outputs follow their input), and
     * oneDNN's convolutions ran a 512-channel 3x3 conv at 64 x 64 about 1.5x faster in it than in NCHW here.
     */
    private static org.bytedeco.pytorch.Tensor channelsLast(org.bytedeco.pytorch.Tensor x) {
        return x.contiguous(torch.MemoryFormat.ChannelsLast);
    }

    private static org.bytedeco.pytorch.Scalar scalar(double v) {
        return new org.bytedeco.pytorch.Scalar(v);
    }

    /**
     * Runs {@code body} in its own PointerScope and hands its result to the enclosing scope: every other tensor the
     * body made is freed when it returns.
     */
    private static org.bytedeco.pytorch.Tensor scoped(Supplier<org.bytedeco.pytorch.Tensor> body) {
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope inner = new PointerScope()) {
            org.bytedeco.pytorch.Tensor r = body.get();
            if (outer != null) {
                outer.attach(r);
            }
            return r;
        }
    }

    // ---- tiling -------------------------------------------------------------------------------------------------

    /** One sample (1, C, h, w) decoded tile by tile; see {@link Tiling}. */
    private org.bytedeco.pytorch.Tensor decodeTiled(org.bytedeco.pytorch.Tensor z, Tiling tiling) {
        int f = config.downsampling();
        int oc = config.outChannels();
        long h = z.size(2);
        long w = z.size(3);
        int stride = tiling.tile() - tiling.overlap();
        int blend = tiling.overlap() * f;
        int keep = stride * f;
        int rows = (int) ((h + stride - 1) / stride);
        int cols = (int) ((w + stride - 1) / stride);
        float[][][] tiles = new float[rows][cols][];
        int[][] heights = new int[rows][cols];
        int[][] widths = new int[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long top = (long) r * stride;
                long left = (long) c * stride;
                long th = Math.min(tiling.tile(), h - top);
                long tw = Math.min(tiling.tile(), w - left);
                try (PointerScope scope = new PointerScope()) {
                    org.bytedeco.pytorch.Tensor tile = z.narrow(2, top, th).narrow(3, left, tw).contiguous();
                    org.bytedeco.pytorch.Tensor img = decodeWhole(tile).contiguous();
                    tiles[r][c] = Torch.view(img).toFloatArray();
                    heights[r][c] = (int) img.size(2);
                    widths[r][c] = (int) img.size(3);
                }
            }
        }
        long outH = h * f;
        long outW = w * f;
        float[] out = new float[Math.toIntExact(oc * outH * outW)];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float[] t = tiles[r][c];
                int th = heights[r][c];
                int tw = widths[r][c];
                if (r > 0) {
                    blendRows(tiles[r - 1][c], heights[r - 1][c], t, th, tw, oc, blend);
                }
                if (c > 0) {
                    blendColumns(tiles[r][c - 1], widths[r][c - 1], t, th, tw, oc, blend);
                }
                int keepH = Math.min(keep, th);
                int keepW = Math.min(keep, tw);
                long y0 = (long) r * keep;
                long x0 = (long) c * keep;
                for (int ch = 0; ch < oc; ch++) {
                    for (int y = 0; y < keepH; y++) {
                        System.arraycopy(t, (ch * th + y) * tw, out, (int) ((ch * outH + y0 + y) * outW + x0), keepW);
                    }
                }
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor result = Tensor.ofFloats(arena, out, 1, oc, outH, outW);
            return Torch.wrap(result).clone();
        }
    }

    /**
     * diffusers' blend_v: the first e = min(above height, height, blend) rows of {@code below} become
     * above[last e rows][y] * (1 - y / e) + below[y] * (y / e), in float32 as the reference computes them.
     */
    private static void blendRows(float[] above, int aboveH, float[] below, int h, int w, int channels, int blend) {
        int e = Math.min(Math.min(aboveH, h), blend);
        for (int y = 0; y < e; y++) {
            float wa = (float) (1 - y / (double) e);
            float wb = (float) (y / (double) e);
            for (int ch = 0; ch < channels; ch++) {
                int a0 = (ch * aboveH + aboveH - e + y) * w;
                int b0 = (ch * h + y) * w;
                for (int x = 0; x < w; x++) {
                    below[b0 + x] = above[a0 + x] * wa + below[b0 + x] * wb;
                }
            }
        }
    }

    /** diffusers' blend_h: as {@link #blendRows} along columns, with the tile to the left. */
    private static void blendColumns(float[] left, int leftW, float[] right, int h, int w, int channels, int blend) {
        int e = Math.min(Math.min(leftW, w), blend);
        for (int x = 0; x < e; x++) {
            float wa = (float) (1 - x / (double) e);
            float wb = (float) (x / (double) e);
            for (int ch = 0; ch < channels; ch++) {
                for (int y = 0; y < h; y++) {
                    int a = (ch * h + y) * leftW + leftW - e + x;
                    int b = (ch * h + y) * w + x;
                    right[b] = left[a] * wa + right[b] * wb;
                }
            }
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("autoencoder is closed");
        }
    }

    /** Frees the weights and unmaps the file. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            for (org.bytedeco.pytorch.Tensor t : weights.values()) {
                t.close();
            }
            if (file != null) {
                file.close();
            }
        }
    }
}
