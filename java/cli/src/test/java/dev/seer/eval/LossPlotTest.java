package dev.seer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossPlotTest {
    @Test
    void drawsTheMovingAverageInBlue(@TempDir Path dir) throws Exception {
        List<double[]> rows = new ArrayList<>();
        for (int step = 0; step < 1000; step++) {
            rows.add(new double[] {step, 1.0 / (1 + step * 0.05)});
        }
        Path png = dir.resolve("loss.png");
        LossPlot.write(png, rows, 50, "test curve");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(640, img.getWidth());
        assertEquals(400, img.getHeight());
        int blue = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                if ((rgb & 0xff) > 150 && (rgb >> 16) < 80) {
                    blue++;
                }
            }
        }
        assertNotEquals(0, blue, "no pixel of the moving average");
    }

    @Test
    void refusesAnEmptyCurve(@TempDir Path dir) {
        assertThrows(IllegalArgumentException.class, () -> LossPlot.write(dir.resolve("x.png"), List.of(), 10, "empty"));
    }
}
