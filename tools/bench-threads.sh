#!/usr/bin/env bash
# Concurrent samplings of the shipped model with one busy process on the machine (docs/BENCHMARKS.md,
# "Concurrent samplings"): starts `yes > /dev/null`, runs `seer bench-threads` with the given options (all-cores,
# then split), and stops the busy process again, also on failure or Ctrl-C.
#   tools/bench-threads.sh --runs 4 --rounds 10
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
yes > /dev/null &
BUSY=$!
trap 'kill "$BUSY" 2>/dev/null || true' EXIT
echo "busy process: yes > /dev/null (pid $BUSY)" >&2
"$ROOT/seer" bench-threads "$@"
