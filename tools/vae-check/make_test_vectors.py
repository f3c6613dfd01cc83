# Writes the small committed test vectors of dev.seer.model.vae.ReferenceVectorsTest from the reference code:
#  - diffusers_tiny/: a diffusers AutoencoderKL (block_out_channels [4, 8], 2 norm groups, 1 layer per block,
#    4 latent channels, quant convs, scaling 0.5, shift 0.25) as config.json + diffusion_pytorch_model.safetensors,
#    and vectors.safetensors: latents 'z' (2, 4, 3, 5), 'image' = decode(z / 0.5 + 0.25), images 'x' (1, 3, 6, 8),
#    'latents' = (mean - 0.25) * 0.5;
#  - keys.json: the state-dict key names and shapes of the BFL AutoEncoder and of diffusers' AutoencoderKL for the
#    check config (ch 32, ch_mult [1, 2, 2], 1 block, 16 latent channels), which pin both layouts' names.
# Usage: python3 make_test_vectors.py <flux checkout> <diffusers checkout> <resource directory>
import json, os, struct, sys
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import standins

flux_root, diffusers_root, out = sys.argv[1], sys.argv[2], sys.argv[3]
torch.set_grad_enabled(False)
AutoencoderKL = standins.load_diffusers(diffusers_root)


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        b = np.ascontiguousarray(tensors[k].numpy().astype("<f4")).tobytes()
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape), "data_offsets": [off, off + len(b)]}
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
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        r = torch.randn(p.shape, generator=g)
        if "norm" in name:
            p.copy_(r * 0.1 + (1.0 if name.endswith("weight") else 0.0))
        elif name.endswith("bias"):
            p.copy_(r * 0.02)
        else:
            p.copy_(r / (p[0].numel() ** 0.5))


cfg = dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 2,
           up_block_types=["UpDecoderBlock2D"] * 2, block_out_channels=[4, 8], layers_per_block=1, act_fn="silu",
           latent_channels=4, norm_num_groups=2, sample_size=16, scaling_factor=0.5, shift_factor=0.25)
vae = AutoencoderKL(**cfg).eval()
randomise(vae, 11)
d = os.path.join(out, "diffusers_tiny")
os.makedirs(d, exist_ok=True)
json.dump(dict(_class_name="AutoencoderKL", **cfg), open(os.path.join(d, "config.json"), "w"), indent=1)
write_safetensors(os.path.join(d, "diffusion_pytorch_model.safetensors"), vae.state_dict())
g = torch.Generator().manual_seed(12)
z = torch.randn(2, 4, 3, 5, generator=g)
x = torch.rand(1, 3, 6, 8, generator=g) * 2 - 1
write_safetensors(os.path.join(out, "vectors.safetensors"), {
    "z": z, "image": vae.decode(z / 0.5 + 0.25).sample,
    "x": x, "latents": (vae.encode(x).latent_dist.mean - 0.25) * 0.5})

standins.install_sdpa()
sys.path.insert(0, os.path.join(flux_root, "src"))
from flux.modules.autoencoder import AutoEncoder, AutoEncoderParams

params = dict(resolution=32, in_channels=3, ch=32, out_ch=3, ch_mult=[1, 2, 2], num_res_blocks=1, z_channels=16,
              scale_factor=0.3611, shift_factor=0.1159)
bfl = AutoEncoder(AutoEncoderParams(**params))
dif = AutoencoderKL(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 3,
                    up_block_types=["UpDecoderBlock2D"] * 3, block_out_channels=[32, 64, 64], layers_per_block=1,
                    latent_channels=16, use_quant_conv=False, use_post_quant_conv=False)
keys = {"bfl_params": params,
        "bfl": {k: list(v.shape) for k, v in bfl.state_dict().items()},
        "diffusers": {k: list(v.shape) for k, v in dif.state_dict().items()}}
json.dump(keys, open(os.path.join(out, "keys.json"), "w"), indent=0, sort_keys=True)
print("written to", out)
