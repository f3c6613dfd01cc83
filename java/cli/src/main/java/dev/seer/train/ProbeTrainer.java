package dev.seer.train;

import dev.seer.eval.FashionProbe;
import dev.seer.io.Idx;
import dev.seer.io.Safetensors;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Torch;
import java.io.IOException;
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
 * Trains the {@link FashionProbe} classifier: cross-entropy, {@link AdamW} (no weight decay), a fixed seed, a
 * per-epoch shuffle; PyTorch's default init (uniform in +-1/sqrt(fan_in) for weights and biases).
 */
public final class ProbeTrainer implements AutoCloseable {
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final AdamW adamW;
    private final long seed;
    private long step;

    public ProbeTrainer(long seed, double lr) {
        SeerRuntime.init();
        this.seed = seed;
        try (PointerScope scope = new PointerScope()) {
            Generator gen = torch.createCPUGenerator(seed);
            for (var e : FashionProbe.expectedShapes().entrySet()) {
                long[] s = e.getValue();
                String layer = e.getKey().substring(0, e.getKey().indexOf('.'));
                long[] ws = FashionProbe.expectedShapes().get(layer + ".weight");
                double bound = 1.0 / Math.sqrt(Shape.of(ws).numel() / (double) ws[0]);
                Tensor p = torch.rand(s, new GeneratorOptional(gen), new TensorOptions(torch.ScalarType.Float))
                        .mul(new Scalar(2 * bound)).sub(new Scalar(bound));
                p = AdamW.keep(p);
                p.requires_grad_(true);
                params.put(e.getKey(), p);
            }
        }
        adamW = new AdamW(params, lr, 0.0, 0.9, 0.999, 1e-8);
    }

    /** One epoch over the images in a seeded random order; returns the mean training loss. */
    public double epoch(Idx.ImageSet images, byte[] labels, int epoch, int batch) {
        int n = images.count();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom r = new SplittableRandom(DitTrainer.mix(seed, epoch));
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double sum = 0;
        int batches = 0;
        int hw = images.rows() * images.cols();
        for (int from = 0; from + batch <= n; from += batch) {
            try (PointerScope scope = new PointerScope()) {
                float[] x = new float[batch * hw];
                long[] y = new long[batch];
                for (int i = 0; i < batch; i++) {
                    System.arraycopy(images.imageFloats(order[from + i]), 0, x, i * hw, hw);
                    y[i] = labels[order[from + i]];
                }
                Tensor xt = DiffusionLoss.floats(x, batch, 1, images.rows(), images.cols());
                Tensor yt = torch.zeros(new long[] {batch}, new TensorOptions(torch.ScalarType.Long));
                java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(y), 0, Torch.view(yt).segment(), 0, batch * 8L);
                Tensor logits = FashionProbe.forward(params::get, xt)[1];
                Tensor loss = torch.cross_entropy(logits, yt);
                loss.backward();
                sum += loss.item().toDouble();
                batches++;
                try (NoGradGuard g = new NoGradGuard()) {
                    adamW.step(++step);
                }
            }
        }
        return sum / Math.max(1, batches);
    }

    /** The weights by key (views of the live tensors). */
    public Map<String, dev.seer.tensor.Tensor> stateDict() {
        Map<String, dev.seer.tensor.Tensor> out = new LinkedHashMap<>();
        for (var e : params.entrySet()) {
            out.put(e.getKey(), Torch.view(e.getValue().detach()));
        }
        return out;
    }

    /** Writes the weights (float32 safetensors), atomically. */
    public void save(Path file, Map<String, String> metadata) throws IOException {
        Safetensors.write(file, stateDict(), metadata);
    }

    @Override
    public void close() {
        adamW.close();
        for (Tensor t : params.values()) {
            t.close();
        }
        params.clear();
    }
}
