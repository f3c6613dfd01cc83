package dev.seer.model.flux;

/**
 * FLOPs of one FLUX network call, counted from the matrix products and the attention (2 per multiply-add; the
 * elementwise work, norms, RoPE and softmax are not counted). With B the batch, Lt and Li the text and image tokens,
 * L = Lt + Li, C the width, M the MLP width, I = in_channels, O = out_channels:
 * <pre>
 *   double block, branches: 2B(Li + Lt)(3C*C + C*C + 2*C*M) + 4B L^2 C        (qkv, proj, MLP per stream; QK^T and AV)
 *   double block, always:   2 * 2B * C * 6C                                     (img_mod, txt_mod)
 *   single block, branch:   2B L C (3C + M) + 2B L (C + M) C + 4B L^2 C          (linear1, linear2, attention)
 *   single block, always:   2B * C * 3C                                         (modulation)
 *   per call, always:       2B Li I C + 2B(256C + C^2) [+ 2B(256C + C^2) guidance] + 2B*C*2C + 2B Li C O
 *   per run (txt_in, vector_in; the reference recomputes them at every call): 2B Lt ctx C + 2B(vec C + C^2)
 * </pre>
 * A forecast step runs only the "always" terms (and the Taylor sums, counted as elementwise work: not counted); a
 * step whose whole stack is forecast (TaylorSeer-Lite) only the per-call terms, no modulation.
 *
 * @param batch     B
 * @param txtTokens Lt
 * @param imgTokens Li
 */
public record FluxFlops(FluxParams params, long batch, long txtTokens, long imgTokens) {

    /** The cached branches' FLOPs of one full call (what a forecast call skips). */
    public double branches() {
        double b = batch;
        double c = params.hiddenSize();
        double m = params.mlpHiddenDim();
        double l = txtTokens + imgTokens;
        double perDouble = 2 * b * l * (3 * c * c + c * c + 2 * c * m) + 4 * b * l * l * c;
        double perSingle = 2 * b * l * c * (3 * c + m) + 2 * b * l * (c + m) * c + 4 * b * l * l * c;
        return params.depth() * perDouble + params.depthSingleBlocks() * perSingle;
    }

    /** What every call runs, full or forecast: embedders of t (and guidance), img_in, modulations, final layer. */
    public double always() {
        double b = batch;
        double c = params.hiddenSize();
        double emb = 2 * b * (256 * c + c * c);
        double mods = params.depth() * 2 * (2 * b * c * 6 * c) + params.depthSingleBlocks() * 2 * b * c * 3 * c;
        return 2 * b * imgTokens * params.inChannels() * c + emb * (params.guidanceEmbed() ? 2 : 1) + mods
                + 2 * b * c * 2 * c + 2 * b * imgTokens * c * params.outChannels();
    }

    /**
     * What a call runs when its whole block stack is skipped and the stack's output forecast (TaylorSeer-Lite): the
     * embedders of t (and guidance), img_in and the final layer; no block's modulation.
     */
    public double outsideStack() {
        double b = batch;
        double c = params.hiddenSize();
        double emb = 2 * b * (256 * c + c * c);
        return 2 * b * imgTokens * params.inChannels() * c + emb * (params.guidanceEmbed() ? 2 : 1)
                + 2 * b * c * 2 * c + 2 * b * imgTokens * c * params.outChannels();
    }

    /** txt_in and vector_in: once per run here, once per call in the reference. */
    public double conditioning() {
        double b = batch;
        double c = params.hiddenSize();
        return 2 * b * txtTokens * params.contextInDim() * c + 2 * b * (params.vecInDim() * c + c * c);
    }

    /** A full call as the reference runs it. */
    public double fullCall() {
        return branches() + always() + conditioning();
    }
}
