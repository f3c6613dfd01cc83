package dev.seer.model.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The autoencoder against an independent float64 implementation ({@link VaeReference}) on tiny configs, against
 * vectors written by diffusers' AutoencoderKL (tools/vae-check/make_test_vectors.py), the key names of both
 * reference modules, both checkpoint layouts, tiling, and bad input.
 */
class AutoencoderTest {
    /** diffusers-style: 4 norm groups, quant convs, a shift. */
    static final VaeConfig SMALL = new VaeConfig(3, 3, new int[] {8, 16}, 1, 4, 4, 0.5, 0.25, true, true, true);
    /** BFL-style: 32 norm groups, three levels, 16 latent channels, no quant convs, FLUX's scale and shift. */
    static final VaeConfig BFL_LIKE = new VaeConfig(3, 3, new int[] {32, 32, 64}, 1, 16, 32, 0.3611, 0.1159, false, false, true);

    static Tensor randn(Arena arena, long seed, double scale, long... shape) {
        Random r = new Random(seed);
        float[] v = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return Tensor.ofFloats(arena, v, shape);
    }

    static VaeReference reference(Autoencoder vae) {
        Map<String, float[]> w = new LinkedHashMap<>();
        vae.stateDict(VaeLayout.DIFFUSERS).forEach((k, t) -> w.put(k, t.toFloatArray()));
        VaeConfig c = vae.config();
        return new VaeReference(w, c.blockOutChannels(), c.layersPerBlock(), c.latentChannels(), c.normGroups(),
                c.scalingFactor(), c.shiftFactor(), c.useQuantConv(), c.usePostQuantConv());
    }

    /** Relative L2 of sample b of a float32 tensor (B, C, H, W) against a float64 map. */
    static double relL2(Tensor got, int b, VaeReference.Map3 want) {
        float[] all = got.toFloatArray();
        int per = want.v().length;
        assertEquals((long) per * got.shape().dim(0), all.length, "shape " + got.shape());
        double num = 0;
        double den = 0;
        for (int i = 0; i < per; i++) {
            double d = all[b * per + i] - want.v()[i];
            num += d * d;
            den += want.v()[i] * want.v()[i];
        }
        return Math.sqrt(num / den);
    }

    static VaeReference.Map3 sample(Tensor t, int b) {
        long[] d = t.shape().toArray();
        int per = (int) (d[1] * d[2] * d[3]);
        double[] v = new double[per];
        float[] all = t.toFloatArray();
        for (int i = 0; i < per; i++) {
            v[i] = all[b * per + i];
        }
        return new VaeReference.Map3(v, (int) d[1], (int) d[2], (int) d[3]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"small", "bfl-like"})
    void decodeAndEncodeMatchFloat64Reference(String which) {
        VaeConfig config = which.equals("small") ? SMALL : BFL_LIKE;
        int f = config.downsampling();
        try (Arena arena = Arena.ofConfined(); Autoencoder vae = Autoencoder.random(config, 3)) {
            VaeReference ref = reference(vae);
            Tensor z = randn(arena, 4, 1, 2, config.latentChannels(), 3, 5);
            Tensor image = vae.decode(arena, z);
            assertArrayEquals(new long[] {2, 3, 3L * f, 5L * f}, image.shape().toArray());
            for (int b = 0; b < 2; b++) {
                double e = relL2(image, b, ref.decode(sample(z, b)));
                assertTrue(e <= 1e-5, which + " decode sample " + b + ": relative L2 " + e);
            }
            Tensor x = randn(arena, 5, 0.5, 2, 3, 2L * f, 3L * f);
            Tensor latents = vae.encode(arena, x);
            assertArrayEquals(new long[] {2, config.latentChannels(), 2, 3}, latents.shape().toArray());
            for (int b = 0; b < 2; b++) {
                double e = relL2(latents, b, ref.encode(sample(x, b)));
                assertTrue(e <= 1e-5, which + " encode sample " + b + ": relative L2 " + e);
            }
        }
    }

    static Path resource(String name) throws Exception {
        return Path.of(AutoencoderTest.class.getResource("/dev/seer/model/vae/" + name).toURI());
    }

