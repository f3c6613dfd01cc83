package dev.seer.io;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON reader and writer for the headers and config files Seer reads (RFC 8259, nothing more): one
 * value per text with only whitespace after it, duplicate object keys refused, nesting and string lengths bounded,
 * no NaN or Infinity. Values keep their order; numbers keep their text so that integers beyond 64 bits are told
 * apart from those that fit. The core library carries no JSON dependency of its own.
 */
public final class Json {
    private Json() {
    }

    /** A parsed JSON value. */
    public sealed interface Value permits Obj, Arr, Str, Num, Bool, Null {
        /** What the value is, for messages: "object", "array", "string", "number 12", "boolean", "null". */
        default String kind() {
            return switch (this) {
                case Obj o -> "object";
                case Arr a -> "array";
                case Str s -> "string";
                case Num n -> "number " + n.text();
                case Bool b -> "boolean";
                case Null n -> "null";
            };
        }

        /** The value written back as compact JSON. */
        default String toJson() {
            StringBuilder sb = new StringBuilder();
            write(this, sb);
            return sb.toString();
        }
    }

    /** An object; its fields in the order they were read (or put). */
    public record Obj(Map<String, Value> fields) implements Value {
        public Obj {
            fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }

        /** The field's value, or null when absent. */
        public Value get(String key) {
            return fields.get(key);
        }
    }

    public record Arr(List<Value> items) implements Value {
        public Arr {
            items = List.copyOf(items);
        }

        public int size() {
            return items.size();
        }

        public Value get(int i) {
            return items.get(i);
        }
    }

    public record Str(String value) implements Value {
    }

    /** A number as written; {@link #isIntegral()} when it has neither fraction nor exponent (as JSON parsers count). */
    public record Num(String text) implements Value {
        public static Num of(long v) {
            return new Num(Long.toString(v));
        }

        public boolean isIntegral() {
            return text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0;
        }

        /** Whether it is an integer that fits in a long. */
        public boolean fitsLong() {
            if (!isIntegral()) {
                return false;
            }
            try {
                Long.parseLong(text);
                return true;
            } catch (NumberFormatException e) {
                return false;
            }
        }

        /** The value as a long; only when {@link #fitsLong()}. */
        public long longValue() {
            return Long.parseLong(text);
        }

        public double doubleValue() {
            return Double.parseDouble(text);
        }
    }

    public record Bool(boolean value) implements Value {
    }

    public enum Null implements Value {
        NULL
    }

    /** Malformed JSON: a message, and where in the text (character offset, 1-based line and column). */
    public static final class SyntaxException extends Exception {
        private final String reason;
        private final int offset;
        private final int line;
        private final int column;
        private final boolean trailingContent;

        SyntaxException(String message, int offset, int line, int column, boolean trailingContent) {
            super(message + " (at character " + offset + ", line " + line + ", column " + column + ")");
            this.reason = message;
            this.offset = offset;
            this.line = line;
            this.column = column;
            this.trailingContent = trailingContent;
        }

        /** What is wrong, without where. */
        public String reason() {
            return reason;
        }

        public int offset() {
            return offset;
        }

        public int line() {
            return line;
        }

        public int column() {
            return column;
        }

        /** Whether the text held a complete value followed by more content. */
        public boolean trailingContent() {
            return trailingContent;
        }
    }

    /** Nesting and length bounds of a parse; a hostile file cannot make the reader recurse or allocate past them. */
    public record Limits(int maxDepth, int maxStringLength, int maxNumberLength) {
        /** For config and index files: deep enough for any of them, far below a stack overflow. */
        public static final Limits DEFAULT = new Limits(64, 16 * 1024 * 1024, 1000);
    }

    /** Parses {@code text} as exactly one JSON value (whitespace around it allowed) with {@link Limits#DEFAULT}. */
    public static Value parse(String text) throws SyntaxException {
        return parse(text, Limits.DEFAULT);
    }

    /** Parses {@code text} as exactly one JSON value (whitespace around it allowed). */
    public static Value parse(String text, Limits limits) throws SyntaxException {
        Reader r = new Reader(text, limits);
        r.skipWhitespace();
        if (r.pos == text.length()) {
            throw r.error("no JSON value (the text is empty)");
        }
        Value v = r.value(1);
        r.skipWhitespace();
        if (r.pos != text.length()) {
            throw new SyntaxException("more content after the JSON value", r.pos, r.line(), r.column(), true);
        }
        return v;
    }

    /** {@code s} as a JSON string literal, quotes included. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        quote(s, sb);
        return sb.toString();
    }

    private static void write(Value v, StringBuilder sb) {
        switch (v) {
            case Obj o -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<String, Value> e : o.fields().entrySet()) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    quote(e.getKey(), sb);
                    sb.append(':');
                    write(e.getValue(), sb);
                }
                sb.append('}');
            }
            case Arr a -> {
                sb.append('[');
                for (int i = 0; i < a.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    write(a.get(i), sb);
                }
                sb.append(']');
            }
            case Str s -> quote(s.value(), sb);
            case Num n -> sb.append(n.text());
            case Bool b -> sb.append(b.value());
            case Null n -> sb.append("null");
        }
    }

    private static void quote(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Recursive descent over the text; depth is checked before every nested value. */
    private static final class Reader {
        private final String text;
        private final Limits limits;
        private int pos;

        Reader(String text, Limits limits) {
            this.text = text;
            this.limits = limits;
        }

