package dev.seer.model.flux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The chunks of modulations a FLUX run computes ahead: their size, and that chunking does not change a run. */
class FluxModulationsTest {

    @Test
    void aChunkStaysWithinItsBytes() {
        FluxParams dev = FluxParams.dev();
        // FLUX-dev: (12 * 19 + 3 * 38 + 2) * 3072 floats = 4.23 MB per step and batch row
        assertEquals(4L * 3072 * 344, FluxModel.modulationBytesPerRow(dev));
        assertEquals(15, FluxModel.chunkSteps(dev, 1));
        assertEquals(3, FluxModel.chunkSteps(dev, 4));
        assertEquals(1, FluxModel.chunkSteps(dev, 64), "a step's rows are computed even past the bound");
        for (int batch : new int[] {1, 2, 3, 4, 7, 15}) {
            assertTrue(FluxModel.chunkSteps(dev, batch) * batch * FluxModel.modulationBytesPerRow(dev) <= FluxModel.CHUNK_BYTES);
        }
        FluxParams tiny = FluxTestModels.tiny(true);
        assertEquals(FluxModel.CHUNK_STEPS, FluxModel.chunkSteps(tiny, 2));
    }
}
