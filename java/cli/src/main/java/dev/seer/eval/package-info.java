/** Fidelity metrics, the policy bench with its reports and plots, the soak, and the shipped Fashion-MNIST models. */
package dev.seer.eval;