        Value value(int depth) throws SyntaxException {
            if (pos >= text.length()) {
                throw error("unexpected end of input; a value expected");
            }
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> new Str(string());
                case 't' -> literal("true", new Bool(true));
                case 'f' -> literal("false", new Bool(false));
                case 'n' -> literal("null", Null.NULL);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield number();
                    }
                    throw error("unexpected character " + describe(c) + "; a value expected");
                }
            };
        }

        private void enter(int depth) throws SyntaxException {
            if (depth > limits.maxDepth()) {
                throw error("nesting depth " + depth + " exceeds the maximum of " + limits.maxDepth());
            }
        }

        private Value object(int depth) throws SyntaxException {
            enter(depth);
            pos++; // '{'
            Map<String, Value> fields = new LinkedHashMap<>();
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return new Obj(fields);
            }
            while (true) {
                skipWhitespace();
                if (peek() != '"') {
                    throw error("a quoted key expected, found " + describeHere());
                }
                int keyAt = pos;
                String key = string();
                if (fields.containsKey(key)) {
                    pos = keyAt;
                    throw error("duplicate key " + quote(abbreviate(key)));
                }
                skipWhitespace();
                if (peek() != ':') {
                    throw error("':' expected after key " + quote(abbreviate(key)) + ", found " + describeHere());
                }
                pos++;
                skipWhitespace();
                fields.put(key, value(depth + 1));
                skipWhitespace();
                char c = peek();
                pos++;
                if (c == '}') {
                    return new Obj(fields);
                }
                if (c != ',') {
                    pos--;
                    throw error("',' or '}' expected in an object, found " + describeHere());
                }
            }
        }

        private Value array(int depth) throws SyntaxException {
            enter(depth);
            pos++; // '['
            List<Value> items = new ArrayList<>();
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return new Arr(items);
            }
            while (true) {
                skipWhitespace();
                items.add(value(depth + 1));
                skipWhitespace();
                char c = peek();
                pos++;
                if (c == ']') {
                    return new Arr(items);
                }
                if (c != ',') {
                    pos--;
                    throw error("',' or ']' expected in an array, found " + describeHere());
                }
            }
        }

        private String string() throws SyntaxException {
            int start = pos;
            pos++; // opening quote
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= text.length()) {
                    pos = start;
                    throw error("unterminated string");
                }
                char c = text.charAt(pos++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c < 0x20) {
                    pos--;
                    throw error("control character " + describe(c) + " inside a string (it must be escaped)");
                }
                if (c == '\\') {
                    if (pos >= text.length()) {
                        throw error("unterminated escape");
                    }
                    char e = text.charAt(pos++);
                    switch (e) {
                        case '"', '\\', '/' -> sb.append(e);
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'u' -> {
                            if (pos + 4 > text.length()) {
                                throw error("a \\u escape needs 4 hex digits");
                            }
                            int v = 0;
                            for (int i = 0; i < 4; i++) {
                                int d = Character.digit(text.charAt(pos + i), 16);
                                if (d < 0) {
                                    throw error("a \\u escape needs 4 hex digits");
                                }
                                v = v * 16 + d;
                            }
                            pos += 4;
                            sb.append((char) v);
                        }
                        default -> {
                            pos--;
                            throw error("unknown escape \\" + e);
                        }
                    }
                } else {
                    sb.append(c);
                }
                if (sb.length() > limits.maxStringLength()) {
                    pos = start;
                    throw error("a string longer than the maximum of " + limits.maxStringLength() + " characters");
                }
            }
        }

        private Value number() throws SyntaxException {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            if (peek() == '0') {
                pos++;
            } else if (isDigit(peek())) {
                digits();
            } else {
                throw error("a digit expected in a number, found " + describeHere());
            }
            if (peek() == '.') {
                pos++;
                if (!isDigit(peek())) {
                    throw error("a digit expected after the decimal point, found " + describeHere());
                }
                digits();
            }
            if (peek() == 'e' || peek() == 'E') {
                pos++;
                if (peek() == '+' || peek() == '-') {
                    pos++;
                }
                if (!isDigit(peek())) {
                    throw error("a digit expected in the exponent, found " + describeHere());
                }
                digits();
            }
            if (pos - start > limits.maxNumberLength()) {
                pos = start;
                throw error("a number longer than the maximum of " + limits.maxNumberLength() + " characters");
            }
            if (isDigit(peek()) || Character.isLetter(peek())) {
                throw error("unexpected character " + describeHere() + " after a number");
            }
            return new Num(text.substring(start, pos));
        }

        private void digits() {
            while (isDigit(peek())) {
                pos++;
            }
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private Value literal(String word, Value v) throws SyntaxException {
            if (!text.startsWith(word, pos)) {
                throw error("unexpected token; " + word + " or another value expected");
            }
            pos += word.length();
            if (pos < text.length() && Character.isLetterOrDigit(text.charAt(pos))) {
                throw error("unexpected character " + describeHere() + " after " + word);
            }
            return v;
        }

        /** The character at the position, or 0 at the end (never valid where a token is expected). */
        private char peek() {
            return pos < text.length() ? text.charAt(pos) : 0;
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        private String describeHere() {
            return pos >= text.length() ? "the end of the input" : describe(text.charAt(pos));
        }

        private static String describe(char c) {
            return c < 0x20 || c > 0x7e ? String.format("U+%04X", (int) c) : "'" + c + "'";
        }

        int line() {
            int line = 1;
            for (int i = 0; i < pos && i < text.length(); i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                }
            }
            return line;
        }

        int column() {
            if (pos == 0) {
                return 1;
            }
            int lineStart = text.lastIndexOf('\n', Math.max(0, Math.min(pos, text.length()) - 1)) + 1;
            return pos - lineStart + 1;
        }

        SyntaxException error(String message) {
            return new SyntaxException(message, pos, line(), column(), false);
        }

        private static String abbreviate(String s) {
            return s.length() <= 80 ? s : s.substring(0, 77) + "...";
        }
    }
}
