package dev.seer.tensor;

import java.util.Locale;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The linear maps of inference, y = x W^T + b, on the faster of libtorch's two CPU matmul engines.
 *
 * <p>libtorch's {@code linear} runs float32 products in OpenBLAS, whose pthread pool spins between calls and then
 * fights libtorch's own OpenMP threads for the cores over everything that follows (attention, GELU, LayerNorm);
 * OpenBLAS also obeys an environment's OPENBLAS_CORETYPE, which may pin it to older kernels. oneDNN, built into
 * the same libtorch, runs on libtorch's OpenMP threads with kernels for the CPU it finds. Measured on a DiT-S/2
 * block (2 x 256 tokens, 2 cores): 11.2 ms with oneDNN and single-threaded OpenBLAS against 17.2 ms with
 * {@code linear} on two OpenBLAS threads (docs/BENCHMARKS.md, "Matmul engine").
 *
 * <p>System property {@value #PROPERTY}: {@code onednn} (default) or {@code blas}. Tensors that need gradients,
 * and inputs with few rows, always take {@code linear}.
 */
public final class Matmul {
    /** Selects the engine: onednn or blas. */
    public static final String PROPERTY = "seer.matmul";
    /** Fewer rows than this are matrix-vector work, where oneDNN's format conversions cost more than they save. */
    static final long MIN_ONEDNN_ROWS = 32;

    /** The two engines. */
    public enum Engine {
        ONEDNN, BLAS
    }

    private static volatile Engine engine;

    private Matmul() {
    }

    /** The engine in use: the property's, or BLAS when this libtorch has no oneDNN. */
    public static Engine engine() {
        Engine e = engine;
        if (e == null) {
            synchronized (Matmul.class) {
                e = engine;
                if (e == null) {
                    e = parse(System.getProperty(PROPERTY, "onednn"));
                    SeerRuntime.init();
                    if (e == Engine.ONEDNN && !torch.hasMKLDNN()) {
                        e = Engine.BLAS;
                    }
                    engine = e;
                }
            }
        }
        return e;
    }

    static Engine parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "onednn" -> Engine.ONEDNN;
            case "blas" -> Engine.BLAS;
            default -> throw new IllegalArgumentException(PROPERTY + " must be 'onednn' or 'blas', found '" + value + "'");
        };
    }

    /**
     * y = x W^T + b for x (..., K), W (N, K), b (N): (..., N), contiguous. The same values as
     * {@code torch.linear} up to float rounding (the engines sum in different orders).
     */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        long k = x.size(-1);
        long rows = x.numel() / Math.max(1, k);
        if (engine() == Engine.BLAS || rows < MIN_ONEDNN_ROWS || x.requires_grad() || w.requires_grad()
                || (b != null && b.requires_grad())) {
            return torch.linear(x, w, b == null ? new TensorOptional() : new TensorOptional(b));
        }
        long[] outShape = x.sizes().vec().get();
        outShape[outShape.length - 1] = w.size(0);
        Tensor x2 = x.reshape(rows, k).contiguous().to_mkldnn();
        Tensor y = torch.mkldnn_linear(x2, w, b == null ? new TensorOptional() : new TensorOptional(b)).to_dense();
        return y.view(outShape);
    }
}
