package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.Tensor;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {
    @TempDir
    Path dir;

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    /** The stored value of a pixel: the sample of a grayscale image (getRGB would gamma-convert it), else R == G == B. */
    private static int gray(BufferedImage img, int x, int y) {
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            return img.getRaster().getSample(x, y, 0);
        }
        int rgb = img.getRGB(x, y);
        int r = rgb >> 16 & 0xff;
        assertEquals(r, rgb >> 8 & 0xff);
        assertEquals(r, rgb & 0xff);
        return r;
    }

    @Test
    void mapsMinusOneToOneOntoBytesWithClamping() {
        assertEquals(0, Images.toByte(-1f));
        assertEquals(0, Images.toByte(-7f));
        assertEquals(128, Images.toByte(0f));
        assertEquals(255, Images.toByte(1f));
        assertEquals(255, Images.toByte(3f));
        assertEquals(0, Images.toByte(Float.NaN));
        assertEquals(255, Images.toByte(Float.POSITIVE_INFINITY));
        assertEquals(64, Images.toByte(-0.5f));
    }

    @Test
    void writesGrayAndRgbPngs() throws Exception {
        float[] hw = new float[3 * 5];
        hw[2 * 5 + 4] = 1f;
        hw[0] = -1f;
        Path g = dir.resolve("gray.png");
        Images.writeGray(g, hw, 3, 5);
        BufferedImage back = ImageIO.read(g.toFile());
        assertEquals(5, back.getWidth());
        assertEquals(3, back.getHeight());
        assertEquals(255, gray(back, 4, 2));
        assertEquals(0, gray(back, 0, 0));
        assertEquals(128, gray(back, 1, 1));

        float[] chw = new float[3 * 2 * 2];
        chw[0] = 1f;          // red of (0, 0)
        chw[4 + 1] = 1f;      // green of (1, 0)
        chw[8 + 3] = 1f;      // blue of (1, 1)
        Path c = dir.resolve("rgb.png");
        Images.writeRgb(c, chw, 2, 2);
        BufferedImage rgb = ImageIO.read(c.toFile());
        assertEquals(0xff8080, rgb.getRGB(0, 0) & 0xffffff);
        assertEquals(0x80ff80, rgb.getRGB(1, 0) & 0xffffff);
        assertEquals(0x8080ff, rgb.getRGB(1, 1) & 0xffffff);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(2, s.count(), "no temporary files left");
        }
    }

    @Test
    void imagesFromTensors() {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(BufferedImage.TYPE_BYTE_GRAY, Images.fromTensor(Tensor.ofFloats(arena, new float[6], 2, 3)).getType());
            assertEquals(BufferedImage.TYPE_BYTE_GRAY, Images.fromTensor(Tensor.ofFloats(arena, new float[6], 1, 2, 3)).getType());
            BufferedImage rgb = Images.fromTensor(Tensor.ofFloats(arena, new float[18], 3, 2, 3));
            assertEquals(3, rgb.getWidth());
            assertEquals(2, rgb.getHeight());
            assertThrows(IllegalArgumentException.class, () -> Images.fromTensor(Tensor.ofFloats(arena, new float[8], 2, 2, 2)));
        }
    }

    @Test
    void latentPreviewNormalisesPerImage() {
        int h = 2;
        int w = 2;
        float[] latent = new float[4 * h * w];
        Arrays.fill(latent, 5f);
        latent[0] = 3f;               // channel 0 (red) at (0, 0): the minimum
        latent[h * w + 3] = 9f;       // channel 1 (green) at (1, 1): the maximum
        latent[3 * h * w] = 1000f;    // channel 3 is not shown and does not affect the range
        BufferedImage img = Images.latentPreview(latent, 4, h, w);
        int p00 = img.getRGB(0, 0);
        assertEquals(0, p00 >> 16 & 0xff);
        int p11 = img.getRGB(1, 1);
        assertEquals(255, p11 >> 8 & 0xff);
        assertEquals(Images.toByte((5f - 3f) / 6f * 2f - 1f), p11 & 0xff);
        BufferedImage flat = Images.latentPreview(filled(4 * h * w, 2f), 4, h, w);
        assertEquals(0x808080, flat.getRGB(1, 0) & 0xffffff);
        assertThrows(IllegalArgumentException.class, () -> Images.latentPreview(new float[8], 2, 2, 2));
    }

    @Test
    void nearestNeighbourScaling() {
        float[] hw = {-1f, 1f, 1f, -1f};
        BufferedImage s = Images.scale(Images.gray(hw, 2, 2), 3);
        assertEquals(6, s.getWidth());
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, s.getType());
        assertEquals(0x808080, Images.toRgb(Images.gray(new float[1], 1, 1)).getRGB(0, 0) & 0xffffff);
        assertEquals(0, gray(s, 2, 2));
        assertEquals(255, gray(s, 3, 2));
        assertEquals(255, gray(s, 0, 5));
    }

    @Test
    void unlabelledGridHasTheExpectedGeometry() {
        Images.Grid grid = Images.grid(2, 3).scale(2).gap(3);
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 3; c++) {
                grid.set(r, c, Images.gray(filled(28 * 28, r - 1f + c / 2f), 28, 28));
            }
        }
        BufferedImage img = grid.render();
        assertEquals(3 * 56 + 4 * 3, img.getWidth());
        assertEquals(2 * 56 + 3 * 3, img.getHeight());
        assertEquals(new Rectangle(3 + 56 + 3, 3 + 56 + 3, 56, 56), grid.tileBounds(1, 1));
        assertEquals(255, gray(img, 0, 0), "white border");
        assertEquals(Images.toByte(0.5f), gray(img, 3 + 56 + 3 + 10, 3 + 56 + 3 + 55));
    }

    @Test
    void labelledGridWrittenAndReadBack() throws Exception {
        List<String> rows = List.of("no cache", "TaylorSeer (N=5, O=2)");
        List<String> cols = List.of("T-shirt/top", "Trouser", "Ankle boot");
        Images.Grid grid = Images.grid(2, 3).scale(4).rowLabels(rows).columnHeaders(cols);
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 3; c++) {
                grid.set(r, c, Images.gray(filled(28 * 28, r == 1 && c == 2 ? 0f : -1f), 28, 28));
            }
        }
        Path p = dir.resolve("grid.png");
        grid.write(p);
        BufferedImage back = ImageIO.read(p.toFile());
        BufferedImage rendered = grid.render();
        assertEquals(rendered.getWidth(), back.getWidth());
        assertEquals(rendered.getHeight(), back.getHeight());
        Rectangle t = grid.tileBounds(1, 2);
        Rectangle first = grid.tileBounds(0, 0);
        assertTrue(first.x > 20, "tiles start right of the row labels: " + first);
        assertTrue(first.y > 8, "tiles start below the headers: " + first);
        assertEquals(112, t.width);
        assertEquals(128, gray(back, t.x + 56, t.y + 56), "known pixel of tile (1, 2)");
        assertEquals(128, gray(back, t.x, t.y + t.height - 1), "corner of tile (1, 2)");
        Rectangle left = grid.tileBounds(1, 1);
        assertEquals(0, gray(back, left.x + left.width - 1, left.y), "corner of tile (1, 1)");
        assertEquals(255, gray(back, left.x + left.width, left.y), "gap");
        boolean ink = false;
        for (int y = 0; y < first.y && !ink; y++) {
            for (int x = first.x; x < first.x + first.width; x++) {
                if (gray(back, x, y) < 128) {
                    ink = true;
                    break;
                }
            }
        }
        assertTrue(ink, "a column header was drawn above the first tile");
    }

    @Test
    void gridChecksItsInput() {
        Images.Grid grid = Images.grid(1, 2);
        assertThrows(IllegalStateException.class, grid::render);
        grid.set(0, 0, Images.gray(new float[4], 2, 2));
        grid.set(0, 1, Images.gray(new float[6], 2, 3));
        assertThrows(IllegalArgumentException.class, grid::render);
        assertThrows(IllegalArgumentException.class, () -> grid.rowLabels(List.of("a", "b")));
        assertThrows(IndexOutOfBoundsException.class, () -> grid.set(1, 0, null));
        assertThrows(IllegalArgumentException.class, () -> Images.gray(new float[3], 2, 2));
    }

    @Test
    void leavesJavaAwtHeadlessToTheApplication(@TempDir Path dir) throws Exception {
        String before = System.getProperty("java.awt.headless");
        Images.Grid grid = Images.grid(1, 1).rowLabels(List.of("label"));
        grid.set(0, 0, Images.gray(new float[4], 2, 2));
        grid.write(dir.resolve("g.png"));
        assertEquals(before, System.getProperty("java.awt.headless"), "drawing must not set java.awt.headless");
    }
}
