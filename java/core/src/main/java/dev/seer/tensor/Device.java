package dev.seer.tensor;

/** Where a tensor's memory lives. */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, -1);

    public Device {
        if (kind == Kind.CPU && index != -1) {
            throw new IllegalArgumentException("a CPU device has no index, found " + index);
        }
        if (kind == Kind.CUDA && index < 0) {
            throw new IllegalArgumentException("a CUDA device index must be >= 0, found " + index);
        }
    }

    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    public boolean isCpu() {
        return kind == Kind.CPU;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
