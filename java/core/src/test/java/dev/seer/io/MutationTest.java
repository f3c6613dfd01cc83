package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of valid files: every outcome must be a successful read or the reader's checked exception,
 * never another exception type and never a crash. A successful read also touches every tensor's memory.
 */
class MutationTest {
    /** Per format; the `fuzz` Maven profile raises it to 10,000 (-Dseer.fuzz.variants). */
    private static final int VARIANTS = Integer.getInteger("seer.fuzz.variants", 300);
    /** A reader that takes longer than this on one file counts as a hang. */
    private static final long HANG_NANOS = 10_000_000_000L;

    @TempDir
    Path dir;

    /** What a reader does with a file; throws its checked exception for a rejected file. */
    @FunctionalInterface
    private interface Reader {
        void read(Path file) throws Exception;
    }

    private record Outcome(int accepted, int rejected) {
    }

    private Outcome run(String name, byte[] valid, Mutator mutator, Reader reader, Class<? extends Exception> checked) throws Exception {
        return run(name, VARIANTS, valid, mutator, reader, checked);
    }

    private Outcome run(String name, int variants, byte[] valid, Mutator mutator, Reader reader,
                        Class<? extends Exception> checked) throws Exception {
        Random rnd = new Random(name.hashCode());
        Path file = dir.resolve(name);
        int accepted = 0;
        int rejected = 0;
        long slowest = 0;
        String slowestHow = "";
        for (int i = 0; i < variants; i++) {
            StringBuilder how = new StringBuilder();
            byte[] bytes = mutator.mutate(valid.clone(), rnd, how);
            Files.write(file, bytes);
            long start = System.nanoTime();
            try {
                reader.read(file);
                accepted++;
            } catch (Exception e) {
                if (!checked.isInstance(e)) {
                    fail(name + " variant " + i + " (" + how + ") threw " + e, e);
                }
                rejected++;
            }
            long took = System.nanoTime() - start;
            if (took > HANG_NANOS) {
                fail(name + " variant " + i + " (" + how + ") took over 10 s");
            }
            if (took > slowest) {
                slowest = took;
                slowestHow = "variant " + i + " (" + how.toString().strip() + ")";
            }
        }
        System.out.printf("%s: %d variants, %d accepted, %d rejected; slowest %s: %d ms%n",
                name, variants, accepted, rejected, slowestHow, slowest / 1_000_000);
        return new Outcome(accepted, rejected);
    }

    @FunctionalInterface
    private interface Mutator {
        byte[] mutate(byte[] b, Random rnd, StringBuilder how);
    }

