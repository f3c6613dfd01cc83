package dev.seer.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * libseer_cuda, when it was built (nvcc present at build time). It links cudart statically, so it loads on any
 * machine and reports zero devices where there is no driver or GPU. The Java runtime's libtorch is the CPU
 * build, so Java hands no CUDA tensors to these kernels yet; kernels/gpu_check.sh validates and times them on a
 * GPU machine without Java.
 */
public final class CudaKernels {
    private static volatile Optional<CudaKernels> instance;

    private final Path path;
    private final MethodHandle deviceCount;
    private final MethodHandle lastError;

    private CudaKernels(Path path) {
        this.path = path;
        SymbolLookup lib = SymbolLookup.libraryLookup(path, Arena.global());
        Linker linker = Linker.nativeLinker();
        deviceCount = linker.downcallHandle(lib.find("seer_cuda_device_count").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        lastError = linker.downcallHandle(lib.find("seer_cuda_last_error").orElseThrow(), FunctionDescriptor.of(ADDRESS));
    }

    /** The library, or empty when this build has none. */
    public static synchronized Optional<CudaKernels> load() {
        if (instance == null) {
            NativeKernels.cpu(); // libtorch and the CPU library first, as everywhere
            instance = NativeLibraries.find("libseer_cuda.so").map(CudaKernels::new);
        }
        return instance;
    }

    public Path path() {
        return path;
    }

    /** Usable CUDA devices; 0 without a driver or GPU. */
    public int deviceCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            int status = (int) deviceCount.invokeExact(count);
            if (status != 0) {
                MemorySegment msg = (MemorySegment) lastError.invokeExact();
                throw new KernelException(status, msg.reinterpret(4096).getString(0));
            }
            return count.get(JAVA_INT, 0);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("seer_cuda_device_count failed", t);
        }
    }
}
