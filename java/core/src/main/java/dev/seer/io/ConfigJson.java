package dev.seer.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one reader of model and autoencoder config files (a JSON object of constructor arguments), for every family:
 * the file is bounded in size and must be UTF-8, the JSON must be one object with nothing after it, every key must
 * be known, and every field is read with its type and bounds checked. Errors name the file, the key, what was
 * expected and what was found ({@link IllegalArgumentException}; {@link IOException} when the file cannot be read).
 */
public final class ConfigJson {
    /** Configs are a few hundred bytes; anything past this is not a config. */
    public static final long MAX_BYTES = 1 << 20;

    private final Path file;
    private final Json.Obj root;

    private ConfigJson(Path file, Json.Obj root) {
        this.file = file;
        this.root = root;
    }

    /**
     * Reads {@code file} as one JSON object whose keys are all in {@code known} ({@code ignored} keys may appear and
     * are not read: e.g. diffusers' {@code _class_name}).
     */
    public static ConfigJson read(Path file, Set<String> known, Set<String> ignored) throws IOException {
        long size = Files.size(file);
        if (size > MAX_BYTES) {
            throw new IllegalArgumentException(file + ": a config file of at most " + MAX_BYTES + " bytes expected, found "
                    + size + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(Files.readAllBytes(file)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": a UTF-8 text file expected, found bytes that are not UTF-8");
        }
        if (text.isBlank()) {
            throw new IllegalArgumentException(file + ": a JSON object expected, found nothing");
        }
        Json.Value parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.SyntaxException e) {
            // After the one value only whitespace may follow ({...} garbage, {...} {...} are refused).
            if (e.trailingContent()) {
                throw new IllegalArgumentException(file + ": one JSON object expected, found more content after it at line "
                        + e.line() + ", column " + e.column());
            }
            throw new IllegalArgumentException(file + ": not valid JSON (" + e.getMessage() + ")");
        }
        if (!(parsed instanceof Json.Obj root)) {
            throw new IllegalArgumentException(file + ": a JSON object expected, found " + parsed.kind());
        }
        for (String k : root.fields().keySet()) {
            if (!known.contains(k) && !ignored.contains(k)) {
                throw new IllegalArgumentException(file + ": unknown key '" + k + "'; expected some of " + new TreeSet<>(known));
            }
        }
        return new ConfigJson(file, root);
    }

    public Path file() {
        return file;
    }

    public boolean has(String key) {
        Json.Value v = root.get(key);
        return v != null && v != Json.Null.NULL;
    }

    /** An integer field in min..max; {@code dflt} when absent. */
    public int intField(String key, int dflt, int min, int max) {
        return has(key) ? intField(key, min, max) : dflt;
    }

    /** A required integer field in min..max. */
    public int intField(String key, int min, int max) {
        Json.Value n = require(key);
        if (!(n instanceof Json.Num num) || !num.fitsLong() || num.longValue() < min || num.longValue() > max) {
            throw bad(key, "an integer in " + min + ".." + max, n.toJson());
        }
        return (int) num.longValue();
    }

    /** A finite number in min..max; {@code dflt} when absent. */
    public double doubleField(String key, double dflt, double min, double max) {
        return has(key) ? doubleField(key, min, max) : dflt;
    }

    /** A required finite number in min..max. */
    public double doubleField(String key, double min, double max) {
        Json.Value n = require(key);
        if (!(n instanceof Json.Num num) || !Double.isFinite(num.doubleValue()) || num.doubleValue() < min
                || num.doubleValue() > max) {
            throw bad(key, "a number in " + min + ".." + max, n.toJson());
        }
        return num.doubleValue();
    }

    /** true or false; {@code dflt} when absent. */
    public boolean booleanField(String key, boolean dflt) {
        if (!has(key)) {
            return dflt;
        }
        Json.Value n = root.get(key);
        if (!(n instanceof Json.Bool b)) {
            throw bad(key, "true or false", n.toJson());
        }
        return b.value();
    }

    /** A required list of integers, each in min..max, of length minLength..maxLength. */
    public int[] intListField(String key, int minLength, int maxLength, int min, int max) {
        Json.Value n = require(key);
        String expected = minLength + ".." + maxLength + " integers in " + min + ".." + max;
        if (!(n instanceof Json.Arr list) || list.size() < minLength || list.size() > maxLength) {
            throw bad(key, "a list of " + expected, abbreviate(n.toJson()));
        }
        List<Integer> out = new ArrayList<>();
        for (Json.Value e : list.items()) {
            if (!(e instanceof Json.Num num) || !num.fitsLong() || num.longValue() < min || num.longValue() > max) {
                throw bad(key, "a list of " + expected, abbreviate(n.toJson()));
            }
            out.add((int) num.longValue());
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A required list of strings of length minLength..maxLength. */
    public List<String> stringListField(String key, int minLength, int maxLength) {
        Json.Value n = require(key);
        String expected = "a list of " + minLength + ".." + maxLength + " strings";
        if (!(n instanceof Json.Arr list) || list.size() < minLength || list.size() > maxLength) {
            throw bad(key, expected, abbreviate(n.toJson()));
        }
        List<String> out = new ArrayList<>();
        for (Json.Value e : list.items()) {
            if (!(e instanceof Json.Str str)) {
                throw bad(key, expected, abbreviate(n.toJson()));
            }
            out.add(str.value());
        }
        return out;
    }

    /** A string field; {@code dflt} when absent. */
    public String stringField(String key, String dflt) {
        if (!has(key)) {
            return dflt;
        }
        Json.Value n = root.get(key);
        if (!(n instanceof Json.Str str)) {
            throw bad(key, "a string", abbreviate(n.toJson()));
        }
        return str.value();
    }

    private Json.Value require(String key) {
        if (!has(key)) {
            throw new IllegalArgumentException(file + ": missing key '" + key + "'");
        }
        return root.get(key);
    }

    private IllegalArgumentException bad(String key, String expected, String found) {
        return new IllegalArgumentException(file + ": '" + key + "' must be " + expected + ", found " + abbreviate(found));
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
