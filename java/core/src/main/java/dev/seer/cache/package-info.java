/**
 * Cache policies and their per-run state, for any model family: {@link dev.seer.cache.CachePolicy} (none, FORA,
 * TaylorSeer; one syntax, {@code CachePolicy.parse}) opens a {@link dev.seer.cache.RunCache} per run, whose hooks the
 * model calls around its residual branches. {@link dev.seer.cache.TaylorSeerSchedule} is the official full/forecast
 * schedule as pure functions; {@link dev.seer.cache.TaylorCache} keeps the Taylor factors and forecasts with the
 * fused kernels; {@link dev.seer.cache.FactorPool} keeps factor memory between a pipeline's runs. Names no family.
 */
package dev.seer.cache;
