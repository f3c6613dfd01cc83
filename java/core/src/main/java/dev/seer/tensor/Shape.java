package dev.seer.tensor;

import java.util.Arrays;

/** An immutable list of dimension sizes. */
public final class Shape {
    private final long[] dims;

    private Shape(long[] dims) {
        this.dims = dims;
    }

    /** @throws IllegalArgumentException for a negative size, or more elements than a long counts */
    public static Shape of(long... dims) {
        if (dims == null) {
            throw new IllegalArgumentException("dimension sizes are null");
        }
        long[] copy = dims.clone();
        long product = 1;
        for (long d : copy) {
            if (d < 0) {
                throw new IllegalArgumentException("dimension sizes must be >= 0, found " + Arrays.toString(copy));
            }
            try {
                product = Math.multiplyExact(product, Math.max(d, 1));
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(copy) + " has more than "
                        + Long.MAX_VALUE + " elements");
            }
        }
        return new Shape(copy);
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public long[] toArray() {
        return dims.clone();
    }

    /** Number of elements; throws ArithmeticException if it does not fit a long. */
    public long numel() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** Python-style: (2, 256, 384). */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(dims[i]);
        }
        if (dims.length == 1) {
            sb.append(',');
        }
        return sb.append(')').toString();
    }
}
