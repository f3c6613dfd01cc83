#!/usr/bin/env bash
# Seer against the official TaylorSeer-FLUX code: a small random FLUX (depth 2 + 4 single blocks, hidden 128, batch 2,
# 16 text + 64 image tokens), the same weights, inputs and noise, 50 steps (dev-like: guidance embedding, shifted
# schedule) for TaylorSeer intervals 1..6 x orders 0..2, plus a schnell-like config (4 steps, no shift), fp32 on CPU.
# Needs /usr/bin/python3 with torch and numpy, and a checkout of https://github.com/Shenyi-Z/TaylorSeer (its
# TaylorSeer-FLUX folder).
#   tools/flux-check/check.sh /path/to/TaylorSeer/TaylorSeer-FLUX [output directory]
# SKIP_OFFICIAL=1 reuses the official outputs already in the output directory.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OFFICIAL="${1:?usage: check.sh <TaylorSeer-FLUX directory> [output directory]}"
OUT="${2:-$(mktemp -d)}"
PY="${PYTHON:-/usr/bin/python3}"
if [ -z "${SKIP_OFFICIAL:-}" ]; then "$PY" "$HERE/run_official.py" "$OFFICIAL" "$OUT"; fi
for n in 1 2 3 4 5 6; do
  for o in 0 1 2; do
    "$ROOT/seer" flux --model "$OUT/params.json" --weights "$OUT/weights.safetensors" --inputs "$OUT/inputs.safetensors" \
      --steps 50 --guidance 3.5 --cache taylorseer --interval "$n" --order "$o" --json \
      --out-latents "$OUT/seer_n${n}_o${o}.safetensors" > "$OUT/seer_n${n}_o${o}.json"
  done
done
# no cache at all against the official every-step-full run
"$ROOT/seer" flux --model "$OUT/params.json" --weights "$OUT/weights.safetensors" --inputs "$OUT/inputs.safetensors" \
  --steps 50 --guidance 3.5 --cache none --json --out-latents "$OUT/seer_none.safetensors" > "$OUT/seer_none.json"
cp "$OUT/official_n1_o0.safetensors" "$OUT/official_none.safetensors"
for n in 1 2; do
  "$ROOT/seer" flux --model "$OUT/schnell_params.json" --weights "$OUT/schnell_weights.safetensors" \
    --inputs "$OUT/schnell_inputs.safetensors" --steps 4 --cache taylorseer --interval "$n" --order 1 --json \
    --out-latents "$OUT/schnell_seer_n${n}_o1.safetensors" > "$OUT/schnell_seer_n${n}_o1.json"
done
"$PY" "$HERE/compare.py" "$OUT"
