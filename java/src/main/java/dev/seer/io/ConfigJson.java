package dev.seer.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
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

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private final Path file;
    private final JsonNode root;

    private ConfigJson(Path file, JsonNode root) {
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
        JsonNode root;
        try (JsonParser parser = MAPPER.createParser(text)) {
            root = MAPPER.readTree(parser);
            // After the one value only whitespace may follow ({...} garbage, {...} {...} are refused).
            try {
                if (root != null && parser.nextToken() != null) {
                    throw new IllegalArgumentException(file + ": one JSON object expected, found more content after it at "
                            + where(parser));
                }
            } catch (IOException e) {
                throw new IllegalArgumentException(file + ": one JSON object expected, found more content after it at "
                        + where(parser));
            }
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            throw new IllegalArgumentException(file + ": not valid JSON (" + why + ")");
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": a JSON object expected, found "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        for (var it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
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
        return root.has(key) && !root.get(key).isNull();
    }

    /** An integer field in min..max; {@code dflt} when absent. */
    public int intField(String key, int dflt, int min, int max) {
        return has(key) ? intField(key, min, max) : dflt;
    }

    /** A required integer field in min..max. */
    public int intField(String key, int min, int max) {
        JsonNode n = require(key);
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw bad(key, "an integer in " + min + ".." + max, n.toString());
        }
        long v = n.longValue();
        if (v < min || v > max) {
            throw bad(key, "an integer in " + min + ".." + max, n.toString());
        }
        return (int) v;
    }

    /** A finite number in min..max; {@code dflt} when absent. */
    public double doubleField(String key, double dflt, double min, double max) {
        return has(key) ? doubleField(key, min, max) : dflt;
    }

    /** A required finite number in min..max. */
    public double doubleField(String key, double min, double max) {
        JsonNode n = require(key);
        if (!n.isNumber() || !Double.isFinite(n.doubleValue()) || n.doubleValue() < min || n.doubleValue() > max) {
            throw bad(key, "a number in " + min + ".." + max, n.toString());
        }
        return n.doubleValue();
    }

    /** true or false; {@code dflt} when absent. */
    public boolean booleanField(String key, boolean dflt) {
        if (!has(key)) {
            return dflt;
        }
        JsonNode n = root.get(key);
        if (!n.isBoolean()) {
            throw bad(key, "true or false", n.toString());
        }
        return n.booleanValue();
    }

    /** A required list of integers, each in min..max, of length minLength..maxLength. */
    public int[] intListField(String key, int minLength, int maxLength, int min, int max) {
        JsonNode n = require(key);
        String expected = minLength + ".." + maxLength + " integers in " + min + ".." + max;
        if (!n.isArray() || n.size() < minLength || n.size() > maxLength) {
            throw bad(key, "a list of " + expected, abbreviate(n.toString()));
        }
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isIntegralNumber() || !e.canConvertToLong() || e.longValue() < min || e.longValue() > max) {
                throw bad(key, "a list of " + expected, abbreviate(n.toString()));
            }
            out.add(e.intValue());
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A required list of strings of length minLength..maxLength. */
    public List<String> stringListField(String key, int minLength, int maxLength) {
        JsonNode n = require(key);
        String expected = "a list of " + minLength + ".." + maxLength + " strings";
        if (!n.isArray() || n.size() < minLength || n.size() > maxLength) {
            throw bad(key, expected, abbreviate(n.toString()));
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw bad(key, expected, abbreviate(n.toString()));
            }
            out.add(e.textValue());
        }
        return out;
    }

    /** A string field; {@code dflt} when absent. */
    public String stringField(String key, String dflt) {
        if (!has(key)) {
            return dflt;
        }
        JsonNode n = root.get(key);
        if (!n.isTextual()) {
            throw bad(key, "a string", abbreviate(n.toString()));
        }
        return n.textValue();
    }

    private static String where(JsonParser parser) {
        var at = parser.currentLocation();
        return "line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    private JsonNode require(String key) {
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
