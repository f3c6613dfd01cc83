"""Runs the official TaylorSeer-FLUX code (float32, CPU) on a small random FLUX and writes what Seer needs.

usage: run_official.py <TaylorSeer-FLUX directory> <output directory>

Writes into the output directory: params.json (official FluxParams names), weights.safetensors (BFL keys),
inputs.safetensors (txt, vec, noise) and official_n{N}_o{O}.safetensors (tensor 'sample', the unpacked final
latents) for TaylorSeer intervals N = 1..6 and orders O = 0..2 with 50 steps (N = 1 is every step full: the
uncached model), plus the same for a schnell-like config (no guidance embedding, no shift, 4 steps) under schnell_*.
Only stand-ins for missing packages are ours (stand_ins/einops, a math scaled_dot_product_attention for torch < 2,
stubs for the text encoders' modules, which these runs never call); the model, the cache, the schedule and the
sampling loop are the official code's.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
OUT = os.path.abspath(sys.argv[2])
os.makedirs(OUT, exist_ok=True)

import official_env  # noqa: E402,F401  (the official code with our stand-ins)
import st_io  # noqa: E402
import torch  # noqa: E402
from einops import rearrange  # noqa: E402
from flux.model import Flux, FluxParams  # noqa: E402
from flux.sampling import get_schedule, unpack  # noqa: E402
import flux.ideas.cache_denoise as cache_denoise  # noqa: E402

torch.set_grad_enabled(False)
STEPS = 50
INTERVALS = range(1, 7)
ORDERS = range(0, 3)
_official_cache_init = cache_denoise.cache_init


def run(model, inputs, steps, shift, guidance, interval, order):
    """denoise_cache with the official cache_init's N (fresh_threshold) and max_order set to (interval, order)."""

    def cache_init(timesteps, model_kwargs=None):
        cache_dic, current = _official_cache_init(timesteps, model_kwargs)
        cache_dic["fresh_threshold"] = interval
        cache_dic["max_order"] = order
        return cache_dic, current

    cache_denoise.cache_init = cache_init
    noise = inputs["noise"]
    b, c, h, w = noise.shape
    img = rearrange(noise, "b c (h ph) (w pw) -> b (h w) (c ph pw)", ph=2, pw=2)
    img_ids = torch.zeros(h // 2, w // 2, 3)
    img_ids[..., 1] = img_ids[..., 1] + torch.arange(h // 2)[:, None]
    img_ids[..., 2] = img_ids[..., 2] + torch.arange(w // 2)[None, :]
    img_ids = img_ids.reshape(1, -1, 3).expand(b, -1, -1)
    txt_ids = torch.zeros(b, inputs["txt"].shape[1], 3)
    timesteps = get_schedule(steps, img.shape[1], shift=shift)
    x = cache_denoise.denoise_cache(model, img=img, img_ids=img_ids, txt=inputs["txt"], txt_ids=txt_ids, vec=inputs["vec"],
                                    timesteps=timesteps, guidance=guidance)
    return unpack(x.float(), h * 8, w * 8).contiguous()


def make_case(prefix, guidance_embed, seed):
    torch.manual_seed(seed)
    params = dict(in_channels=64, out_channels=64, vec_in_dim=32, context_in_dim=48, hidden_size=128, mlp_ratio=4.0,
                  num_heads=2, depth=2, depth_single_blocks=4, axes_dim=[16, 24, 24], theta=10_000, qkv_bias=True,
                  guidance_embed=guidance_embed)
    model = Flux(FluxParams(**params)).float().eval()
    for name, p in model.named_parameters():
        if name.endswith(".scale"):  # RMSNorm scales start at ones: vary them so that a mix-up shows
            p.copy_(1 + 0.1 * torch.randn_like(p))
    # TaylorSeer-FLUX's SingleStreamBlock adds an `mlp_in` copy of linear1's MLP rows (for its ToCa mode); the BFL
    # checkpoints have no such key and the Taylor path never reads it
    sd = {k: v for k, v in model.state_dict().items() if ".mlp_in." not in k}
    with open(os.path.join(OUT, prefix + "params.json"), "w") as f:
        json.dump(params, f)
    st_io.save(os.path.join(OUT, prefix + "weights.safetensors"), sd)
    b, txt_tokens, h, w = 2, 16, 16, 16
    inputs = {"txt": torch.randn(b, txt_tokens, params["context_in_dim"]), "vec": torch.randn(b, params["vec_in_dim"]),
              "noise": torch.randn(b, 16, h, w)}
    st_io.save(os.path.join(OUT, prefix + "inputs.safetensors"), inputs)
    return model, inputs


model, inputs = make_case("", True, 0)
for n in INTERVALS:
    for o in ORDERS:
        st_io.save(os.path.join(OUT, f"official_n{n}_o{o}.safetensors"), {"sample": run(model, inputs, STEPS, True, 3.5, n, o)})
        print(f"official dev   N={n} O={o} done", flush=True)
model, inputs = make_case("schnell_", False, 1)
for n in (1, 2):
    st_io.save(os.path.join(OUT, f"schnell_official_n{n}_o1.safetensors"), {"sample": run(model, inputs, 4, False, 3.5, n, 1)})
    print(f"official schnell N={n} O=1 done", flush=True)
