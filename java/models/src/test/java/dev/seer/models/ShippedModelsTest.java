package dev.seer.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitPipeline;
import dev.seer.model.dit.SampleRequest;
import dev.seer.sampling.SampleResult;
import dev.seer.sampling.SamplerKind;
import dev.seer.model.dit.SamplingSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped model as API: loaded from the class path into memory, with its recommended settings. */
class ShippedModelsTest {
    /** The resources as files in the source tree (tests run from java/). */
    private static final Path SOURCES = Path.of("src/main/resources");

    private static void assumeShipped() {
        assumeTrue(ShippedModels.hasFashionDit(), "this build does not ship the Fashion-MNIST DiT ("
                + ShippedModels.FASHION_DIT_WEIGHTS + ")");
    }

    private static long tempCopies() throws IOException {
        try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return files.filter(p -> p.getFileName().toString().startsWith("seer-")
                    && p.getFileName().toString().contains("fashion-dit")).count();
        }
    }

    @Test
    void theClassPathModelSamplesAsTheFileDoes() throws IOException {
        assumeShipped();
        Path weights = SOURCES.resolve(ShippedModels.FASHION_DIT_WEIGHTS.substring(1));
        Path config = SOURCES.resolve(ShippedModels.FASHION_DIT_CONFIG.substring(1));
        assumeTrue(Files.isRegularFile(weights), "the source tree's copy of the weights is not at " + weights.toAbsolutePath());
        long before = tempCopies();
        SamplingSettings s = ShippedModels.FASHION_DIT_SETTINGS;
        SampleRequest request = SampleRequest.builder(3, 7).settings(s).steps(6).policy(new CachePolicy.TaylorSeer(2, 2))
                .seed(1).build();
        float[] fromClassPath;
        try (DitModel model = ShippedModels.fashionDit(); DitPipeline p = new DitPipeline(model)) {
            assertEquals(DitConfig.fromJson(config), p.model().config());
            fromClassPath = p.sample(request).latents();
        }
        assertEquals(before, tempCopies(), "loading from the class path wrote a temporary copy");
        SampleResult fromFile;
        try (DitModel model = DitModel.load(DitConfig.fromJson(config), weights); DitPipeline p = new DitPipeline(model, true)) {
            fromFile = p.sample(request);
        }
        assertArrayEquals(fromFile.latents(), fromClassPath, "the same weights, the same samples, bit for bit");
        for (float v : fromClassPath) {
            assertTrue(v >= -1 && v <= 1, "clip_denoised keeps the images in [-1, 1]: " + v);
        }
    }

    @Test
    void theModelCardsSettings() {
        SamplingSettings s = ShippedModels.FASHION_DIT_SETTINGS;
        assertEquals(new SamplingSettings(50, SamplerKind.DDIM, 0.0, 4.0, false, true), s);
        SampleRequest r = s.applyTo(SampleRequest.builder(0)).build();
        assertEquals(50, r.steps());
        assertEquals(SamplerKind.DDIM, r.sampler());
        assertEquals(0.0, r.eta());
        assertEquals(4.0, r.cfgScale());
        assertFalse(r.guideAllChannels());
    }

    @Test
    void settingsRefuseBadValues() {
        IllegalArgumentException steps = assertThrows(IllegalArgumentException.class,
                () -> new SamplingSettings(0, SamplerKind.DDIM, 0, 4, false, true));
        assertEquals("steps: 0 is not allowed; allowed: 1..1000", steps.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(50, null, 0, 4, false, true));
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(50, SamplerKind.DDIM, Double.NaN, 4, false, true));
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(50, SamplerKind.DDIM, 0, -1, false, true));
        assertThrows(IllegalArgumentException.class, () -> ShippedModels.FASHION_DIT_SETTINGS.applyTo(null));
    }

    @Test
    void aMissingResourceNamesItself() {
        IOException e = assertThrows(IOException.class, () -> ClassPathResources.open("/dev/seer/models/none.safetensors", "the weights"));
        assertTrue(e.getMessage().contains("the weights (class-path resource /dev/seer/models/none.safetensors) is missing"),
                e.getMessage());
    }

    @Test
    void aConfigInsideAJarIsReadWithoutACopy(@TempDir Path tmp) throws IOException {
        Path jar = tmp.resolve("models.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            j.putNextEntry(new JarEntry("dev/seer/models/some.json"));
            j.write("{\"a\": 1}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            j.closeEntry();
        }
        URI uri = URI.create("jar:" + jar.toUri() + "!/dev/seer/models/some.json");
        String[] seen = new String[2];
        String text = ClassPathResources.withPath(uri.toURL(), "/dev/seer/models/some.json", p -> {
            seen[0] = p.getFileSystem().provider().getScheme();
            return Files.readString(p);
        });
        assertEquals("{\"a\": 1}", text);
        assertEquals("jar", seen[0], "read through the zip file system, not a temporary file");
    }
}
