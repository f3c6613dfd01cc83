# Builds small random KL autoencoders with the reference code, BFL's flux/modules/autoencoder.py and diffusers'
# AutoencoderKL, runs them (fp32, CPU) and writes weights, configs, inputs and outputs for check.sh.
# Usage: python3 run_reference.py <flux checkout> <diffusers checkout> <output directory>
import json, os, struct, sys
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the einops stand-in and standins.py
import standins

flux_root, diffusers_root, out = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
torch.set_grad_enabled(False)
torch.set_num_threads(2)

# diffusers first: its Attention picks its processor when built (AttnProcessor2_0 where torch has
# scaled_dot_product_attention, else the classic AttnProcessor), so it runs with torch's own ops only.
AutoencoderKL = standins.load_diffusers(diffusers_root)


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        arr = np.ascontiguousarray(tensors[k].detach().cpu().numpy().astype("<f4"))
        b = arr.tobytes()
        header[k] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def randomise(model, seed):
    """Every parameter drawn (the default init leaves the norms at 1 and 0): weights ~ N(0, 1/fan_in), biases
    N(0, 0.02^2), norm scales 1 + N(0, 0.1^2) and shifts N(0, 0.1^2)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        r = torch.randn(p.shape, generator=g)
        if "norm" in name:
            p.copy_(r * 0.1 + (1.0 if name.endswith("weight") else 0.0))
        elif name.endswith("bias"):
            p.copy_(r * 0.02)
        else:
            p.copy_(r / (p[0].numel() ** 0.5))


g = torch.Generator().manual_seed(7)
cases = {}

# ---- diffusers AutoencoderKL: SD-VAE-like (quant convs, scaling only) ------------------------------------------
cfg = dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 3,
           up_block_types=["UpDecoderBlock2D"] * 3, block_out_channels=[32, 64, 64], layers_per_block=1,
           act_fn="silu", latent_channels=4, norm_num_groups=32, sample_size=32, scaling_factor=0.18215)
vae = AutoencoderKL(**cfg).eval()
randomise(vae, 1)
d = os.path.join(out, "diffusers")
os.makedirs(d, exist_ok=True)
json.dump(dict(_class_name="AutoencoderKL", _diffusers_version="0.36.0", **cfg), open(os.path.join(d, "config.json"), "w"), indent=1)
sd = vae.state_dict()
write_safetensors(os.path.join(d, "diffusion_pytorch_model.safetensors"), sd)
# the same weights under the older attention names (sd-vae-ft-*: query, key, value, proj_attn)
old = os.path.join(out, "diffusers_old_names")
os.makedirs(old, exist_ok=True)
json.dump(dict(_class_name="AutoencoderKL", **cfg), open(os.path.join(old, "config.json"), "w"), indent=1)
rename = {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}
old_sd = {}
for k, v in sd.items():
    for a, b in rename.items():
        k = k.replace(a, b)
    old_sd[k] = v
write_safetensors(os.path.join(old, "diffusion_pytorch_model.safetensors"), old_sd)

sf = cfg["scaling_factor"]
z = torch.randn(2, 4, 6, 10, generator=g)
x = torch.rand(2, 3, 24, 40, generator=g) * 2 - 1
write_safetensors(os.path.join(out, "diffusers_latents.safetensors"), {"sample": z})
write_safetensors(os.path.join(out, "diffusers_images.safetensors"), {"x": x})
# as the DiT and SD pipelines call it: decode(latents / scaling_factor); encode: mean * scaling_factor
write_safetensors(os.path.join(out, "ref_diffusers_decode.safetensors"), {"image": vae.decode(z / sf).sample})
write_safetensors(os.path.join(out, "ref_diffusers_encode.safetensors"), {"latents": vae.encode(x).latent_dist.mean * sf})
# diffusers' tiled decoding: tiles of sample_size / 4 = 8 latents, overlap factor 0.25 (2 latents)
zt = torch.randn(1, 4, 20, 13, generator=g)
write_safetensors(os.path.join(out, "diffusers_latents_tiled.safetensors"), {"sample": zt})
vae.enable_tiling() if hasattr(vae, "enable_tiling") else setattr(vae, "use_tiling", True)
write_safetensors(os.path.join(out, "ref_diffusers_decode_tiled.safetensors"), {"image": vae.decode(zt / sf).sample})
print("diffusers AutoencoderKL:", type(vae.decoder.mid_block.attentions[0].processor).__name__, flush=True)

# ---- diffusers AutoencoderKL: FLUX-like (no quant convs, shift) ------------------------------------------------
cfg2 = dict(cfg, latent_channels=8, scaling_factor=0.3611, shift_factor=0.1159, use_quant_conv=False,
            use_post_quant_conv=False, force_upcast=True, latents_mean=None, latents_std=None,
            mid_block_add_attention=True)
vae2 = AutoencoderKL(**cfg2).eval()
randomise(vae2, 2)
d2 = os.path.join(out, "diffusers_flux")
os.makedirs(d2, exist_ok=True)
json.dump(dict(_class_name="AutoencoderKL", **cfg2), open(os.path.join(d2, "config.json"), "w"), indent=1)
write_safetensors(os.path.join(d2, "diffusion_pytorch_model.safetensors"), vae2.state_dict())
z2 = torch.randn(2, 8, 6, 10, generator=g)
write_safetensors(os.path.join(out, "diffusers_flux_latents.safetensors"), {"sample": z2})
s2, t2 = cfg2["scaling_factor"], cfg2["shift_factor"]
# as the FLUX pipeline calls it: decode(latents / scaling + shift); encode: (mean - shift) * scaling
write_safetensors(os.path.join(out, "ref_diffusers_flux_decode.safetensors"), {"image": vae2.decode(z2 / s2 + t2).sample})
write_safetensors(os.path.join(out, "ref_diffusers_flux_encode.safetensors"),
                  {"latents": (vae2.encode(x).latent_dist.mean - t2) * s2})

# ---- BFL AutoEncoder --------------------------------------------------------------------------------------------
print("scaled_dot_product_attention stand-in for BFL:", standins.install_sdpa(), flush=True)
sys.path.insert(0, os.path.join(flux_root, "src"))
from flux.modules.autoencoder import AutoEncoder, AutoEncoderParams

params = dict(resolution=32, in_channels=3, ch=32, out_ch=3, ch_mult=[1, 2, 2], num_res_blocks=1, z_channels=16,
              scale_factor=0.3611, shift_factor=0.1159)
ae = AutoEncoder(AutoEncoderParams(**params)).eval()
randomise(ae, 3)
json.dump(params, open(os.path.join(out, "bfl_params.json"), "w"), indent=1)
write_safetensors(os.path.join(out, "ae.safetensors"), ae.state_dict())
z3 = torch.randn(2, 16, 6, 10, generator=g)
write_safetensors(os.path.join(out, "bfl_latents.safetensors"), {"z": z3})
write_safetensors(os.path.join(out, "ref_bfl_decode.safetensors"), {"image": ae.decode(z3)})
write_safetensors(os.path.join(out, "ref_bfl_encode.safetensors"), {"latents": ae.encode(x)})
print("reference outputs written to", out, flush=True)
