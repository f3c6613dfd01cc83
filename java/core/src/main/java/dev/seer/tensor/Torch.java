package dev.seer.tensor;

import java.lang.foreign.MemorySegment;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Zero-copy interop between Seer tensors and libtorch (bytedeco) tensors. Bytedeco types stay in this class
 * and in the model code that runs libtorch ops.
 */
public final class Torch {
    private Torch() {
    }

    /**
     * A Seer view of a contiguous CPU libtorch tensor. The view holds the libtorch tensor as its owner, so the
     * storage stays alive as long as the view is reachable and the tensor is not explicitly closed.
     */
    public static Tensor view(org.bytedeco.pytorch.Tensor t) {
        if (!t.is_cpu()) {
            throw new IllegalArgumentException("only CPU libtorch tensors can be viewed from Java, found device " + t.device().str().getString());
        }
        if (!t.is_contiguous()) {
            throw new IllegalArgumentException("libtorch tensor of shape " + Shape.of(t.sizes().vec().get())
                    + " is not contiguous; call contiguous() first");
        }
        DType dtype = DType.fromTorch(t.scalar_type());
        Shape shape = Shape.of(t.sizes().vec().get());
        long bytes = shape.numel() * dtype.byteSize();
        long address = bytes == 0 ? 0 : t.data_ptr().address();
        MemorySegment seg = bytes == 0 ? MemorySegment.NULL.reinterpret(0) : MemorySegment.ofAddress(address).reinterpret(bytes);
        return Tensor.ofSegment(dtype, shape, seg, t);
    }

    /**
     * A libtorch tensor over the memory of a Seer host tensor, without copying. The caller keeps {@code t} (and
     * so its owner) reachable for as long as the libtorch tensor is used.
     */
    public static org.bytedeco.pytorch.Tensor wrap(Tensor t) {
        if (!t.device().isCpu()) {
            throw new IllegalArgumentException("only host tensors can be wrapped, found " + t.device());
        }
        TensorOptions options = new TensorOptions(t.dtype().torchType());
        return torch.from_blob(new AddressPointer(t.address(), t.byteSize()), t.shape().toArray(), options);
    }

    /** A JavaCPP pointer to memory that something else owns. */
    private static final class AddressPointer extends Pointer {
        AddressPointer(long address, long bytes) {
            super((Pointer) null);
            this.address = address;
            this.position = 0;
            this.limit = bytes;
            this.capacity = bytes;
        }
    }

    /**
     * Standard normal float32 values of the given shape from a libtorch CPU generator, seeded like
     * torch.manual_seed: the same stream as PyTorch's torch.randn on CPU.
     */
    public static float[] randn(Generator generator, long... shape) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor t = torch.randn(shape, new GeneratorOptional(generator), new TensorOptions(torch.ScalarType.Float));
            return view(t.contiguous()).toFloatArray();
        }
    }
}
