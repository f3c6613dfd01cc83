package dev.seer.eval;

import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The quality probe: a small CNN classifier of 28 x 28 Fashion-MNIST images in [-1, 1], used the way FID uses
 * Inception: its prediction gives class consistency, its penultimate activations (128 values after ReLU) are the
 * features of the Fréchet distance.
 *
 * <pre>
 * conv1 3x3 1->32 pad 1, ReLU, max-pool 2   (32, 14, 14)
 * conv2 3x3 32->64 pad 1, ReLU, max-pool 2  (64, 7, 7)
 * fc1 3136->128, ReLU                       features
 * fc2 128->10                               logits
 * </pre>
 */
public final class FashionProbe implements AutoCloseable {
    /** Feature dimension (fc1's output). */
    public static final int FEATURES = 128;
    /** Image side. */
    public static final int SIZE = 28;
    /** Classes. */
    public static final int CLASSES = 10;
    /** The shipped weights, a class-path resource. */
    public static final String RESOURCE = "/dev/seer/models/fashion-probe.safetensors";

    private final Map<String, Tensor> weights;

    private FashionProbe(Map<String, Tensor> weights) {
        this.weights = weights;
    }

    /** Every key with its shape. */
    public static Map<String, long[]> expectedShapes() {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("conv1.weight", new long[] {32, 1, 3, 3});
        m.put("conv1.bias", new long[] {32});
        m.put("conv2.weight", new long[] {64, 32, 3, 3});
        m.put("conv2.bias", new long[] {64});
        m.put("fc1.weight", new long[] {FEATURES, 64 * 7 * 7});
        m.put("fc1.bias", new long[] {FEATURES});
        m.put("fc2.weight", new long[] {CLASSES, FEATURES});
        m.put("fc2.bias", new long[] {CLASSES});
        return m;
    }

    /** The forward pass on libtorch tensors (also the training graph): x (B, 1, 28, 28) -> {features, logits}. */
    public static Tensor[] forward(Function<String, Tensor> w, Tensor x) {
        Tensor h = torch.conv2d(x, w.apply("conv1.weight"), new TensorOptional(w.apply("conv1.bias")),
                new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1}, 1);
        h = torch.max_pool2d(torch.relu(h), new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0}, new long[] {1, 1}, false);
        h = torch.conv2d(h, w.apply("conv2.weight"), new TensorOptional(w.apply("conv2.bias")),
                new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1}, 1);
        h = torch.max_pool2d(torch.relu(h), new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0}, new long[] {1, 1}, false);
        Tensor features = torch.relu(torch.linear(h.flatten(1, -1), w.apply("fc1.weight"), new TensorOptional(w.apply("fc1.bias"))));
        Tensor logits = torch.linear(features, w.apply("fc2.weight"), new TensorOptional(w.apply("fc2.bias")));
        return new Tensor[] {features, logits};
    }

    /** Loads the shipped probe from the class path (into memory: no file written). */
    public static FashionProbe loadShipped() throws IOException {
        try (InputStream in = FashionProbe.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("the Fashion-MNIST probe (class-path resource " + RESOURCE + ") is missing: it ships in "
                        + "java/models/src/main/resources" + RESOURCE + "; rebuild the jar (mvn package) from a complete checkout");
            }
            try (SafetensorsFile f = Safetensors.read(in, Path.of("classpath:" + RESOURCE), 64L << 20)) {
                return load(f);
            }
        }
    }

    /**
     * Loads probe weights from a safetensors file.
     *
     * @throws CheckpointException naming the key when a tensor is missing, unexpected or of the wrong shape
     */
    public static FashionProbe load(Path file) throws IOException {
        try (SafetensorsFile f = Safetensors.open(file)) {
            return load(f);
        }
    }

    private static FashionProbe load(SafetensorsFile f) throws IOException {
        SeerRuntime.init();
        Path file = f.path();
        Map<String, long[]> expected = expectedShapes();
        Map<String, Tensor> owned = new LinkedHashMap<>();
        for (String key : f.keys()) {
            if (!expected.containsKey(key)) {
                throw new CheckpointException(file, key, "only the probe's keys " + expected.keySet(), "an unexpected key");
            }
        }
        for (var e : expected.entrySet()) {
            if (!f.contains(e.getKey())) {
                throw new CheckpointException(file, e.getKey(), "shape " + Shape.of(e.getValue()), "the key is missing");
            }
            dev.seer.tensor.Tensor t = f.get(e.getKey(), Shape.of(e.getValue()));
            if (t.dtype() != DType.F32) {
                throw new CheckpointException(file, e.getKey(), "F32", String.valueOf(t.dtype()));
            }
            Tensor copy = Torch.wrap(t).clone();
            PointerScope inner = PointerScope.getInnerScope();
            if (inner != null) {
                copy.retainReference();
                inner.detach(copy);
            }
            owned.put(e.getKey(), copy);
        }
        return new FashionProbe(owned);
    }

    /** The outputs for n images. */
    public record Outputs(float[] features, int[] predictions, float[] logits) {
    }

    /**
     * Runs the probe on {@code n} images (n * 28 * 28 floats in [-1, 1]), in chunks.
     */
    public Outputs run(float[] images, int n) {
        if ((long) n * SIZE * SIZE != images.length) {
            throw new IllegalArgumentException("expected " + n + " images of 28 x 28 = " + (long) n * SIZE * SIZE + " values, found " + images.length);
        }
        float[] features = new float[n * FEATURES];
        float[] logits = new float[n * CLASSES];
        int[] pred = new int[n];
        int chunk = 500;
        for (int from = 0; from < n; from += chunk) {
            int b = Math.min(chunk, n - from);
            try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
                Tensor x = torch.zeros(new long[] {b, 1, SIZE, SIZE}, new TensorOptions(torch.ScalarType.Float));
                Torch.view(x).copyFrom(java.util.Arrays.copyOfRange(images, from * SIZE * SIZE, (from + b) * SIZE * SIZE));
                Tensor[] out = forward(weights::get, x);
                float[] f = Torch.view(out[0].contiguous()).toFloatArray();
                float[] l = Torch.view(out[1].contiguous()).toFloatArray();
                System.arraycopy(f, 0, features, from * FEATURES, f.length);
                System.arraycopy(l, 0, logits, from * CLASSES, l.length);
                for (int i = 0; i < b; i++) {
                    int best = 0;
                    for (int c = 1; c < CLASSES; c++) {
                        if (l[i * CLASSES + c] > l[i * CLASSES + best]) {
                            best = c;
                        }
                    }
                    pred[from + i] = best;
                }
            }
        }
        return new Outputs(features, pred, logits);
    }

    @Override
    public void close() {
        for (Tensor t : weights.values()) {
            t.close();
        }
        weights.clear();
    }
}
