package dev.seer.examples.service;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.ArrayList;
import java.util.Map;

/** The chunks of a PNG response, for the tests: types in order and the text chunks' values. */
record Png(List<String> chunkTypes, Map<String, String> texts) {
    static Png read(byte[] bytes) {
        List<String> types = new ArrayList<>();
        Map<String, String> texts = new LinkedHashMap<>();
        ByteBuffer b = ByteBuffer.wrap(bytes);
        b.position(8);
        while (b.remaining() >= 12) {
            int length = b.getInt();
            byte[] type = new byte[4];
            b.get(type);
            if (length < 0 || length > b.remaining() - 4) {
                break; // cut short
            }
            byte[] data = new byte[length];
            b.get(data);
            b.getInt(); // CRC (ImageIO checks the complete images)
            String t = new String(type, StandardCharsets.US_ASCII);
            types.add(t);
            if (t.equals("tEXt")) {
                int zero = 0;
                while (data[zero] != 0) {
                    zero++;
                }
                texts.put(new String(data, 0, zero, StandardCharsets.ISO_8859_1),
                        new String(data, zero + 1, data.length - zero - 1, StandardCharsets.ISO_8859_1));
            }
        }
        return new Png(types, texts);
    }

    boolean complete() {
        return !chunkTypes.isEmpty() && chunkTypes.getLast().equals("IEND");
    }
}
