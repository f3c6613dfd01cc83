/** Training of the shipped Fashion-MNIST DiT and its probe (resumable). */
package dev.seer.train;
