package dev.seer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.model.vae.Autoencoder;
import dev.seer.model.vae.VaeConfig;
import dev.seer.model.vae.VaeLayout;
import dev.seer.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `seer vae decode|encode` and `seer sample --vae` end to end on a tiny autoencoder, and their refusals. */
class VaeCommandTest {
    static final String CONFIG = """
            {"_class_name": "AutoencoderKL", "block_out_channels": [8, 16], "layers_per_block": 1, "latent_channels": 4,
             "norm_num_groups": 4, "scaling_factor": 0.5}""";

    /** A diffusers directory with random weights. */
    static Path tinyVae(Path dir) throws Exception {
        Path vae = Files.createDirectories(dir.resolve("vae"));
        Files.writeString(vae.resolve("config.json"), CONFIG);
        try (Autoencoder a = Autoencoder.random(VaeConfig.fromJson(vae.resolve("config.json")), 2)) {
            Safetensors.write(vae.resolve(Autoencoder.DIFFUSERS_WEIGHTS), a.stateDict(VaeLayout.DIFFUSERS));
        }
        return vae;
    }

    static void writeLatents(Path file, float[] v, long... shape) throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Safetensors.write(file, Map.of("sample", Tensor.ofFloats(arena, v, shape)));
        }
    }

    @Test
    void decodesAndEncodesFilesAndPngs(@TempDir Path dir) throws Exception {
        Path vae = tinyVae(dir);
        Path z = dir.resolve("z.safetensors");
        float[] v = new float[2 * 4 * 3 * 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(i);
        }
        writeLatents(z, v, 2, 4, 3, 4);
        Path out = dir.resolve("image.safetensors");
        Path png = dir.resolve("image.png");
        CliRun r = CliRun.of("vae", "decode", "--vae", vae.toString(), "--latents", z.toString(), "--out", out.toString(),
                "--out-image", png.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\"peak_rss_bytes\""), r.out());
        try (SafetensorsFile f = Safetensors.open(out)) {
            assertArrayEquals(new long[] {2, 3, 6, 8}, f.get("image").shape().toArray());
        }
        assertEquals(6, ImageIO.read(png.toFile()).getHeight() - 2 * 2); // one row of two tiles with a 2-pixel gap
        // tiled, with the seams measured against the whole decode
        r = CliRun.of("vae", "decode", "--vae", vae.toString(), "--latents", z.toString(), "--tile", "2", "--check-seams");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("max |tiled - whole|"), r.out());
        // encode: an 8-bit RGB PNG and the same as a tensor
        BufferedImage rgb = new BufferedImage(8, 6, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 8; x++) {
                rgb.setRGB(x, y, (x * 30) << 16 | (y * 40) << 8 | 77);
            }
        }
        Path in = dir.resolve("in.png");
        ImageIO.write(rgb, "png", in.toFile());
        Path lat = dir.resolve("latents.safetensors");
        r = CliRun.of("vae", "encode", "--vae", vae.toString(), "--images", in + "," + in, "--out", lat.toString());
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile f = Safetensors.open(lat)) {
            Tensor t = f.get("latents");
            assertArrayEquals(new long[] {2, 4, 3, 4}, t.shape().toArray());
            float[] a = t.toFloatArray();
            for (int i = 0; i < a.length / 2; i++) {
                assertEquals(a[i], a[a.length / 2 + i], "the same picture twice gives the same latents");
            }
        }
    }

    @Test
    void refusesBadInputWithOneLineAndWritesNothing(@TempDir Path dir) throws Exception {
        Path vae = tinyVae(dir);
        Path out = dir.resolve("out.safetensors");
        Path z = dir.resolve("z16.safetensors");
        writeLatents(z, new float[16 * 4], 1, 16, 2, 2);
        CliRun r = CliRun.of("vae", "decode", "--vae", vae.toString(), "--latents", z.toString(), "--out", out.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("seer vae decode: " + z + ": tensor 'sample': expected F32 of shape (B, 4, h, w), found F32 of shape (1, 16, 2, 2)"),
                r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        float[] nan = new float[4 * 4];
        nan[5] = Float.NaN;
        writeLatents(z, nan, 1, 4, 2, 2);
        r = CliRun.of("vae", "decode", "--vae", vae.toString(), "--latents", z.toString(), "--out", out.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("expected finite values, found NaN at flat index 5"), r.err());
        r = CliRun.of("vae", "decode", "--vae", vae.toString(), "--tile", "4", "--tile-overlap", "4");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--tile-overlap: 4 is not allowed; allowed: 0..3"), r.err());
        r = CliRun.of("vae", "decode", "--vae", vae.toString(), "--check-seams");
        assertEquals(2, r.exit());
        r = CliRun.of("vae", "decode", "--vae", dir.resolve("nothing").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--vae: '" + dir.resolve("nothing") + "' is not allowed"), r.err());
        r = CliRun.of("vae", "decode", "--vae-config", "sdxl");
        assertTrue(r.exit() == 2 && r.err().contains("allowed: a preset (sd, flux)"), r.err());
        // a missing tensor: the file and the key
        Path broken = dir.resolve("broken.safetensors");
        try (SafetensorsFile f = Safetensors.open(vae.resolve(Autoencoder.DIFFUSERS_WEIGHTS))) {
            java.util.Map<String, Tensor> sd = new java.util.LinkedHashMap<>();
            for (String k : f.keys()) {
                if (!k.equals("decoder.conv_in.bias")) {
                    sd.put(k, f.get(k));
                }
            }
            Safetensors.write(broken, sd);
        }
        r = CliRun.of("vae", "decode", "--vae", broken.toString(), "--vae-config", vae.resolve("config.json").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains(broken + ": tensor 'decoder.conv_in.bias': expected shape (16,) "), r.err());
        // PNGs: colour type and size
        Path gray = dir.resolve("gray.png");
        ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY), "png", gray.toFile());
        r = CliRun.of("vae", "encode", "--vae", vae.toString(), "--images", gray.toString(), "--out", out.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains(gray + ": expected an 8-bit RGB PNG (colour type 2, no alpha), found a grayscale image"), r.err());
        Path odd = dir.resolve("odd.png");
        ImageIO.write(new BufferedImage(7, 8, BufferedImage.TYPE_3BYTE_BGR), "png", odd.toFile());
        r = CliRun.of("vae", "encode", "--vae", vae.toString(), "--images", odd.toString(), "--out", out.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("expected width and height multiples of 2 (the autoencoder's downsampling), found 7 x 8"), r.err());
        Path rgba = dir.resolve("rgba.png");
        ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_4BYTE_ABGR), "png", rgba.toFile());
        r = CliRun.of("vae", "encode", "--vae", vae.toString(), "--images", rgba.toString(), "--out", out.toString());
        assertTrue(r.exit() == 2 && r.err().contains("with alpha"), r.err());
        assertFalse(Files.exists(out), "nothing written on failure");
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void sampleDecodesWithVae(@TempDir Path dir) throws Exception {
        Path vae = tinyVae(dir);
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, SampleCommandTest.TINY.toJson());
        Path png = dir.resolve("sample.png");
        CliRun r = CliRun.of("sample", "--model", config.toString(), "--steps", "2", "--labels", "1,2", "--cache", "none",
                "--vae", vae.toString(), "--out-image", png.toString());
        assertEquals(0, r.exit(), r.err());
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(16 + 2 * 2, img.getHeight()); // 8 x 8 latents decoded to 16 x 16 pictures, one row
        assertEquals(2 * 16 + 3 * 2, img.getWidth());
        // a FLUX-shaped autoencoder (16 latent channels) does not fit a 4-channel DiT: refused before sampling
        r = CliRun.of("sample", "--model", config.toString(), "--steps", "2", "--vae", vae.toString(),
                "--vae-config", "flux", "--out-image", png.toString());
        assertEquals(2, r.exit());
        r = CliRun.of("sample", "--model", config.toString(), "--steps", "2", "--vae", vae.toString());
        assertTrue(r.exit() == 2 && r.err().contains("only with --out-image"), r.err());
    }
}
