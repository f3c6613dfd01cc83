package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The core's JSON reader against a second, independent parser (Jackson, a test dependency only). */
class JsonTest {
    private static final ObjectMapper JACKSON = new ObjectMapper();

    @Test
    void readsEveryKindOfValue() throws Exception {
        Json.Value v = Json.parse(" {\"a\": [1, -2.5e3, true, false, null], \"b\": {\"c\": \"x\\n\\u00e9\\\"\"}} ");
        Json.Obj o = assertInstanceOf(Json.Obj.class, v);
        assertEquals(List.of("a", "b"), List.copyOf(o.fields().keySet()));
        Json.Arr a = assertInstanceOf(Json.Arr.class, o.get("a"));
        assertEquals(5, a.size());
        assertEquals(1L, ((Json.Num) a.get(0)).longValue());
        assertEquals(-2500.0, ((Json.Num) a.get(1)).doubleValue());
        assertFalse(((Json.Num) a.get(1)).isIntegral());
        assertEquals(new Json.Bool(true), a.get(2));
        assertEquals(Json.Null.NULL, a.get(4));
        assertEquals("x\n\u00e9\"", ((Json.Str) ((Json.Obj) o.get("b")).get("c")).value());
    }

    @Test
    void integersBeyondALongAreToldApart() throws Exception {
        Json.Num big = (Json.Num) Json.parse("9223372036854775808");
        assertTrue(big.isIntegral());
        assertFalse(big.fitsLong());
        assertTrue(((Json.Num) Json.parse("-9223372036854775808")).fitsLong());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "1.", ".5", "-", "1e", "+1", "NaN",
            "Infinity", "tru", "nul", "\"abc", "\"a\tb\"", "\"\\x\"", "\"\\u12\"", "{\"a\" 1}", "[1 2]", "{1:2}",
            "{\"a\":1} x", "[] []", "truex", "1a"})
    void refusesWhatJsonDoesNotAllow(String text) {
        assertThrows(Json.SyntaxException.class, () -> Json.parse(text), text);
        assertThrows(Exception.class, () -> {
            JsonNode n = JACKSON.readTree(text);
            if (n == null || n.isMissingNode() || text.isBlank()) {
                throw new IllegalStateException("empty");
            }
            // Jackson stops after the first value; what follows it must be refused too.
            try (var p = JACKSON.createParser(text)) {
                p.readValueAsTree();
                if (p.nextToken() != null) {
                    throw new IllegalStateException("trailing");
                }
            }
        }, "the oracle refuses it too: " + text);
    }

    @Test
    void duplicateKeysNestingAndLengthsAreBounded() {
        var dup = assertThrows(Json.SyntaxException.class, () -> Json.parse("{\"k\":1,\"k\":2}"));
        assertTrue(dup.getMessage().contains("duplicate key \"k\""), dup.getMessage());
        assertEquals(7, dup.offset());
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        var nest = assertThrows(Json.SyntaxException.class, () -> Json.parse(deep, new Json.Limits(8, 100, 40)));
        assertTrue(nest.getMessage().contains("nesting depth 9"), nest.getMessage());
        assertThrows(Json.SyntaxException.class, () -> Json.parse("\"" + "a".repeat(101) + "\"", new Json.Limits(8, 100, 40)));
        assertThrows(Json.SyntaxException.class, () -> Json.parse("1".repeat(41), new Json.Limits(8, 100, 40)));
    }

    @Test
    void trailingContentIsReportedWithItsLine() {
        var e = assertThrows(Json.SyntaxException.class, () -> Json.parse("{\"a\": 1}\n  garbage"));
        assertTrue(e.trailingContent());
        assertEquals(2, e.line());
        assertEquals(3, e.column());
    }

    @Test
    void randomDocumentsReadAsJacksonReadsThemAndWriteBack() throws Exception {
        Random rnd = new Random(7);
        for (int i = 0; i < 300; i++) {
            String text = JACKSON.writeValueAsString(randomValue(rnd, 0));
            Json.Value ours = Json.parse(text);
            assertEquals(JACKSON.readTree(text), JACKSON.readTree(ours.toJson()), text);
            assertEquals(ours, Json.parse(ours.toJson()));
        }
    }

    private static Object randomValue(Random rnd, int depth) {
        int kind = rnd.nextInt(depth > 3 ? 5 : 7);
        return switch (kind) {
            case 0 -> rnd.nextLong();
            case 1 -> rnd.nextDouble() * Math.pow(10, rnd.nextInt(40) - 20);
            case 2 -> randomString(rnd);
            case 3 -> rnd.nextBoolean();
            case 4 -> null;
            case 5 -> {
                var m = new java.util.LinkedHashMap<String, Object>();
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    m.put(randomString(rnd), randomValue(rnd, depth + 1));
                }
                yield m;
            }
            default -> {
                var l = new java.util.ArrayList<Object>();
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    l.add(randomValue(rnd, depth + 1));
                }
                yield l;
            }
        };
    }

    private static String randomString(Random rnd) {
        StringBuilder sb = new StringBuilder();
        for (int i = rnd.nextInt(8); i > 0; i--) {
            sb.append((char) (rnd.nextInt(5) == 0 ? rnd.nextInt(0x20) : 0x20 + rnd.nextInt(0x2000)));
        }
        return sb.toString();
    }

    @Test
    void objectsKeepTheirOrder() throws Exception {
        Json.Obj o = (Json.Obj) Json.parse("{\"z\":1,\"a\":2,\"m\":3}");
        assertEquals(List.of("z", "a", "m"), List.copyOf(o.fields().keySet()));
        assertEquals("{\"z\":1,\"a\":2,\"m\":3}", o.toJson());
        assertEquals("{}", new Json.Obj(Map.of()).toJson());
    }
}
