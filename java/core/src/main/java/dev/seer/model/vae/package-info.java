/**
 * The KL autoencoders that turn latents into pictures and back: the LDM / BFL architecture (conv_in, down levels
 * of ResNet blocks with stride-2 downsampling, a mid block of ResNet, attention, ResNet, up levels with nearest
 * 2x upsampling, norm_out, conv_out), as used by DiT (SD-VAE, sd-vae-ft-ema / -mse) and FLUX (16 latent channels).
 *
 * <p>{@link dev.seer.model.vae.VaeConfig} holds the architecture (diffusers {@code config.json} or BFL
 * {@code AutoEncoderParams}); {@link dev.seer.model.vae.VaeWeights} names every tensor in both checkpoint layouts
 * (diffusers {@code AutoencoderKL}, and the original LDM / BFL names of {@code ae.safetensors});
 * {@link dev.seer.model.vae.Autoencoder} loads either layout into one implementation on libtorch and decodes
 * (optionally in overlapping tiles) and encodes (posterior mean, deterministic).
 */
package dev.seer.model.vae;
