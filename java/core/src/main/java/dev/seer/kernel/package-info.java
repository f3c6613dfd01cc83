/**
 * Panama bindings to the native kernels (libseer_cpu, libseer_cuda): validated facades ({@link dev.seer.kernel.Kernels}
 * for the Taylor ops, {@link dev.seer.kernel.DitOps} for the DiT glue), factor storage and branch stacks. Family-free
 * except for the DiT ops, which sit behind their own facade and header.
 */
package dev.seer.kernel;
