/**
 * The facebookresearch DiT family (Peebles and Xie, 2023) with the official TaylorSeer-DiT sampling: config and
 * presets, weights (official key names, .pt and .safetensors), the forward pass ({@link dev.seer.model.dit.DitModel})
 * with its conditioning memo, FLOPs as the paper counts them, and {@link dev.seer.model.dit.DitPipeline}, which runs
 * class-conditional sampling through the one sampling loop.
 */
package dev.seer.model.dit;
