# Runs the official TaylorSeer-DiT sampling (fp32, CPU) on a small random DiT, intervals 1..6 x orders 0..4, and
# writes the weights (torch.save), the noise and every run's final latents (safetensors); see README.md here.
# Usage: python3 run_official.py <TaylorSeer-DiT directory> <output directory>
import json, struct, sys, os
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the timm stand-ins
sys.path.insert(0, sys.argv[1])
from models import DiT
from diffusion import create_diffusion

torch.set_grad_enabled(False)
torch.set_num_threads(2)
out_dir = sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
cfg = dict(input_size=16, patch_size=2, in_channels=4, hidden_size=96, depth=4, num_heads=4, mlp_ratio=4.0,
           class_dropout_prob=0.1, num_classes=10, learn_sigma=True)
torch.manual_seed(1234)
model = DiT(**cfg).eval()
# the official init zeroes adaLN and the final layer (every block a no-op): draw every weight instead
for name, p in model.named_parameters():
    if name == "pos_embed":
        continue
    if p.dim() >= 2 and "embedding_table" not in name:
        fan_in = p[0].numel()
        p.copy_(torch.randn_like(p) / fan_in ** 0.5)
    else:
        p.copy_(torch.randn_like(p) * 0.02)
json.dump(cfg, open(f"{out_dir}/config.json", "w"))

def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k, (dtype, arr) in tensors.items():
        b = arr.tobytes()
        header[k] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)

# as the official DiT checkpoints are written: torch.save of the state dict (an OrderedDict)
torch.save(model.state_dict(), f"{out_dir}/weights.pt")
labels = [3, 7]
n = len(labels)
g = torch.Generator().manual_seed(99)
z = torch.randn(n, 4, 16, 16, generator=g)
write_safetensors(f"{out_dir}/noise.safetensors", {"noise": ("F32", z.numpy().astype("<f4")),
                                                    "labels": ("I64", np.array(labels, dtype="<i8"))})
diffusion = create_diffusion("50")
for interval in range(1, 7):
    for order in range(0, 5):
        zz = torch.cat([z, z], 0)
        y = torch.tensor(labels + [cfg["num_classes"]] * n)
        kw = dict(y=y, cfg_scale=1.5, interval=interval, max_order=order, test_FLOPs=False)
        s = diffusion.ddim_sample_loop(model.forward_with_cfg, zz.shape, zz, clip_denoised=False, model_kwargs=kw,
                                       progress=False, device="cpu")
        s = s[:n].contiguous()
        write_safetensors(f"{out_dir}/official_n{interval}_o{order}.safetensors", {"sample": ("F32", s.numpy().astype("<f4"))})
        print("done", interval, order, flush=True)
