package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.DType;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written by Python's own {@code torch.save} (resources io/python, made by make_fixtures.py there): an
 * OrderedDict state dict with its _metadata (pickle protocols 2, 4 and 5), a DiT-style training checkpoint with
 * an optimizer state and an argparse Namespace, parameters, every dtype Seer stores, views sharing a storage and
 * a transposed tensor.
 */
class TorchCheckpointsPythonTest {
    @TempDir
    Path dir;

    private Path fixture(String name) throws Exception {
        Path p = dir.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/io/python/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    /** make_fixtures.py's ramp: arange(n) * scale - 1, computed in double. */
    private static float[] ramp(int n, double scale, double shift) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (i * scale - 1 + shift);
        }
        return out;
    }

    private static void assertTiny(Map<String, Tensor> sd, double shift) {
        assertEquals(List.of("steps", "proj.weight", "proj.bias", "norm.weight", "norm.bias"), List.copyOf(sd.keySet()));
        assertEquals(DType.I64, sd.get("steps").dtype());
        assertEquals(Shape.of(), sd.get("steps").shape());
        assertEquals(7L, sd.get("steps").segment().get(ValueLayout.JAVA_LONG, 0));
        assertEquals(Shape.of(2, 3), sd.get("proj.weight").shape());
        assertArrayEquals(ramp(6, 0.25, shift), sd.get("proj.weight").toFloatArray());
        assertArrayEquals(ramp(2, 0.25, shift), sd.get("proj.bias").toFloatArray());
        assertArrayEquals(ramp(2, 2, shift), sd.get("norm.weight").toFloatArray());
        assertArrayEquals(ramp(2, 3, shift), sd.get("norm.bias").toFloatArray());
    }

    @Test
    void modelStateDictWithItsMetadata() throws Exception {
        assertTiny(TorchCheckpoints.loadStateDict(fixture("state-dict.pt")), 0);
    }

    @Test
    void picklesOfProtocols4And5() throws Exception {
        // FRAME, MEMOIZE, STACK_GLOBAL and SHORT_BINUNICODE instead of protocol 2's GLOBAL and BINPUT
        assertTiny(TorchCheckpoints.loadStateDict(fixture("state-dict-protocol4.pt")), 0);
        assertTiny(TorchCheckpoints.loadStateDict(fixture("state-dict-protocol5.pt")), 0);
    }

    @Test
    void trainingCheckpointGivesTheEmaWeightsAndIgnoresTheRest() throws Exception {
        assertTiny(TorchCheckpoints.loadStateDict(fixture("training-checkpoint.pt")), 10);
    }

    @Test
    void dtypesViewsAndParameters() throws Exception {
        Map<String, Tensor> sd = TorchCheckpoints.loadStateDict(fixture("tensors.pt"));
        assertArrayEquals(ramp(4, 0.25, 0), sd.get("param").toFloatArray());
        assertEquals(Shape.of(2, 2), sd.get("param").shape());
        assertEquals(DType.BF16, sd.get("bf16").dtype());
        assertArrayEquals(ramp(5, 0.25, 0), sd.get("bf16").toFloatArray());
        assertEquals(DType.F16, sd.get("half").dtype());
        assertArrayEquals(ramp(5, 0.25, 0), sd.get("half").toFloatArray());
        assertEquals(DType.F64, sd.get("double").dtype());
        assertEquals(-0.75, sd.get("double").segment().get(ValueLayout.JAVA_DOUBLE, 8));
        assertArrayEquals(new int[] {-2, -1, 0, 1}, sd.get("int32").segment().toArray(ValueLayout.JAVA_INT));
        assertArrayEquals(new byte[] {1, 0, 1}, sd.get("bool").segment().toArray(ValueLayout.JAVA_BYTE));
        float[] base = ramp(12, 0.25, 0);
        assertArrayEquals(new float[] {base[4], base[5], base[6], base[7]}, sd.get("row").toFloatArray());
        assertArrayEquals(new float[] {base[2], base[6], base[10]}, sd.get("column").toFloatArray());
        Tensor t = sd.get("transposed");
        assertEquals(Shape.of(4, 3), t.shape());
        float[] expected = new float[12];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                expected[i * 3 + j] = base[j * 4 + i];
            }
        }
        assertArrayEquals(expected, t.toFloatArray());
        assertArrayEquals(new float[] {2.5f}, sd.get("scalar").toFloatArray());
        assertEquals(Shape.of(0, 3), sd.get("empty").shape());
    }

    @Test
    void contiguousTensorsAreViewsOfTheFile() throws Exception {
        Map<String, Tensor> sd = TorchCheckpoints.loadStateDict(fixture("tensors.pt"));
        // torch.save aligns each record to 64 bytes; "row" is base[1]: 16 bytes into base's record, not a copy.
        assertEquals(0, sd.get("param").address() % 64);
        assertEquals(0, sd.get("bf16").address() % 64);
        assertEquals(16, sd.get("row").address() % 64);
        assertEquals(sd.get("row").address(), sd.get("row").segment().address());
    }

    @Test
    void legacyFormatIsNamed() throws Exception {
        Path p = dir.resolve("legacy.pt");
        // The pre-1.6 format: a pickle stream starting with PROTO 2 and torch's magic number, no zip.
        Files.write(p, new byte[] {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
                (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19, 0x2e});
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoints.loadStateDict(p));
        assertTrue(e.getMessage().contains("legacy"), e.getMessage());
    }
}
