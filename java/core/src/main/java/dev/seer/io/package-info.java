/**
 * Files: safetensors (mapped, without copies), torch.save archives read by a restricted pickle reader, strict config
 * JSON ({@link dev.seer.io.ConfigJson}), PNG images, the Fashion-MNIST IDX files, and atomic writes.
 */
package dev.seer.io;
