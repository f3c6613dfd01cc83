package dev.seer.model.dit;

import dev.seer.io.ConfigJson;
import java.io.IOException;
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

    /** Upper bounds of the size fields: past every published DiT, and small enough that no product overflows. */
    public static final int MAX_INPUT_SIZE = 1024;
    public static final int MAX_PATCH_SIZE = 64;
    public static final int MAX_IN_CHANNELS = 256;
    public static final int MAX_HIDDEN_SIZE = 65536;
    public static final int MAX_DEPTH = 1024;
    public static final double MAX_MLP_RATIO = 64;
    public static final int MAX_NUM_CLASSES = 1_000_000;
    /** The most elements one weight tensor may hold: Java arrays (random weights, the position table) index by int. */
    public static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE - 8;

    public DitConfig {
        bounded("input_size", inputSize, MAX_INPUT_SIZE);
        bounded("patch_size", patchSize, MAX_PATCH_SIZE);
        bounded("in_channels", inChannels, MAX_IN_CHANNELS);
        bounded("hidden_size", hiddenSize, MAX_HIDDEN_SIZE);
        bounded("depth", depth, MAX_DEPTH);
        bounded("num_heads", numHeads, hiddenSize);
        bounded("num_classes", numClasses, MAX_NUM_CLASSES);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_heads " + numHeads);
        }
        if (inputSize % patchSize != 0) {
            throw new IllegalArgumentException("input_size " + inputSize + " is not divisible by patch_size " + patchSize);
        }
        if (hiddenSize % 4 != 0) {
            throw new IllegalArgumentException("hidden_size must be divisible by 4 for the 2-D sin-cos position embedding, found " + hiddenSize);
        }
        if (!(mlpRatio > 0 && mlpRatio <= MAX_MLP_RATIO) || hiddenSize * mlpRatio < 1) {
            throw new IllegalArgumentException("mlp_ratio must be in (0, " + (int) MAX_MLP_RATIO + "] with hidden_size * "
                    + "mlp_ratio >= 1, found " + mlpRatio);
        }
        if (!(classDropoutProb >= 0 && classDropoutProb < 1)) {
            throw new IllegalArgumentException("class_dropout_prob must be in [0, 1), found " + classDropoutProb);
        }
        // The largest weight tensors, in long arithmetic (all factors are bounded above, so nothing overflows).
        long grid = inputSize / patchSize;
        tensorBound("input_size", inputSize, "the position table (tokens x hidden_size)", grid * grid * hiddenSize);
        tensorBound("mlp_ratio", mlpRatio, "mlp.fc1 (hidden_size x mlp_ratio hidden_size)", (long) (hiddenSize * mlpRatio) * hiddenSize);
        tensorBound("num_classes", numClasses, "the label table ((num_classes + 1) x hidden_size)", (numClasses + 1L) * hiddenSize);
        tensorBound("hidden_size", hiddenSize, "adaLN (6 hidden_size x hidden_size)", 6L * hiddenSize * hiddenSize);
    }

    private static void bounded(String name, int v, int max) {
        if (v < 1 || v > max) {
            throw new IllegalArgumentException(name + " must be in 1.." + max + ", found " + v);
        }
    }

    private static void tensorBound(String field, Object value, String tensor, long elements) {
        if (elements > MAX_TENSOR_ELEMENTS) {
            throw new IllegalArgumentException(field + " " + value + " makes " + tensor + " " + elements
                    + " elements; at most " + MAX_TENSOR_ELEMENTS + " allowed");
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

    /**
     * Reads a JSON object whose keys are the official constructor arguments; missing keys take the defaults (DiT-XL/2
     * at 256 px). Read by {@link ConfigJson} (UTF-8, one object, no unknown keys, typed and bounded fields); a
     * config whose float32 weights would not fit this machine's memory is refused here, before anything is
     * allocated.
     *
     * @throws IllegalArgumentException naming the file, the field, the value and what is allowed
     * @throws IOException              if the file cannot be read
     */
    public static DitConfig fromJson(Path file) throws IOException {
        ConfigJson json = ConfigJson.read(file, CONFIG_KEYS, Set.of());
        DitConfig c;
        try {
            c = new DitConfig(json.intField("input_size", 32, 1, MAX_INPUT_SIZE),
                    json.intField("patch_size", 2, 1, MAX_PATCH_SIZE), json.intField("in_channels", 4, 1, MAX_IN_CHANNELS),
                    json.intField("hidden_size", 1152, 1, MAX_HIDDEN_SIZE), json.intField("depth", 28, 1, MAX_DEPTH),
                    json.intField("num_heads", 16, 1, MAX_HIDDEN_SIZE), json.doubleField("mlp_ratio", 4.0, 0, MAX_MLP_RATIO),
                    json.doubleField("class_dropout_prob", 0.1, 0, 1),
                    json.intField("num_classes", 1000, 1, MAX_NUM_CLASSES), json.booleanField("learn_sigma", true));
            c.requireWeightsFit(machineMemoryBytes());
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(file.toString()) ? e : new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        return c;
    }

    // ---- memory plan: every count in long arithmetic, saturating at Long.MAX_VALUE -----------------------------

    /** Parameters of the official state dict (the position table included): the sum of {@link DitWeights}' shapes. */
    public long parameterCount() {
        return parameterCount(inputSize, patchSize, inChannels, hiddenSize, depth, mlpHidden(), numClasses);
    }

    /** Bytes of the weights as a model holds them (float32). */
    public long weightBytes() {
        return sat(parameterCount(), Float.BYTES);
    }

    /**
     * Bytes of the activations of one forward pass over {@code batch} rows (a guided run: twice the samples) at its
     * peak inside a block: the block input, modulated input, qkv, attention output and projection (7 hidden_size
     * per token), the MLP's hidden layer before and after GELU (2 mlp hidden), the latents in and out. libtorch's
     * CPU attention works in blocks, so no tokens x tokens score matrix is counted.
     */
    public long activationBytes(long batch) {
        long perToken = 7L * hiddenSize + 2L * mlpHidden();
        long tokens = (long) gridSize() * gridSize();
        long latents = (long) (inChannels + outChannels()) * inputSize * inputSize;
        return sat(sat(batch, add(sat(tokens, perToken), latents)), Float.BYTES);
    }

    /**
     * Refuses a config whose float32 weights exceed {@code memoryBytes}, in one line naming the field that
     * overshoots most, its value and the most that fits with the other fields as they are.
     */
    public void requireWeightsFit(long memoryBytes) {
        if (weightBytes() <= memoryBytes) {
            return;
        }
        String[] fields = {"hidden_size", "depth", "mlp_ratio", "num_classes", "input_size", "in_channels"};
        long[] values = {hiddenSize, depth, mlpHidden(), numClasses, inputSize, inChannels};
        String worst = null;
        long worstFit = 0;
        double worstRatio = 0;
        for (int f = 0; f < fields.length; f++) {
            // The largest value of this field alone that fits (parameters grow with each field): binary search.
            long lo = 0;
            long hi = values[f];
            while (lo < hi) {
                long mid = (lo + hi + 1) >>> 1;
                long[] v = values.clone();
                v[f] = mid;
                if (sat(parameterCount(v[4], patchSize, v[5], v[0], v[1], f == 0 ? (long) (mid * mlpRatio) : v[2], v[3]),
                        Float.BYTES) <= memoryBytes) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            double ratio = values[f] / (double) lo;
            if (lo >= 1 && ratio > worstRatio) { // a field that does not fit even at 1 is not the one to change
                worstRatio = ratio;
                worst = fields[f];
                worstFit = lo;
            }
        }
        if (worst == null) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " with depth " + depth + " makes "
                    + parameterCount() + " parameters, " + gib(weightBytes()) + " of float32 weights, more than this "
                    + "machine's " + gib(memoryBytes) + " of memory, and no change of a single field would make it fit");
        }
        String value = worst.equals("mlp_ratio") ? String.valueOf(mlpRatio) : String.valueOf(values[List.of(fields).indexOf(worst)]);
        String fit = worst.equals("mlp_ratio") ? String.format(java.util.Locale.ROOT, "%.3g", worstFit / (double) hiddenSize)
                : String.valueOf(worstFit);
        throw new IllegalArgumentException(worst + " " + value + " makes " + parameterCount() + " parameters, "
                + gib(weightBytes()) + " of float32 weights, more than this machine's " + gib(memoryBytes)
                + " of memory; with the other fields as they are, " + worst + " at most " + fit + " fits");
    }

    /** Physical memory of this machine (the JVM's view, cgroup limits included); Long.MAX_VALUE if unknown. */
    public static long machineMemoryBytes() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os && os.getTotalMemorySize() > 0) {
            return os.getTotalMemorySize();
        }
        return Long.MAX_VALUE;
    }

    private static long parameterCount(long input, long patch, long inCh, long hidden, long depth, long mlpHidden, long classes) {
        long tokens = sat(input / patch, input / patch);
        long outCh = 2 * inCh; // learn_sigma doubles the output; counted always (an upper bound)
        long freq = DitWeights.FREQUENCY_EMBEDDING_SIZE;
        long posEmbed = sat(tokens, hidden);
        long xEmbedder = add(sat(sat(inCh, patch * patch), hidden), hidden);
        long tEmbedder = add(sat(freq + hidden, hidden), 2 * hidden);
        long yEmbedder = sat(classes + 1, hidden); // with the null class
        long block = add(sat(hidden, add(10 * hidden, 2 * mlpHidden)), 11 * hidden + mlpHidden);
        long finalLayer = add(sat(sat(patch * patch, outCh), hidden + 1), add(sat(hidden, 2 * hidden), 2 * hidden));
        return add(add(add(posEmbed, xEmbedder), add(tEmbedder, yEmbedder)), add(sat(depth, block), finalLayer));
    }

    /** a * b, or Long.MAX_VALUE where it overflows (inputs are non-negative). */
    private static long sat(long a, long b) {
        long r = Math.multiplyHigh(a, b) == 0 ? a * b : -1;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    /** a + b, or Long.MAX_VALUE where it overflows (inputs are non-negative). */
    private static long add(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    private static String gib(long bytes) {
        return bytes == Long.MAX_VALUE ? "more than 8 EiB" : String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }

    /** Writes the config as JSON with the official argument names. */
    public String toJson() {
        return "{\"input_size\": " + inputSize + ", \"patch_size\": " + patchSize + ", \"in_channels\": " + inChannels
                + ", \"hidden_size\": " + hiddenSize + ", \"depth\": " + depth + ", \"num_heads\": " + numHeads
                + ", \"mlp_ratio\": " + mlpRatio + ", \"class_dropout_prob\": " + classDropoutProb
                + ", \"num_classes\": " + numClasses + ", \"learn_sigma\": " + learnSigma + "}";
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
