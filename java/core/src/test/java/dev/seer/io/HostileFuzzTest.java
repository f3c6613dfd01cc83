package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.seer.model.dit.DitConfig;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fuzz run over the two formats a user hands Seer most: .pt state dicts (mutated as whole files, and as pickles
 * re-zipped so that the unpickler sees them) and DiT config JSON. Every input must be accepted or refused with the
 * reader's checked exception (CheckpointException; for configs IllegalArgumentException or IOException): never an
 * Error (OutOfMemoryError, StackOverflowError, InternalError), another exception type, or more than
 * {@link #TIMEOUT_SECONDS} on one input. Slow: {@code mvn -B test -pl java/core -Dgroups=slow -Dtest=HostileFuzzTest
 * -Dseer.test.excludedGroups=gpu} ({@code -Dseer.fuzz.inputs=N} per format; default 6000, so 12,000 in all).
 */
@Tag("slow")
class HostileFuzzTest {
    static final int INPUTS = Integer.getInteger("seer.fuzz.inputs", 6000);
    static final long TIMEOUT_SECONDS = 10;

    @TempDir
    Path dir;

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz-input");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void stop() {
        worker.shutdownNow();
    }

    @FunctionalInterface
    interface Reader {
        void read(Path file) throws Exception;
    }

    /** Runs one input on the worker thread with a time limit; returns true if accepted. */
    private boolean run(Reader reader, Path file, String what, Class<?>... allowed) throws Exception {
        Future<?> f = worker.submit(() -> {
            reader.read(file);
            return null;
        });
        try {
            f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return true;
        } catch (TimeoutException e) {
            fail(what + " took over " + TIMEOUT_SECONDS + " s");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            for (Class<?> c : allowed) {
                if (c.isInstance(cause)) {
                    return false;
                }
            }
            fail(what + " threw " + cause, cause);
        }
        return false;
    }

    private static byte[] mutateBytes(byte[] valid, Random rnd, StringBuilder how) {
        byte[] b = valid.clone();
        switch (rnd.nextInt(7)) {
            case 0, 1 -> {
                int n = 1 + rnd.nextInt(6);
                for (int k = 0; k < n && b.length > 0; k++) {
                    int at = rnd.nextInt(b.length);
                    b[at] = (byte) rnd.nextInt(256);
                    how.append("byte ").append(at).append(' ');
                }
            }
            case 2 -> {
                int len = rnd.nextInt(b.length + 1);
                how.append("truncate ").append(len);
                b = Arrays.copyOf(b, len);
            }
            case 3 -> {
                // Delete a slice.
                int from = rnd.nextInt(b.length);
                int to = Math.min(b.length, from + 1 + rnd.nextInt(64));
                how.append("delete ").append(from).append("..").append(to);
                byte[] out = new byte[b.length - (to - from)];
                System.arraycopy(b, 0, out, 0, from);
                System.arraycopy(b, to, out, from, b.length - to);
                b = out;
            }
            case 4 -> {
                // Repeat a slice many times (runs of opcodes: containers, marks, memo puts).
                int from = rnd.nextInt(b.length);
                int len = 1 + rnd.nextInt(Math.min(16, b.length - from));
                int times = 1 + rnd.nextInt(rnd.nextBoolean() ? 16 : 20_000);
                how.append("repeat ").append(from).append('+').append(len).append(" x").append(times);
                byte[] out = new byte[b.length + len * times];
                System.arraycopy(b, 0, out, 0, from);
                for (int t = 0; t < times; t++) {
                    System.arraycopy(b, from, out, from + t * len, len);
                }
                System.arraycopy(b, from, out, from + times * len, b.length - from);
                b = out;
            }
            case 5 -> {
                // Insert a text-argument opcode with a long argument (INT, LONG, GET, PUT, FLOAT, GLOBAL).
                String op = new String[] {"I", "L", "g", "p", "F", "c", "S", "V"}[rnd.nextInt(8)];
                String digits = "9".repeat(1 + rnd.nextInt(rnd.nextBoolean() ? 30 : 100_000));
                int at = rnd.nextInt(b.length + 1);
                how.append("insert ").append(op).append(" of ").append(digits.length()).append(" at ").append(at);
                byte[] ins = (op + (rnd.nextBoolean() ? "-" : "") + digits + "\n").getBytes(StandardCharsets.ISO_8859_1);
                byte[] out = new byte[b.length + ins.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(ins, 0, out, at, ins.length);
                System.arraycopy(b, at, out, at + ins.length, b.length - at);
                b = out;
            }
            default -> {
                // Replace an 8-byte window with an extreme integer (lengths, offsets, sizes).
                if (b.length >= 8) {
                    int at = rnd.nextInt(b.length - 7);
                    long v = new long[] {-1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 62, -(1L << 62), 0xFFFFFFFFL}[rnd.nextInt(6)];
                    how.append("long at ").append(at).append(" = ").append(v);
                    for (int i = 0; i < 8; i++) {
                        b[at + i] = (byte) (v >>> (8 * i));
                    }
                }
            }
        }
        return b;
    }

    @Test
    void mutatedPtFilesAndPicklesAreAcceptedOrRefusedCleanly() throws Exception {
        SeerRuntime.init();
        byte[] saved;
        try (Arena arena = Arena.ofConfined()) {
            Path p = dir.resolve("valid.pt");
            TorchCheckpoints.saveStateDict(p, Map.of("w", Tensor.ofFloats(arena, new float[] {1, 2, 3, 4}, 2, 2),
                    "b", Tensor.ofFloats(arena, new float[] {5, 6}, 2)));
            saved = Files.readAllBytes(p);
        }
        byte[] pickle = new HostileCheckpointsTest.Pickle().op('}').str("w")
                .tensor(4, 0, new long[] {2, 2}, new long[] {2, 1}).op('s').str("b")
                .tensor(2, 2, new long[] {2}, new long[] {1}).op('s').stop();
        byte[] storage = new byte[16];
        Reader readAll = file -> {
            for (Tensor t : TorchCheckpoints.loadStateDict(file).values()) {
                t.segment().toArray(ValueLayout.JAVA_BYTE);
            }
        };
        Random rnd = new Random(21);
        Path file = dir.resolve("m.pt");
        int accepted = 0;
        long start = System.nanoTime();
        for (int i = 0; i < INPUTS; i++) {
            StringBuilder how = new StringBuilder();
            boolean wholeFile = i % 2 == 0;
            byte[] b = wholeFile ? mutateBytes(saved, rnd, how)
                    : HostileCheckpointsTest.zip("archive/data.pkl", mutateBytes(pickle, rnd, how), "archive/data/0", storage);
            Files.write(file, b);
            if (run(readAll, file, ".pt input " + i + " (" + (wholeFile ? "file" : "pickle") + ": " + how + ")",
                    CheckpointException.class)) {
                accepted++;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("HostileFuzzTest .pt: %d inputs, %d accepted, %d refused, %.1f s%n", INPUTS, accepted,
                INPUTS - accepted, seconds);
        assertTrue(accepted > 0 && accepted < INPUTS);
    }

    @Test
    void mutatedConfigsAreAcceptedOrRefusedCleanly() throws Exception {
        byte[] valid = DitConfig.preset("DiT-S/2").toJson().getBytes(StandardCharsets.UTF_8);
        String[] extremes = {"1e308", "-1", "0", "2147483648", "9223372036854775808", "1e-320", "NaN", "\"8\"", "[8]",
                "{}", "null", "true", "1.5", "65536", "1024", "99999999999999999999999999999"};
        Random rnd = new Random(22);
        Path file = dir.resolve("config.json");
        int accepted = 0;
        long start = System.nanoTime();
        for (int i = 0; i < INPUTS; i++) {
            StringBuilder how = new StringBuilder();
            byte[] b;
            if (rnd.nextBoolean()) {
                b = mutateBytes(valid, rnd, how);
            } else {
                // Replace one field's value with an extreme one.
                String json = new String(valid, StandardCharsets.UTF_8);
                String[] keys = DitConfig.CONFIG_KEYS.toArray(String[]::new);
                String key = keys[rnd.nextInt(keys.length)];
                String value = extremes[rnd.nextInt(extremes.length)];
                how.append(key).append(" = ").append(value);
                b = json.replaceFirst("\"" + key + "\": [^,}]+", "\"" + key + "\": " + value).getBytes(StandardCharsets.UTF_8);
            }
            Files.write(file, b);
            if (run(DitConfig::fromJson, file, "config input " + i + " (" + how + ")", IllegalArgumentException.class,
                    java.io.IOException.class)) {
                accepted++;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("HostileFuzzTest config: %d inputs, %d accepted, %d refused, %.1f s%n", INPUTS, accepted,
                INPUTS - accepted, seconds);
        assertTrue(accepted > 0 && accepted < INPUTS);
    }
}
