package dev.seer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.seer.eval.ProcessMemory;
import dev.seer.io.CheckpointException;
import dev.seer.io.Images;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.model.vae.Autoencoder;
import dev.seer.model.vae.VaeConfig;
import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code seer vae decode|encode}: the autoencoders of DiT (SD-VAE) and FLUX, latents to pictures and back.
 */
@Command(name = "vae", mixinStandardHelpOptions = true,
        description = {"Decode latents to images or encode images to latents with a KL autoencoder: a diffusers "
                + "AutoencoderKL directory (config.json + diffusion_pytorch_model.safetensors, e.g. sd-vae-ft-ema for DiT, "
                + "FLUX's vae/) or a BFL / LDM file (FLUX's ae.safetensors)."},
        subcommands = {VaeCommand.Decode.class, VaeCommand.Encode.class})
final class VaeCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The options every subcommand has: the autoencoder, its config, threads, output format. */
    static final class Common {
        @Option(names = "--vae", description = "A diffusers AutoencoderKL directory or a .safetensors file (diffusers, LDM or BFL names). Default: none, random weights (speed runs only; the pictures are noise).")
        Path vae;

        @Option(names = "--vae-config", description = "A preset (sd, flux) or a config JSON file (diffusers config.json fields or BFL AutoEncoderParams fields). Default: the directory's config.json; flux for a BFL/LDM file; sd with random weights.")
        String vaeConfig;

        @Option(names = "--weights-seed", defaultValue = "0", description = "Seed of the random weights used when --vae is absent, any integer. Default: ${DEFAULT-VALUE}.")
        long weightsSeed;

        @Option(names = "--json", description = "Print the statistics as one JSON object instead of a table. Default: off.")
        boolean json;

        @Mixin
        ThreadsOption threads = new ThreadsOption();

        /** Checks --vae and --vae-config and reads the config (null: the autoencoder's own). */
        VaeConfig config() throws IOException {
            threads.validate();
            if (vae != null && !Files.exists(vae)) {
                throw OptionChecks.invalid("--vae", vae.toString(), "an existing AutoencoderKL directory or .safetensors file (no such path)");
            }
            return parseConfig(vaeConfig, vae == null);
        }

        Autoencoder load(VaeConfig config) throws IOException {
            if (vae == null) {
                System.err.println("note: no --vae given; using random weights (seed " + weightsSeed + "): speed runs only, the pictures are noise");
                return Autoencoder.random(config, weightsSeed);
            }
            return Autoencoder.load(vae, config);
        }
    }

    /** --vae-config as a preset or a JSON file; null when absent and the autoencoder brings its own. */
    static VaeConfig parseConfig(String spec, boolean random) throws IOException {
        if (spec == null) {
            return random ? VaeConfig.preset("sd") : null;
        }
        if (VaeConfig.presetNames().contains(spec)) {
            return VaeConfig.preset(spec);
        }
        Path p = Path.of(spec);
        if (!Files.isRegularFile(p)) {
            throw OptionChecks.invalid("--vae-config", spec, "a preset (" + String.join(", ", VaeConfig.presetNames())
                    + ") or an existing config JSON file");
        }
        try {
            return VaeConfig.fromJson(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--vae-config: " + e.getMessage(), e);
        }
    }

    /**
     * For {@code seer sample --vae}: checks the autoencoder before sampling (it loads, and its latent channels are the
     * model's) and returns its config.
     */
    static VaeConfig checkSamplingVae(Path vae, String vaeConfig, int latentChannels, Path outImage) throws IOException {
        if (!Files.exists(vae)) {
            throw OptionChecks.invalid("--vae", vae.toString(), "an existing AutoencoderKL directory or .safetensors file (no such path)");
        }
        if (outImage == null) {
            throw OptionChecks.invalid("--vae", vae.toString(), "only with --out-image (the decoded pictures go there)");
        }
        try (Autoencoder a = Autoencoder.load(vae, parseConfig(vaeConfig, false))) {
            if (a.config().latentChannels() != latentChannels || a.config().outChannels() != 3) {
                throw OptionChecks.invalid("--vae", vae.toString(), "an autoencoder of " + latentChannels
                        + " latent channels and 3 image channels for this model (it has " + a.config().latentChannels()
                        + " and " + a.config().outChannels() + ")");
            }
            return a.config();
        }
    }

    /** For {@code seer sample --vae}: decodes latents (n, C, h, w) and writes the pictures as one row of a PNG. */
    static void decodeToPng(Path vae, VaeConfig config, float[] latents, long[] shape, Path png) throws IOException {
        try (Arena arena = Arena.ofConfined(); Autoencoder a = Autoencoder.load(vae, config)) {
            writeImages(png, a.decode(arena, Tensor.ofFloats(arena, latents, shape)));
        }
    }

    /** The images (B, 3, H, W) in [-1, 1] as one row of a PNG grid, written atomically. */
    static void writeImages(Path file, Tensor images) throws IOException {
        long[] d = images.shape().toArray();
        int n = Math.toIntExact(d[0]);
        int h = Math.toIntExact(d[2]);
        int w = Math.toIntExact(d[3]);
        float[] all = images.toFloatArray();
        int per = 3 * h * w;
        Images.Grid grid = Images.grid(1, n);
        for (int i = 0; i < n; i++) {
            grid.set(0, i, Images.rgb(Arrays.copyOfRange(all, i * per, (i + 1) * per), h, w));
        }
        grid.write(file);
    }

    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = {"Decode scaled latents (tensor 'sample' or 'z', (B, C, h, w) float32) to images in [-1, 1]: "
                    + "tensor 'image' (B, 3, H, W) float32, unclamped, and optionally a PNG."})
    static final class Decode implements Callable<Integer> {
        @Mixin
        Common common = new Common();

        @Option(names = "--latents", description = "An existing safetensors file with tensor 'sample' (as seer sample writes it) or 'z', (B, C, h, w) float32, finite. Default: none, standard normal latents of --batch x C x --size/f x --size/f from --seed.")
        Path latents;

        @Option(names = "--size", defaultValue = "256", description = "Image size H = W of the random latents used without --latents, a multiple of the autoencoder's downsampling in 8..8192. Default: ${DEFAULT-VALUE}.")
        int size;

        @Option(names = "--batch", defaultValue = "1", description = "Samples of random latents used without --latents, 1..64. Default: ${DEFAULT-VALUE}.")
        int batch;

        @Option(names = "--seed", defaultValue = "0", description = "Seed of the random latents used without --latents, any integer. Default: ${DEFAULT-VALUE}.")
        long seed;

        @Option(names = "--out", description = "Write tensor 'image' to this safetensors file, in an existing writable directory. Default: not written.")
        Path out;

        @Option(names = "--out-image", description = "Write the images as one row of a PNG, in an existing writable directory. Default: not written.")
        Path outImage;

        @Option(names = "--tile", defaultValue = "0", description = "Decode in overlapping tiles of this many latents per side (as diffusers' tiled decoding), 0 (off) or 1..4096; latents no larger than a tile are decoded whole. Default: ${DEFAULT-VALUE}.")
        int tile;

        @Option(names = "--tile-overlap", description = "Latents by which neighbouring tiles overlap and are blended, 0..tile-1. Default: tile / 4 (diffusers' overlap when tile is a multiple of 4).")
        Integer tileOverlap;

        @Option(names = "--check-seams", description = "With --tile, also decode whole and report the largest absolute difference between the two. Default: off.")
        boolean checkSeams;

        @Override
        public Integer call() throws Exception {
            VaeConfig config = common.config();
            OptionChecks.existingFile("--latents", latents, "an existing safetensors file");
            OptionChecks.writableFile("--out", out);
            OptionChecks.writableFile("--out-image", outImage);
            OptionChecks.range("--batch", batch, 1, 64);
            OptionChecks.range("--tile", tile, 0, 4096);
            Autoencoder.Tiling tiling = null;
            if (tile > 0) {
                int overlap = tileOverlap == null ? tile / 4 : tileOverlap;
                OptionChecks.range("--tile-overlap", overlap, 0, tile - 1);
                tiling = new Autoencoder.Tiling(tile, overlap);
            } else if (tileOverlap != null) {
                throw OptionChecks.invalid("--tile-overlap", tileOverlap, "only with --tile N (N >= 1)");
            }
            if (checkSeams && tiling == null) {
                throw OptionChecks.invalid("--check-seams", "on", "only with --tile N (N >= 1)");
            }
            common.threads.apply();
            long t0 = System.nanoTime();
            try (Arena arena = Arena.ofConfined(); Autoencoder vae = common.load(config)) {
                config = vae.config();
                if (outImage != null && config.outChannels() != 3) {
                    throw OptionChecks.invalid("--out-image", outImage.toString(), "only for autoencoders with 3 output channels (this one has "
                            + config.outChannels() + ")");
                }
                int f = config.downsampling();
                Tensor z = latents != null ? readLatents(arena, latents, config) : randomLatents(arena, config, f);
                double loadSeconds = (System.nanoTime() - t0) / 1e9;
                ProcessMemory.resetPeak();
                long rssBefore = ProcessMemory.residentBytes();
                long t1 = System.nanoTime();
                Tensor image = vae.decode(arena, z, tiling);
                double seconds = (System.nanoTime() - t1) / 1e9;
                long peak = ProcessMemory.peakResidentBytes();
                double seam = Double.NaN;
                double wholeSeconds = Double.NaN;
                long wholePeak = -1;
                if (checkSeams) {
                    ProcessMemory.resetPeak();
                    long t2 = System.nanoTime();
                    Tensor whole = vae.decode(arena, z);
                    wholeSeconds = (System.nanoTime() - t2) / 1e9;
                    wholePeak = ProcessMemory.peakResidentBytes();
                    seam = maxAbsDifference(image, whole);
                }
                if (out != null) {
                    Safetensors.write(out, Map.of("image", image));
                }
                if (outImage != null) {
                    writeImages(outImage, image);
                }
                print(config, z, image, tiling, loadSeconds, seconds, rssBefore, peak, seam, wholeSeconds, wholePeak);
            }
            return 0;
        }

        private Tensor randomLatents(Arena arena, VaeConfig config, int f) {
            if (size < 8 || size > 8192 || size % f != 0) {
                throw OptionChecks.invalid("--size", size, "a multiple of " + f + " in 8..8192");
            }
            int s = size / f;
            float[] v = new float[Math.multiplyExact(Math.multiplyExact(batch, config.latentChannels()), s * s)];
            SplittableRandom rnd = new SplittableRandom(seed);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rnd.nextGaussian();
            }
            return Tensor.ofFloats(arena, v, batch, config.latentChannels(), s, s);
        }

        private void print(VaeConfig config, Tensor z, Tensor image, Autoencoder.Tiling tiling, double loadSeconds,
                           double seconds, long rssBefore, long peak, double seam, double wholeSeconds, long wholePeak)
                throws IOException {
            if (common.json) {
                ObjectMapper om = new ObjectMapper();
                ObjectNode o = om.createObjectNode();
                o.put("vae", common.vae == null ? "random" : common.vae.toString());
                o.put("config", config.toString());
                o.set("latents_shape", om.valueToTree(z.shape().toArray()));
                o.set("image_shape", om.valueToTree(image.shape().toArray()));
                o.put("tile", tiling == null ? 0 : tiling.tile());
                o.put("tile_overlap", tiling == null ? 0 : tiling.overlap());
                o.put("load_seconds", loadSeconds);
                o.put("decode_seconds", seconds);
                o.put("rss_before_bytes", rssBefore);
                o.put("peak_rss_bytes", peak);
                if (!Double.isNaN(seam)) {
                    o.put("max_abs_diff_vs_whole", seam);
                    o.put("image_max_abs", maxAbs(image));
                    o.put("whole_decode_seconds", wholeSeconds);
                    o.put("whole_peak_rss_bytes", wholePeak);
                }
                System.out.println(om.writeValueAsString(o));
                return;
            }
            System.out.printf(Locale.ROOT, "autoencoder      %s%n", config);
            System.out.printf(Locale.ROOT, "latents          %s -> image %s%n", z.shape(), image.shape());
            System.out.printf(Locale.ROOT, "tiling           %s%n", tiling == null ? "off" : tiling.tile() + " latents, overlap " + tiling.overlap());
            System.out.printf(Locale.ROOT, "time             %.3f s decode (load %.3f s)%n", seconds, loadSeconds);
            System.out.printf(Locale.ROOT, "memory           peak RSS %.1f MiB during the decode (%.1f MiB before)%n", peak / 1048576.0, rssBefore / 1048576.0);
            if (!Double.isNaN(seam)) {
                System.out.printf(Locale.ROOT, "seams            max |tiled - whole| = %.4g, max |image| %.4g (whole: %.3f s, peak RSS %.1f MiB)%n",
                        seam, maxAbs(image), wholeSeconds, wholePeak / 1048576.0);
            }
        }
    }

    @Command(name = "encode", mixinStandardHelpOptions = true,
            description = {"Encode images in [-1, 1] to scaled latents (the posterior mean: deterministic): tensor 'latents' "
                    + "(B, C, H/f, W/f) float32."})
    static final class Encode implements Callable<Integer> {
        @Mixin
        Common common = new Common();

        @Option(names = "--images", required = true, split = ",", description = "A safetensors file with tensor 'x' (B, 3, H, W) float32 in [-1, 1], or comma-separated 8-bit RGB PNG files of one size; H and W multiples of the autoencoder's downsampling. Required; no default.")
        List<Path> images;

        @Option(names = "--out", description = "Write tensor 'latents' to this safetensors file, in an existing writable directory. Default: not written.")
        Path out;

        @Override
        public Integer call() throws Exception {
            VaeConfig config = common.config();
            for (Path p : images) {
                OptionChecks.existingFile("--images", p, "an existing safetensors or PNG file");
            }
            OptionChecks.writableFile("--out", out);
            common.threads.apply();
            try (Arena arena = Arena.ofConfined(); Autoencoder vae = common.load(config)) {
                config = vae.config();
                Tensor x = readImages(arena, images, config);
                long t0 = System.nanoTime();
                Tensor z = vae.encode(arena, x);
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (out != null) {
                    Safetensors.write(out, Map.of("latents", z));
                }
                if (common.json) {
                    ObjectMapper om = new ObjectMapper();
                    ObjectNode o = om.createObjectNode();
                    o.set("images_shape", om.valueToTree(x.shape().toArray()));
                    o.set("latents_shape", om.valueToTree(z.shape().toArray()));
                    o.put("encode_seconds", seconds);
                    o.put("peak_rss_bytes", ProcessMemory.peakResidentBytes());
                    System.out.println(om.writeValueAsString(o));
                } else {
                    System.out.printf(Locale.ROOT, "images %s -> latents %s in %.3f s%n", x.shape(), z.shape(), seconds);
                }
            }
            return 0;
        }
    }

    /** Tensor 'sample' (or 'z') of a latents file, checked against the autoencoder; copied into {@code arena}. */
    static Tensor readLatents(Arena arena, Path file, VaeConfig config) throws IOException {
        try (SafetensorsFile f = Safetensors.open(file)) {
            String key = f.contains("sample") ? "sample" : f.contains("z") ? "z" : null;
            if (key == null) {
                throw new CheckpointException(file, null, "a tensor 'sample' or 'z'", "neither among " + f.keys().size() + " tensors");
            }
            Tensor t = f.get(key);
            long[] d = t.shape().toArray();
            String want = "F32 of shape (B, " + config.latentChannels() + ", h, w)";
            if (t.dtype() != DType.F32 || d.length != 4 || d[1] != config.latentChannels() || t.numel() == 0) {
                throw new CheckpointException(file, key, want, t.dtype() + " of shape " + t.shape());
            }
            Tensor copy = Tensor.allocate(arena, DType.F32, t.shape());
            copy.segment().copyFrom(t.segment());
            checkFinite(file, key, copy);
            return copy;
        }
    }

    /** Images from one safetensors file (tensor 'x') or from PNG files, as (B, 3, H, W) in [-1, 1]. */
    static Tensor readImages(Arena arena, List<Path> files, VaeConfig config) throws IOException {
        int f = config.downsampling();
        if (files.size() == 1 && files.getFirst().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            Path file = files.getFirst();
            try (SafetensorsFile sf = Safetensors.open(file)) {
                Tensor t = sf.get("x");
                long[] d = t.shape().toArray();
                String want = "F32 of shape (B, " + config.inChannels() + ", H, W) with H and W multiples of " + f;
                if (t.dtype() != DType.F32 || d.length != 4 || d[1] != config.inChannels() || t.numel() == 0
                        || d[2] % f != 0 || d[3] % f != 0) {
                    throw new CheckpointException(file, "x", want, t.dtype() + " of shape " + t.shape());
                }
                Tensor copy = Tensor.allocate(arena, DType.F32, t.shape());
                copy.segment().copyFrom(t.segment());
                checkFinite(file, "x", copy);
                return copy;
            }
        }
        if (config.inChannels() != 3) {
            throw OptionChecks.invalid("--images", files.getFirst().toString(), "a safetensors file (PNGs are RGB; this autoencoder takes "
                    + config.inChannels() + " channels)");
        }
        int h = -1;
        int w = -1;
        float[] all = null;
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            BufferedImage img;
            try {
                img = ImageIO.read(file.toFile());
            } catch (IOException e) {
                throw new CheckpointException(file, null, "a PNG image", "an unreadable file (" + e.getMessage() + ")", e);
            }
            if (img == null) {
                throw new CheckpointException(file, null, "a PNG image", "a file ImageIO cannot read as an image");
            }
            if (img.getType() != BufferedImage.TYPE_3BYTE_BGR) {
                throw new CheckpointException(file, null, "an 8-bit RGB PNG (colour type 2, no alpha)", describe(img));
            }
            if (h < 0) {
                h = img.getHeight();
                w = img.getWidth();
                if (h % f != 0 || w % f != 0) {
                    throw new CheckpointException(file, null, "width and height multiples of " + f + " (the autoencoder's downsampling)",
                            w + " x " + h);
                }
                all = new float[Math.multiplyExact(files.size(), 3 * h * w)];
            } else if (img.getHeight() != h || img.getWidth() != w) {
                throw new CheckpointException(file, null, w + " x " + h + " pixels like " + files.getFirst(),
                        img.getWidth() + " x " + img.getHeight());
            }
            int plane = h * w;
            int base = i * 3 * plane;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = img.getRGB(x, y);
                    int p = y * w + x;
                    all[base + p] = pixel(rgb >> 16 & 255);
                    all[base + plane + p] = pixel(rgb >> 8 & 255);
                    all[base + 2 * plane + p] = pixel(rgb & 255);
                }
            }
        }
        return Tensor.ofFloats(arena, all, files.size(), 3, h, w);
    }

    /** An 8-bit value to [-1, 1] as diffusers' image processor does: (v / 255) * 2 - 1 in float32. */
    static float pixel(int v) {
        return v / 255f * 2f - 1f;
    }

    private static String describe(BufferedImage img) {
        var cm = img.getColorModel();
        String kind = switch (img.getType()) {
            case BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_USHORT_GRAY -> "grayscale";
            case BufferedImage.TYPE_BYTE_INDEXED, BufferedImage.TYPE_BYTE_BINARY -> "palette";
            default -> cm.hasAlpha() ? "with alpha" : "another layout";
        };
        return "a " + kind + " image (" + cm.getNumComponents() + " components, " + cm.getPixelSize() + " bits per pixel)";
    }

    private static void checkFinite(Path file, String key, Tensor t) throws CheckpointException {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new CheckpointException(file, key, "finite values", v[i] + " at flat index " + i + " of shape " + t.shape());
            }
        }
    }

    static double maxAbs(Tensor a) {
        double m = 0;
        for (float v : a.toFloatArray()) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static double maxAbsDifference(Tensor a, Tensor b) {
        float[] x = a.toFloatArray();
        float[] y = b.toFloatArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs((double) x[i] - y[i]));
        }
        return m;
    }
}