    /** Flips bytes (mostly in the first {@code hot} bytes), truncates, rewrites numbers, or appends. */
    private static Mutator generic(int hot, int lengthFieldAt, boolean bigEndianLengths) {
        return (b, rnd, how) -> {
            switch (rnd.nextInt(6)) {
                case 0, 1 -> {
                    int n = 1 + rnd.nextInt(4);
                    for (int k = 0; k < n; k++) {
                        int at = rnd.nextInt(Math.min(hot, b.length));
                        b[at] = (byte) rnd.nextInt(256);
                        how.append("byte ").append(at).append(' ');
                    }
                    return b;
                }
                case 2 -> {
                    int len = rnd.nextInt(b.length);
                    how.append("truncate to ").append(len);
                    return Arrays.copyOf(b, len);
                }
                case 3 -> {
                    // A length or dimension field: nudge it, or replace it with an extreme value.
                    int at = lengthFieldAt + 4 * rnd.nextInt(bigEndianLengths ? 3 : 1);
                    ByteBuffer buf = ByteBuffer.wrap(b).order(bigEndianLengths ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
                    if (at + 8 > b.length) {
                        return b;
                    }
                    long v = rnd.nextBoolean() ? buf.getInt(at) + (long) (rnd.nextInt(9) - 4) : rnd.nextLong();
                    how.append("number at ").append(at).append(" = ").append(v);
                    if (bigEndianLengths) {
                        buf.putInt(at, (int) v);
                    } else {
                        buf.putLong(at, v);
                    }
                    return b;
                }
                case 4 -> {
                    // Replace one ASCII digit, the most meaningful byte of a JSON header.
                    for (int tries = 0; tries < 50; tries++) {
                        int at = rnd.nextInt(Math.min(hot, b.length));
                        if (b[at] >= '0' && b[at] <= '9') {
                            b[at] = (byte) ('0' + rnd.nextInt(10));
                            how.append("digit ").append(at);
                            break;
                        }
                    }
                    return b;
                }
                default -> {
                    int extra = 1 + rnd.nextInt(16);
                    how.append("append ").append(extra);
                    byte[] longer = Arrays.copyOf(b, b.length + extra);
                    for (int k = b.length; k < longer.length; k++) {
                        longer[k] = (byte) rnd.nextInt(256);
                    }
                    return longer;
                }
            }
        };
    }

    private static void touchAll(SafetensorsFile f) throws CheckpointException {
        long sum = 0;
        for (String key : f.keys()) {
            Tensor t = f.get(key);
            MemorySegment seg = t.segment();
            for (long i = 0; i < seg.byteSize(); i++) {
                sum += seg.get(ValueLayout.JAVA_BYTE, i);
            }
            if (t.dtype().isFloatingPoint()) {
                sum += t.toFloatArray().length;
            }
        }
        assertTrue(sum != Long.MIN_VALUE);
    }

    @Test
    void mutatedSafetensorsFiles() throws Exception {
        byte[] valid;
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("a.weight", Tensor.ofFloats(arena, new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
            tensors.put("b.mask", Tensor.allocate(arena, DType.BOOL, 3));
            tensors.put("c.bias", Tensor.allocate(arena, DType.BF16, 5));
            tensors.put("d.step", Tensor.allocate(arena, DType.I64));
            tensors.put("e.empty", Tensor.allocate(arena, DType.F16, 0, 2));
            Path p = dir.resolve("valid.safetensors");
            Safetensors.write(p, tensors, Map.of("format", "pt", "n", "12345"));
            valid = Files.readAllBytes(p);
        }
        long header = ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        Outcome o = run("m.safetensors", valid, generic((int) header + 8, 0, false), file -> {
            try (SafetensorsFile f = Safetensors.open(file)) {
                touchAll(f);
            }
        }, CheckpointException.class);
        assertTrue(o.accepted > 0 && o.rejected > 0, o.toString());
    }

    @Test
    void mutatedIdxFiles() throws Exception {
        byte[] pixels = new byte[5 * 4 * 4];
        new Random(5).nextBytes(pixels);
        byte[] images = IdxTest.idx(Idx.MAGIC_IMAGES, new int[] {5, 4, 4}, pixels);
        byte[] labels = IdxTest.idx(Idx.MAGIC_LABELS, new int[] {5}, new byte[] {0, 1, 9, 3, 4});
        Reader readImages = Idx::readImages;
        Reader readLabels = file -> Idx.readLabels(file, 10);
        Outcome plain = run("images", images, generic(16, 4, true), readImages, DataFileException.class);
        Outcome gz = run("images.gz", IdxTest.gzip(images), generic(64, 4, true), readImages, DataFileException.class);
        Outcome lab = run("labels.gz", IdxTest.gzip(labels), generic(32, 4, true), readLabels, DataFileException.class);
        Outcome labPlain = run("labels", labels, generic(13, 4, true), readLabels, DataFileException.class);
        for (Outcome o : new Outcome[] {plain, gz, lab, labPlain}) {
            assertTrue(o.rejected > 0, o.toString());
        }
        assertTrue(plain.accepted > 0 && labPlain.accepted > 0, plain + " " + labPlain);
    }

    @Test
    void mutatedPtFiles() throws Exception {
        SeerRuntime.init();
        byte[] valid;
        try (Arena arena = Arena.ofConfined()) {
            Path p = dir.resolve("valid.pt");
            TorchCheckpoints.saveStateDict(p, Map.of("w", Tensor.ofFloats(arena, new float[] {1, 2, 3, 4}, 2, 2)));
            valid = Files.readAllBytes(p);
        }
        Reader readAll = file -> {
            for (Tensor t : TorchCheckpoints.loadStateDict(file).values()) {
                t.segment().toArray(ValueLayout.JAVA_BYTE);
            }
        };
        Outcome o = run("m.pt", valid, generic(valid.length, 0, false), readAll, CheckpointException.class);
        // Python's torch.save: OrderedDicts, an optimizer state, an argparse Namespace.
        byte[] python;
        try (var in = getClass().getResourceAsStream("/io/python/training-checkpoint.pt")) {
            python = in.readAllBytes();
        }
        Outcome py = run("py.pt", python, generic(python.length, 0, false), readAll, CheckpointException.class);
        assertTrue(py.rejected > 0 && py.accepted > 0, py.toString());
        assertTrue(o.rejected > 0, o.toString());
    }
}
