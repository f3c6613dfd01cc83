package dev.seer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigJsonTest {
    @TempDir
    Path dir;

    private ConfigJson read(String text) throws Exception {
        Path f = dir.resolve("c.json");
        Files.writeString(f, text);
        return ConfigJson.read(f, Set.of("a", "b", "list"), Set.of("_class_name"));
    }

    private String refusal(String text) {
        return assertThrows(IllegalArgumentException.class, () -> read(text)).getMessage();
    }

    @Test
    void readsTypedFieldsWithDefaults() throws Exception {
        ConfigJson c = read("{\"a\": 3, \"list\": [1, 2], \"_class_name\": \"X\"}");
        assertEquals(3, c.intField("a", 7, 1, 10));
        assertEquals(7, c.intField("b", 7, 1, 10));
        assertArrayEquals(new int[] {1, 2}, c.intListField("list", 1, 4, 0, 5));
        assertEquals(2.5, c.doubleField("b", 2.5, 0, 10));
    }

    @Test
    void refusesTrailingContentUnknownKeysAndBadValues() throws Exception {
        assertTrue(refusal("{\"a\": 1} garbage").contains("one JSON object expected, found more content after it at line 1"));
        assertTrue(refusal("{\"a\": 1} {\"a\": 2}").contains("one JSON object expected, found more content after it at line 1"));
        assertTrue(refusal("{\"a\": 1, \"a\": 2}").contains("not valid JSON"));
        assertTrue(refusal("[1]").contains("a JSON object expected, found array"));
        assertTrue(refusal("{\"zz\": 1}").contains("unknown key 'zz'"));
        String m = assertThrows(IllegalArgumentException.class, () -> read("{\"a\": 1000000000000}").intField("a", 1, 1, 10)).getMessage();
        assertTrue(m.contains("'a' must be an integer in 1..10, found 1000000000000"), m);
        m = assertThrows(IllegalArgumentException.class, () -> read("{}").intField("a", 1, 10)).getMessage();
        assertTrue(m.contains("missing key 'a'"), m);
    }

    @Test
    void refusesBytesThatAreNotUtf8() throws Exception {
        Path f = dir.resolve("bad.json");
        Files.write(f, new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'});
        String m = assertThrows(IllegalArgumentException.class, () -> ConfigJson.read(f, Set.of("a"), Set.of())).getMessage();
        assertTrue(m.contains("not UTF-8"), m);
    }
}
