package dev.seer.model.dit;

import dev.seer.model.WeightsMismatchException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.io.TorchCheckpoints;
import dev.seer.tensor.Tensor;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A weights file truncated after it was mapped and before the model copies it (as when a checkpoint is rewritten
 * in place while a service loads it): a refusal naming the tensor, never a JVM crash. Before the copy went through
 * Java, libtorch's native copy touched the vanished pages and the JVM died of SIGBUS.
 */
class TruncatedWhileLoadingTest {
    @TempDir
    Path dir;

    private static void truncate(Path file) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(0);
        }
    }

    @Test
    void ptTruncatedAfterMappingIsRefused() throws Exception {
        Path file = dir.resolve("weights.pt");
        try (Arena arena = Arena.ofConfined()) {
            TorchCheckpoints.saveStateDict(file, DitWeights.random(DitModelTest.TINY, 1, arena));
        }
        Map<String, Tensor> mapped = TorchCheckpoints.loadStateDict(file);
        truncate(file);
        WeightsMismatchException e = assertThrows(WeightsMismatchException.class,
                () -> DitModel.fromStateDict(DitModelTest.TINY, mapped));
        assertTrue(e.getMessage().contains("truncated or rewritten during the load"), e.getMessage());
        assertEquals("pos_embed", e.key(), "the first tensor copied");
    }

    @Test
    void safetensorsTruncatedAfterMappingIsRefused() throws Exception {
        Path file = dir.resolve("weights.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Safetensors.write(file, DitWeights.random(DitModelTest.TINY, 1, arena));
        }
        try (SafetensorsFile f = Safetensors.open(file)) {
            Map<String, Tensor> sd = new LinkedHashMap<>();
            for (String key : f.keys()) {
                sd.put(key, f.get(key));
            }
            truncate(file);
            WeightsMismatchException e = assertThrows(WeightsMismatchException.class,
                    () -> DitModel.fromStateDict(DitModelTest.TINY, sd));
            assertTrue(e.getMessage().contains("could not be read"), e.getMessage());
        }
    }
}
