package dev.seer.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.seer.io.Safetensors;
import dev.seer.io.SafetensorsFile;
import dev.seer.tensor.DType;
import dev.seer.tensor.GateView;
import dev.seer.tensor.Shape;
import dev.seer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every CPU variant on every case of the kernels' vector files (kernels/&lt;op&gt;/vectors.safetensors, see
 * kernels/README.md), in every dtype the case is valid for, against the float64 oracle stored with it.
 */
class VectorFilesTest {
    static final String[] OPS = {"taylor_update", "taylor_forecast", "taylor_forecast_residual", "taylor_update_residual"};

    static Path kernelsDir() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("kernels/taylor_update"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("kernels/ not found above " + Path.of("").toAbsolutePath());
        }
        return p.resolve("kernels");
    }

    static Stream<Arguments> cases() throws Exception {
        List<Arguments> out = new ArrayList<>();
        for (String op : OPS) {
            try (SafetensorsFile f = Safetensors.open(kernelsDir().resolve(op).resolve("vectors.safetensors"))) {
                TreeSet<String> names = new TreeSet<>();
                for (String key : f.keys()) {
                    names.add(key.substring(0, key.indexOf('/')));
                }
                for (String name : names) {
                    for (String dt : f.metadata().get(name + "/dtypes").split(",")) {
                        for (Variant v : new Variant[] {Variant.REF, Variant.AVX2, Variant.AVX512}) {
                            out.add(Arguments.of(op, name, dt.trim(), v));
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("cases")
    void variantMatchesTheOracle(String op, String name, String dtypeName, Variant variant) throws Exception {
        assumeTrue(NativeKernels.cpu().isAvailable(variant), variant + " is not available on this CPU");
        DType dtype = DType.valueOf(dtypeName.toUpperCase(Locale.ROOT));
        try (SafetensorsFile f = Safetensors.open(kernelsDir().resolve(op).resolve("vectors.safetensors"));
             Arena arena = Arena.ofConfined()) {
            Map<String, String> meta = f.metadata();
            String tol = meta.getOrDefault(name + "/tolerance/" + dtypeName, meta.get("tolerance/" + dtypeName));
            double tolerance = Double.parseDouble(tol);
            switch (op) {
                case "taylor_update" -> {
                    int newOrder = Integer.parseInt(meta.get(name + "/new_order"));
                    Tensor feature = load(f, name + "/feature", dtype, arena);
                    TaylorFactors tf = factors(f, name + "/factors", dtype, Math.max(newOrder, 1), arena);
                    tf.setOrder(newOrder - 1);
                    Kernels.taylorUpdate(variant, tf, feature, newOrder, Float.parseFloat(meta.get(name + "/distance")));
                    double[] want = f64(f, name + "/expected_factors");
                    int n = (int) feature.numel();
                    for (int i = 0; i <= newOrder; i++) {
                        check(op + " " + name + " factor " + i, slice(want, i * n, n), tf.factor(i).toFloatArray(), tolerance);
                    }
                }
                case "taylor_forecast" -> {
                    int order = Integer.parseInt(meta.get(name + "/order"));
                    TaylorFactors tf = factors(f, name + "/factors", dtype, order, arena);
                    Tensor out = Tensor.allocate(arena, dtype, tf.shape());
                    Kernels.taylorForecast(variant, out, tf, Float.parseFloat(meta.get(name + "/delta")));
                    check(op + " " + name, f64(f, name + "/expected_out"), out.toFloatArray(), tolerance);
                }
                case "taylor_forecast_residual" -> {
                    Tensor x = load(f, name + "/x", dtype, arena);
                    float delta = Float.parseFloat(meta.get(name + "/delta"));
                    if (meta.containsKey(name + "/num_branches")) {
                        int k = Integer.parseInt(meta.get(name + "/num_branches"));
                        String[] orders = meta.get(name + "/orders").split(",");
                        long b = x.shape().dim(0);
                        long c = x.shape().dim(2);
                        // all gates side by side in one (b, k*c) storage, as the kernel reads them
                        Tensor storage = Tensor.allocate(arena, dtype, b, k * c);
                        float[] all = new float[(int) (b * k * c)];
                        List<TaylorFactors> branches = new ArrayList<>();
                        List<GateView> gates = new ArrayList<>();
                        for (int j = 0; j < k; j++) {
                            float[] g = f.get(name + "/gate_" + j).toFloatArray();
                            for (int r = 0; r < b; r++) {
                                System.arraycopy(g, (int) (r * c), all, (int) (r * k * c + j * c), (int) c);
                            }
                            int order = Integer.parseInt(orders[j].trim());
                            branches.add(factors(f, name + "/factors_" + j, dtype, order, arena));
                            gates.add(new GateView(storage, j * c, c));
                        }
                        storage.copyFrom(all);
                        Kernels.taylorForecastResidualMulti(variant, x, new BranchStack(arena, branches, gates), delta);
                    } else {
                        int order = Integer.parseInt(meta.get(name + "/order"));
                        Kernels.taylorForecastResidual(variant, x, GateView.of(load(f, name + "/gate", dtype, arena)),
                                factors(f, name + "/factors", dtype, order, arena), delta);
                    }
                    check(op + " " + name, f64(f, name + "/expected_x"), x.toFloatArray(), tolerance);
                }
                case "taylor_update_residual" -> {
                    int newOrder = Integer.parseInt(meta.get(name + "/new_order"));
                    Tensor x = load(f, name + "/x", dtype, arena);
                    Tensor feature = load(f, name + "/feature", dtype, arena);
                    TaylorFactors tf = factors(f, name + "/factors", dtype, Math.max(newOrder, 1), arena);
                    tf.setOrder(newOrder - 1);
                    Kernels.taylorUpdateResidual(variant, x, GateView.of(load(f, name + "/gate", dtype, arena)), feature, tf,
                            newOrder, Float.parseFloat(meta.get(name + "/distance")));
                    check(op + " " + name + " x", f64(f, name + "/expected_x"), x.toFloatArray(), tolerance);
                    double[] want = f64(f, name + "/expected_factors");
                    int n = (int) feature.numel();
                    for (int i = 0; i <= newOrder; i++) {
                        check(op + " " + name + " factor " + i, slice(want, i * n, n), tf.factor(i).toFloatArray(), tolerance);
                    }
                }
                default -> throw new IllegalStateException(op);
            }
        }
    }

    static Tensor load(SafetensorsFile f, String key, DType dtype, Arena arena) throws Exception {
        Tensor src = f.get(key);
        Tensor t = Tensor.allocate(arena, dtype, src.shape());
        t.copyFrom(src.toFloatArray());
        return t;
    }

    /** Factors stored as (p+1, ...) into a factor set of at least maxOrder; the first p+1 filled. */
    static TaylorFactors factors(SafetensorsFile f, String key, DType dtype, int maxOrder, Arena arena) throws Exception {
        Tensor src = f.get(key);
        long[] dims = src.shape().toArray();
        int stored = (int) dims[0];
        long[] one = java.util.Arrays.copyOfRange(dims, 1, dims.length);
        TaylorFactors tf = TaylorFactors.allocate(arena, dtype, Shape.of(one), Math.max(maxOrder, stored - 1));
        float[] all = src.toFloatArray();
        int n = all.length / stored;
        for (int i = 0; i < stored; i++) {
            tf.factor(i).copyFrom(slice(all, i * n, n));
        }
        tf.setOrder(stored - 1);
        return tf;
    }

    static double[] f64(SafetensorsFile f, String key) throws Exception {
        Tensor t = f.get(key);
        double[] d = new double[(int) t.numel()];
        for (int i = 0; i < d.length; i++) {
            d[i] = t.segment().getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
        }
        return d;
    }

    static double[] slice(double[] a, int from, int n) {
        return java.util.Arrays.copyOfRange(a, from, from + n);
    }

    static float[] slice(float[] a, int from, int n) {
        return java.util.Arrays.copyOfRange(a, from, from + n);
    }

    static void check(String what, double[] want, float[] got, double tolerance) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1);
            if (!(err <= tolerance)) {
                worst = Double.isNaN(err) ? Double.NaN : Math.max(worst, err);
                if (Double.isNaN(err)) {
                    break;
                }
            }
            worst = Math.max(worst, err);
        }
        assertTrue(worst <= tolerance, what + ": max relative error " + worst + " > " + tolerance);
    }
}
