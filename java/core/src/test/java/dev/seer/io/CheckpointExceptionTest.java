package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointExceptionTest {
    @TempDir
    Path dir;

    @Test
    void messageNamesFileKeyExpectedAndFound() {
        CheckpointException e = new CheckpointException(Path.of("model.safetensors"), "blocks.0.attn.qkv.weight",
                "shape (1152, 384)", "(1152, 385)");
        assertEquals("model.safetensors: tensor 'blocks.0.attn.qkv.weight': expected shape (1152, 384), found (1152, 385)", e.getMessage());
        assertEquals("shape (1152, 384)", e.expected());
        assertEquals("(1152, 385)", e.found());
        CheckpointException whole = new CheckpointException(Path.of("x.pt"), null, "a dict of tensors", "top-level object is a List");
        assertEquals("x.pt: expected a dict of tensors, found top-level object is a List", whole.getMessage());
        assertNull(whole.key());
        DataFileException d = new DataFileException(Path.of("labels.gz"), "labels in 0..9", "label 12 at index 3");
        assertEquals("labels.gz: expected labels in 0..9, found label 12 at index 3", d.getMessage());
    }

    @Test
    void shapeCheckedGet() throws Exception {
        Path p = dir.resolve("model.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Safetensors.write(p, Map.of("w", Tensor.ofFloats(arena, new float[6], 2, 3)));
        }
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(Shape.of(2, 3), f.get("w", Shape.of(2, 3)).shape());
            CheckpointException e = assertThrows(CheckpointException.class, () -> f.get("w", Shape.of(2, 4)));
            assertEquals(p + ": tensor 'w': expected shape (2, 4), found (2, 3)", e.getMessage());
        }
    }
}
