"""Prints the relative L2 distance of Seer's latents to the official code's, per (interval, order), and the same
relative to the denoising update (final latents minus the initial noise), the part the model and the cache produce.

usage: compare.py <output directory>    exit status 1 if any pair exceeds the target 1e-5 (or a file is missing)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

OUT = sys.argv[1]
TARGET = 1e-5
worst = 0.0
missing = []
rows = []
for name in sorted(os.listdir(OUT)):
    if not name.endswith(".safetensors") or "official_" not in name:
        continue
    seer_name = name.replace("official_", "seer_")
    if not os.path.exists(os.path.join(OUT, seer_name)):
        missing.append(seer_name)
        continue
    ref = st_io.load(os.path.join(OUT, name))["sample"].double()
    got = st_io.load(os.path.join(OUT, seer_name))["sample"].double()
    if got.shape != ref.shape:
        missing.append(f"{seer_name} (shape {tuple(got.shape)}, expected {tuple(ref.shape)})")
        continue
    rel = ((got - ref).norm() / ref.norm()).item()
    # the denoising update alone (final latents minus the initial noise): the part the model and the cache produce
    prefix = name.split("official_")[0]
    noise = st_io.load(os.path.join(OUT, prefix + "inputs.safetensors"))["noise"].double()
    rel_update = ((got - ref).norm() / (ref - noise).norm()).item()
    worst = max(worst, rel)
    rows.append((name.replace("official_", "").replace(".safetensors", ""), rel, rel_update))
print(f"{'case':<20} {'rel L2 latents':>15} {'rel L2 update':>15}")
for label, rel, rel_update in rows:
    print(f"{label:<20} {rel:>15.3e} {rel_update:>15.3e}")
print(f"worst {worst:.3e} over {len(rows)} pairs (target <= {TARGET:g})")
for m in missing:
    print("missing:", m)
sys.exit(0 if rows and not missing and worst <= TARGET else 1)
