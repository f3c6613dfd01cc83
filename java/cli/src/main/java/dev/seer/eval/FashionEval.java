package dev.seer.eval;

import dev.seer.cache.CachePolicy;
import dev.seer.cache.FactorDtype;
import dev.seer.io.FashionMnist;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitPipeline;
import dev.seer.sampling.ProgressListener;
import dev.seer.model.dit.SampleRequest;
import dev.seer.sampling.SampleResult;
import dev.seer.sampling.SamplerKind;

/**
 * Generates class-conditional Fashion-MNIST samples and scores them with the {@link FashionProbe}: class
 * consistency, Fréchet distance of probe features against the test set, PSNR and SSIM against the uncached samples
 * from the same noise.
 *
 * <p>Sample i has label i mod 10. Samples are drawn in chunks; chunk c is one {@link DitPipeline#sample} call
 * with seed {@code seed + c}, so the uncached run and every cached run start from the same noise.
 */
public final class FashionEval {
    private FashionEval() {
    }

    /** All images of a split as floats in [-1, 1], n * 28 * 28. */
    public static float[] images(FashionMnist.Dataset data) {
        int hw = FashionMnist.SIZE * FashionMnist.SIZE;
        float[] out = new float[data.size() * hw];
        for (int i = 0; i < data.size(); i++) {
            System.arraycopy(data.images().imageFloats(i), 0, out, i * hw, hw);
        }
        return out;
    }

    /** The probe's accuracy on a labelled split. */
    public static double accuracy(FashionProbe probe, FashionMnist.Dataset data) {
        FashionProbe.Outputs o = probe.run(images(data), data.size());
        long[] labels = new long[data.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = data.label(i);
        }
        return Metrics.classConsistency(o.predictions(), labels);
    }

    /** Generated images (n * H * W, clamped to [-1, 1]) with their labels and the summed run statistics. */
    public record Generated(float[] images, long[] labels, double seconds, double flopsActual, double flopsOfficial) {
        public int count() {
            return labels.length;
        }
    }

    /** Samples {@code n} images (label i mod 10) with the given policy. */
    public static Generated generate(DitModel model, int n, int steps, double cfg, CachePolicy policy, long seed, int chunk,
                                     ProgressListener listener) {
        return generate(model, n, steps, SamplerKind.DDIM, 0, cfg, policy, seed, chunk, listener);
    }

    /** Samples {@code n} images (label i mod 10) with the given sampler and policy. */
    public static Generated generate(DitModel model, int n, int steps, SamplerKind sampler, double eta, double cfg,
                                     CachePolicy policy, long seed, int chunk, ProgressListener listener) {
        return generate(model, n, steps, sampler, eta, cfg, policy, FactorDtype.F32, seed, chunk, listener);
    }

    /** The same, with the policy's Taylor factors stored in {@code factorDtype}. */
    public static Generated generate(DitModel model, int n, int steps, SamplerKind sampler, double eta, double cfg,
                                     CachePolicy policy, FactorDtype factorDtype, long seed, int chunk,
                                     ProgressListener listener) {
        if (n < 1 || chunk < 1) {
            throw new IllegalArgumentException("samples and chunk must be >= 1, found samples " + n + ", chunk " + chunk);
        }
        int classes = model.config().numClasses();
        int per = model.config().inChannels() * model.config().inputSize() * model.config().inputSize();
        float[] images = new float[n * per];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % classes;
        }
        double seconds = 0;
        double flops = 0;
        double flopsOfficial = 0;
        try (DitPipeline pipeline = new DitPipeline(model, ShippedModels.CLIP_DENOISED)) {
            int done = 0;
            for (int from = 0, c = 0; from < n; from += chunk, c++) {
                int b = Math.min(chunk, n - from);
                long[] y = java.util.Arrays.copyOfRange(labels, from, from + b);
                SampleRequest req = SampleRequest.builder(y).steps(steps).sampler(sampler).eta(eta).cfgScale(cfg)
                        .policy(policy).factorDtype(factorDtype).seed(seed + c).build();
                SampleResult r = pipeline.sample(req);
                float[] x = r.latents();
                for (int k = 0; k < x.length; k++) {
                    images[from * per + k] = Math.max(-1f, Math.min(1f, x[k]));
                }
                seconds += r.stats().seconds();
                flops += r.stats().flopsActual();
                flopsOfficial += r.stats().flopsOfficial();
                done += b;
                listener.onStep(done, n, true);
            }
            return new Generated(images, labels, seconds, flops, flopsOfficial);
        }
    }

    /** Scores of one set of samples. */
    public record Scores(double classConsistency, double frechet, double psnr, double ssim) {
    }

    /**
     * Scores {@code g}: class consistency, Fréchet distance of its probe features to {@code reference} (the test
     * set's), and mean PSNR / SSIM against {@code uncached} (NaN when null; PSNR averages over the images whose
     * PSNR is finite, +inf when every image is identical).
     */
    public static Scores score(FashionProbe probe, Generated g, Metrics.Gaussian reference, Generated uncached) {
        FashionProbe.Outputs o = probe.run(g.images(), g.count());
        double cc = Metrics.classConsistency(o.predictions(), g.labels());
        double fd = Metrics.frechetDistance(Metrics.fit(o.features(), g.count(), FashionProbe.FEATURES), reference);
        double psnr = Double.NaN;
        double ssim = Double.NaN;
        if (uncached != null) {
            int hw = FashionMnist.SIZE * FashionMnist.SIZE;
            double ps = 0;
            int finite = 0;
            double ss = 0;
            for (int i = 0; i < g.count(); i++) {
                float[] a = java.util.Arrays.copyOfRange(g.images(), i * hw, (i + 1) * hw);
                float[] b = java.util.Arrays.copyOfRange(uncached.images(), i * hw, (i + 1) * hw);
                double p = Metrics.psnr(a, b);
                if (Double.isFinite(p)) {
                    ps += p;
                    finite++;
                }
                ss += Metrics.ssim(a, b, FashionMnist.SIZE, FashionMnist.SIZE);
            }
            psnr = finite == 0 ? Double.POSITIVE_INFINITY : ps / finite;
            ssim = ss / g.count();
        }
        return new Scores(cc, fd, psnr, ssim);
    }

    /** The probe-feature Gaussian of a set of real images. */
    public static Metrics.Gaussian features(FashionProbe probe, float[] images, int n) {
        return Metrics.fit(probe.run(images, n).features(), n, FashionProbe.FEATURES);
    }
}
