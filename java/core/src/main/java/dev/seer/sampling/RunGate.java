package dev.seer.sampling;

/**
 * Admits work on a shared object (a pipeline's runs, a model's network calls) until the object is closed; closing
 * refuses new work and waits for the work in progress, so nothing frees memory a running step uses.
 */
public final class RunGate {
    private final String what;
    private int active;
    private boolean closed;

    /** @param what the object, for messages ("the pipeline", "the model") */
    public RunGate(String what) {
        this.what = what;
    }

    /** Admits one unit of work; IllegalStateException once closed. Pair with {@link #exit()}. */
    public synchronized void enter() {
        if (closed) {
            throw new IllegalStateException(what + " is closed");
        }
        active++;
    }

    public synchronized void exit() {
        active--;
        if (active == 0) {
            notifyAll();
        }
    }

    /** Whether {@link #close()} has begun (work in progress should end at its next boundary). */
    public synchronized boolean isClosing() {
        return closed;
    }

    /**
     * Refuses new work and waits until the work in progress has left. Returns false if it was closed before.
     * An interrupt while waiting is kept (the interrupt flag is set again) and the wait goes on.
     */
    public synchronized boolean close() {
        if (closed) {
            return false;
        }
        closed = true;
        boolean interrupted = false;
        while (active > 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return true;
    }
}
