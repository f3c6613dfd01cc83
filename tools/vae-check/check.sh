#!/usr/bin/env bash
# Seer's autoencoder against the reference code: BFL's flux/modules/autoencoder.py and diffusers' AutoencoderKL,
# on small random configs (ch 32, ch_mult [1, 2, 2], one ResNet block per level), fp32 on CPU. Needs python3 with
# torch (1.13 or newer) and numpy, and checkouts of https://github.com/black-forest-labs/flux and
# https://github.com/huggingface/diffusers (see README.md here).
#   tools/vae-check/check.sh <flux checkout> <diffusers checkout> [output directory]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
FLUX="${1:?usage: check.sh <flux checkout> <diffusers checkout> [output directory]}"
DIFFUSERS="${2:?usage: check.sh <flux checkout> <diffusers checkout> [output directory]}"
OUT="${3:-$(mktemp -d)}"
PY="${PYTHON:-python3}"
"$PY" "$HERE/run_reference.py" "$FLUX" "$DIFFUSERS" "$OUT"
seer() { "$ROOT/seer" vae "$@" > /dev/null 2>&1 || { echo "failed: seer vae $*" >&2; "$ROOT/seer" vae "$@" >&2; exit 1; }; }
seer decode --vae "$OUT/diffusers" --latents "$OUT/diffusers_latents.safetensors" --out "$OUT/seer_diffusers_decode.safetensors"
seer encode --vae "$OUT/diffusers" --images "$OUT/diffusers_images.safetensors" --out "$OUT/seer_diffusers_encode.safetensors"
seer decode --vae "$OUT/diffusers_old_names" --latents "$OUT/diffusers_latents.safetensors" --out "$OUT/seer_diffusers_old_decode.safetensors"
seer decode --vae "$OUT/diffusers" --latents "$OUT/diffusers_latents_tiled.safetensors" --tile 8 --tile-overlap 2 \
  --out "$OUT/seer_diffusers_decode_tiled.safetensors"
seer decode --vae "$OUT/diffusers_flux" --latents "$OUT/diffusers_flux_latents.safetensors" --out "$OUT/seer_diffusers_flux_decode.safetensors"
seer encode --vae "$OUT/diffusers_flux" --images "$OUT/diffusers_images.safetensors" --out "$OUT/seer_diffusers_flux_encode.safetensors"
seer decode --vae "$OUT/ae.safetensors" --vae-config "$OUT/bfl_params.json" --latents "$OUT/bfl_latents.safetensors" \
  --out "$OUT/seer_bfl_decode.safetensors"
seer encode --vae "$OUT/ae.safetensors" --vae-config "$OUT/bfl_params.json" --images "$OUT/diffusers_images.safetensors" \
  --out "$OUT/seer_bfl_encode.safetensors"
"$PY" "$HERE/compare.py" "$OUT"
