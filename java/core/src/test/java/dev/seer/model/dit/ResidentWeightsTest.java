package dev.seer.model.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.seer.io.Safetensors;
import dev.seer.kernel.DitOps;
import dev.seer.tensor.HostMemory;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A loaded DiT holds one resident form of each weight: the packed or transposed form replaces the original, no
 * tensor shares or outlives memory another holds, the bytes held are the plan's, and loading from a file peaks
 * at one copy of the weights (not the mapped file plus a copy plus the packed forms).
 */
class ResidentWeightsTest {
    /** Hidden sizes 32 and 96 pack panels that straddle the adaLN chunks; 64 packs each chunk straight. */
    private static final DitConfig[] CONFIGS = {DitModelTest.TINY, new DitConfig(8, 2, 4, 64, 2, 2, 4.0, 0.1, 5, true),
            new DitConfig(16, 2, 4, 96, 2, 4, 4.0, 0.1, 10, true)};

    @Test
    void everyWeightIsHeldOnceInMemoryOfItsOwn() {
        for (DitConfig config : CONFIGS) {
            try (Arena arena = Arena.ofShared()) {
                Map<String, Tensor> sd = DitWeights.random(config, 3, arena);
                try (DitModel model = DitModel.fromStateDict(config, sd)) {
                    Map<String, org.bytedeco.pytorch.Tensor> resident = model.residentTensors();
                    List<long[]> ranges = new ArrayList<>();
                    for (var e : resident.entrySet()) {
                        org.bytedeco.pytorch.Tensor t = e.getValue();
                        // no other handle or view keeps this memory, and the tensor is all of its storage
                        assertEquals(1, t.use_count(), e.getKey() + " in " + config);
                        assertEquals(t.nbytes(), t.storage().nbytes(), e.getKey() + " is a view of something larger");
                        long start = t.data_ptr().address();
                        for (long[] r : ranges) {
                            assertTrue(start + t.nbytes() <= r[0] || r[1] <= start, e.getKey() + " overlaps another weight");
                        }
                        ranges.add(new long[] {start, start + t.nbytes()});
                    }
                    assertEquals(plannedBytes(config), model.residentBytes(), config.toString());
                    for (int i = 0; i < config.depth(); i++) {
                        assertTrue(!resident.containsKey("blocks." + i + ".adaLN_modulation.1.weight"), "an unpacked adaLN weight");
                    }
                    // what the model reads, bit for bit: the official weights back, and the adaLN panels as packLinear makes them
                    Map<String, Tensor> back = model.stateDict();
                    for (String key : sd.keySet()) {
                        assertArrayEquals(sd.get(key).toFloatArray(), back.get(key).toFloatArray(), key);
                    }
                    assertPanelsOfTheWholeMap(config, back, new int[] {2, 5}, resident.get("blocks.*.adaLN_modulation.1.weight[gates]"));
                    assertPanelsOfTheWholeMap(config, back, new int[] {0, 1, 3, 4},
                            resident.get("blocks.*.adaLN_modulation.1.weight[shift,scale]"));
                }
            }
        }
    }

    @Test
    void officialSizedConfigsHoldExactlyTheirWeights() {
        DitConfig xlShaped = new DitConfig(8, 2, 4, 128, 3, 2, 4.0, 0.1, 7, true);
        assertEquals(plannedBytes(xlShaped), xlShaped.weightBytes() + 512, "no padding when hidden_size is a multiple of 64");
        try (Arena arena = Arena.ofShared();
             DitModel model = DitModel.fromStateDict(xlShaped, DitWeights.random(xlShaped, 4, arena))) {
            assertEquals(xlShaped.weightBytes() + 512, model.residentBytes());
        }
    }

