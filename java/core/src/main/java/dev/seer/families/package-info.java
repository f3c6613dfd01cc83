/** The registry of model families that {@code --model} resolves; the one place that names every family. */
package dev.seer.families;
