"""Times the official TaylorSeer-FLUX code (float32, CPU) on the FLUX-dev-width speed case with random weights.

usage: time_official.py <TaylorSeer-FLUX directory> [steps] [taylorseer]

The model: hidden 3072, 24 heads, 1 double + 2 single blocks, FLUX-dev's other widths; batch 1, 64 text tokens and
a 32 x 32 latent (256 image tokens), guidance 3.5, the shifted schedule. Prints the wall time of the whole denoising
loop uncached (interval 1: every step full) and with TaylorSeer N = 6, O = 1, best of one run each; with the third
argument `taylorseer`, the TaylorSeer run alone (the uncached one takes the better part of an hour on a slow CPU).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import official_env  # noqa: E402,F401  (the official code with our stand-ins)
import torch  # noqa: E402
from einops import rearrange  # noqa: E402
from flux.model import Flux, FluxParams  # noqa: E402
from flux.sampling import get_schedule  # noqa: E402
import flux.ideas.cache_denoise as cache_denoise  # noqa: E402

torch.set_grad_enabled(False)
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 50
torch.manual_seed(0)
params = FluxParams(in_channels=64, out_channels=64, vec_in_dim=768, context_in_dim=4096, hidden_size=3072, mlp_ratio=4.0,
                    num_heads=24, depth=1, depth_single_blocks=2, axes_dim=[16, 56, 56], theta=10_000, qkv_bias=True,
                    guidance_embed=True)
model = Flux(params).float().eval()
noise = torch.randn(1, 16, 32, 32)
img = rearrange(noise, "b c (h ph) (w pw) -> b (h w) (c ph pw)", ph=2, pw=2)
img_ids = torch.zeros(16, 16, 3)
img_ids[..., 1] += torch.arange(16)[:, None]
img_ids[..., 2] += torch.arange(16)[None, :]
img_ids = img_ids.reshape(1, -1, 3)
txt = torch.randn(1, 64, 4096)
vec = torch.randn(1, 768)
timesteps = get_schedule(steps, img.shape[1], shift=True)
original = cache_denoise.cache_init
runs = (("uncached (N=1)", 1, 1), ("TaylorSeer N=6 O=1", 6, 1))
if len(sys.argv) > 3 and sys.argv[3] == "taylorseer":
    runs = runs[1:]
for label, n, o in runs:
    def cache_init(ts, model_kwargs=None, n=n, o=o):
        cache_dic, current = original(ts, model_kwargs)
        cache_dic["fresh_threshold"] = n
        cache_dic["max_order"] = o
        return cache_dic, current
    cache_denoise.cache_init = cache_init
    t0 = time.perf_counter()
    cache_denoise.denoise_cache(model, img=img, img_ids=img_ids, txt=txt, txt_ids=torch.zeros(1, 64, 3), vec=vec,
                                timesteps=timesteps, guidance=3.5)
    print(f"official {label:<20} {steps} steps: {time.perf_counter() - t0:.2f} s (torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads)", flush=True)
