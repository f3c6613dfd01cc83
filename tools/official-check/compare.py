# Relative L2 error of Seer's final latents against the official ones, per interval and order.
# Usage: python3 compare.py <output directory>
import json, struct, sys
import numpy as np

def read(path, name):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    h = header[name]
    a, b = h["data_offsets"]
    return np.frombuffer(data[a:b], dtype="<f4").astype(np.float64)

d = sys.argv[1]
worst = 0.0
for n in range(1, 7):
    row = []
    for o in range(0, 5):
        want = read(f"{d}/official_n{n}_o{o}.safetensors", "sample")
        got = read(f"{d}/seer_n{n}_o{o}.safetensors", "sample")
        rel = np.linalg.norm(got - want) / np.linalg.norm(want)
        worst = max(worst, rel)
        row.append(f"o{o} {rel:.2e}")
    print(f"interval {n}: " + "  ".join(row))
print(f"worst relative L2 {worst:.3e} (target <= 1e-5): {'PASS' if worst <= 1e-5 else 'FAIL'}")
sys.exit(0 if worst <= 1e-5 else 1)
