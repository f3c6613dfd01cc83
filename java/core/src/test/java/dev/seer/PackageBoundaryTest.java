package dev.seer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The generic packages (the sampling loop, the cache, the hook contract, kernels, tensors, I/O) name no model
 * family and nothing built on top of them: a family plugs in from its own package, never the other way round.
 */
class PackageBoundaryTest {
    static final Path SOURCES = Path.of("src/main/java/dev/seer");
    /** Generic packages, each with its sub-packages, except dev.seer.model whose sub-packages are the families. */
    static final List<String> GENERIC = List.of("sampling", "cache", "kernel", "tensor", "io");
    /** What no generic source may reference: family packages, and the layers that sit on top. */
    static final Pattern FORBIDDEN = Pattern.compile("dev\\.seer\\.(model\\.[a-z]+|families|eval|cli|train)\\b");

    static List<Path> genericSources() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String p : GENERIC) {
            try (Stream<Path> s = Files.walk(SOURCES.resolve(p))) {
                s.filter(f -> f.toString().endsWith(".java")).forEach(files::add);
            }
        }
        try (Stream<Path> s = Files.list(SOURCES.resolve("model"))) {
            s.filter(f -> f.toString().endsWith(".java")).forEach(files::add);
        }
        return files;
    }

    @Test
    void genericPackagesReferenceNoFamily() throws IOException {
        List<Path> files = genericSources();
        assertTrue(files.size() > 40, "the scan found the sources (" + files.size() + " files)");
        List<String> found = new ArrayList<>();
        for (Path f : files) {
            List<String> lines = Files.readAllLines(f);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = FORBIDDEN.matcher(lines.get(i));
                if (m.find()) {
                    found.add(SOURCES.relativize(f) + ":" + (i + 1) + ": " + m.group());
                }
            }
        }
        assertEquals(List.of(), found, "generic sources that reference a family or a layer above them");
    }

    @Test
    void theScanSeesAForbiddenReference() {
        assertTrue(FORBIDDEN.matcher("import dev.seer.model.dit.DitModel;").find());
        assertTrue(FORBIDDEN.matcher("{@link dev.seer.model.flux.FluxModel}").find());
        assertTrue(!FORBIDDEN.matcher("import dev.seer.model.BranchHooks;").find());
    }
}
