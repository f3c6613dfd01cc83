package dev.seer.train;

import dev.seer.io.CheckpointException;
import dev.seer.io.Idx;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.io.TorchCheckpoints;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitGraph;
import dev.seer.model.dit.DitWeights;
import dev.seer.sampling.GaussianDiffusion;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Trains a class-conditional DiT with the official objective ({@link DiffusionLoss}) through libtorch's autograd:
 * AdamW written out in tensor ops (so its state is plain tensors that a checkpoint can hold), EMA weights, label
 * dropout for classifier-free guidance.
 *
 * <p>Every random choice of step s (the batch's images, timesteps, noise and dropped labels) is a pure function of
 * (seed, s): the batch order is a per-epoch permutation seeded by (seed, epoch), and the rest comes from generators
 * seeded by (seed, s). A checkpoint therefore only needs the weights, the EMA weights, the AdamW moments and the step
 * counter, and training resumed from it continues exactly as the uninterrupted run would (on the same thread count).
 *
 * <p>Images are the data set's 8-bit pixels scaled to [-1, 1] (p / 127.5 - 1), shape (B, 1, rows, cols).
 */
public final class DitTrainer implements AutoCloseable {
    /** The checkpoint format tag written into the metadata. */
    public static final String FORMAT = "seer-dit-train-1";

    private final TrainOptions options;
    private final DitConfig config;
    private final Idx.ImageSet images;
    private final byte[] labels;
    private final DiffusionLoss loss;
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Tensor> ema = new LinkedHashMap<>();
    private final AdamW adamW;
    private final Map<String, Tensor> adamM;
    private final Map<String, Tensor> adamV;
    private final Tensor posEmbed;
    private final Tensor frequencies;
    private final DitGraph graph;
    private long step;
    private double wallSeconds;
    private long permutationEpoch = -1;
    private int[] permutation;

    /**
     * A fresh run: weights initialised as the official {@code DiT.initialize_weights} does (xavier-uniform linear
     * weights, zero biases, N(0, 0.02) label and timestep embeddings, zero adaLN modulation and zero final layer).
     *
     * @param images training images (rows x cols must be the model's input size, one channel)
     * @param labels one label per image, 0 .. num_classes - 1
     */
    public DitTrainer(TrainOptions options, Idx.ImageSet images, byte[] labels) {
        SeerRuntime.init();
        this.options = options;
        this.config = options.model();
        if (config.inChannels() != 1 || images.rows() != config.inputSize() || images.cols() != config.inputSize()) {
            throw new IllegalArgumentException("the model takes " + config.inChannels() + " x " + config.inputSize() + " x "
                    + config.inputSize() + " images, the data has 1 x " + images.rows() + " x " + images.cols());
        }
        if (labels.length != images.count()) {
            throw new IllegalArgumentException(images.count() + " images but " + labels.length + " labels");
        }
        if (images.count() < options.batchSize()) {
            throw new IllegalArgumentException("batch size " + options.batchSize() + " exceeds the " + images.count() + " images");
        }
        this.images = images;
        this.labels = labels;
        this.loss = new DiffusionLoss(GaussianDiffusion.create("", 1000));
        try (PointerScope scope = new PointerScope()) {
            Generator gen = torch.createCPUGenerator(options.seed());
            for (var e : DitWeights.expectedShapes(config).entrySet()) {
                String key = e.getKey();
                if (key.equals("pos_embed")) {
                    continue;
                }
                Tensor p = keep(initialValue(key, e.getValue(), gen));
                p.requires_grad_(true);
                params.put(key, p);
                ema.put(key, keep(p.detach().clone()));
            }
            posEmbed = keep(DiffusionLoss.floats(DitWeights.sincosPositionEmbedding(config.hiddenSize(), config.gridSize()),
                    1, config.tokens(), config.hiddenSize()));
            frequencies = keep(DitGraph.timestepFrequencies());
        }
        this.graph = new DitGraph(config, key -> key.equals("pos_embed") ? posEmbed : params.get(key), frequencies);
        this.adamW = new AdamW(params, options.lr(), options.weightDecay(), options.beta1(), options.beta2(), options.adamEps());
        this.adamM = adamW.firstMoments();
        this.adamV = adamW.secondMoments();
    }

    private Tensor initialValue(String key, long[] shape, Generator gen) {
        TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        boolean zero = key.contains("adaLN_modulation") || key.startsWith("final_layer.linear") || key.endsWith(".bias");
        if (zero) {
            return torch.zeros(shape, f32);
        }
        if (key.equals("y_embedder.embedding_table.weight") || key.startsWith("t_embedder.mlp.")) {
            return torch.randn(shape, new GeneratorOptional(gen), f32).mul(new Scalar(0.02));
        }
        // xavier_uniform over (fan_out, fan_in); the patch conv is treated as a linear over its flattened kernel.
        long fanOut = shape[0];
        long fanIn = Shape.of(shape).numel() / fanOut;
        double bound = Math.sqrt(6.0 / (fanIn + fanOut));
        return torch.rand(shape, new GeneratorOptional(gen), f32).mul(new Scalar(2 * bound)).sub(new Scalar(bound));
    }

    private static Tensor keep(Tensor t) {
        return AdamW.keep(t);
    }

    public TrainOptions options() {
        return options;
    }

    /** Steps done so far. */
    public long step() {
        return step;
    }

    /** Wall seconds spent in {@link #trainStep()} over all sittings (restored from checkpoints). */
    public double wallSeconds() {
        return wallSeconds;
    }

    /** The batch of step {@code s}: a window of the permutation of its epoch (the last partial batch is dropped). */
    int[] batchIndices(long s) {
        int b = options.batchSize();
        long perEpoch = images.count() / b;
        long epoch = s / perEpoch;
        if (epoch != permutationEpoch) {
            SplittableRandom r = new SplittableRandom(mix(options.seed(), -1 - epoch));
            int[] p = new int[images.count()];
            for (int i = 0; i < p.length; i++) {
                p[i] = i;
            }
            for (int i = p.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int tmp = p[i];
                p[i] = p[j];
                p[j] = tmp;
            }
            permutation = p;
            permutationEpoch = epoch;
        }
        int from = (int) ((s % perEpoch) * b);
        int[] out = new int[b];
        System.arraycopy(permutation, from, out, 0, b);
        return out;
    }

    static long mix(long seed, long s) {
        long z = seed * 0x9E3779B97F4A7C15L + s * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** One optimiser step on the next batch; returns the batch's loss (mse + vb, averaged over the batch). */
    public double trainStep() {
        long t0 = System.nanoTime();
        int b = options.batchSize();
        int hw = config.inputSize() * config.inputSize();
        double value;
        try (PointerScope scope = new PointerScope()) {
            int[] idx = batchIndices(step);
            float[] x = new float[b * hw];
            long[] y = new long[b];
            int[] t = new int[b];
            long[] tl = new long[b];
            SplittableRandom r = new SplittableRandom(mix(options.seed(), step));
            for (int i = 0; i < b; i++) {
                System.arraycopy(images.imageFloats(idx[i]), 0, x, i * hw, hw);
                t[i] = r.nextInt(loss.diffusion().numSteps());
                tl[i] = t[i];
                boolean drop = config.classDropoutProb() > 0 && r.nextDouble() < config.classDropoutProb();
                y[i] = drop ? config.numClasses() : labels[idx[i]];
            }
            Generator gen = torch.createCPUGenerator(mix(options.seed() + 1, step));
            long[] shape = {b, 1, config.inputSize(), config.inputSize()};
            Tensor noise = torch.randn(shape, new GeneratorOptional(gen), new TensorOptions(torch.ScalarType.Float));
            Tensor x0 = DiffusionLoss.floats(x, shape);
            Tensor xT = loss.qSample(x0, t, noise);
            Tensor out = graph.forward(xT, longs(tl), longs(y));
            Tensor l = loss.perSample(out, x0, xT, noise, t, config.learnSigma()).mean();
            l.backward();
            value = l.item().toDouble();
            try (NoGradGuard guard = new NoGradGuard()) {
                update();
            }
        }
        step++;
        wallSeconds += (System.nanoTime() - t0) / 1e9;
        return value;
    }

    /** AdamW, then the EMA: ema = d ema + (1 - d) p with the warm-up d = min(decay, (1 + s) / (10 + s)). */
    private void update() {
        adamW.step(step + 1);
        double decay = Math.min(options.emaDecay(), (1.0 + step) / (10.0 + step));
        for (var e : params.entrySet()) {
            ema.get(e.getKey()).mul_(new Scalar(decay)).add_(e.getValue(), new Scalar(1 - decay));
        }
    }

    private static Tensor longs(long[] values) {
        Tensor out = torch.zeros(new long[] {values.length}, new TensorOptions(torch.ScalarType.Long));
        MemorySegment.copy(MemorySegment.ofArray(values), 0, Torch.view(out).segment(), 0, values.length * 8L);
        return out;
    }

    /** The EMA weights with the official key names, pos_embed included: what {@code DitModel.load} reads. */
    public Map<String, dev.seer.tensor.Tensor> emaStateDict() {
        return stateDict(ema);
    }

    /** The raw (non-EMA) weights with the official key names. */
    public Map<String, dev.seer.tensor.Tensor> modelStateDict() {
        return stateDict(params);
    }

    private Map<String, dev.seer.tensor.Tensor> stateDict(Map<String, Tensor> source) {
        Map<String, dev.seer.tensor.Tensor> out = new LinkedHashMap<>();
        out.put("pos_embed", Torch.view(posEmbed));
        for (var e : source.entrySet()) {
            out.put(e.getKey(), Torch.view(e.getValue().detach()));
        }
        return out;
    }

    /** Writes the EMA weights (float32 safetensors, official keys), atomically. */
    public void saveEma(Path file) throws IOException {
        Safetensors.write(file, emaStateDict(), Map.of("format", "pt", "config", config.toJson(), "steps", String.valueOf(step)));
    }

    /**
     * Writes a checkpoint atomically (a temporary file renamed over {@code file}): weights, EMA weights, AdamW
     * moments, the step counter and the wall time; the options are recorded so a resume can check them.
     */
    public void saveCheckpoint(Path file) throws IOException {
        Map<String, dev.seer.tensor.Tensor> all = new LinkedHashMap<>();
        for (String key : params.keySet()) {
            all.put("model/" + key, Torch.view(params.get(key).detach()));
            all.put("ema/" + key, Torch.view(ema.get(key)));
            all.put("adam_m/" + key, Torch.view(adamM.get(key)));
            all.put("adam_v/" + key, Torch.view(adamV.get(key)));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", String.valueOf(step));
        meta.put("wall_seconds", String.valueOf(wallSeconds));
        meta.put("options", options.toJson());
        Safetensors.write(file, all, meta);
    }

    /**
     * Restores a checkpoint written by {@link #saveCheckpoint}.
     *
     * @throws CheckpointException if the file is not such a checkpoint, was written with other options, or a tensor
     *                             is missing or has the wrong shape
     */
    public void loadCheckpoint(Path file) throws IOException {
        try (SafetensorsFile f = Safetensors.open(file)) {
            Map<String, String> meta = f.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new CheckpointException(file, null, "a training checkpoint (metadata format=" + FORMAT + ")",
                        "format=" + meta.get("format") + "; delete it or pass another --checkpoint");
            }
            if (!options.toJson().equals(meta.get("options"))) {
                throw new CheckpointException(file, null, "a checkpoint of a run with options " + options.toJson(),
                        meta.get("options") + "; resume with the same options, or delete the checkpoint to start over");
            }
            long s;
            double wall;
            try {
                s = Long.parseLong(meta.get("step"));
                wall = Double.parseDouble(meta.get("wall_seconds"));
            } catch (RuntimeException e) {
                throw new CheckpointException(file, null, "metadata step and wall_seconds", meta.get("step") + ", " + meta.get("wall_seconds"));
            }
            try (PointerScope scope = new PointerScope(); NoGradGuard guard = new NoGradGuard()) {
                for (String key : params.keySet()) {
                    Shape shape = Shape.of(params.get(key).sizes().vec().get());
                    copyInto(file, params.get(key), f.get("model/" + key, shape));
                    copyInto(file, ema.get(key), f.get("ema/" + key, shape));
                    copyInto(file, adamM.get(key), f.get("adam_m/" + key, shape));
                    copyInto(file, adamV.get(key), f.get("adam_v/" + key, shape));
                }
            }
            step = s;
            wallSeconds = wall;
        }
    }

    /**
     * dst = src, copied by Java: src is a view of the mapped checkpoint, and if the file shrinks meanwhile a Java
     * copy fails with an InternalError (a refusal here) where libtorch's copy_ would crash the JVM with SIGBUS.
     */
    private static void copyInto(Path file, Tensor dst, dev.seer.tensor.Tensor src) throws CheckpointException {
        dev.seer.tensor.Tensor to = Torch.view(dst);
        if (src.dtype() != to.dtype()) {
            throw new CheckpointException(file, null, "dtype " + to.dtype() + " throughout", "dtype " + src.dtype());
        }
        try {
            MemorySegment.copy(src.segment(), 0, to.segment(), 0, src.byteSize());
        } catch (InternalError e) {
            throw TorchCheckpoints.changedWhileReading(file, null, e);
        }
    }

    @Override
    public void close() {
        adamW.close();
        for (Map<String, Tensor> m : java.util.List.of(params, ema)) {
            for (Tensor t : m.values()) {
                t.close();
            }
            m.clear();
        }
        posEmbed.close();
        frequencies.close();
    }
}
