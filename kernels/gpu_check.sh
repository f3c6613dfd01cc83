#!/usr/bin/env bash
# GPU check of libseer_cuda: builds with cmake + nvcc (no Java, no network needed) and runs seer_gpu_check, which
# compares every CUDA kernel with the C reference (f32 bit-exact, bf16/f16 within tolerance) and times them
# against a device-to-device cudaMemcpy. Usage: kernels/gpu_check.sh [build-dir [--timing | --check]]
# (exit status 0 = passed; --timing: only the timing, --check: only the correctness checks)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/gpu-check}"
shift || true
nvcc_bin="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
[ -x "$nvcc_bin" ] || { echo "gpu_check: nvcc not found" >&2; exit 2; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSEER_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc_bin" \
      -DSEER_BUILD_TESTS=OFF -DSEER_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target seer_gpu_check -j "$(nproc 2>/dev/null || echo 4)"
timeout 300 "$build/bin/seer_gpu_check" "$@"
