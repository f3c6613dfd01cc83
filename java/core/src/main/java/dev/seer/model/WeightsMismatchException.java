package dev.seer.model;

/** A state dict that does not fit the architecture: names the key, what was expected and what was found. */
public final class WeightsMismatchException extends IllegalArgumentException {
    private final String key;
    private final String expected;
    private final String found;

    public WeightsMismatchException(String key, String expected, String found) {
        super("tensor '" + key + "': expected " + expected + ", found " + found);
        this.key = key;
        this.expected = expected;
        this.found = found;
    }

    public String key() {
        return key;
    }

    public String expected() {
        return expected;
    }

    public String found() {
        return found;
    }
}
