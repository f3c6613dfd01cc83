package dev.seer.model.dit;

/** A state dict that does not fit the architecture: names the key, what was expected and what was found. */
public final class WeightsMismatchException extends IllegalArgumentException {
    private final String key;

    public WeightsMismatchException(String key, String expected, String found) {
        super("tensor '" + key + "': expected " + expected + ", found " + found);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