    @Test
    void loadingAFilePeaksAtOneCopyOfTheWeights(@TempDir Path dir) throws IOException {
        Path clearRefs = Path.of("/proc/self/clear_refs");
        assumeTrue(Files.isWritable(clearRefs), "needs Linux's /proc/self/clear_refs to reset the peak RSS");
        DitConfig config = DitConfig.preset("DiT-S/2");
        Path file = dir.resolve("dit-s2.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Safetensors.write(file, DitWeights.random(config, 5, arena), Map.of());
        }
        try (Arena arena = Arena.ofConfined(); DitModel warm = DitModel.fromStateDict(DitModelTest.TINY,
                DitWeights.random(DitModelTest.TINY, 1, arena))) {
            warm.residentBytes(); // the load path's classes and code, before the measurement
        }
        System.gc();
        HostMemory.releaseFreed(); // the random weights' blocks, or the load would reuse them unseen
        long before = settledRssKb(); // the collector gives heap back in the background: a baseline after that
        Files.writeString(clearRefs, "5"); // VmHWM := VmRSS
        try (DitModel model = DitModel.load(config, file)) {
            long grew = (statusKb("VmHWM") - before) * 1024;
            double ratio = grew / (double) config.weightBytes();
            assertTrue(ratio <= 1.3, "loading " + config.weightBytes() + " bytes of weights raised the peak RSS by " + grew
                    + " bytes (" + ratio + "x); at most 1.3x");
            assertEquals(config.weightBytes() + 512, model.residentBytes());
        }
    }

    /** The official parameters as float32, the packed maps padded to whole panels, and 128 timestep frequencies. */
    private static long plannedBytes(DitConfig c) {
        long C = c.hiddenSize();
        long bytes = c.weightBytes() + 128L * Float.BYTES;
        long[][] packed = {{C, DitWeights.FREQUENCY_EMBEDDING_SIZE}, {C, C}, {2 * C, C}, {2L * c.depth() * C, C},
                {4L * c.depth() * C, C}};
        for (long[] nk : packed) {
            bytes += paddingBytes(nk[0], nk[1]);
        }
        for (int i = 0; i < c.depth(); i++) {
            bytes += paddingBytes(3 * C, C) + paddingBytes(C, C) + paddingBytes(c.mlpHidden(), C) + paddingBytes(C, c.mlpHidden());
        }
        return bytes;
    }

    private static long paddingBytes(long n, long k) {
        return (DitOps.packedShape(n, k).numel() - n * k) * Float.BYTES;
    }

    /** The panels equal {@link DitOps#packLinear} of the blocks' chunks concatenated, padding included. */
    private static void assertPanelsOfTheWholeMap(DitConfig c, Map<String, Tensor> official, int[] chunks,
                                                  org.bytedeco.pytorch.Tensor panels) {
        long C = c.hiddenSize();
        try (PointerScope scope = new PointerScope()) {
            TensorVector parts = new TensorVector();
            for (int i = 0; i < c.depth(); i++) {
                org.bytedeco.pytorch.Tensor w = Torch.wrap(official.get("blocks." + i + ".adaLN_modulation.1.weight"));
                for (int chunk : chunks) {
                    parts.push_back(w.narrow(0, chunk * C, C));
                }
            }
            org.bytedeco.pytorch.Tensor whole = torch.cat(parts, 0);
            Shape shape = DitOps.packedShape(whole.size(0), whole.size(1));
            org.bytedeco.pytorch.Tensor want = torch.empty(shape.toArray());
            DitOps.packLinear(Torch.view(want), Torch.view(whole));
            MemorySegment got = Torch.view(panels).segment();
            assertEquals(-1, Torch.view(want).segment().mismatch(got), "adaLN panels for chunks " + java.util.Arrays.toString(chunks));
        }
    }

    /** VmRSS once it has stopped falling (two readings 100 ms apart within 1 MiB; at most 3 s). */
    private static long settledRssKb() throws IOException {
        long last = statusKb("VmRSS");
        for (int i = 0; i < 30; i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = statusKb("VmRSS");
            if (Math.abs(now - last) < 1024) {
                return now;
            }
            last = now;
        }
        return last;
    }

    private static long statusKb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }
}
