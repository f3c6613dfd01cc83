package dev.seer.eval;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.Pointer;

/**
 * One reading of this process's memory, as a leak check needs it: what the kernel says is resident, what JavaCPP
 * says it holds natively, and the Java heap after a collection.
 *
 * @param rssBytes         resident set (VmRSS of /proc/self/status); -1 where there is no /proc
 * @param peakRssBytes     high-water mark of the resident set (VmHWM)
 * @param javacppBytes     bytes of native memory JavaCPP allocated and has not freed yet (Pointer.totalBytes)
 * @param javacppPointers  JavaCPP pointers whose native object is still alive (Pointer.totalCount): libtorch
 *                         tensors, vectors, scopes' members; a leak of any of them shows here first
 * @param physicalBytes    JavaCPP's own reading of the process's physical memory (Pointer.physicalBytes)
 * @param heapUsedBytes    Java heap in use right after System.gc()
 */
public record ProcessMemory(long rssBytes, long peakRssBytes, long javacppBytes, long javacppPointers,
                            long physicalBytes, long heapUsedBytes) {

    /**
     * Reads every figure. Collects garbage first (twice, so that JavaCPP's deallocators of unreachable pointers
     * run): the figures then describe what is still reachable, not what the collector has not got to yet.
     */
    public static ProcessMemory read() {
        System.gc();
        Pointer.deallocateReferences();
        System.gc();
        Pointer.deallocateReferences();
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        long[] status = procStatus();
        return new ProcessMemory(status[0], status[1], Pointer.totalBytes(), Pointer.totalCount(),
                Pointer.physicalBytes(), heap.getUsed());
    }

    /** The larger of each figure (for a running maximum). */
    public ProcessMemory max(ProcessMemory o) {
        return new ProcessMemory(Math.max(rssBytes, o.rssBytes), Math.max(peakRssBytes, o.peakRssBytes),
                Math.max(javacppBytes, o.javacppBytes), Math.max(javacppPointers, o.javacppPointers),
                Math.max(physicalBytes, o.physicalBytes), Math.max(heapUsedBytes, o.heapUsedBytes));
    }

    /**
     * Growth from {@code base} to {@code end} in percent: 0 when both are 0, +infinity when something appears
     * from nothing.
     */
    public static double growthPercent(long base, long end) {
        if (base <= 0) {
            return end <= 0 ? 0 : Double.POSITIVE_INFINITY;
        }
        return 100.0 * (end - base) / base;
    }

    /** Resident set size in bytes now (without collecting first), or -1 where there is no /proc. */
    public static long residentBytes() {
        return procStatus()[0];
    }

    /** Peak resident set size in bytes since start or the last {@link #resetPeak()}, or -1. */
    public static long peakResidentBytes() {
        return procStatus()[1];
    }

    /**
     * Resets the peak (VmHWM) to the current resident size by writing 5 to /proc/self/clear_refs, so one process
     * can measure the peak of each part of a run; false where the kernel does not allow it.
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** {VmRSS, VmHWM} in bytes, -1 each when /proc/self/status cannot be read (not Linux). */
    private static long[] procStatus() {
        long rss = -1;
        long hwm = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = kib(line);
                } else if (line.startsWith("VmHWM:")) {
                    hwm = kib(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            return new long[] {-1, -1};
        }
        return new long[] {rss, hwm};
    }

    /** "VmRSS:\t  123456 kB" in bytes. */
    private static long kib(String line) {
        String[] f = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
        return Long.parseLong(f[0]) * 1024;
    }
}
