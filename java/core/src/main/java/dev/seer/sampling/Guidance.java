package dev.seer.sampling;

/**
 * How a sampling run turns its samples into a network call's batch and the call's output back into one
 * prediction per sample. {@link #NONE}: the batch is the samples. {@link BatchedCfg}: classifier-free guidance on a
 * doubled batch (DiT). Guidance a model takes as an input (FLUX-dev's guidance embedding) is the family's
 * conditioning and runs with {@link #NONE}.
 */
public interface Guidance {
    /** Rows of one network call for n samples. */
    int rows(int n);

    /** The call's input (rows, per) from the samples x (n, per). */
    void input(float[] x, int n, int per, float[] xIn);

    /** One output row (outPer floats) per sample from the call's output rows. */
    void combine(float[] out, int n, int outPer, float[] combined);

    /** No guidance outside the model: one row per sample, its output as it is. */
    Guidance NONE = new Guidance() {
        @Override
        public int rows(int n) {
            return n;
        }

        @Override
        public void input(float[] x, int n, int per, float[] xIn) {
            System.arraycopy(x, 0, xIn, 0, n * per);
        }

        @Override
        public void combine(float[] out, int n, int outPer, float[] combined) {
            System.arraycopy(out, 0, combined, 0, n * outPer);
        }
    };
}
