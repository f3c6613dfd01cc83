package dev.seer.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory, from /proc/self/status (Linux). The peak (VmHWM) can be reset by writing 5 to
 * /proc/self/clear_refs, which lets one process measure the peak of each part of a run separately.
 */
public final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private ProcessMemory() {
    }

    /** Resident set size in bytes, or -1 where /proc is not available. */
    public static long residentBytes() {
        return field("VmRSS:");
    }

    /** Peak resident set size in bytes since start or the last {@link #resetPeak()}, or -1. */
    public static long peakResidentBytes() {
        return field("VmHWM:");
    }

    /** Resets the peak to the current resident size; false where the kernel does not allow it. */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    String[] f = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024; // the kernel reports kB
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or an unexpected format: unknown
        }
        return -1;
    }
}
