/**
 * The seam between model families and everything generic: a family's {@link dev.seer.model.Denoiser} (one run of
 * the model as the sampling loop drives it), its {@link dev.seer.model.HookPoint}s and the
 * {@link dev.seer.model.BranchHooks} contract caches implement ({@link dev.seer.model.FusedStackHooks} for models with
 * a fused stack pass), {@link dev.seer.model.StepContext}, {@link dev.seer.model.CallFlops} and
 * {@link dev.seer.model.Family} for the registry. Each sub-package is one family.
 */
package dev.seer.model;
