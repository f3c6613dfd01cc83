#!/usr/bin/env bash
# The FLUX-dev-width speed case with random weights: hidden 3072, 24 heads, 1 double + 2 single blocks, FLUX-dev's
# other widths, batch 1, 64 text tokens, 256 x 256 pixels (256 image tokens), 50 steps; Seer uncached and TaylorSeer
# N=6 O=1, then (with a TaylorSeer-FLUX directory as the first argument) the official code on the same case.
#   tools/flux-check/speed.sh [TaylorSeer-FLUX directory] [seer flux options, e.g. --threads 2]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OFFICIAL="${1:-}"
EXTRA=("${@:2}")
OUT="$(mktemp -d)"
cat > "$OUT/flux-dev-width.json" <<'JSON'
{"in_channels": 64, "out_channels": 64, "vec_in_dim": 768, "context_in_dim": 4096, "hidden_size": 3072, "mlp_ratio": 4.0,
 "num_heads": 24, "depth": 1, "depth_single_blocks": 2, "axes_dim": [16, 56, 56], "theta": 10000, "qkv_bias": true,
 "guidance_embed": true}
JSON
for policy in none taylorseer:6:1; do
  "$ROOT/seer" flux --model "$OUT/flux-dev-width.json" --txt-tokens 64 --width 256 --height 256 --steps 50 \
    --policy "$policy" "${EXTRA[@]}" 2>/dev/null
done
if [ -n "$OFFICIAL" ]; then
  "${PYTHON:-/usr/bin/python3}" "$HERE/time_official.py" "$OFFICIAL" 50
fi
rm -rf "$OUT"
