package dev.seer.sampling;

/**
 * Classifier-free guidance in one doubled batch, as the official DiT {@code forward_with_cfg}: the call runs on
 * [x, x] (the family puts the conditional labels in the first half and the null labels in the second), and each
 * sample's output is uncond + scale * (cond - uncond) on the first {@code guidedChannels} channels and the
 * conditional row's own values on the others (DiT: channels 0..2 of epsilon; channel 3 and the learned variance
 * keep the conditional values).
 *
 * @param scale          the guidance scale
 * @param guidedChannels channels mixed, counted from 0
 * @param channels       output channels per row
 */
public record BatchedCfg(double scale, int guidedChannels, int channels) implements Guidance {
    public BatchedCfg {
        if (!(scale >= 0) || Double.isInfinite(scale) || guidedChannels < 0 || channels < 1 || guidedChannels > channels) {
            throw new IllegalArgumentException("guidance needs a finite scale >= 0 and 0 <= guided channels <= channels,"
                    + " found scale " + scale + ", " + guidedChannels + " of " + channels + " channels");
        }
    }

    @Override
    public int rows(int n) {
        return 2 * n;
    }

    @Override
    public void input(float[] x, int n, int per, float[] xIn) {
        System.arraycopy(x, 0, xIn, 0, n * per);
        System.arraycopy(x, 0, xIn, n * per, n * per);
    }

    @Override
    public void combine(float[] out, int n, int outPer, float[] combined) {
        int plane = outPer / channels;
        float s = (float) scale;
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < channels; ch++) {
                int src = (b * channels + ch) * plane;
                if (ch < guidedChannels) {
                    int un = ((b + n) * channels + ch) * plane;
                    for (int k = 0; k < plane; k++) {
                        float cond = out[src + k];
                        float uncond = out[un + k];
                        combined[src + k] = uncond + s * (cond - uncond);
                    }
                } else {
                    System.arraycopy(out, src, combined, src, plane);
                }
            }
        }
    }
}