    @Test
    void matchesVectorsOfDiffusersAutoencoderKL() throws Exception {
        try (Arena arena = Arena.ofConfined(); Autoencoder vae = Autoencoder.load(resource("diffusers_tiny"), null);
             SafetensorsFile v = Safetensors.open(resource("vectors.safetensors"))) {
            assertEquals(0.25, vae.config().shiftFactor());
            assertTrue(vae.isMapped());
            assertClose(v.get("image"), vae.decode(arena, copy(arena, v.get("z"))), "decode");
            assertClose(v.get("latents"), vae.encode(arena, copy(arena, v.get("x"))), "encode");
        }
    }

    static Tensor copy(Arena arena, Tensor t) {
        return Tensor.ofFloats(arena, t.toFloatArray(), t.shape().toArray());
    }

    static void assertClose(Tensor want, Tensor got, String what) {
        assertArrayEquals(want.shape().toArray(), got.shape().toArray(), what);
        float[] a = want.toFloatArray();
        float[] b = got.toFloatArray();
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            den += (double) a[i] * a[i];
        }
        double e = Math.sqrt(num / den);
        assertTrue(e <= 1e-5, what + ": relative L2 " + e);
    }

    /** Both layouts' names and shapes are exactly those of the reference modules' state dicts (keys.json). */
    @Test
    void keyNamesAreThoseOfTheReferenceModules(@TempDir Path dir) throws Exception {
        JsonNode keys = new ObjectMapper().readTree(resource("keys.json").toFile());
        Path params = dir.resolve("params.json");
        Files.writeString(params, keys.get("bfl_params").toString());
        VaeConfig bfl = VaeConfig.fromJson(params);
        assertEquals(expected(keys.get("bfl")), names(bfl, VaeLayout.ORIGINAL));
        VaeConfig diffusers = new VaeConfig(3, 3, new int[] {32, 64, 64}, 1, 16, 32, 1, 0, false, false, true);
        assertEquals(expected(keys.get("diffusers")), names(diffusers, VaeLayout.DIFFUSERS));
        assertEquals(new VaeConfig(3, 3, new int[] {32, 64, 64}, 1, 16, 32, 0.3611, 0.1159, false, false, true), bfl);
    }

    static Map<String, String> expected(JsonNode node) {
        Map<String, String> m = new TreeMap<>();
        node.properties().forEach(e -> m.put(e.getKey(), e.getValue().toString().replace(" ", "")));
        return m;
    }

    static Map<String, String> names(VaeConfig c, VaeLayout layout) {
        Map<String, String> m = new TreeMap<>();
        try (Autoencoder vae = Autoencoder.random(c, 1)) {
            vae.stateDict(layout).forEach((k, t) -> m.put(k, Arrays.toString(t.shape().toArray()).replace(" ", "")));
        }
        return m;
    }

    @Test
    void bothLayoutsAndOldAttentionNamesLoadTheSameModelMapped(@TempDir Path dir) throws Exception {
        try (Arena arena = Arena.ofConfined(); Autoencoder vae = Autoencoder.random(BFL_LIKE, 7)) {
            Tensor z = randn(arena, 8, 1, 1, 16, 4, 3);
            float[] want = vae.decode(arena, z).toFloatArray();
            Path ae = dir.resolve("ae.safetensors");
            Safetensors.write(ae, vae.stateDict(VaeLayout.ORIGINAL));
            Path diffusersDir = Files.createDirectory(dir.resolve("vae"));
            Files.writeString(diffusersDir.resolve("config.json"), """
                    {"_class_name": "AutoencoderKL", "block_out_channels": [32, 32, 64], "layers_per_block": 1,
                     "latent_channels": 16, "scaling_factor": 0.3611, "shift_factor": 0.1159, "use_quant_conv": false,
                     "use_post_quant_conv": false, "latents_mean": null, "down_block_types": ["DownEncoderBlock2D",
                     "DownEncoderBlock2D", "DownEncoderBlock2D"], "act_fn": "silu", "sample_size": [256, 256]}""");
            Safetensors.write(diffusersDir.resolve(Autoencoder.DIFFUSERS_WEIGHTS), vae.stateDict(VaeLayout.DIFFUSERS));
            Path old = dir.resolve("old.safetensors");
            Map<String, Tensor> renamed = new LinkedHashMap<>();
            vae.stateDict(VaeLayout.DIFFUSERS).forEach((k, t) -> renamed.put(k.replace(".to_q.", ".query.")
                    .replace(".to_k.", ".key.").replace(".to_v.", ".value.").replace(".to_out.0.", ".proj_attn."), t));
            Safetensors.write(old, renamed);
            Path bflParams = dir.resolve("params.json");
            Files.writeString(bflParams, """
                    {"resolution": 256, "in_channels": 3, "ch": 32, "out_ch": 3, "ch_mult": [1, 1, 2],
                     "num_res_blocks": 1, "z_channels": 16, "scale_factor": 0.3611, "shift_factor": 0.1159}""");
            try (Autoencoder a = Autoencoder.load(ae, VaeConfig.fromJson(bflParams));
                 Autoencoder b = Autoencoder.load(diffusersDir, null);
                 Autoencoder c = Autoencoder.load(old, b.config())) {
                assertEquals(VaeLayout.ORIGINAL, a.sourceLayout());
                assertEquals(VaeLayout.DIFFUSERS, b.sourceLayout());
                assertTrue(a.isMapped() && b.isMapped() && c.isMapped());
                assertEquals(BFL_LIKE, a.config());
                assertEquals(BFL_LIKE, b.config());
                for (Autoencoder m : new Autoencoder[] {a, b, c}) {
                    assertArrayEquals(want, m.decode(arena, z).toFloatArray(), m.sourceLayout().toString());
                }
            }
        }
    }

    /** bf16 and f16 checkpoints (FLUX's diffusers vae/ is bf16) are converted once to float32 when loaded. */
    @Test
    void halfPrecisionFilesAreConvertedToFloat32(@TempDir Path dir) throws Exception {
        for (var type : new org.bytedeco.pytorch.global.torch.ScalarType[] {
                org.bytedeco.pytorch.global.torch.ScalarType.BFloat16, org.bytedeco.pytorch.global.torch.ScalarType.Half}) {
            Path file = dir.resolve(type + ".safetensors");
            Map<String, Tensor> rounded = new LinkedHashMap<>();
            try (Arena arena = Arena.ofConfined(); Autoencoder vae = Autoencoder.random(SMALL, 4)) {
                Map<String, Tensor> half = new LinkedHashMap<>();
                for (var e : vae.stateDict(VaeLayout.ORIGINAL).entrySet()) {
                    org.bytedeco.pytorch.Tensor h = dev.seer.tensor.Torch.wrap(e.getValue()).to(type).contiguous();
                    half.put(e.getKey(), dev.seer.tensor.Torch.view(h));
                    float[] back = dev.seer.tensor.Torch.view(h.to(org.bytedeco.pytorch.global.torch.ScalarType.Float)).toFloatArray();
                    rounded.put(e.getKey(), Tensor.ofFloats(arena, back, e.getValue().shape().toArray()));
                }
                Safetensors.write(file, half);
                Tensor z = randn(arena, 2, 1, 1, 4, 3, 3);
                try (Autoencoder fromHalf = Autoencoder.load(file, SMALL);
                     Autoencoder fromRounded = Autoencoder.fromStateDict(SMALL, rounded)) {
                    assertArrayEquals(fromRounded.decode(arena, z).toFloatArray(), fromHalf.decode(arena, z).toFloatArray(),
                            type.toString());
                }
            }
        }
    }

    @Test
    void tilingBlendsAsDiffusersAndEqualsWholeWhenOneTileCovers() {
        try (Arena arena = Arena.ofConfined(); Autoencoder vae = Autoencoder.random(SMALL, 9)) {
            int f = SMALL.downsampling();
            Tensor z = randn(arena, 10, 1, 1, 4, 6, 5);
            float[] whole = vae.decode(arena, z).toFloatArray();
            assertArrayEquals(whole, vae.decode(arena, z, new Autoencoder.Tiling(6, 1)).toFloatArray());
            // overlap 0: the tiles side by side, each decoded alone
            float[] tiled = vae.decode(arena, z, new Autoencoder.Tiling(3, 0)).toFloatArray();
            int outW = 5 * f;
            int outH = 6 * f;
            for (int[] t : new int[][] {{0, 0}, {0, 3}, {3, 0}, {3, 3}}) {
                int th = Math.min(3, 6 - t[0]);
                int tw = Math.min(3, 5 - t[1]);
                float[] alone = vae.decode(arena, crop(arena, z, t[0], t[1], th, tw)).toFloatArray();
                for (int ch = 0; ch < 3; ch++) {
                    for (int y = 0; y < th * f; y++) {
                        for (int x = 0; x < tw * f; x++) {
                            assertEquals(alone[(ch * th * f + y) * tw * f + x],
                                    tiled[(ch * outH + t[0] * f + y) * outW + t[1] * f + x], "tile " + Arrays.toString(t));
                        }
                    }
                }
            }
            // overlap 1 (blend over f rows): row y < f of the lower tile is above[last f rows][y] * (1 - y/f) + own * (y/f)
            float[] blended = vae.decode(arena, z, new Autoencoder.Tiling(4, 1)).toFloatArray();
            float[] top = vae.decode(arena, crop(arena, z, 0, 0, 4, 4)).toFloatArray();
            float[] below = vae.decode(arena, crop(arena, z, 3, 0, 3, 4)).toFloatArray();
            int tw = 4 * f;
            for (int y = 0; y < f; y++) {
                float wa = (float) (1 - y / (double) f);
                float wb = (float) (y / (double) f);
                for (int x = 0; x < 3 * f; x++) { // columns left of the horizontal blend
                    float want = top[(4 * f - f + y) * tw + x] * wa + below[y * tw + x] * wb;
                    assertEquals(want, blended[(3 * f + y) * outW + x], "row " + y + " col " + x);
                }
            }
        }
    }

    static Tensor crop(Arena arena, Tensor z, int top, int left, int h, int w) {
        long[] d = z.shape().toArray();
        float[] all = z.toFloatArray();
        float[] out = new float[(int) d[1] * h * w];
        for (int c = 0; c < d[1]; c++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(all, (int) ((c * d[2] + top + y) * d[3] + left), out, (c * h + y) * w, w);
            }
        }
        return Tensor.ofFloats(arena, out, 1, d[1], h, w);
    }

    /** Decoding and encoding (tiled too) leave no live native objects behind: the process holds no more than before. */
    @Test
    void decodingLeavesNoNativeObjectsBehind() {
        try (Arena arena = Arena.ofConfined(); Autoencoder vae = Autoencoder.random(SMALL, 6)) {
            Tensor z = randn(arena, 1, 1, 2, 4, 5, 4);
            Tensor x = randn(arena, 2, 0.5, 1, 3, 6, 4);
            vae.decode(arena, z, new Autoencoder.Tiling(2, 1));
            vae.encode(arena, x);
            long before = settledPointers();
            for (int i = 0; i < 3; i++) {
                vae.decode(arena, z);
                vae.decode(arena, z, new Autoencoder.Tiling(2, 1));
                vae.encode(arena, x);
            }
            // what other tests left to the collector may only now be freed: the count must not grow, it may shrink
            long after = settledPointers();
            assertTrue(after <= before, "live JavaCPP pointers grew from " + before + " to " + after);
        }
    }

    /** Live JavaCPP pointers once collections stop freeing what other code left to the collector. */
    static long settledPointers() {
        long last = collectedPointerCount();
        for (int i = 0; i < 10; i++) {
            long now = collectedPointerCount();
            if (now == last) {
                break;
            }
            last = now;
        }
        return last;
    }

    private static long collectedPointerCount() {
        for (int i = 0; i < 2; i++) {
            System.gc();
            org.bytedeco.javacpp.Pointer.deallocateReferences();
        }
        return org.bytedeco.javacpp.Pointer.totalCount();
    }

    @Test
    void refusesBadInputNamingWhatIsWrong() {
        try (Arena arena = Arena.ofConfined(); Autoencoder vae = Autoencoder.random(SMALL, 1)) {
            Tensor wrongChannels = randn(arena, 1, 1, 1, 16, 4, 4);
            String m = assertThrows(IllegalArgumentException.class, () -> vae.decode(arena, wrongChannels)).getMessage();
            assertTrue(m.contains("(B, 4, H, W)") && m.contains("(1, 16, 4, 4)"), m);
            float[] v = new float[4 * 9];
            v[13] = Float.NaN;
            Tensor nan = Tensor.ofFloats(arena, v, 1, 4, 3, 3);
            m = assertThrows(IllegalArgumentException.class, () -> vae.decode(arena, nan)).getMessage();
            assertTrue(m.contains("finite") && m.contains("NaN at flat index 13"), m);
            Tensor odd = randn(arena, 1, 1, 1, 3, 5, 4);
            m = assertThrows(IllegalArgumentException.class, () -> vae.encode(arena, odd)).getMessage();
            assertTrue(m.contains("multiples of 2") && m.contains("5 x 4"), m);
            assertThrows(IllegalArgumentException.class, () -> new Autoencoder.Tiling(4, 4));
        }
        Autoencoder closed = Autoencoder.random(SMALL, 1);
        closed.close();
        closed.close();
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalStateException.class, () -> closed.decode(arena, randn(arena, 1, 1, 1, 4, 2, 2)));
        }
    }

    @Test
    void refusesCheckpointsThatDoNotFitTheConfig(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("vae.safetensors");
        try (Autoencoder vae = Autoencoder.random(SMALL, 1)) {
            Map<String, Tensor> sd = new LinkedHashMap<>(vae.stateDict(VaeLayout.ORIGINAL));
            sd.remove("decoder.up.0.block.1.conv2.bias");
            Safetensors.write(file, sd);
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Autoencoder.load(file, SMALL));
        assertEquals("decoder.up.0.block.1.conv2.bias", e.key());
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("the key is missing"), e.getMessage());
        // a file with one layer per block read with two: a missing key; with fewer levels: unexpected tensors
        try (Autoencoder vae = Autoencoder.random(SMALL, 1)) {
            Safetensors.write(file, vae.stateDict(VaeLayout.ORIGINAL));
        }
        VaeConfig twoLayers = new VaeConfig(3, 3, new int[] {8, 16}, 2, 4, 4, 0.5, 0.25, true, true, true);
        e = assertThrows(CheckpointException.class, () -> Autoencoder.load(file, twoLayers));
        assertEquals("encoder.down.0.block.1.norm1.weight", e.key());
        VaeConfig latent8 = new VaeConfig(3, 3, new int[] {8, 16}, 1, 8, 4, 0.5, 0.25, true, true, true);
        e = assertThrows(CheckpointException.class, () -> Autoencoder.load(file, latent8));
        assertEquals("encoder.conv_out.weight", e.key());
        assertTrue(e.getMessage().contains("expected shape (16, 16, 3, 3)") && e.getMessage().contains("found shape (8, 16, 3, 3)"),
                e.getMessage());
        VaeConfig noQuant = new VaeConfig(3, 3, new int[] {8, 16}, 1, 4, 4, 0.5, 0.25, false, true, true);
        e = assertThrows(CheckpointException.class, () -> Autoencoder.load(file, noQuant));
        assertTrue(e.key().startsWith("quant_conv.") && e.getMessage().contains("unexpected tensor (2 such)"), e.getMessage());
    }

    @Test
    void configFilesAreReadStrictly(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("config.json");
        String[][] cases = {
                {"{\"block_out_channels\": [32], \"latent_chanels\": 4}", "unknown key 'latent_chanels'"},
                {"{\"block_out_channels\": [32], \"ch\": 32}", "found both"},
                {"{\"block_out_channels\": [32], \"latents_mean\": [0.1]}", "'latents_mean' must be null"},
                {"{\"block_out_channels\": [32], \"act_fn\": \"gelu\"}", "'act_fn' must be \"silu\""},
                {"{\"block_out_channels\": [32, 64], \"up_block_types\": [\"UpDecoderBlock2D\", \"AttnUpDecoderBlock2D\"]}",
                        "found \"AttnUpDecoderBlock2D\""},
                {"{\"block_out_channels\": [32, 48]}", "divisible by norm_num_groups 32, found 48"},
                {"{\"ch\": 32, \"ch_mult\": [1, 2], \"num_res_blocks\": 1, \"z_channels\": 4, \"scale_factor\": 0.5}",
                        "missing key 'shift_factor'"},
                {"{\"ch\": 32, \"ch_mult\": [1], \"num_res_blocks\": 1, \"z_channels\": 4, \"scale_factor\": 0.5, "
                        + "\"shift_factor\": 0, \"use_quant_conv\": true}", "'use_quant_conv' is not a field of BFL AutoEncoderParams"},
        };
        for (String[] c : cases) {
            Files.writeString(f, c[0]);
            String m = assertThrows(IllegalArgumentException.class, () -> VaeConfig.fromJson(f), c[0]).getMessage();
            assertTrue(m.startsWith(f.toString()) && m.contains(c[1]), c[0] + " -> " + m);
        }
        Files.writeString(f, "{\"block_out_channels\": [128, 256, 512, 512], \"layers_per_block\": 2, \"sample_size\": 256,"
                + " \"_class_name\": \"AutoencoderKL\", \"_diffusers_version\": \"0.4.2\"}");
        assertEquals(VaeConfig.preset("sd"), VaeConfig.fromJson(f));
    }
}
