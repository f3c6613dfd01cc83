package dev.seer.io;

import dev.seer.tensor.Tensor;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PNG output for samples: images in a model's range [-1, 1] become 8-bit pixels ({@code round((v + 1) * 127.5)},
 * clamped; NaN becomes 0), latents get a false-colour preview, and {@link Grid} lays out labelled tiles.
 * Files are written atomically (temporary file, fsync, rename). Drawing uses AWT: on a machine whose DISPLAY names
 * no reachable X server, run with {@code -Djava.awt.headless=true} ({@code SeerOptions.Builder.awtHeadless}; the CLI
 * does). Without a DISPLAY the JDK runs headless by itself.
 */
public final class Images {
    private static final Logger LOG = LoggerFactory.getLogger(Images.class);

    private Images() {
    }

    /** A grayscale image from row-major (H, W) values in [-1, 1]. */
    public static BufferedImage gray(float[] hw, int height, int width) {
        checkLength(hw, 1, height, width);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] row = new byte[width];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                row[x] = (byte) toByte(hw[y * width + x]);
            }
            img.getRaster().setDataElements(0, y, width, 1, row);
        }
        return img;
    }

    /** An RGB image from channel-major (3, H, W) values in [-1, 1]. */
    public static BufferedImage rgb(float[] chw, int height, int width) {
        checkLength(chw, 3, height, width);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int plane = height * width;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = y * width + x;
                img.setRGB(x, y, toByte(chw[i]) << 16 | toByte(chw[plane + i]) << 8 | toByte(chw[2 * plane + i]));
            }
        }
        return img;
    }

    /**
     * An image from a floating-point host tensor in [-1, 1]: (H, W) or (1, H, W) gives grayscale, (3, H, W) RGB.
     *
     * @throws IllegalArgumentException for other shapes or non-float dtypes
     */
    public static BufferedImage fromTensor(Tensor t) {
        long[] d = t.shape().toArray();
        if (d.length == 2) {
            return gray(t.toFloatArray(), Math.toIntExact(d[0]), Math.toIntExact(d[1]));
        }
        if (d.length == 3 && d[0] == 1) {
            return gray(t.toFloatArray(), Math.toIntExact(d[1]), Math.toIntExact(d[2]));
        }
        if (d.length == 3 && d[0] == 3) {
            return rgb(t.toFloatArray(), Math.toIntExact(d[1]), Math.toIntExact(d[2]));
        }
        throw new IllegalArgumentException("an image tensor must be (H, W), (1, H, W) or (3, H, W), found " + t.shape());
    }

    /**
     * A false-colour preview of a latent (C, H, W) with C &gt;= 3 (4 for SD-style VAEs): channels 0, 1, 2 become
     * red, green, blue after min-max normalisation over those three channels of this one image, so relative
     * channel strengths stay visible. A constant latent gives mid grey.
     */
    public static BufferedImage latentPreview(float[] chw, int channels, int height, int width) {
        if (channels < 3) {
            throw new IllegalArgumentException("a latent preview needs at least 3 channels, found " + channels);
        }
        checkLength(chw, channels, height, width);
        int n = 3 * height * width;
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = chw[i];
            if (Float.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        float[] norm = new float[n];
        float range = max - min;
        for (int i = 0; i < n; i++) {
            // Map [min, max] onto [-1, 1]; a constant (or all non-finite) latent stays at 0, mid grey.
            norm[i] = range > 0 && Float.isFinite(range) ? (chw[i] - min) / range * 2f - 1f : 0f;
        }
        return rgb(norm, height, width);
    }

    /** As {@link #latentPreview(float[], int, int, int)} for a floating-point host tensor (C, H, W). */
    public static BufferedImage latentPreview(Tensor t) {
        if (t.shape().rank() != 3) {
            throw new IllegalArgumentException("a latent must be (C, H, W), found " + t.shape());
        }
        return latentPreview(t.toFloatArray(), Math.toIntExact(t.shape().dim(0)),
                Math.toIntExact(t.shape().dim(1)), Math.toIntExact(t.shape().dim(2)));
    }

    /** Nearest-neighbour upscaling by an integer factor (tiny 28 x 28 images stay crisp); keeps grayscale as is. */
    public static BufferedImage scale(BufferedImage img, int factor) {
        if (factor < 1) {
            throw new IllegalArgumentException("scale factor must be >= 1, found " + factor);
        }
        if (factor == 1) {
            return img;
        }
        int w = img.getWidth();
        int h = img.getHeight();
        int sw = Math.multiplyExact(w, factor);
        int sh = Math.multiplyExact(h, factor);
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            // Copy samples: going through getRGB would apply the linear-gray to sRGB conversion (128 -> 188).
            BufferedImage out = new BufferedImage(sw, sh, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < sh; y++) {
                for (int x = 0; x < sw; x++) {
                    out.getRaster().setSample(x, y, 0, img.getRaster().getSample(x / factor, y / factor, 0));
                }
            }
            return out;
        }
        BufferedImage out = new BufferedImage(sw, sh, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < sh; y++) {
            for (int x = 0; x < sw; x++) {
                out.setRGB(x, y, img.getRGB(x / factor, y / factor));
            }
        }
        return out;
    }

    /**
     * The image as TYPE_INT_RGB. Grayscale pixel values are copied as they are (v becomes (v, v, v)): AWT treats
     * TYPE_BYTE_GRAY as linear and would brighten it when drawing onto an RGB image, while PNG viewers show the
     * stored value, which is what {@link #gray} computed.
     */
    public static BufferedImage toRgb(BufferedImage img) {
        if (img.getType() == BufferedImage.TYPE_INT_RGB) {
            return img;
        }
        BufferedImage out = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        boolean gray = img.getType() == BufferedImage.TYPE_BYTE_GRAY;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int v = gray ? img.getRaster().getSample(x, y, 0) : -1;
                out.setRGB(x, y, gray ? v << 16 | v << 8 | v : img.getRGB(x, y));
            }
        }
        return out;
    }

    /** Writes {@code img} as a PNG file, atomically. */
    public static void writePng(Path file, BufferedImage img) throws IOException {
        AtomicFiles.write(file, ch -> {
            // Not closed here: closing would close the channel before AtomicFiles fsyncs it.
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            if (!ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer for image type " + img.getType());
            }
            out.flush();
        });
    }

    /** Writes row-major (H, W) values in [-1, 1] as a grayscale PNG. */
    public static void writeGray(Path file, float[] hw, int height, int width) throws IOException {
        writePng(file, gray(hw, height, width));
    }

    /** Writes channel-major (3, H, W) values in [-1, 1] as an RGB PNG. */
    public static void writeRgb(Path file, float[] chw, int height, int width) throws IOException {
        writePng(file, rgb(chw, height, width));
    }

    /** A new grid of {@code rows} x {@code cols} tiles. */
    public static Grid grid(int rows, int cols) {
        return new Grid(rows, cols);
    }

    /** [-1, 1] to 0..255, clamped; NaN to 0. */
    static int toByte(float v) {
        if (!(v > -1f)) {
            return 0;
        }
        if (v >= 1f) {
            return 255;
        }
        return Math.round((v + 1f) * 127.5f);
    }

    private static void checkLength(float[] data, int channels, int height, int width) {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("image size must be positive, found " + height + " x " + width);
        }
        long n = (long) channels * height * width;
        if (data.length != n) {
            throw new IllegalArgumentException("(" + (channels == 1 ? "" : channels + ", ") + height + ", " + width
                    + ") needs " + n + " values, found " + data.length);
        }
    }

    /**
     * Equally sized tiles in rows and columns with a small gap, optional labels at the left of each row and
     * headers above each column, on white, upscaled by an integer factor (nearest neighbour). Text uses the
     * default font with antialiasing; where the JVM has no usable font the text is left out (with a warning)
     * rather than failing the whole picture.
     *
     * <pre>{@code
     * Images.grid(2, 3).scale(4).rowLabels(List.of("no cache", "TaylorSeer"))
     *       .columnHeaders(List.of("step 10", "step 25", "step 50"))
     *       .set(0, 0, Images.gray(pixels, 28, 28)) ... .write(Path.of("grid.png"));
     * }</pre>
     */
    public static final class Grid {
        private final int rows;
        private final int cols;
        private final BufferedImage[][] tiles;
        private List<String> rowLabels = List.of();
        private List<String> columnHeaders = List.of();
        private int scale = 1;
        private int gap = 2;

        private Grid(int rows, int cols) {
            if (rows < 1 || cols < 1) {
                throw new IllegalArgumentException("a grid needs at least 1 x 1 tiles, found " + rows + " x " + cols);
            }
            this.rows = rows;
            this.cols = cols;
            this.tiles = new BufferedImage[rows][cols];
        }

        /** Puts {@code tile} at (row, col); tiles left empty stay background. */
        public Grid set(int row, int col, BufferedImage tile) {
            if (row < 0 || row >= rows || col < 0 || col >= cols) {
                throw new IndexOutOfBoundsException("tile (" + row + ", " + col + ") outside a " + rows + " x " + cols + " grid");
            }
            tiles[row][col] = tile;
            return this;
        }

        /** One label per row, drawn at the left; an empty list for none. */
        public Grid rowLabels(List<String> labels) {
            if (!labels.isEmpty() && labels.size() != rows) {
                throw new IllegalArgumentException(rows + " rows need " + rows + " labels, found " + labels.size());
            }
            this.rowLabels = List.copyOf(labels);
            return this;
        }

        /** One header per column, drawn on top; an empty list for none. */
        public Grid columnHeaders(List<String> headers) {
            if (!headers.isEmpty() && headers.size() != cols) {
                throw new IllegalArgumentException(cols + " columns need " + cols + " headers, found " + headers.size());
            }
            this.columnHeaders = List.copyOf(headers);
            return this;
        }

        /** Integer upscaling factor of the tiles (default 1). */
        public Grid scale(int factor) {
            if (factor < 1) {
                throw new IllegalArgumentException("scale factor must be >= 1, found " + factor);
            }
            this.scale = factor;
            return this;
        }

        /** Gap between tiles and around the border, in output pixels (default 2). */
        public Grid gap(int pixels) {
            if (pixels < 0) {
                throw new IllegalArgumentException("gap must be >= 0, found " + pixels);
            }
            this.gap = pixels;
            return this;
        }

        /** Where tile (row, col) lands in the rendered image. */
        public Rectangle tileBounds(int row, int col) {
            if (row < 0 || row >= rows || col < 0 || col >= cols) {
                throw new IndexOutOfBoundsException("tile (" + row + ", " + col + ") outside a " + rows + " x " + cols + " grid");
            }
            return layout().tile(row, col);
        }

        /** Draws the grid. */
        public BufferedImage render() {
            Layout l = layout();
            BufferedImage out = new BufferedImage(l.width, l.height, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = out.createGraphics();
            try {
                g.setColor(Color.WHITE);
                g.fillRect(0, 0, l.width, l.height);
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        if (tiles[r][c] != null) {
                            Rectangle b = l.tile(r, c);
                            g.drawImage(Images.scale(toRgb(tiles[r][c]), scale), b.x, b.y, null);
                        }
                    }
                }
                drawText(g, l);
            } finally {
                g.dispose();
            }
            return out;
        }

        /** Renders and writes the grid as a PNG file, atomically. */
        public void write(Path file) throws IOException {
            writePng(file, render());
        }

        private void drawText(Graphics2D g, Layout l) {
            if (!l.text) {
                return;
            }
            try {
                g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
                g.setColor(Color.BLACK);
                FontMetrics fm = g.getFontMetrics();
                for (int r = 0; r < rowLabels.size(); r++) {
                    Rectangle b = l.tile(r, 0);
                    int y = b.y + (b.height - fm.getHeight()) / 2 + fm.getAscent();
                    g.drawString(rowLabels.get(r), l.pad, y);
                }
                for (int c = 0; c < columnHeaders.size(); c++) {
                    Rectangle b = l.tile(0, c);
                    String s = columnHeaders.get(c);
                    int x = b.x + (b.width - fm.stringWidth(s)) / 2;
                    g.drawString(s, x, l.pad + fm.getAscent());
                }
            } catch (RuntimeException | Error e) {
                if (e instanceof VirtualMachineError) {
                    throw e;
                }
                LOG.warn("grid labels left out: the JVM could not render text ({})", e.toString());
            }
        }

        private Layout layout() {
            int tw = -1;
            int th = -1;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    BufferedImage t = tiles[r][c];
                    if (t == null) {
                        continue;
                    }
                    if (tw < 0) {
                        tw = t.getWidth();
                        th = t.getHeight();
                    } else if (t.getWidth() != tw || t.getHeight() != th) {
                        throw new IllegalArgumentException("grid tiles must be equally sized: tile (" + r + ", " + c + ") is "
                                + t.getWidth() + " x " + t.getHeight() + ", the first is " + tw + " x " + th);
                    }
                }
            }
            if (tw < 0) {
                throw new IllegalStateException("the grid has no tiles");
            }
            int cellW = Math.multiplyExact(tw, scale);
            int cellH = Math.multiplyExact(th, scale);
            int pad = 4;
            int left = 0;
            int top = 0;
            boolean text = false;
            if (!rowLabels.isEmpty() || !columnHeaders.isEmpty()) {
                FontMetrics fm = metrics();
                if (fm != null) {
                    text = true;
                    for (String s : rowLabels) {
                        left = Math.max(left, fm.stringWidth(s) + 2 * pad);
                    }
                    for (String s : columnHeaders) {
                        cellW = Math.max(cellW, fm.stringWidth(s) + pad);
                    }
                    if (!columnHeaders.isEmpty()) {
                        top = fm.getHeight() + 2 * pad;
                    }
                }
            }
            int width = left + cols * cellW + (cols + 1) * gap;
            int height = top + rows * cellH + (rows + 1) * gap;
            return new Layout(width, height, left, top, cellW, cellH, Math.multiplyExact(tw, scale), gap, pad, text);
        }

        /** The default font's metrics, or null when the JVM cannot provide fonts. */
        private static FontMetrics metrics() {
            try {
                BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = scratch.createGraphics();
                try {
                    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                    Font f = g.getFont();
                    return g.getFontMetrics(f);
                } finally {
                    g.dispose();
                }
            } catch (RuntimeException | Error e) {
                if (e instanceof VirtualMachineError) {
                    throw e;
                }
                LOG.warn("grid labels left out: the JVM has no usable font ({})", e.toString());
                return null;
            }
        }

        /**
         * Positions: a label column {@code left} wide, a header row {@code top} high, then cells of cellW x cellH
         * separated (and surrounded) by {@code gap}; cells are wider than a tile only when a header needs it, and
         * the tile is centred in its cell. {@code text} is false when no font could be had.
         */
        private record Layout(int width, int height, int left, int top, int cellW, int cellH, int tileW, int gap,
                              int pad, boolean text) {
            Rectangle tile(int row, int col) {
                int x = left + gap + col * (cellW + gap) + (cellW - tileW) / 2;
                int y = top + gap + row * (cellH + gap);
                return new Rectangle(x, y, tileW, cellH);
            }
        }
    }
}
