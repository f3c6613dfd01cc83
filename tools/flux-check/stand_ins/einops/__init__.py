"""A stand-in for the few einops patterns the FLUX reference code uses (einops is not installed here).

Only the exact patterns below are supported; anything else raises, so a silent mis-reading cannot happen.
Our own code, written for tools/flux-check: not a copy of einops.
"""
import re

import torch

__version__ = "flux-check stand-in"


def _groups(side):
    """'b c (h ph) (w pw)' -> [['b'], ['c'], ['h', 'ph'], ['w', 'pw']]."""
    out = []
    for m in re.finditer(r"\(([^)]*)\)|(\S+)", side):
        out.append(m.group(1).split() if m.group(1) is not None else [m.group(2)])
    return out


def rearrange(x, pattern, **sizes):
    left, right = (s.strip() for s in pattern.split("->"))
    lg, rg = _groups(left), _groups(right)
    if len(lg) != x.dim():
        raise ValueError(f"einops stand-in: pattern {pattern!r} does not fit a tensor of rank {x.dim()}")
    known = dict(sizes)
    # solve each input group's unknown axis from the tensor's size
    for group, size in zip(lg, x.shape):
        unknown = [a for a in group if a not in known]
        prod = 1
        for a in group:
            if a in known:
                prod *= known[a]
        if len(unknown) > 1:
            raise ValueError(f"einops stand-in: cannot infer {unknown} in {pattern!r}")
        if unknown:
            known[unknown[0]] = size // prod
        elif prod != size:
            raise ValueError(f"einops stand-in: group {group} has size {size}, not {prod}")
    axes = [a for g in lg for a in g]
    flat = x.reshape([known[a] for a in axes])
    order = [a for g in rg for a in g]
    if sorted(order) != sorted(axes):
        raise ValueError(f"einops stand-in: {pattern!r} is not a pure rearrangement")
    y = flat.permute([axes.index(a) for a in order])
    shape = []
    for g in rg:
        n = 1
        for a in g:
            n *= known[a]
        shape.append(n)
    return y.reshape(shape)


def repeat(x, pattern, **sizes):
    left, right = (s.strip() for s in pattern.split("->"))
    if pattern.replace(" ", "") == "hwc->b(hw)c":
        h, w, c = x.shape
        return x.reshape(1, h * w, c).expand(sizes["b"], h * w, c)
    if left.split()[0] == "1" and right.split()[0] in sizes:
        return x.expand(sizes[right.split()[0]], *x.shape[1:])
    raise ValueError(f"einops stand-in: unsupported repeat pattern {pattern!r}")
