package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Safetensors read from a stream (a class-path resource) into memory: the same tensors and checks as a mapped file. */
class SafetensorsStreamTest {
    private static final Path SOURCE = Path.of("classpath:/test.safetensors");

    @Test
    void readsWhatWasWritten(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("t.safetensors");
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {7, -8};
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("a", Tensor.ofFloats(arena, a, 2, 3));
            tensors.put("b", Tensor.ofFloats(arena, b, 2));
            Safetensors.write(file, tensors, Map.of("k", "v"));
        }
        byte[] bytes = Files.readAllBytes(file);
        try (SafetensorsFile f = Safetensors.read(new ByteArrayInputStream(bytes), SOURCE, bytes.length)) {
            assertEquals(SOURCE, f.path());
            assertEquals(Map.of("k", "v"), f.metadata());
            assertArrayEquals(a, f.get("a").toFloatArray());
            assertEquals(dev.seer.tensor.Shape.of(2, 3), f.get("a").shape());
            assertArrayEquals(b, f.get("b").toFloatArray());
        }
    }

    @Test
    void badStreamsAreCheckpointErrorsNamingTheSource(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("t.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Safetensors.write(file, Map.of("a", Tensor.ofFloats(arena, new float[16], 16)));
        }
        byte[] bytes = Files.readAllBytes(file);
        CheckpointException tooLong = assertThrows(CheckpointException.class,
                () -> Safetensors.read(new ByteArrayInputStream(bytes), SOURCE, bytes.length - 1));
        assertTrue(tooLong.getMessage().contains("classpath:/test.safetensors"), tooLong.getMessage());
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 4);
        CheckpointException cut = assertThrows(CheckpointException.class,
                () -> Safetensors.read(new ByteArrayInputStream(truncated), SOURCE, bytes.length));
        assertTrue(cut.getMessage().contains("classpath:/test.safetensors"), cut.getMessage());
        assertThrows(CheckpointException.class, () -> Safetensors.read(new ByteArrayInputStream(new byte[5]), SOURCE, 100));
    }
}
