# Relative L2 error of Seer's outputs against the reference outputs. Usage: python3 compare.py <output directory>
import json, struct, sys
import numpy as np


def read(path, name):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    h = header[name]
    a, b = h["data_offsets"]
    return np.frombuffer(data[a:b], dtype="<f4").astype(np.float64).reshape(h["shape"])


d = sys.argv[1]
pairs = [
    ("diffusers AutoencoderKL decode", "ref_diffusers_decode", "seer_diffusers_decode", "image"),
    ("diffusers AutoencoderKL encode", "ref_diffusers_encode", "seer_diffusers_encode", "latents"),
    ("diffusers, old attention names, decode", "ref_diffusers_decode", "seer_diffusers_old_decode", "image"),
    ("diffusers tiled decode (tile 8, overlap 2)", "ref_diffusers_decode_tiled", "seer_diffusers_decode_tiled", "image"),
    ("diffusers FLUX-like decode", "ref_diffusers_flux_decode", "seer_diffusers_flux_decode", "image"),
    ("diffusers FLUX-like encode", "ref_diffusers_flux_encode", "seer_diffusers_flux_encode", "latents"),
    ("BFL AutoEncoder decode", "ref_bfl_decode", "seer_bfl_decode", "image"),
    ("BFL AutoEncoder encode", "ref_bfl_encode", "seer_bfl_encode", "latents"),
]
worst = 0.0
for label, ref, got, key in pairs:
    want = read(f"{d}/{ref}.safetensors", key)
    have = read(f"{d}/{got}.safetensors", key)
    if want.shape != have.shape:
        print(f"{label:44s} shape {have.shape} != reference {want.shape}: FAIL")
        worst = float("inf")
        continue
    rel = np.linalg.norm(have - want) / np.linalg.norm(want)
    worst = max(worst, rel)
    print(f"{label:44s} relative L2 {rel:.2e}  max abs {np.abs(have - want).max():.2e}  shape {tuple(want.shape)}")
ok = worst <= 1e-5
print(f"worst relative L2 {worst:.3e} (target <= 1e-5): {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
