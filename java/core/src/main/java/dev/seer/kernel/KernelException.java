package dev.seer.kernel;

/** A native kernel returned a status other than SEER_OK; the message is the C library's own. */
public final class KernelException extends RuntimeException {
    private final int status;

    public KernelException(int status, String message) {
        super(message + " (status " + statusName(status) + ")");
        this.status = status;
    }

    public int status() {
        return status;
    }

    static String statusName(int status) {
        return switch (status) {
            case 1 -> "INVALID_ARGUMENT";
            case 2 -> "UNSUPPORTED";
            case 3 -> "CUDA";
            case 4 -> "INTERNAL";
            default -> String.valueOf(status);
        };
    }
}
