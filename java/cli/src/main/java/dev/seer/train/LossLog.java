package dev.seer.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The training loss as CSV ({@code step,loss,wall_seconds}, one row per step). Opening it for a run that resumes at
 * step s keeps the rows up to s and drops any later ones (written after the checkpoint the run resumes from).
 */
public final class LossLog implements AutoCloseable {
    /** The header line. */
    public static final String HEADER = "step,loss,wall_seconds";
    private final BufferedWriter out;

    private LossLog(BufferedWriter out) {
        this.out = out;
    }

    /** Opens {@code file} for a run at step {@code resumeStep} (0 for a fresh run, which starts a new file). */
    public static LossLog open(Path file, long resumeStep) throws IOException {
        List<String> keep = new ArrayList<>();
        keep.add(HEADER);
        if (resumeStep > 0 && Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int comma = line.indexOf(',');
                if (comma > 0 && !line.startsWith("step")) {
                    try {
                        if (Long.parseLong(line.substring(0, comma)) <= resumeStep) {
                            keep.add(line);
                        }
                    } catch (NumberFormatException e) {
                        // a torn last line from an interrupted run: dropped
                    }
                }
            }
        }
        Files.write(file, keep, StandardCharsets.UTF_8);
        return new LossLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
    }

    public void append(long step, double loss, double wallSeconds) throws IOException {
        out.write(String.format(Locale.ROOT, "%d,%.6f,%.2f%n", step, loss, wallSeconds));
    }

    public void flush() throws IOException {
        out.flush();
    }

    /** Reads a log: rows of {step, loss, wall seconds}. */
    public static List<double[]> read(Path file) throws IOException {
        List<double[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.split(",");
            if (f.length == 3 && !f[0].equals("step")) {
                try {
                    rows.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])});
                } catch (NumberFormatException e) {
                    // torn line
                }
            }
        }
        return rows;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
