package dev.seer.train;

import dev.seer.sampling.GaussianDiffusion;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The official DiT training objective ({@code GaussianDiffusion.training_losses} with loss type MSE, epsilon
 * prediction and a learned-range variance) in libtorch ops, so autograd can differentiate it:
 * {@code loss = mean_over_dims((eps - eps_model)^2) + vb}, where vb is the variational-bound term in bits per
 * dimension computed with the model's mean frozen ({@code frozen_out = cat([eps_model.detach(), var_values])}),
 * so that vb trains only the variance channels. The per-element formulas are those of
 * {@link dev.seer.sampling.VariationalBound} (its float-array version is the test oracle for this one).
 */
public final class DiffusionLoss {
    private static final double LN2 = Math.log(2.0);
    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private final GaussianDiffusion diffusion;

    /** @param diffusion the training diffusion (the official one: {@code GaussianDiffusion.create("", 1000)}). */
    public DiffusionLoss(GaussianDiffusion diffusion) {
        this.diffusion = diffusion;
    }

    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    /** {@code q_sample}: sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, with float32 coefficients per sample. */
    public Tensor qSample(Tensor x0, int[] t, Tensor noise) {
        return coef(diffusion.sqrtAlphasCumprod(), t).mul(x0).add(coef(diffusion.sqrtOneMinusAlphasCumprod(), t).mul(noise));
    }

    /**
     * Per-sample loss terms. {@code modelOut} is the network's output (B, 2C, H, W) when the variance is learned,
     * (B, C, H, W) otherwise.
     *
     * @return (B,) mse + vb (vb only with a learned variance)
     */
    public Tensor perSample(Tensor modelOut, Tensor x0, Tensor xT, Tensor noise, int[] t, boolean learnSigma) {
        long c = x0.size(1);
        Tensor eps = modelOut.narrow(1, 0, c);
        Tensor mse = eps.sub(noise).square().flatten(1, -1).mean(new long[] {1});
        if (!learnSigma) {
            return mse;
        }
        Tensor varValues = modelOut.narrow(1, c, c);
        return mse.add(vbTermBits(x0, xT, eps.detach(), varValues, t));
    }

    /**
     * The variational-bound term in bits per dimension, per sample (B,): KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t))
     * for t &gt; 0, the discretised decoder NLL of x_0 for t = 0. {@code eps} should be detached by the caller when
     * training (the official stop-gradient on the mean).
     */
    public Tensor vbTermBits(Tensor x0, Tensor xT, Tensor eps, Tensor varValues, int[] t) {
        Tensor minLog = coef(diffusion.posteriorLogVarianceClipped(), t);
        Tensor maxLog = coef(diffusion.logBetas(), t);
        Tensor frac = varValues.add(new Scalar(1.0)).div(new Scalar(2.0));
        Tensor modelLogVar = frac.mul(maxLog).add(torch.sub(torch.ones_like(frac), frac).mul(minLog));
        Tensor predX0 = coef(diffusion.sqrtRecipAlphasCumprod(), t).mul(xT)
                .sub(coef(diffusion.sqrtRecipm1AlphasCumprod(), t).mul(eps));
        Tensor c1 = coef(diffusion.posteriorMeanCoef1(), t);
        Tensor c2 = coef(diffusion.posteriorMeanCoef2(), t);
        Tensor modelMean = c1.mul(predX0).add(c2.mul(xT));
        Tensor trueMean = c1.mul(x0).add(c2.mul(xT));
        // normal_kl(true_mean, true_logvar, model_mean, model_logvar)
        Tensor diff = trueMean.sub(modelMean);
        Tensor kl = minLog.sub(modelLogVar).neg().sub(new Scalar(1.0)).add(minLog.sub(modelLogVar).exp())
                .add(diff.square().mul(modelLogVar.neg().exp())).mul(new Scalar(0.5));
        Tensor klBits = kl.flatten(1, -1).mean(new long[] {1}).div(new Scalar(LN2));
        Tensor nll = discretizedGaussianLogLikelihood(x0, modelMean, modelLogVar.mul(new Scalar(0.5))).neg();
        Tensor nllBits = nll.flatten(1, -1).mean(new long[] {1}).div(new Scalar(LN2));
        boolean[] zero = new boolean[t.length];
        boolean any = false;
        for (int i = 0; i < t.length; i++) {
            zero[i] = t[i] == 0;
            any |= zero[i];
        }
        if (!any) {
            return klBits;
        }
        float[] mask = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            mask[i] = zero[i] ? 1f : 0f;
        }
        Tensor m = floats(mask, t.length);
        return torch.where(m.gt(new Scalar(0.5)), nllBits, klBits);
    }

    /** {@code discretized_gaussian_log_likelihood}: log-probability of each value's 1/255-wide bin, in nats. */
    static Tensor discretizedGaussianLogLikelihood(Tensor x, Tensor mean, Tensor logScale) {
        Tensor centered = x.sub(mean);
        Tensor invStdv = logScale.neg().exp();
        Tensor cdfPlus = approxStandardNormalCdf(invStdv.mul(centered.add(new Scalar(1.0 / 255.0))));
        Tensor cdfMin = approxStandardNormalCdf(invStdv.mul(centered.sub(new Scalar(1.0 / 255.0))));
        Tensor logCdfPlus = cdfPlus.clamp_min(new Scalar(1e-12)).log();
        Tensor logOneMinusCdfMin = torch.sub(torch.ones_like(cdfMin), cdfMin).clamp_min(new Scalar(1e-12)).log();
        Tensor logCdfDelta = cdfPlus.sub(cdfMin).clamp_min(new Scalar(1e-12)).log();
        return torch.where(x.lt(new Scalar(-0.999)), logCdfPlus,
                torch.where(x.gt(new Scalar(0.999)), logOneMinusCdfMin, logCdfDelta));
    }

    static Tensor approxStandardNormalCdf(Tensor x) {
        Tensor inner = x.add(x.pow(new Scalar(3)).mul(new Scalar(0.044715))).mul(new Scalar((float) SQRT_2_OVER_PI));
        return inner.tanh().add(new Scalar(1.0)).mul(new Scalar(0.5));
    }

    /** {@code _extract_into_tensor}: arr[t] as float32, shaped (B, 1, 1, 1). */
    static Tensor coef(double[] table, int[] t) {
        float[] v = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            v[i] = GaussianDiffusion.extract(table, t[i]);
        }
        return floats(v, t.length, 1, 1, 1);
    }

    /** A new float32 tensor holding {@code values}. */
    static Tensor floats(float[] values, long... shape) {
        Tensor out = torch.zeros(shape, new TensorOptions(torch.ScalarType.Float));
        dev.seer.tensor.Torch.view(out).copyFrom(values);
        return out;
    }
}
