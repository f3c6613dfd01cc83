#!/usr/bin/env bash
# Seer against the official TaylorSeer-DiT code: same weights, noise and labels, 50 DDIM steps, guidance 1.5,
# TaylorSeer intervals 1..6 x orders 0..4, fp32 on CPU. Needs python3 with torch and numpy, and a checkout of
# https://github.com/Shenyi-Z/TaylorSeer (its TaylorSeer-DiT folder).
#   tools/official-check/check.sh /path/to/TaylorSeer/TaylorSeer-DiT [output directory [seer sample options]]
# e.g. ... /tmp/out --forecast-sums on   (this test model's factors are below the automatic threshold)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OFFICIAL="${1:?usage: check.sh <TaylorSeer-DiT directory> [output directory]}"
OUT="${2:-$(mktemp -d)}"
EXTRA=("${@:3}")
PY="${PYTHON:-python3}"
"$PY" "$HERE/run_official.py" "$OFFICIAL" "$OUT"
for n in 1 2 3 4 5 6; do
  for o in 0 1 2 3 4; do
    "$ROOT/seer" sample --model "$OUT/config.json" --weights "$OUT/weights.pt" --noise "$OUT/noise.safetensors" \
      --steps 50 --sampler ddim --cfg 1.5 --cache taylorseer --interval "$n" --order "$o" \
      --out-latents "$OUT/seer_n${n}_o${o}.safetensors" "${EXTRA[@]}" > /dev/null 2>&1
  done
done
"$PY" "$HERE/compare.py" "$OUT"
