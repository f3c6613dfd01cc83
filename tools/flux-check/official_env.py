"""Imports the official TaylorSeer-FLUX code with our stand-ins for packages it needs but these runs never use.

import official_env (after putting this folder on sys.path) with the TaylorSeer-FLUX directory as sys.argv[1]."""
import math
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
OFFICIAL = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.join(HERE, "stand_ins"))
sys.path.insert(0, os.path.join(OFFICIAL, "src"))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


if not hasattr(F, "scaled_dot_product_attention"):
    # torch < 2.0: the math form (what torch 2's CPU fallback computes), our own stand-in
    def _sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
        assert attn_mask is None and dropout_p == 0.0 and not is_causal
        s = 1 / math.sqrt(q.size(-1)) if scale is None else scale
        return torch.matmul(torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * s, dim=-1), v)

    F.scaled_dot_product_attention = _sdpa


def _stub(name, **attrs):
    m = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(m, k, v)
    sys.modules[name] = m


class _Unused:
    def __init__(self, *a, **k):
        raise RuntimeError("flux-check never builds the text or image encoders")


_stub("flux.modules.conditioner", HFEmbedder=_Unused)
_stub("flux.modules.image_embedders", CannyImageEncoder=_Unused, DepthImageEncoder=_Unused, ReduxImageEncoder=_Unused)
_stub("calflops", calculate_flops=None)
