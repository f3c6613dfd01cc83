package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.CompilationUnit;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.global.torch;
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

    /** Checkpoint structures built by TorchScript (dtype 9 is ComplexFloat) and written by libtorch's pickler, as torch.save would. */
    private static final String SHAPES = """
            def training(model: Tensor, ema: Tensor) -> Dict[str, Dict[str, Tensor]]:
                return {"model": {"w": model}, "ema": {"w": ema}}

            def wrapped(t: Tensor) -> Dict[str, Dict[str, Tensor]]:
                return {"state_dict": {"w": t}}

            def listed(t: Tensor) -> List[Tensor]:
                return [t]

            def ints() -> Dict[str, int]:
                return {"step": 3}

            def int_keys(t: Tensor) -> Dict[int, Tensor]:
                return {1: t}

            def strided(t: Tensor) -> Dict[str, Tensor]:
                return {"t": t.t()}

            def to_complex(t: Tensor) -> Dict[str, Tensor]:
                return {"c": t.to(dtype=9)}
            """;

    private Path pickled(String name, String function, IValue... args) throws Exception {
        CompilationUnit unit = torch.compile(SHAPES);
        IValue v = unit.get_function(new QualifiedName(function)).apply(new IValueVector(args));
        Path p = dir.resolve(name);
        Files.write(p, torch.pickle_save(v).get());
        return p;
    }

    private static IValue tensor(Arena arena, float[] values, long... dims) {
        return new IValue(Torch.wrap(Tensor.ofFloats(arena, values, dims)).clone());
    }

    @Test
    void trainingCheckpointsUseTheEmaWeights() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path p = pickled("ckpt.pt", "training", tensor(arena, new float[] {1}, 1), tensor(arena, new float[] {2}, 1));
            assertArrayEquals(new float[] {2}, TorchCheckpoints.loadStateDict(p).get("w").toFloatArray());
            Path q = pickled("sd.pt", "wrapped", tensor(arena, new float[] {3}, 1));
            assertArrayEquals(new float[] {3}, TorchCheckpoints.loadStateDict(q).get("w").toFloatArray());
        }
    }

    @Test
    void nonContiguousTensorsAreMadeContiguous() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path p = pickled("t.pt", "strided", tensor(arena, new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
            Tensor t = TorchCheckpoints.loadStateDict(p).get("t");
            assertEquals(Shape.of(3, 2), t.shape());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, t.toFloatArray());
        }
    }

    @Test
    void unexpectedStructuresAreNamed() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Path list = pickled("list.pt", "listed", tensor(arena, new float[] {1}, 1));
            CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoints.loadStateDict(list));
            assertTrue(e.getMessage().contains("expected a dict of tensors, found top-level object is a list"), e.getMessage());
            Path ints = pickled("ints.pt", "ints");
            CheckpointException f = assertThrows(CheckpointException.class, () -> TorchCheckpoints.loadStateDict(ints));
            assertEquals("step", f.key());
            assertTrue(f.getMessage().contains("tensor 'step': expected a tensor, found an int"), f.getMessage());
            Path keys = pickled("keys.pt", "int_keys", tensor(arena, new float[] {1}, 1));
            assertTrue(assertThrows(CheckpointException.class, () -> TorchCheckpoints.loadStateDict(keys)).getMessage()
                    .contains("str keys"));
            Path complex = pickled("complex.pt", "to_complex", tensor(arena, new float[] {1}, 1));
            CheckpointException g = assertThrows(CheckpointException.class, () -> TorchCheckpoints.loadStateDict(complex));
            assertTrue(g.getMessage().contains("tensor 'c'") && g.getMessage().contains("ComplexFloat"), g.getMessage());
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
        assertTrue(e.getMessage().contains("expected a torch.save archive"), e.getMessage());
    }
}
