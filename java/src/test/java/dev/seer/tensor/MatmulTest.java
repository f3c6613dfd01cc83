package dev.seer.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class MatmulTest {
    private static org.bytedeco.pytorch.Tensor randn(Generator g, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(torch.ScalarType.Float));
    }

    /** Rows on both sides of the oneDNN threshold, 2-D and 3-D inputs, odd K and N. */
    @ParameterizedTest
    @ValueSource(longs = {1, 31, 32, 33, 200})
    void linearMatchesAFloat64Loop(long rows) {
        SeerRuntime.init();
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            Generator g = torch.make_generator_cpu(rows);
            long k = 37;
            long n = 53;
            org.bytedeco.pytorch.Tensor x = randn(g, 1, rows, k);
            org.bytedeco.pytorch.Tensor w = randn(g, n, k);
            org.bytedeco.pytorch.Tensor b = randn(g, n);
            org.bytedeco.pytorch.Tensor y = Matmul.linear(x, w, b);
            assertArrayEquals(new long[] {1, rows, n}, y.sizes().vec().get());
            assertTrue(y.is_contiguous());
            float[] xs = Torch.view(x).toFloatArray();
            float[] ws = Torch.view(w).toFloatArray();
            float[] bs = Torch.view(b).toFloatArray();
            float[] ys = Torch.view(y).toFloatArray();
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < n; j++) {
                    double s = bs[j];
                    double mag = Math.abs(bs[j]);
                    for (int i = 0; i < k; i++) {
                        s += (double) xs[(int) (r * k + i)] * ws[(int) (j * k + i)];
                        mag += Math.abs((double) xs[(int) (r * k + i)] * ws[(int) (j * k + i)]);
                    }
                    assertEquals(s, ys[(int) (r * n + j)], 1e-6 * mag + 1e-7, "row " + r + ", column " + j);
                }
            }
        }
    }

    @Test
    void gradientsFlowThroughLinear() {
        SeerRuntime.init();
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.make_generator_cpu(7);
            org.bytedeco.pytorch.Tensor x = randn(g, 64, 8);
            org.bytedeco.pytorch.Tensor w = randn(g, 4, 8).requires_grad_(true);
            org.bytedeco.pytorch.Tensor b = randn(g, 4).requires_grad_(true);
            Matmul.linear(x, w, b).sum().backward();
            // d(sum)/db = number of rows; d(sum)/dW[j] = column sums of x
            float[] gb = Torch.view(b.grad().contiguous()).toFloatArray();
            for (float v : gb) {
                assertEquals(64f, v, 0f);
            }
            float[] colSums = Torch.view(x.sum(new long[] {0}).contiguous()).toFloatArray();
            float[] gw = Torch.view(w.grad().contiguous()).toFloatArray();
            for (int j = 0; j < 4; j++) {
                for (int i = 0; i < 8; i++) {
                    assertEquals(colSums[i], gw[j * 8 + i], 1e-5f);
                }
            }
        }
    }

    @Test
    void engineNamesAreParsedOrRefused() {
        assertEquals(Matmul.Engine.ONEDNN, Matmul.parse(" oneDNN "));
        assertEquals(Matmul.Engine.BLAS, Matmul.parse("blas"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Matmul.parse("mkl"));
        assertEquals("seer.matmul must be 'onednn' or 'blas', found 'mkl'", e.getMessage());
    }
}
