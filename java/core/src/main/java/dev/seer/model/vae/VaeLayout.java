package dev.seer.model.vae;

/** The two ways autoencoder checkpoints name their tensors. */
public enum VaeLayout {
    /**
     * diffusers {@code AutoencoderKL}: {@code decoder.up_blocks.0.resnets.0.conv1.weight},
     * {@code decoder.mid_block.attentions.0.to_q.weight} (a (C, C) linear map; older files such as sd-vae-ft-* call
     * it {@code query}, {@code key}, {@code value}, {@code proj_attn}), {@code quant_conv.weight}. Up blocks are
     * numbered from the lowest resolution.
     */
    DIFFUSERS,
    /**
     * The original LDM / BFL names, as in FLUX's {@code ae.safetensors}: {@code decoder.up.3.block.0.conv1.weight},
     * {@code decoder.mid.attn_1.q.weight} (a (C, C, 1, 1) conv), {@code nin_shortcut}, {@code norm_out}. Up levels
     * are numbered from the highest resolution. LDM files have {@code quant_conv} too; BFL's have none.
     */
    ORIGINAL
}
