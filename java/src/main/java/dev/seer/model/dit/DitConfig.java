package dev.seer.model.dit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A DiT architecture, with the official constructor's argument names (facebookresearch/DiT models.py).
 * Validated on construction: a hidden size that the heads do not divide, or an input the patch does not divide,
 * is refused before any work starts.
 */
public record DitConfig(int inputSize, int patchSize, int inChannels, int hiddenSize, int depth, int numHeads,
                        double mlpRatio, double classDropoutProb, int numClasses, boolean learnSigma) {

    /** Official presets: depth, hidden size, heads. */
    /** The keys of a config JSON: the official constructor arguments. */
    public static final Set<String> CONFIG_KEYS = Set.of("input_size", "patch_size", "in_channels", "hidden_size", "depth",
            "num_heads", "mlp_ratio", "class_dropout_prob", "num_classes", "learn_sigma");
    private static final Map<String, int[]> SIZES = new LinkedHashMap<>();

    static {
        SIZES.put("S", new int[] {12, 384, 6});
        SIZES.put("B", new int[] {12, 768, 12});
        SIZES.put("L", new int[] {24, 1024, 16});
        SIZES.put("XL", new int[] {28, 1152, 16});
    }

    public DitConfig {
        positive("input_size", inputSize);
        positive("patch_size", patchSize);
        positive("in_channels", inChannels);
        positive("hidden_size", hiddenSize);
        positive("depth", depth);
        positive("num_heads", numHeads);
        positive("num_classes", numClasses);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_heads " + numHeads);
        }
        if (inputSize % patchSize != 0) {
            throw new IllegalArgumentException("input_size " + inputSize + " is not divisible by patch_size " + patchSize);
        }
        if (hiddenSize % 4 != 0) {
            throw new IllegalArgumentException("hidden_size must be divisible by 4 for the 2-D sin-cos position embedding, found " + hiddenSize);
        }
        if (!(mlpRatio > 0) || Double.isInfinite(mlpRatio)) {
            throw new IllegalArgumentException("mlp_ratio must be > 0, found " + mlpRatio);
        }
        if (!(classDropoutProb >= 0 && classDropoutProb < 1)) {
            throw new IllegalArgumentException("class_dropout_prob must be in [0, 1), found " + classDropoutProb);
        }
    }

    /** Preset names: DiT-S/2, DiT-S/4, DiT-S/8, DiT-B/2, ..., DiT-XL/8. */
    public static List<String> presetNames() {
        return SIZES.keySet().stream().flatMap(s -> List.of(2, 4, 8).stream().map(p -> "DiT-" + s + "/" + p)).toList();
    }

    /** A preset with the official defaults (input 32, 4 channels, 1000 classes, learn_sigma). */
    public static DitConfig preset(String name) {
        return preset(name, 32, 4, 1000);
    }

    public static DitConfig preset(String name, int inputSize, int inChannels, int numClasses) {
        String[] parts = name.startsWith("DiT-") ? name.substring(4).split("/") : new String[0];
        int[] size = parts.length == 2 ? SIZES.get(parts[0]) : null;
        if (size == null || !Set.of("2", "4", "8").contains(parts[1])) {
            throw new IllegalArgumentException("unknown model preset '" + name + "'; expected one of " + presetNames()
                    + " or a config JSON file");
        }
        return new DitConfig(inputSize, Integer.parseInt(parts[1]), inChannels, size[1], size[0], size[2], 4.0, 0.1,
                numClasses, true);
    }

    /** Reads a JSON object whose keys are the official constructor arguments; missing keys take the defaults. */
    public static DitConfig fromJson(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IOException(file + ": not a readable JSON config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object of DiT constructor arguments");
        }
        Set<String> known = CONFIG_KEYS;
        for (var it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                throw new IllegalArgumentException(file + ": unknown key '" + k + "'; expected some of " + known);
            }
        }
        try {
            return new DitConfig(intField(root, "input_size", 32), intField(root, "patch_size", 2),
                    intField(root, "in_channels", 4), intField(root, "hidden_size", 1152), intField(root, "depth", 28),
                    intField(root, "num_heads", 16), doubleField(root, "mlp_ratio", 4.0),
                    doubleField(root, "class_dropout_prob", 0.1), intField(root, "num_classes", 1000),
                    root.has("learn_sigma") ? booleanField(root, "learn_sigma") : true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Writes the config as JSON with the official argument names. */
    public String toJson() {
        return "{\"input_size\": " + inputSize + ", \"patch_size\": " + patchSize + ", \"in_channels\": " + inChannels
                + ", \"hidden_size\": " + hiddenSize + ", \"depth\": " + depth + ", \"num_heads\": " + numHeads
                + ", \"mlp_ratio\": " + mlpRatio + ", \"class_dropout_prob\": " + classDropoutProb
                + ", \"num_classes\": " + numClasses + ", \"learn_sigma\": " + learnSigma + "}";
    }

    private static int intField(JsonNode root, String key, int dflt) {
        JsonNode n = root.get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException("'" + key + "' must be an integer, found " + n);
        }
        return n.intValue();
    }

    private static double doubleField(JsonNode root, String key, double dflt) {
        JsonNode n = root.get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw new IllegalArgumentException("'" + key + "' must be a number, found " + n);
        }
        return n.doubleValue();
    }

    private static boolean booleanField(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (!n.isBoolean()) {
            throw new IllegalArgumentException("'" + key + "' must be true or false, found " + n);
        }
        return n.booleanValue();
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, found " + v);
        }
    }

    public int outChannels() {
        return learnSigma ? inChannels * 2 : inChannels;
    }

    /** Tokens per image: (input_size / patch_size)^2. */
    public int tokens() {
        int g = inputSize / patchSize;
        return g * g;
    }

    public int gridSize() {
        return inputSize / patchSize;
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    public int mlpHidden() {
        return (int) (hiddenSize * mlpRatio);
    }

    /** Whether the label table has the extra null-class row used for classifier-free guidance. */
    public boolean hasNullClass() {
        return classDropoutProb > 0;
    }
}
