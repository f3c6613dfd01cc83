package dev.seer.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW (Loshchilov and Hutter 2019) with torch.optim.AdamW's update, written in tensor ops so that its state is
 * plain named tensors (first and second moments) that a checkpoint can hold:
 * {@code p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= lr / (1 - b1^s) * m / (sqrt(v) / sqrt(1 - b2^s) + eps)}. Call {@link #step} under a NoGradGuard.
 */
public final class AdamW implements AutoCloseable {
    private final Map<String, Tensor> params;
    private final Map<String, Tensor> m = new LinkedHashMap<>();
    private final Map<String, Tensor> v = new LinkedHashMap<>();
    private final double lr;
    private final double weightDecay;
    private final double beta1;
    private final double beta2;
    private final double eps;

    /** @param params the parameters (requiring grad), by name; the map is kept, not copied */
    public AdamW(Map<String, Tensor> params, double lr, double weightDecay, double beta1, double beta2, double eps) {
        this.params = params;
        this.lr = lr;
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        try (PointerScope scope = new PointerScope()) {
            for (var e : params.entrySet()) {
                m.put(e.getKey(), keep(torch.zeros_like(e.getValue())));
                v.put(e.getKey(), keep(torch.zeros_like(e.getValue())));
            }
        }
    }

    /** Takes a tensor out of the current PointerScope so it lives as long as its owner. */
    static Tensor keep(Tensor t) {
        PointerScope inner = PointerScope.getInnerScope();
        if (inner != null) {
            t.retainReference();
            inner.detach(t);
        }
        return t;
    }

    /** First moments by parameter name (live tensors: checkpoints read and restore them). */
    public Map<String, Tensor> firstMoments() {
        return m;
    }

    /** Second moments by parameter name. */
    public Map<String, Tensor> secondMoments() {
        return v;
    }

    /**
     * Update number {@code s} (1-based, for the bias corrections) from the parameters' gradients, which are then
     * zeroed.
     */
    public void step(long s) {
        double bc1 = 1 - Math.pow(beta1, s);
        double bc2 = 1 - Math.pow(beta2, s);
        for (var e : params.entrySet()) {
            Tensor p = e.getValue();
            Tensor g = p.grad();
            Tensor mk = m.get(e.getKey());
            Tensor vk = v.get(e.getKey());
            if (weightDecay != 0) {
                p.mul_(new Scalar(1 - lr * weightDecay));
            }
            mk.mul_(new Scalar(beta1)).add_(g, new Scalar(1 - beta1));
            vk.mul_(new Scalar(beta2)).addcmul_(g, g, new Scalar(1 - beta2));
            Tensor denom = vk.sqrt().div(new Scalar(Math.sqrt(bc2))).add(new Scalar(eps));
            p.addcdiv_(mk, denom, new Scalar(-lr / bc1));
            g.zero_();
        }
    }

    @Override
    public void close() {
        for (Tensor t : m.values()) {
            t.close();
        }
        for (Tensor t : v.values()) {
            t.close();
        }
        m.clear();
        v.clear();
    }
}
