package dev.seer.eval;

import dev.seer.cache.CachePolicy;
import dev.seer.model.dit.DitModel;
import dev.seer.model.dit.DitPipeline;
import dev.seer.model.dit.SampleRequest;
import dev.seer.sampling.SampleResult;
import dev.seer.sampling.SamplerKind;
import java.util.ArrayList;
import java.util.List;

/**
 * A leak check for long-lived processes: many consecutive samplings of one loaded model in one JVM, with the
 * process's memory read after a warm-up and at the end. Every sampling uses the cache policy except every
 * {@code uncachedEvery}-th one (1-based), which runs uncached, so that both the hooked path (Taylor factors taken
 * from and given back to the pipeline's pool, the fused kernels) and the plain libtorch path are exercised in the
 * same run. Memory that the
 * steady state needs is allocated during the warm-up; what keeps growing after it is a leak.
 */
public final class Soak {
    private Soak() {
    }

    /**
     * @param samplings     samplings in all, warm-up included (>= 1)
     * @param warmup        samplings before the baseline reading (0..samplings-1; 0 reads it before the first)
     * @param batch         labels per sampling (label i mod num_classes)
     * @param steps         DDIM steps per sampling
     * @param cfgScale      guidance scale (doubles the network batch when > 0)
     * @param policy        the cache policy of the cached samplings
     * @param uncachedEvery every this-many-th sampling runs uncached; 0: never
     * @param readEvery     read the memory every this many samplings (for the maximum and the trace)
     * @param seed          seed of the first sampling; sampling i uses seed + i
     */
    public record Settings(int samplings, int warmup, int batch, int steps, double cfgScale, CachePolicy policy,
                           int uncachedEvery, int readEvery, long seed) {
        public Settings {
            if (samplings < 1) {
                throw new IllegalArgumentException("samplings must be >= 1, found " + samplings);
            }
            if (warmup < 0 || warmup >= samplings) {
                throw new IllegalArgumentException("warmup must be in 0.." + (samplings - 1) + " (fewer than the "
                        + samplings + " samplings), found " + warmup);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be >= 1, found " + batch);
            }
            if (steps < 1 || steps > 1000) {
                throw new IllegalArgumentException("steps must be in 1..1000, found " + steps);
            }
            if (!(cfgScale >= 0) || Double.isInfinite(cfgScale)) {
                throw new IllegalArgumentException("cfgScale must be finite and >= 0, found " + cfgScale);
            }
            if (uncachedEvery < 0) {
                throw new IllegalArgumentException("uncachedEvery must be >= 0 (0: never), found " + uncachedEvery);
            }
            if (readEvery < 1) {
                throw new IllegalArgumentException("readEvery must be >= 1, found " + readEvery);
            }
            if (policy == null) {
                throw new IllegalArgumentException("policy is null");
            }
        }

        /** Whether sampling {@code i} (0-based) runs uncached. */
        public boolean uncached(int i) {
            return policy instanceof CachePolicy.None || uncachedEvery > 0 && (i + 1) % uncachedEvery == 0;
        }
    }

    /** A memory reading after {@code samplings} samplings. */
    public record Reading(int samplings, ProcessMemory memory) {
    }

    /**
     * What the soak measured.
     *
     * @param warm      the reading at the end of the warm-up (the baseline)
     * @param end       the reading after the last sampling
     * @param max       the largest value of each figure over every reading from the baseline on
     * @param trace     every reading, in order
     * @param cached    samplings run with the cache policy
     * @param uncached  samplings run uncached
     * @param seconds   wall time of all samplings (readings excluded)
     * @param nonFiniteFallbacks forecast steps recomputed in full over the whole run
     */
    public record Report(Settings settings, ProcessMemory warm, ProcessMemory end, ProcessMemory max,
                         List<Reading> trace, int cached, int uncached, double seconds, long nonFiniteFallbacks) {
        public double rssGrowthPercent() {
            return ProcessMemory.growthPercent(warm.rssBytes(), end.rssBytes());
        }

        public double javacppBytesGrowthPercent() {
            return ProcessMemory.growthPercent(warm.javacppBytes(), end.javacppBytes());
        }

        public double javacppPointersGrowthPercent() {
            return ProcessMemory.growthPercent(warm.javacppPointers(), end.javacppPointers());
        }

        public double heapGrowthPercent() {
            return ProcessMemory.growthPercent(warm.heapUsedBytes(), end.heapUsedBytes());
        }

        /** RSS and both JavaCPP figures grew by at most {@code percent} from the baseline to the end. */
        public boolean within(double percent) {
            return rssGrowthPercent() <= percent && javacppBytesGrowthPercent() <= percent
                    && javacppPointersGrowthPercent() <= percent;
        }
    }

    /** Told after every sampling and every reading (on the calling thread). */
    public interface Listener {
        void sampled(int done, int total, boolean uncached, double seconds);

        default void read(Reading r) {
        }
    }

    /** Runs the soak on {@code model} (which stays open) with the shipped model's sampling settings. */
    public static Report run(DitModel model, Settings s, Listener listener) {
        int classes = model.config().numClasses();
        long[] labels = new long[s.batch()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % classes;
        }
        try (DitPipeline pipeline = new DitPipeline(model, ShippedModels.CLIP_DENOISED)) {
            List<Reading> trace = new ArrayList<>();
            ProcessMemory warm = null;
            ProcessMemory max = null;
            if (s.warmup() == 0) {
                warm = record(trace, 0, listener).memory();
                max = warm;
            }
            int cached = 0;
            int uncached = 0;
            long fallbacks = 0;
            double seconds = 0;
            for (int i = 0; i < s.samplings(); i++) {
                boolean plain = s.uncached(i);
                SampleRequest req = SampleRequest.builder(labels).steps(s.steps()).sampler(SamplerKind.DDIM)
                        .cfgScale(s.cfgScale()).policy(plain ? new CachePolicy.None() : s.policy()).seed(s.seed() + i).build();
                long t0 = System.nanoTime();
                SampleResult r = pipeline.sample(req);
                double dt = (System.nanoTime() - t0) / 1e9;
                seconds += dt;
                fallbacks += r.stats().nonFiniteFallbacks().size();
                if (plain) {
                    uncached++;
                } else {
                    cached++;
                }
                int done = i + 1;
                listener.sampled(done, s.samplings(), plain, dt);
                if (done == s.warmup()) {
                    warm = record(trace, done, listener).memory();
                    max = warm;
                } else if (done > s.warmup() && (done % s.readEvery() == 0 || done == s.samplings())) {
                    max = max.max(record(trace, done, listener).memory());
                }
            }
            ProcessMemory end = trace.getLast().memory();
            return new Report(s, warm, end, max, List.copyOf(trace), cached, uncached, seconds, fallbacks);
        }
    }

    private static Reading record(List<Reading> trace, int done, Listener listener) {
        Reading r = new Reading(done, ProcessMemory.read());
        trace.add(r);
        listener.read(r);
        return r;
    }
}
