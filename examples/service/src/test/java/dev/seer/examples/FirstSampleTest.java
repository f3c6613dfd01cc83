package dev.seer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's first Java example runs as written, and the README shows it as it is. */
class FirstSampleTest {
    @Test
    void writesAStripOfTenSamples(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("strip.png");
        FirstSample.main(new String[] {png.toString()});
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img.getWidth() > 10 * 28 * 3 && img.getHeight() > 28 * 3, img.getWidth() + " x " + img.getHeight());
    }

    @Test
    void theReadmeQuotesThisFile() throws Exception {
        String source = Files.readString(Path.of("src/main/java/dev/seer/examples/FirstSample.java"));
        String readme = Files.readString(Path.of("../../README.md"));
        String body = source.substring(source.indexOf("import "));
        assertTrue(readme.contains(body), "README.md must quote FirstSample.java from its imports on");
        assertEquals(1, readme.split("public final class FirstSample", -1).length - 1);
    }
}
