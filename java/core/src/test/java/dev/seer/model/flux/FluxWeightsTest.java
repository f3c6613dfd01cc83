package dev.seer.model.flux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.cache.CachePolicy;
import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.kernel.Variant;
import dev.seer.sampling.ProgressListener;
import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both checkpoint layouts: conversion in both directions, loading, and refusals naming key and shapes. */
class FluxWeightsTest {
    @TempDir
    Path dir;

    private static final FluxParams P = FluxTestModels.tiny(true);

    private static float[] sample(FluxWeights w) {
        try (FluxModel m = new FluxModel(w)) {
            return FluxSampler.sample(m, FluxTestModels.inputs(P, 3), new FluxSampler.Request(3, 4, 4, 2.0, true, 0,
                    new CachePolicy.None(), Variant.AUTO, ProgressListener.NONE)).latents();
        }
    }

    @Test
    void diffusersConversionRoundTripsExactly() {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> bfl = FluxWeights.randomStateDict(P, 1, arena);
            Map<String, Tensor> diffusers = FluxWeights.toDiffusers(P, bfl, arena);
            assertEquals(FluxWeights.expectedDiffusersShapes(P).keySet(), diffusers.keySet());
            // q, k, v are thirds of qkv; the final modulation's halves are swapped (diffusers: scale, shift)
            float[] qkv = bfl.get("double_blocks.0.img_attn.qkv.weight").toFloatArray();
            float[] k = diffusers.get("transformer_blocks.0.attn.to_k.weight").toFloatArray();
            assertEquals(qkv[64 * 64], k[0]);
            float[] mod = bfl.get("final_layer.adaLN_modulation.1.bias").toFloatArray();
            float[] swapped = diffusers.get("norm_out.linear.bias").toFloatArray();
            assertEquals(mod[64], swapped[0]);
            assertEquals(mod[0], swapped[64]);
            Map<String, Tensor> back = FluxWeights.fromDiffusers(P, diffusers, arena);
            assertEquals(bfl.keySet(), back.keySet());
            for (String key : bfl.keySet()) {
                assertArrayEquals(bfl.get(key).toFloatArray(), back.get(key).toFloatArray(), key);
            }
        }
    }

    @Test
    void bflFileAndShardedDiffusersDirectoryGiveTheSameSamples() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> bfl = FluxWeights.randomStateDict(P, 2, arena);
            Path bflFile = dir.resolve("flux.safetensors");
            Safetensors.write(bflFile, bfl);
            Path transformer = Files.createDirectories(dir.resolve("model/transformer"));
            writeSharded(transformer, FluxWeights.toDiffusers(P, bfl, arena));
            Files.writeString(transformer.resolve("config.json"), "{\"_class_name\": \"FluxTransformer2DModel\", \"patch_size\": 1,"
                    + " \"in_channels\": 16, \"num_layers\": 1, \"num_single_layers\": 2, \"attention_head_dim\": 32,"
                    + " \"num_attention_heads\": 2, \"joint_attention_dim\": 12, \"pooled_projection_dim\": 8,"
                    + " \"guidance_embeds\": true, \"axes_dims_rope\": [8, 12, 12]}");
            float[] fromBfl;
            float[] fromDiffusers;
            fromBfl = sample(FluxWeights.load(P, bflFile));
            fromDiffusers = sample(FluxWeights.load(P, dir.resolve("model")));
            assertArrayEquals(fromBfl, fromDiffusers);
            // a config.json describing another model is refused
            FluxParams schnell = new FluxParams(16, 16, 8, 12, 64, 4.0, 2, 1, 2, new int[] {8, 12, 12}, 10_000, true, false);
            CheckpointException e = assertThrows(CheckpointException.class, () -> FluxWeights.load(schnell, dir.resolve("model")));
            assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        }
    }

    /** Two shards, split by key order, with diffusers' index file. */
    private static void writeSharded(Path dir, Map<String, Tensor> sd) throws IOException {
        Map<String, Tensor> a = new TreeMap<>();
        Map<String, Tensor> b = new TreeMap<>();
        StringBuilder index = new StringBuilder("{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
        int i = 0;
        for (var e : new TreeMap<>(sd).entrySet()) {
            boolean first = i++ < sd.size() / 2;
            (first ? a : b).put(e.getKey(), e.getValue());
            String name = "diffusion_pytorch_model-0000" + (first ? 1 : 2) + "-of-00002.safetensors";
            index.append(i == 1 ? "" : ", ").append('"').append(e.getKey()).append("\": \"").append(name).append('"');
        }
        Safetensors.write(dir.resolve("diffusion_pytorch_model-00001-of-00002.safetensors"), a);
        Safetensors.write(dir.resolve("diffusion_pytorch_model-00002-of-00002.safetensors"), b);
        Files.writeString(dir.resolve(FluxWeights.DIFFUSERS_INDEX), index.append("}}").toString());
    }

    @Test
    void bf16WeightsStayBf16AndAreConverted() throws IOException {
        try (Arena arena = Arena.ofConfined(); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> bfl = FluxWeights.randomStateDict(P, 4, arena);
            Map<String, Tensor> half = new LinkedHashMap<>();
            for (var e : bfl.entrySet()) {
                half.put(e.getKey(), Torch.view(Torch.wrap(e.getValue()).to(torch.ScalarType.BFloat16).contiguous()));
            }
            Path f = dir.resolve("bf16.safetensors");
            Safetensors.write(f, half);
            try (FluxWeights w = FluxWeights.load(P, f)) {
                assertEquals(java.util.Set.of(DType.BF16), w.storedTypes());
                long numel = bfl.values().stream().mapToLong(Tensor::numel).sum();
                assertEquals(2 * numel, w.storedBytes());
                float[] got = Torch.view(w.get("img_in.weight").contiguous()).toFloatArray();
                float[] want = Torch.view(Torch.wrap(half.get("img_in.weight")).to(torch.ScalarType.Float).contiguous()).toFloatArray();
                assertArrayEquals(want, got);
                float[] kept = sample(w);
                FluxWeights perUse = FluxWeights.fromStateDictConvertingPerUse(P, half);
                assertTrue(perUse.convertsPerUse());
                assertArrayEquals(kept, sample(perUse), "converted once or at every use: the same float32 weights");
            }
        }
    }

    @Test
    void missingExtraAndMisShapedTensorsAreRefusedNamingKeyAndShapes() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> bfl = new LinkedHashMap<>(FluxWeights.randomStateDict(P, 5, arena));
            Path f = dir.resolve("w.safetensors");

            Map<String, Tensor> missing = new LinkedHashMap<>(bfl);
            missing.remove("single_blocks.1.linear2.bias");
            Safetensors.write(f, missing);
            CheckpointException e = assertThrows(CheckpointException.class, () -> FluxWeights.load(P, f));
            assertTrue(e.getMessage().contains("single_blocks.1.linear2.bias") && e.getMessage().contains("missing"), e.getMessage());

            Map<String, Tensor> extra = new LinkedHashMap<>(bfl);
            extra.put("single_blocks.0.mlp_in.weight", bfl.get("img_in.weight"));
            Safetensors.write(f, extra);
            e = assertThrows(CheckpointException.class, () -> FluxWeights.load(P, f));
            assertTrue(e.getMessage().contains("single_blocks.0.mlp_in.weight"), e.getMessage());

            Map<String, Tensor> wrong = new LinkedHashMap<>(bfl);
            wrong.put("double_blocks.0.txt_attn.qkv.weight", Tensor.allocate(arena, DType.F32, 192, 63));
            Safetensors.write(f, wrong);
            e = assertThrows(CheckpointException.class, () -> FluxWeights.load(P, f));
            assertTrue(e.getMessage().contains("double_blocks.0.txt_attn.qkv.weight") && e.getMessage().contains("(192, 64)")
                    && e.getMessage().contains("(192, 63)"), e.getMessage());

            // truncated file
            Safetensors.write(f, bfl);
            byte[] bytes = Files.readAllBytes(f);
            Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length / 2));
            assertThrows(CheckpointException.class, () -> FluxWeights.load(P, f));
        }
    }
}
