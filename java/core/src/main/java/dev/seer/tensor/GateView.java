package dev.seer.tensor;


/**
 * A (batch, channels) gate read in place from a wider (batch, width) tensor, e.g. one chunk of an adaLN
 * modulation output: gate[b, c] = storage[b, columnOffset + c], rows {@code width} elements apart.
 */
public record GateView(Tensor storage, long columnOffset, long channels) {
    public GateView {
        if (storage == null) {
            throw new IllegalArgumentException("gate storage is null");
        }
        if (storage.shape().rank() != 2) {
            throw new IllegalArgumentException("gate storage must be 2-D (batch, width), found shape " + storage.shape());
        }
        long width = storage.shape().dim(1);
        // channels > width - columnOffset, not columnOffset + channels > width: the sum can overflow
        if (columnOffset < 0 || channels < 0 || columnOffset > width || channels > width - columnOffset) {
            throw new IllegalArgumentException("gate of " + channels + " columns from column " + columnOffset
                    + " lies outside storage of shape " + storage.shape() + " (columns 0.." + (width - 1) + ")");
        }
    }

    /** The whole of a (batch, channels) tensor. */
    public static GateView of(Tensor gate) {
        if (gate == null) {
            throw new IllegalArgumentException("gate is null");
        }
        if (gate.shape().rank() != 2) {
            throw new IllegalArgumentException("gate must be 2-D (batch, channels), found shape " + gate.shape());
        }
        return new GateView(gate, 0, gate.shape().dim(1));
    }

    public long batch() {
        return storage.shape().dim(0);
    }

    public long rowStride() {
        return storage.shape().dim(1);
    }

    /** The address of gate[0, 0]. */
    public long address() {
        return storage.address() + columnOffset * storage.dtype().byteSize();
    }
}
