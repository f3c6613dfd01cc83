package dev.seer.model.flux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.io.CheckpointException;
import dev.seer.io.Safetensors;
import dev.seer.tensor.DType;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FluxSamplerTest {
    @TempDir
    Path dir;

    @Test
    void scheduleIsTheOfficialGetSchedule() {
        // values printed by the reference's get_schedule (flux/sampling.py) with torch 1.13
        assertArrayEquals(new double[] {1.0, 0.75, 0.5, 0.25, 0.0}, FluxSampler.schedule(4, 4096, false));
        assertArrayEquals(new double[] {1.0, 0.9404441714286804, 0.8633204698562622, 0.7595109343528748, 0.6122673749923706,
                0.3871191740036011, 0.0}, FluxSampler.schedule(6, 4096, true));
        assertArrayEquals(new double[] {1.0, 0.8820753693580627, 0.7371876835823059, 0.5548958778381348, 0.31856879591941833,
                0.0}, FluxSampler.schedule(5, 1000, true));
    }

    @Test
    void packAndUnpackAreTheReferenceRearrangements() {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor x = torch.arange(new org.bytedeco.pytorch.Scalar(2 * 3 * 4 * 6))
                    .to(torch.ScalarType.Float).reshape(2, 3, 4, 6);
            org.bytedeco.pytorch.Tensor packed = FluxSampler.pack(x).contiguous();
            assertArrayEquals(new long[] {2, 6, 12}, packed.sizes().vec().get());
            float[] p = Torch.view(packed).toFloatArray();
            // token (row 0, col 1) of sample 0, feature (c=1, ph=1, pw=0) = x[0, 1, 1, 2]
            assertEquals(1 * 24 + 1 * 6 + 2, p[1 * 12 + 1 * 4 + 1 * 2 + 0]);
            float[] back = Torch.view(FluxSampler.unpack(packed, 2, 3).contiguous()).toFloatArray();
            assertArrayEquals(Torch.view(x.contiguous()).toFloatArray(), back);
            float[] ids = Torch.view(FluxSampler.imageIds(1, 2, 3)).toFloatArray();
            assertArrayEquals(new float[] {0, 1, 2}, new float[] {ids[5 * 3], ids[5 * 3 + 1], ids[5 * 3 + 2]});
        }
    }

    private Path write(Map<String, Tensor> t) throws IOException {
        Path f = dir.resolve("in.safetensors");
        Safetensors.write(f, t);
        return f;
    }

    private static Map<String, Tensor> good(Arena arena, FluxParams p) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("txt", Tensor.allocate(arena, DType.F32, 2, 3, p.contextInDim()));
        m.put("vec", Tensor.allocate(arena, DType.F32, 2, p.vecInDim()));
        m.put("noise", Tensor.allocate(arena, DType.F32, 2, p.latentChannels(), 4, 6));
        return m;
    }

    private void refused(Map<String, Tensor> inputs, String... words) throws IOException {
        Path f = write(inputs);
        CheckpointException e = assertThrows(CheckpointException.class, () -> FluxInputs.read(f, FluxTestModels.tiny(true)));
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), e.getMessage() + " lacks " + w);
        }
    }

    @Test
    void badInputsAreRefusedNamingTheProblem() throws IOException {
        FluxParams p = FluxTestModels.tiny(true);
        try (Arena arena = Arena.ofConfined()) {
            FluxInputs ok = FluxInputs.read(write(good(arena, p)), p);
            assertEquals(2, ok.batch());

            Map<String, Tensor> m = good(arena, p);
            m.put("txt", Tensor.allocate(arena, DType.F32, 2, 3, p.contextInDim() + 1));
            refused(m, "'txt'", "context_in_dim", "(2, 3, 13)");

            m = good(arena, p);
            m.put("noise", Tensor.allocate(arena, DType.F32, 2, p.latentChannels(), 5, 6));
            refused(m, "'noise'", "even", "(2, 4, 5, 6)");

            m = good(arena, p);
            m.put("vec", Tensor.allocate(arena, DType.F32, 1, p.vecInDim()));
            refused(m, "'vec'", "(2, 8)", "(1, 8)");

            m = good(arena, p);
            m.put("noise", Tensor.ofFloats(arena, new float[2 * 4 * 4 * 6], 2, 4, 4, 6));
            m.get("noise").segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 17, Float.NaN);
            refused(m, "'noise'", "finite", "NaN");

            m = good(arena, p);
            m.put("prompt", Tensor.allocate(arena, DType.F32, 1));
            refused(m, "'prompt'", "unexpected");

            m = good(arena, p);
            m.put("timesteps", Tensor.allocate(arena, DType.I64, 5));
            refused(m, "'timesteps'", "F64");

            m = good(arena, p);
            m.put("img_ids", Tensor.allocate(arena, DType.F32, 2, 5, 3));
            refused(m, "'img_ids'", "image tokens = 6");
        }
    }
}
