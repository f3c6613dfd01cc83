package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointsTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void init() {
        SeerRuntime.init();
    }

    @Test
    void stateDictRoundTripsThroughLibtorchsPickler() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("blocks.0.attn.qkv.weight", Tensor.ofFloats(arena, new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
            Tensor bf = Tensor.allocate(arena, DType.BF16, 4);
            bf.copyFrom(new float[] {0.5f, -1f, 2f, 1e-3f});
            in.put("blocks.0.norm.bias", bf);
            Tensor steps = Tensor.allocate(arena, DType.I64);
            steps.segment().set(ValueLayout.JAVA_LONG, 0, 42L);
            in.put("num_batches_tracked", steps);
            Path pt = dir.resolve("model.pt");
            TorchCheckpoints.saveStateDict(pt, in);

            Map<String, Tensor> out = TorchCheckpoints.loadStateDict(pt);
            assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
            for (String k : in.keySet()) {
                Tensor a = in.get(k);
                Tensor b = out.get(k);
                assertEquals(a.dtype(), b.dtype(), k);
                assertEquals(a.shape(), b.shape(), k);
                assertArrayEquals(a.segment().toArray(ValueLayout.JAVA_BYTE), b.segment().toArray(ValueLayout.JAVA_BYTE), k);
            }
            assertEquals(Shape.of(), out.get("num_batches_tracked").shape());
        }
    }

    @Test
    void truncatedFileIsACheckpointException() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path pt = dir.resolve("model.pt");
            TorchCheckpoints.saveStateDict(pt, Map.of("w", Tensor.ofFloats(arena, new float[64], 8, 8)));
            byte[] bytes = Files.readAllBytes(pt);
            Path cut = dir.resolve("cut.pt");
            Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
            CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoints.loadStateDict(cut));
            assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        }
    }

    @Test
    void randomBytesAreACheckpointException() throws Exception {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        Path pt = dir.resolve("noise.pt");
        Files.write(pt, noise);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoints.loadStateDict(pt));
        assertTrue(e.getMessage().contains("libtorch error"), e.getMessage());
    }
}
