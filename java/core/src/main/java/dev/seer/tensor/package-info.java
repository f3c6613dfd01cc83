/** A small tensor type over native memory, dtypes and shapes, libtorch interop, and the runtime's start-up. */
package dev.seer.tensor;
