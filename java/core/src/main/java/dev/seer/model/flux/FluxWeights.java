package dev.seer.model.flux;

import dev.seer.io.CheckpointException;
import dev.seer.io.Json;
import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.model.WeightsMismatchException;
import dev.seer.tensor.DType;
import dev.seer.tensor.SeerRuntime;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A FLUX transformer's weights under the BFL key names ({@code double_blocks.0.img_attn.qkv.weight}, ...), loaded from
 * either checkpoint layout:
 * <ul>
 *   <li>BFL: one safetensors file ({@code flux1-dev.safetensors}) with the reference's own keys;</li>
 *   <li>diffusers: a {@code transformer/} directory with {@code config.json} and sharded
 *       {@code diffusion_pytorch_model-0000N-of-0000M.safetensors} plus their {@code .index.json} (or one unsharded
 *       file): {@code transformer_blocks.*}, {@code single_transformer_blocks.*}, q, k, v (and the single blocks'
 *       {@code proj_mlp}) as separate maps, and the final norm's modulation with scale before shift. The mapping is
 *       that of diffusers' {@code convert_flux_to_diffusers.py}, read backwards.</li>
 * </ul>
 *
 * <p>Memory: files are mapped, never read into the heap, and tensors stay in their stored dtype. Each weight is handed
 * out as a libtorch tensor in the model's compute dtype ({@link #prepare}: float32, or bf16 where the model computes in
 * bf16), except the QKNorm scales, always float32 (that norm runs in float32). A tensor stored whole in the wanted
 * dtype is wrapped without a copy; anything else (another dtype, diffusers' split q/k/v, the swapped halves) is
 * converted once and kept when all converted weights together take at most {@link #KEEP_F32_BYTES}, else converted at
 * every use, in the caller's scope, and dropped after it. So the full FLUX-dev in bf16 (23.8 GB mapped) computed in
 * float32 never holds more than one block's weights in float32 at a time, at the price of a conversion per use, and
 * computed in bf16 it is read in place; small models pay their conversions once.
 */
public final class FluxWeights implements AutoCloseable {
    /** Converted weights are kept (converted once) when they take at most this many bytes in all (in the dtype they are read in). */
    public static final long KEEP_F32_BYTES = 1L << 30;
    /** diffusers' file names. */
    static final String DIFFUSERS_INDEX = "diffusion_pytorch_model.safetensors.index.json";
    static final String DIFFUSERS_SINGLE = "diffusion_pytorch_model.safetensors";
    private static final long MAX_INDEX_BYTES = 16L << 20;

    /** Where one BFL tensor's values come from: stored tensors concatenated along dim 0, optionally halves swapped. */
    private record Source(List<Tensor> parts, boolean swapHalves) {
    }

    private final FluxParams params;
    private final Map<String, Source> sources;
    private final Map<String, org.bytedeco.pytorch.Tensor> kept = new LinkedHashMap<>();
    private final List<SafetensorsFile> files;
    private final Set<DType> storedTypes = new HashSet<>();
    private final long keepLimit;
    /** The compute dtype the kept tensors are for; null until {@link #prepare} (first use: float32). */
    private DType compute;
    private boolean convertPerUse;
    private boolean closed;

    private FluxWeights(FluxParams params, Map<String, Source> sources, List<SafetensorsFile> files) {
        this(params, sources, files, KEEP_F32_BYTES);
    }

    private FluxWeights(FluxParams params, Map<String, Source> sources, List<SafetensorsFile> files, long keepLimit) {
        SeerRuntime.init();
        this.params = params;
        this.sources = sources;
        this.files = files;
        this.keepLimit = keepLimit;
        for (Source s : sources.values()) {
            for (Tensor t : s.parts) {
                storedTypes.add(t.dtype());
            }
        }
    }

    /**
     * Readies the weights for a model computing in {@code compute} (F32 or BF16): wraps what is stored whole in the
     * dtype it is read in, and converts the rest once (kept) or, past {@link #KEEP_F32_BYTES}, at every use. Called by
     * the model; a later call with another dtype drops what was kept for the earlier one.
     */
    synchronized void prepare(DType compute) {
        if (compute != DType.F32 && compute != DType.BF16) {
            throw new IllegalArgumentException("FLUX computes in F32 or BF16, found " + compute);
        }
        requireOpen();
        if (compute == this.compute) {
            return;
        }
        dropKept();
        long convertedBytes = 0;
        for (var e : sources.entrySet()) {
            DType t = readType(e.getKey(), compute);
            if (!zeroCopy(e.getValue(), t)) {
                convertedBytes += numel(e.getValue()) * t.byteSize();
            }
        }
        convertPerUse = convertedBytes > keepLimit;
        try (PointerScope scope = new PointerScope()) {
            for (var e : sources.entrySet()) {
                DType t = readType(e.getKey(), compute);
                if (zeroCopy(e.getValue(), t) || !convertPerUse) {
                    kept.put(e.getKey(), keep(convert(e.getValue(), t)));
                }
            }
        }
        this.compute = compute;
    }

    /** The dtype weight {@code key} is read in by a model computing in {@code compute}: QKNorm scales stay float32. */
    static DType readType(String key, DType compute) {
        return key.endsWith(".scale") ? DType.F32 : compute;
    }

    /** The architecture these weights are for. */
    public FluxParams params() {
        return params;
    }

    /** The stored dtypes (e.g. [BF16] for the released checkpoints). */
    public Set<DType> storedTypes() {
        return Set.copyOf(storedTypes);
    }

    /** The compute dtype the weights are handed out for (F32 until a model asks for another). */
    public synchronized DType computeType() {
        ensurePrepared();
        return compute;
    }

    /** Whether weights are converted at every use (large models stored in another dtype or layout than they are read in). */
    public synchronized boolean convertsPerUse() {
        ensurePrepared();
        return convertPerUse;
    }

    /**
     * The weight under BFL key {@code key} in the dtype it is read in ({@link #readType}: the compute dtype, float32
     * for the QKNorm scales): kept, or converted now into the caller's PointerScope. Read-only (mapped pages must not
     * be written).
     */
    public org.bytedeco.pytorch.Tensor get(String key) {
        DType c;
        synchronized (this) {
            requireOpen();
            ensurePrepared();
            c = compute;
        }
        org.bytedeco.pytorch.Tensor t = kept.get(key);
        if (t != null) {
            return t;
        }
        Source s = sources.get(key);
        if (s == null) {
            throw new IllegalArgumentException("no FLUX weight '" + key + "'");
        }
        return convert(s, readType(key, c));
    }

    private void ensurePrepared() {
        if (compute == null) {
            prepare(DType.F32);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the FLUX weights are closed");
        }
    }

    private void dropKept() {
        for (org.bytedeco.pytorch.Tensor t : kept.values()) {
            t.close();
        }
        kept.clear();
    }

    /** Whether this model has a tensor under BFL key {@code key}. */
    public boolean has(String key) {
        return sources.containsKey(key);
    }

    private static boolean zeroCopy(Source s, DType as) {
        return s.parts.size() == 1 && !s.swapHalves && s.parts.getFirst().dtype() == as;
    }

    private static long numel(Source s) {
        long n = 0;
        for (Tensor t : s.parts) {
            n += t.numel();
        }
        return n;
    }

    private static org.bytedeco.pytorch.Tensor convert(Source s, DType as) {
        org.bytedeco.pytorch.Tensor t;
        if (s.parts.size() == 1) {
            t = Torch.wrap(s.parts.getFirst());
        } else {
            TensorVector v = new TensorVector();
            for (Tensor p : s.parts) {
                v.push_back(Torch.wrap(p));
            }
            t = torch.cat(v, 0);
        }
        if (s.swapHalves) {
            long half = t.size(0) / 2;
            t = torch.cat(new TensorVector(t.narrow(0, half, half), t.narrow(0, 0, half)), 0);
        }
        return DType.fromTorch(t.scalar_type()) == as ? t : t.to(as.torchType());
    }

    /** Takes a tensor out of the current PointerScope so it lives until {@link #close()}. */
    static org.bytedeco.pytorch.Tensor keep(org.bytedeco.pytorch.Tensor t) {
        PointerScope inner = PointerScope.getInnerScope();
        if (inner != null) {
            t.retainReference();
            inner.detach(t);
        }
        return t;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Layouts

    /** Every BFL key of {@code p} with its shape, in the reference module's order. */
    public static Map<String, long[]> expectedShapes(FluxParams p) {
        long c = p.hiddenSize();
        long m = p.mlpHiddenDim();
        long d = p.headDim();
        Map<String, long[]> s = new LinkedHashMap<>();
        linear(s, "img_in", c, p.inChannels(), true);
        linear(s, "time_in.in_layer", c, 256, true);
        linear(s, "time_in.out_layer", c, c, true);
        linear(s, "vector_in.in_layer", c, p.vecInDim(), true);
        linear(s, "vector_in.out_layer", c, c, true);
        if (p.guidanceEmbed()) {
            linear(s, "guidance_in.in_layer", c, 256, true);
            linear(s, "guidance_in.out_layer", c, c, true);
        }
        linear(s, "txt_in", c, p.contextInDim(), true);
        for (int i = 0; i < p.depth(); i++) {
            for (String st : List.of("img", "txt")) {
                String b = "double_blocks." + i + "." + st;
                linear(s, b + "_mod.lin", 6 * c, c, true);
                linear(s, b + "_attn.qkv", 3 * c, c, p.qkvBias());
                s.put(b + "_attn.norm.query_norm.scale", new long[] {d});
                s.put(b + "_attn.norm.key_norm.scale", new long[] {d});
                linear(s, b + "_attn.proj", c, c, true);
                linear(s, b + "_mlp.0", m, c, true);
                linear(s, b + "_mlp.2", c, m, true);
            }
        }
        for (int i = 0; i < p.depthSingleBlocks(); i++) {
            String b = "single_blocks." + i + ".";
            linear(s, b + "linear1", 3 * c + m, c, true);
            linear(s, b + "linear2", c, c + m, true);
            s.put(b + "norm.query_norm.scale", new long[] {d});
            s.put(b + "norm.key_norm.scale", new long[] {d});
            linear(s, b + "modulation.lin", 3 * c, c, true);
        }
        linear(s, "final_layer.linear", p.outChannels(), c, true);
        linear(s, "final_layer.adaLN_modulation.1", 2 * c, c, true);
        return s;
    }

    private static void linear(Map<String, long[]> s, String prefix, long out, long in, boolean bias) {
        s.put(prefix + ".weight", new long[] {out, in});
        if (bias) {
            s.put(prefix + ".bias", new long[] {out});
        }
    }

    /**
     * The diffusers tensors that make up each BFL tensor (concatenated along dim 0 in this order); BFL keys whose
     * halves are swapped are listed in {@link #swappedInDiffusers}.
     */
    static Map<String, List<String>> diffusersParts(FluxParams p) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        both(m, "img_in", "x_embedder", true);
        both(m, "time_in.in_layer", "time_text_embed.timestep_embedder.linear_1", true);
        both(m, "time_in.out_layer", "time_text_embed.timestep_embedder.linear_2", true);
        both(m, "vector_in.in_layer", "time_text_embed.text_embedder.linear_1", true);
        both(m, "vector_in.out_layer", "time_text_embed.text_embedder.linear_2", true);
        if (p.guidanceEmbed()) {
            both(m, "guidance_in.in_layer", "time_text_embed.guidance_embedder.linear_1", true);
            both(m, "guidance_in.out_layer", "time_text_embed.guidance_embedder.linear_2", true);
        }
        both(m, "txt_in", "context_embedder", true);
        for (int i = 0; i < p.depth(); i++) {
            String b = "double_blocks." + i + ".";
            String t = "transformer_blocks." + i + ".";
            both(m, b + "img_mod.lin", t + "norm1.linear", true);
            both(m, b + "txt_mod.lin", t + "norm1_context.linear", true);
            split(m, b + "img_attn.qkv", p.qkvBias(), t + "attn.to_q", t + "attn.to_k", t + "attn.to_v");
            split(m, b + "txt_attn.qkv", p.qkvBias(), t + "attn.add_q_proj", t + "attn.add_k_proj", t + "attn.add_v_proj");
            m.put(b + "img_attn.norm.query_norm.scale", List.of(t + "attn.norm_q.weight"));
            m.put(b + "img_attn.norm.key_norm.scale", List.of(t + "attn.norm_k.weight"));
            m.put(b + "txt_attn.norm.query_norm.scale", List.of(t + "attn.norm_added_q.weight"));
            m.put(b + "txt_attn.norm.key_norm.scale", List.of(t + "attn.norm_added_k.weight"));
            both(m, b + "img_attn.proj", t + "attn.to_out.0", true);
            both(m, b + "txt_attn.proj", t + "attn.to_add_out", true);
            both(m, b + "img_mlp.0", t + "ff.net.0.proj", true);
            both(m, b + "img_mlp.2", t + "ff.net.2", true);
            both(m, b + "txt_mlp.0", t + "ff_context.net.0.proj", true);
            both(m, b + "txt_mlp.2", t + "ff_context.net.2", true);
        }
        for (int i = 0; i < p.depthSingleBlocks(); i++) {
            String b = "single_blocks." + i + ".";
            String t = "single_transformer_blocks." + i + ".";
            split(m, b + "linear1", true, t + "attn.to_q", t + "attn.to_k", t + "attn.to_v", t + "proj_mlp");
            both(m, b + "linear2", t + "proj_out", true);
            m.put(b + "norm.query_norm.scale", List.of(t + "attn.norm_q.weight"));
            m.put(b + "norm.key_norm.scale", List.of(t + "attn.norm_k.weight"));
            both(m, b + "modulation.lin", t + "norm.linear", true);
        }
        both(m, "final_layer.linear", "proj_out", true);
        both(m, "final_layer.adaLN_modulation.1", "norm_out.linear", true);
        return m;
    }

    /** BFL keys stored in diffusers with their two halves swapped (AdaLayerNormContinuous: scale, then shift). */
    static Set<String> swappedInDiffusers() {
        return Set.of("final_layer.adaLN_modulation.1.weight", "final_layer.adaLN_modulation.1.bias");
    }

    private static void both(Map<String, List<String>> m, String bfl, String diffusers, boolean bias) {
        m.put(bfl + ".weight", List.of(diffusers + ".weight"));
        if (bias) {
            m.put(bfl + ".bias", List.of(diffusers + ".bias"));
        }
    }

    private static void split(Map<String, List<String>> m, String bfl, boolean bias, String... diffusers) {
        m.put(bfl + ".weight", java.util.Arrays.stream(diffusers).map(d -> d + ".weight").toList());
        if (bias) {
            m.put(bfl + ".bias", java.util.Arrays.stream(diffusers).map(d -> d + ".bias").toList());
        }
    }

    /** The rows of each diffusers part of a BFL tensor of {@code rows} rows: equal thirds, or q, k, v and the MLP. */
    private static long[] partRows(FluxParams p, String bflKey, int parts, long rows) {
        if (parts == 1) {
            return new long[] {rows};
        }
        long c = p.hiddenSize();
        return parts == 3 ? new long[] {c, c, c} : new long[] {c, c, c, p.mlpHiddenDim()};
    }

    /** Every diffusers key of {@code p} with its shape. */
    public static Map<String, long[]> expectedDiffusersShapes(FluxParams p) {
        Map<String, long[]> bfl = expectedShapes(p);
        Map<String, long[]> out = new LinkedHashMap<>();
        for (var e : diffusersParts(p).entrySet()) {
            long[] shape = bfl.get(e.getKey());
            long[] rows = partRows(p, e.getKey(), e.getValue().size(), shape[0]);
            for (int k = 0; k < rows.length; k++) {
                long[] s = shape.clone();
                s[0] = rows[k];
                out.put(e.getValue().get(k), s);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Construction

    /**
     * Weights from a BFL-layout state dict, used in place (the tensors must stay valid while these weights live).
     *
     * @throws WeightsMismatchException for a missing, extra, mis-shaped or non-floating-point tensor
     */
    public static FluxWeights fromStateDict(FluxParams p, Map<String, Tensor> bfl) {
        checkKeys(expectedShapes(p), bfl, "a FLUX (BFL layout) state dict");
        Map<String, Source> sources = new LinkedHashMap<>();
        for (String key : expectedShapes(p).keySet()) {
            sources.put(key, new Source(List.of(bfl.get(key)), false));
        }
        return new FluxWeights(p, sources, List.of());
    }

    /** As {@link #fromStateDict}, converting at every use whatever is not float32 stored whole (tests of that path). */
    static FluxWeights fromStateDictConvertingPerUse(FluxParams p, Map<String, Tensor> bfl) {
        checkKeys(expectedShapes(p), bfl, "a FLUX (BFL layout) state dict");
        Map<String, Source> sources = new LinkedHashMap<>();
        for (String key : expectedShapes(p).keySet()) {
            sources.put(key, new Source(List.of(bfl.get(key)), false));
        }
        return new FluxWeights(p, sources, List.of(), 0);
    }

    /** Weights from a diffusers-layout state dict, used in place. */
    public static FluxWeights fromDiffusersStateDict(FluxParams p, Map<String, Tensor> diffusers) {
        return fromDiffusers(p, diffusers, List.of());
    }

    private static FluxWeights fromDiffusers(FluxParams p, Map<String, Tensor> diffusers, List<SafetensorsFile> files) {
        checkKeys(expectedDiffusersShapes(p), diffusers, "a FLUX (diffusers layout) state dict");
        Set<String> swapped = swappedInDiffusers();
        Map<String, Source> sources = new LinkedHashMap<>();
        for (var e : diffusersParts(p).entrySet()) {
            List<Tensor> parts = e.getValue().stream().map(diffusers::get).toList();
            sources.put(e.getKey(), new Source(parts, swapped.contains(e.getKey())));
        }
        return new FluxWeights(p, sources, files);
    }

    private static void checkKeys(Map<String, long[]> expected, Map<String, Tensor> found, String what) {
        for (String key : found.keySet()) {
            if (!expected.containsKey(key)) {
                throw new WeightsMismatchException(key, "no such key in " + what + " of this architecture", "an unexpected key");
            }
        }
        for (var e : expected.entrySet()) {
            Tensor t = found.get(e.getKey());
            if (t == null) {
                throw new WeightsMismatchException(e.getKey(), "shape " + Shape.of(e.getValue()), "the key is missing");
            }
            if (!t.shape().equals(Shape.of(e.getValue()))) {
                throw new WeightsMismatchException(e.getKey(), "shape " + Shape.of(e.getValue()), "shape " + t.shape());
            }
            if (t.dtype() != DType.F32 && t.dtype() != DType.BF16 && t.dtype() != DType.F16) {
                throw new WeightsMismatchException(e.getKey(), "dtype F32, BF16 or F16", "dtype " + t.dtype());
            }
            if (!t.device().isCpu()) {
                throw new WeightsMismatchException(e.getKey(), "a host tensor", "a tensor on " + t.device());
            }
        }
    }

    /**
     * Loads either layout: a BFL {@code .safetensors} file, a diffusers single {@code .safetensors} file, or a diffusers
     * directory (the model's root with a {@code transformer/} folder, or that folder itself). A {@code config.json}
     * there must describe {@code p}.
     *
     * @throws CheckpointException naming the file, the key, the expected and the found value
     */
    public static FluxWeights load(FluxParams p, Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path dir = Files.isDirectory(path.resolve("transformer")) ? path.resolve("transformer") : path;
            return loadDiffusersDirectory(p, dir);
        }
        SafetensorsFile f = Safetensors.open(path);
        try {
            Map<String, Tensor> sd = new LinkedHashMap<>();
            for (String key : f.keys()) {
                sd.put(key, f.get(key));
            }
            if (f.contains("img_in.weight") || f.contains("double_blocks.0.img_attn.qkv.weight")) {
                checkKeys(expectedShapes(p), sd, "a FLUX (BFL layout) state dict");
                Map<String, Source> sources = new LinkedHashMap<>();
                for (String key : expectedShapes(p).keySet()) {
                    sources.put(key, new Source(List.of(sd.get(key)), false));
                }
                return new FluxWeights(p, sources, List.of(f));
            }
            if (f.contains("x_embedder.weight")) {
                return fromDiffusers(p, sd, List.of(f));
            }
            throw new CheckpointException(path, "img_in.weight", "a FLUX checkpoint (BFL key 'img_in.weight' or diffusers key"
                    + " 'x_embedder.weight')", "neither key among " + f.keys().size() + " tensors");
        } catch (WeightsMismatchException e) {
            f.close();
            throw new CheckpointException(path, e.key(), e.expected(), e.found(), e);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static FluxWeights loadDiffusersDirectory(FluxParams p, Path dir) throws IOException {
        Path config = dir.resolve("config.json");
        if (Files.isRegularFile(config)) {
            FluxParams described = FluxParams.fromDiffusersConfig(config);
            if (!described.equals(p)) {
                throw new CheckpointException(config, null, "a config describing " + p, "one describing " + described);
            }
        }
        Path index = dir.resolve(DIFFUSERS_INDEX);
        Map<String, String> weightMap = new LinkedHashMap<>();
        List<String> shardNames = new ArrayList<>();
        if (Files.isRegularFile(index)) {
            readIndex(index, weightMap, shardNames);
        } else if (Files.isRegularFile(dir.resolve(DIFFUSERS_SINGLE))) {
            shardNames.add(DIFFUSERS_SINGLE);
        } else {
            throw new CheckpointException(dir, null, "a diffusers transformer directory with " + DIFFUSERS_INDEX + " or "
                    + DIFFUSERS_SINGLE, "neither file");
        }
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, Tensor> sd = new LinkedHashMap<>();
        Path current = index;
        try {
            for (String name : shardNames) {
                current = dir.resolve(name);
                SafetensorsFile f = Safetensors.open(current);
                files.add(f);
                for (String key : f.keys()) {
                    if (sd.containsKey(key)) {
                        throw new CheckpointException(current, key, "each tensor in one shard", "the key in two shards");
                    }
                    if (!weightMap.isEmpty() && !name.equals(weightMap.get(key))) {
                        throw new CheckpointException(current, key, "the shard the index names ("
                                + weightMap.getOrDefault(key, "none: the index does not list the key") + ")", "the key in " + name);
                    }
                    sd.put(key, f.get(key));
                }
            }
            for (var e : weightMap.entrySet()) {
                if (!sd.containsKey(e.getKey())) {
                    throw new CheckpointException(dir.resolve(e.getValue()), e.getKey(), "the tensor the index lists", "no such key");
                }
            }
            current = dir;
            return fromDiffusers(p, sd, files);
        } catch (WeightsMismatchException e) {
            files.forEach(SafetensorsFile::close);
            throw new CheckpointException(current, e.key(), e.expected(), e.found(), e);
        } catch (IOException | RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** diffusers' index: {"metadata": {...}, "weight_map": {key: shard file name}}; shard names must be plain file names. */
    private static void readIndex(Path index, Map<String, String> weightMap, List<String> shardNames) throws IOException {
        if (Files.size(index) > MAX_INDEX_BYTES) {
            throw new CheckpointException(index, null, "an index of at most " + MAX_INDEX_BYTES + " bytes", Files.size(index) + " bytes");
        }
        Json.Value root;
        try {
            root = Json.parse(Files.readString(index));
        } catch (Json.SyntaxException | java.nio.charset.MalformedInputException e) {
            throw new CheckpointException(index, null, "a JSON index", "unreadable JSON: " + e.getMessage(), e);
        }
        Json.Value map = root instanceof Json.Obj obj ? obj.get("weight_map") : null;
        if (!(map instanceof Json.Obj weights) || weights.fields().isEmpty()) {
            throw new CheckpointException(index, "weight_map", "an object mapping tensor keys to shard files",
                    map == null ? "none" : map.toJson());
        }
        for (var e : weights.fields().entrySet()) {
            String name = e.getValue() instanceof Json.Str str ? str.value() : null;
            if (name == null || name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
                throw new CheckpointException(index, e.getKey(), "a shard file name in the same directory", e.getValue().toJson());
            }
            weightMap.put(e.getKey(), name);
            if (!shardNames.contains(name)) {
                shardNames.add(name);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Conversion (tests, tools)

    /** A BFL state dict converted to the diffusers layout: new tensors in {@code arena}, in the source dtype. */
    public static Map<String, Tensor> toDiffusers(FluxParams p, Map<String, Tensor> bfl, Arena arena) {
        checkKeys(expectedShapes(p), bfl, "a FLUX (BFL layout) state dict");
        Map<String, long[]> shapes = expectedDiffusersShapes(p);
        Set<String> swapped = swappedInDiffusers();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : diffusersParts(p).entrySet()) {
            Tensor src = bfl.get(e.getKey());
            long rowBytes = src.byteSize() / src.shape().dim(0);
            long offset = 0;
            for (String dk : e.getValue()) {
                Tensor dst = Tensor.allocate(arena, src.dtype(), Shape.of(shapes.get(dk)));
                if (swapped.contains(e.getKey())) {
                    long half = src.byteSize() / 2;
                    dst.segment().asSlice(0, half).copyFrom(src.segment().asSlice(half, half));
                    dst.segment().asSlice(half, half).copyFrom(src.segment().asSlice(0, half));
                } else {
                    dst.segment().copyFrom(src.segment().asSlice(offset, dst.byteSize()));
                }
                offset += dst.shape().dim(0) * rowBytes;
                out.put(dk, dst);
            }
        }
        return out;
    }

    /** A diffusers state dict converted to the BFL layout: new tensors in {@code arena}, in the source dtype. */
    public static Map<String, Tensor> fromDiffusers(FluxParams p, Map<String, Tensor> diffusers, Arena arena) {
        checkKeys(expectedDiffusersShapes(p), diffusers, "a FLUX (diffusers layout) state dict");
        Map<String, long[]> shapes = expectedShapes(p);
        Set<String> swapped = swappedInDiffusers();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : diffusersParts(p).entrySet()) {
            DType dtype = diffusers.get(e.getValue().getFirst()).dtype();
            Tensor dst = Tensor.allocate(arena, dtype, Shape.of(shapes.get(e.getKey())));
            long offset = 0;
            for (String dk : e.getValue()) {
                Tensor src = diffusers.get(dk);
                if (src.dtype() != dtype) {
                    throw new WeightsMismatchException(dk, "dtype " + dtype + " like " + e.getValue().getFirst(), "dtype " + src.dtype());
                }
                if (swapped.contains(e.getKey())) {
                    long half = src.byteSize() / 2;
                    dst.segment().asSlice(0, half).copyFrom(src.segment().asSlice(half, half));
                    dst.segment().asSlice(half, half).copyFrom(src.segment().asSlice(0, half));
                } else {
                    dst.segment().asSlice(offset, src.byteSize()).copyFrom(src.segment());
                }
                offset += src.byteSize();
            }
            out.put(e.getKey(), dst);
        }
        return out;
    }

    /**
     * Random float32 weights for tests and speed runs (BFL layout, in {@code arena}): linear weights ~ N(0, 1/fan_in),
     * biases ~ N(0, 0.02^2), RMSNorm scales ~ 1 + N(0, 0.1^2); drawn by libtorch's generator from {@code seed}.
     */
    public static Map<String, Tensor> randomStateDict(FluxParams p, long seed, Arena arena) {
        return randomStateDict(p, seed, arena, DType.F32);
    }

    /**
     * As {@link #randomStateDict(FluxParams, long, Arena)}, stored in {@code dtype} (F32, BF16 or F16): the float32 draws
     * rounded, as the released checkpoints store theirs in bf16.
     */
    public static Map<String, Tensor> randomStateDict(FluxParams p, long seed, Arena arena, DType dtype) {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("random FLUX weights are stored in F32, BF16 or F16, found " + dtype);
        }
        SeerRuntime.init();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Generator g = torch.createCPUGenerator(seed);
            for (var e : expectedShapes(p).entrySet()) {
                long[] s = e.getValue();
                Tensor t = Tensor.allocate(arena, dtype, Shape.of(s));
                try (PointerScope draw = new PointerScope()) { // one tensor's float32 draw at a time, scaled in place
                    org.bytedeco.pytorch.Tensor r = torch.randn(s, new GeneratorOptional(g), new TensorOptions(torch.ScalarType.Float));
                    if (e.getKey().endsWith(".scale")) {
                        r.mul_(new org.bytedeco.pytorch.Scalar(0.1)).add_(new org.bytedeco.pytorch.Scalar(1.0));
                    } else if (s.length == 2) {
                        r.mul_(new org.bytedeco.pytorch.Scalar(1.0 / Math.sqrt(s[1])));
                    } else {
                        r.mul_(new org.bytedeco.pytorch.Scalar(0.02));
                    }
                    Torch.wrap(t).copy_(r);
                }
                out.put(e.getKey(), t);
            }
        }
        return out;
    }

    /** Bytes of the stored weights (the mapped or given tensors). */
    public long storedBytes() {
        long n = 0;
        for (Source s : sources.values()) {
            for (Tensor t : s.parts) {
                n += t.byteSize();
            }
        }
        return n;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            dropKept();
            for (SafetensorsFile f : files) {
                f.close();
            }
        }
    }
}
