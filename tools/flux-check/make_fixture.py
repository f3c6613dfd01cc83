"""Writes the small official-code fixture the default test suite checks Seer's FLUX against (FluxOfficialFixtureTest).

usage: make_fixture.py <TaylorSeer-FLUX directory> <output directory>

A random FLUX (hidden 32, 2 heads, depth 1 + 1 single block, in/out 16, vec 8, context 12, guidance embedding), batch 1,
5 text tokens, 4 x 6 latents of 4 channels (6 image tokens), 8 steps of the shifted schedule, guidance 3.5, run by the
official TaylorSeer-FLUX code in float32 (as run_official.py): flux-tiny-params.json, flux-tiny-weights.safetensors
(BFL keys) and flux-tiny-case.safetensors (txt, vec, noise and the official final latents 'official_n1_o0',
'official_n3_o2').
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
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
torch.manual_seed(3)
params = dict(in_channels=16, out_channels=16, vec_in_dim=8, context_in_dim=12, hidden_size=32, mlp_ratio=4.0, num_heads=2,
              depth=1, depth_single_blocks=1, axes_dim=[4, 6, 6], theta=10_000, qkv_bias=True, guidance_embed=True)
model = Flux(FluxParams(**params)).float().eval()
for name, p in model.named_parameters():
    if name.endswith(".scale"):
        p.copy_(1 + 0.1 * torch.randn_like(p))
    elif name.startswith("final_layer.linear"):
        p.mul_(4)  # a larger prediction, so that the latents depend more on the model than on the noise
sd = {k: v for k, v in model.state_dict().items() if ".mlp_in." not in k}
txt, vec, noise = torch.randn(1, 5, 12), torch.randn(1, 8), torch.randn(1, 4, 4, 6)
original = cache_denoise.cache_init
case = {"txt": txt, "vec": vec, "noise": noise}
for n, o in ((1, 0), (3, 2)):
    def cache_init(ts, model_kwargs=None, n=n, o=o):
        cache_dic, current = original(ts, model_kwargs)
        cache_dic["fresh_threshold"] = n
        cache_dic["max_order"] = o
        return cache_dic, current
    cache_denoise.cache_init = cache_init
    img = rearrange(noise, "b c (h ph) (w pw) -> b (h w) (c ph pw)", ph=2, pw=2)
    img_ids = torch.zeros(2, 3, 3)
    img_ids[..., 1] += torch.arange(2)[:, None]
    img_ids[..., 2] += torch.arange(3)[None, :]
    x = cache_denoise.denoise_cache(model, img=img, img_ids=img_ids.reshape(1, -1, 3), txt=txt, txt_ids=torch.zeros(1, 5, 3),
                                    vec=vec, timesteps=get_schedule(8, img.shape[1], shift=True), guidance=3.5)
    case[f"official_n{n}_o{o}"] = unpack(x.float(), 32, 48).contiguous()
with open(os.path.join(OUT, "flux-tiny-params.json"), "w") as f:
    json.dump(params, f)
st_io.save(os.path.join(OUT, "flux-tiny-weights.safetensors"), sd)
st_io.save(os.path.join(OUT, "flux-tiny-case.safetensors"), case)
print("wrote", OUT)
