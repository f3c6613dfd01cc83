package dev.seer.cli;

import dev.seer.Seer;
import dev.seer.SeerOptions;
import dev.seer.kernel.NativeKernels;
import dev.seer.tensor.SeerRuntime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Loader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code seer extract-natives DIR}: every native library Seer loads, extracted once, e.g. into a container image. */
@Command(name = "extract-natives", mixinStandardHelpOptions = true,
        description = {"Extract every native library Seer loads (libtorch and its dependencies through JavaCPP, about 445 MB, "
                + "and Seer's own kernels) into DIR, and mark DIR as complete. Run Seer with -Dseer.extract.dir=DIR or "
                + "SEER_EXTRACT_DIR=DIR afterwards: nothing is extracted at start, and DIR may be read-only (a container "
                + "image layer)."})
final class ExtractNativesCommand implements Callable<Integer> {
    static final String MARKER = SeerRuntime.PRE_EXTRACTED_MARKER;

    @Parameters(index = "0", paramLabel = "DIR", description = "The directory to fill (created if missing; its parent must exist).")
    Path dir;

    @Override
    public Integer call() throws IOException {
        Path target = dir.toAbsolutePath().normalize();
        if (target.getParent() == null || !Files.isDirectory(target.getParent())) {
            throw OptionChecks.invalid("DIR", dir, "a directory whose parent exists");
        }
        if (Files.exists(target) && !Files.isDirectory(target)) {
            throw OptionChecks.invalid("DIR", dir, "a directory (this is a file)");
        }
        if (Seer.started()) {
            throw new IllegalStateException("Seer has already started in this process (natives in "
                    + SeerRuntime.nativeExtractDir().getParent() + "); run extract-natives in a process of its own");
        }
        Files.createDirectories(target);
        // this command's one purpose: JavaCPP's cache is DIR, whatever the launcher or environment said
        System.setProperty(SeerOptions.JAVACPP_CACHE_DIR_PROPERTY, target.toString());
        Seer.configure(Seer.options().toBuilder().extractDir(target).build());
        SeerRuntime.init(); // extracts and loads libtorch and everything it needs
        Path javacpp = Loader.getCacheDir().toPath().toAbsolutePath().normalize();
        if (!javacpp.equals(target)) {
            throw new IllegalStateException("JavaCPP's cache directory was fixed before this command ran (" + javacpp
                    + "); run extract-natives in a process of its own");
        }
        List<Path> seer = NativeKernels.extractPackaged(SeerRuntime.nativeExtractDir());
        if (seer.stream().noneMatch(p -> p.getFileName().toString().equals("libseer_cpu.so"))) {
            throw new IllegalStateException("this build packages no libseer_cpu.so (class-path resource "
                    + "/dev/seer/native/linux-x86_64/libseer_cpu.so); build it with `mvn package`");
        }
        long files;
        long bytes;
        try (Stream<Path> all = Files.walk(target)) {
            List<Path> regular = all.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .filter(p -> !p.getFileName().toString().equals(MARKER)).toList();
            files = regular.size();
            long sum = 0;
            for (Path p : regular) {
                sum += Files.size(p);
            }
            bytes = sum;
        }
        Files.writeString(target.resolve(MARKER), "Native libraries extracted by `seer extract-natives` (platform "
                + Loader.getPlatform() + "): "
                + files + " files, " + bytes + " bytes.\nRun Seer with -D" + SeerOptions.EXTRACT_DIR_PROPERTY + "="
                + target + " or " + SeerOptions.EXTRACT_DIR_ENV + "=" + target + "; this directory may be read-only.\n",
                StandardCharsets.UTF_8);
        System.out.printf("extracted %d files (%.0f MB) into %s%n", files, bytes / 1e6, target);
        System.out.println("run Seer with -D" + SeerOptions.EXTRACT_DIR_PROPERTY + "=" + target + " or "
                + SeerOptions.EXTRACT_DIR_ENV + "=" + target + " (the directory may be read-only)");
        return 0;
    }
}
