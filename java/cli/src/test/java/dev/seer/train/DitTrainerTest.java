package dev.seer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seer.io.CheckpointException;
import dev.seer.io.Idx;
import dev.seer.model.dit.DitConfig;
import dev.seer.model.dit.DitModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DitTrainerTest {
    /** 8 x 8 images, patch 4 (4 tokens), depth 2, hidden 32, 3 classes. */
    static final DitConfig TINY = new DitConfig(8, 4, 1, 32, 2, 2, 4.0, 0.1, 3, true);

    static Idx.ImageSet images(int n) {
        // Class k: a bright k-th third of the image on a dark background, plus some noise.
        Random rnd = new Random(5);
        byte[] px = new byte[n * 64];
        for (int i = 0; i < n; i++) {
            int k = i % 3;
            for (int p = 0; p < 64; p++) {
                int col = p % 8;
                int v = (col * 3 / 8 == k ? 220 : 20) + rnd.nextInt(20);
                px[i * 64 + p] = (byte) v;
            }
        }
        return new Idx.ImageSet(n, 8, 8, px);
    }

    static byte[] labels(int n) {
        byte[] l = new byte[n];
        for (int i = 0; i < n; i++) {
            l[i] = (byte) (i % 3);
        }
        return l;
    }

    static TrainOptions options(double lr) {
        return new TrainOptions(TINY, 6, lr, 0.0, 0.9, 0.999, 1e-8, 0.9, 7, 100);
    }

    @Test
    void lossDecreasesOnATinySet() {
        try (DitTrainer t = new DitTrainer(options(3e-3), images(12), labels(12))) {
            double first = 0;
            double last = 0;
            int steps = 150;
            for (int s = 0; s < steps; s++) {
                double l = t.trainStep();
                assertTrue(Double.isFinite(l), "loss at step " + s + " is " + l);
                if (s < 20) {
                    first += l / 20;
                }
                if (s >= steps - 20) {
                    last += l / 20;
                }
            }
            assertTrue(last < 0.7 * first, "mean loss of the first 20 steps " + first + ", of the last 20 " + last);
        }
    }

    @Test
    void resumedTrainingIsIdenticalToUninterruptedTraining(@TempDir Path dir) throws Exception {
        Map<String, float[]> straight;
        Map<String, float[]> straightModel;
        try (DitTrainer t = new DitTrainer(options(1e-3), images(12), labels(12))) {
            for (int s = 0; s < 4; s++) {
                t.trainStep();
            }
            straight = arrays(t.emaStateDict());
            straightModel = arrays(t.modelStateDict());
        }
        Path ckpt = dir.resolve("ckpt.safetensors");
        try (DitTrainer t = new DitTrainer(options(1e-3), images(12), labels(12))) {
            t.trainStep();
            t.trainStep();
            t.saveCheckpoint(ckpt);
            t.trainStep(); // lost: not in the checkpoint
        }
        try (DitTrainer t = new DitTrainer(options(1e-3), images(12), labels(12))) {
            t.loadCheckpoint(ckpt);
            assertEquals(2, t.step());
            t.trainStep();
            t.trainStep();
            Map<String, float[]> resumed = arrays(t.emaStateDict());
            Map<String, float[]> resumedModel = arrays(t.modelStateDict());
            assertEquals(straight.keySet(), resumed.keySet());
            for (String k : straight.keySet()) {
                assertArrayEquals(straight.get(k), resumed.get(k), "EMA " + k);
                assertArrayEquals(straightModel.get(k), resumedModel.get(k), "weights " + k);
            }
        }
    }

    @Test
    void checkpointOfOtherOptionsIsRefused(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("ckpt.safetensors");
        try (DitTrainer t = new DitTrainer(options(1e-3), images(12), labels(12))) {
            t.trainStep();
            t.saveCheckpoint(ckpt);
        }
        try (DitTrainer t = new DitTrainer(options(2e-3), images(12), labels(12))) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> t.loadCheckpoint(ckpt));
            assertTrue(e.getMessage().contains("same options"), e.getMessage());
        }
    }

    @Test
    void emaWeightsLoadAsADitModel(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("ema.safetensors");
        try (DitTrainer t = new DitTrainer(options(1e-3), images(12), labels(12))) {
            t.trainStep();
            t.saveEma(out);
        }
        try (DitModel m = DitModel.load(TINY, out)) {
            assertEquals(TINY, m.config());
        }
        DitConfig wider = new DitConfig(8, 4, 1, 64, 2, 2, 4.0, 0.1, 3, true);
        CheckpointException e = assertThrows(CheckpointException.class, () -> DitModel.load(wider, out));
        assertTrue(e.getMessage().contains("shape"), e.getMessage());
    }

    @Test
    void lossLogKeepsTheRowsUpToTheResumedStep(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("loss.csv");
        try (LossLog log = LossLog.open(csv, 0)) {
            for (int s = 1; s <= 5; s++) {
                log.append(s, 1.0 / s, s);
            }
        }
        try (LossLog log = LossLog.open(csv, 3)) {
            log.append(4, 0.9, 4);
        }
        List<double[]> rows = LossLog.read(csv);
        assertEquals(4, rows.size());
        assertEquals(0.9, rows.get(3)[1], 1e-9);
    }

    private static Map<String, float[]> arrays(Map<String, dev.seer.tensor.Tensor> sd) {
        Map<String, float[]> out = new java.util.TreeMap<>();
        sd.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }
}
