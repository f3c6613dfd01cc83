package dev.seer.model.flux;

import dev.seer.model.BranchHooks;
import dev.seer.model.CallFlops;
import dev.seer.model.Denoiser;
import dev.seer.model.HookPoint;
import dev.seer.model.StepContext;
import dev.seer.tensor.Tensor;
import dev.seer.tensor.Torch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;

/**
 * A FLUX model as the sampling loop drives it for one run: the run's prepared text conditioning, position
 * embedding, schedule and guidance value ({@link FluxModel.Run}); each call maps packed image tokens (B, L_img, 64)
 * at the step's time t to the predicted velocity, same shape. Closing it frees the run's tensors, not the model.
 */
final class FluxDenoiser implements Denoiser {
    private final FluxModel model;
    private final FluxModel.Run run;
    private final FluxFlops flops;
    private final int length;

    FluxDenoiser(FluxModel model, FluxModel.Run run) {
        this.model = model;
        this.run = run;
        FluxParams p = model.params();
        this.flops = new FluxFlops(p, run.batch, run.txtTokens, run.imgTokens);
        this.length = Math.toIntExact(run.batch * run.imgTokens * p.inChannels());
    }

    @Override
    public List<HookPoint> hookPoints() {
        return run.hookPoints;
    }

    @Override
    public int inputLength() {
        return length;
    }

    @Override
    public int outputLength() {
        return Math.toIntExact(run.batch * run.imgTokens * model.params().outChannels());
    }

    @Override
    public void call(float[] x, StepContext ctx, BranchHooks hooks, float[] out) {
        try (PointerScope scope = new PointerScope(); Arena arena = Arena.ofConfined()) {
            Tensor img = Tensor.ofFloats(arena, x, run.batch, run.imgTokens, model.params().inChannels());
            org.bytedeco.pytorch.Tensor pred = model.forward(run, Torch.wrap(img), ctx, hooks);
            MemorySegment.copy(Torch.view(pred.contiguous()).segment(), ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        }
    }

    @Override
    public CallFlops flops() {
        return new CallFlops() {
            @Override
            public double official(boolean full) {
                return flops.always() + flops.conditioning() + (full ? flops.branches() : 0);
            }

            @Override
            public double actual(boolean full, int order) {
                return flops.always() + (full ? flops.branches() : 0);
            }

            @Override
            public double officialStackForecast() {
                return flops.outsideStack() + flops.conditioning();
            }

            @Override
            public double actualStackForecast(int order) {
                return flops.outsideStack();
            }

            @Override
            public double actualPerRun() {
                return flops.conditioning();
            }
        };
    }

    @Override
    public void close() {
        run.close();
    }
}
