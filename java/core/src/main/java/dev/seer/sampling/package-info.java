/**
 * The one sampling loop ({@link dev.seer.sampling.SamplingLoop}) and the pieces families plug into it: samplers
 * (DDIM and DDPM over {@link dev.seer.sampling.GaussianDiffusion}), guidance strategies
 * ({@link dev.seer.sampling.BatchedCfg}), progress, run statistics. Names no family.
 */
package dev.seer.sampling;
