/**
 * FLUX.1 [dev] and [schnell] (Black Forest Labs' MMDiT for flow matching): {@link dev.seer.model.flux.FluxParams}
 * with the official field names and presets, {@link dev.seer.model.flux.FluxWeights} (the BFL and the diffusers
 * checkpoint layouts, mapped in their stored dtype), the forward pass in libtorch ops
 * ({@link dev.seer.model.flux.FluxModel}) with its residual branches behind {@link dev.seer.model.BranchHooks}, the
 * inputs file ({@link dev.seer.model.flux.FluxInputs}) and a sampling driver with the official schedule and Euler
 * steps ({@link dev.seer.model.flux.FluxSampler}). Numerics follow the BFL reference code and the TaylorSeer-FLUX
 * cache to float rounding: tools/flux-check runs the official code, docs/BENCHMARKS.md has the numbers.
 */
package dev.seer.model.flux;
