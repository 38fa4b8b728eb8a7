#!/usr/bin/env bash
# gpu_reproduce.sh OUT [reproduce flags...]: the main job on an NVIDIA GPU (GoMLX's XLA
# backend with JAX's CUDA PJRT plugin; see gpu_env.sh), e.g.
#   bash experiments/gpu_reproduce.sh work/reproduce-gpu --steps 5000 --baseline-steps 1500
#   bash experiments/gpu_reproduce.sh work/paper-gpu --preset paper --brats /data/BraTS2017
#   PATHOGAN_BIN   a built pathogan binary (default: go run ./experiments/cmd/pathogan)
set -euo pipefail
out=${1:?usage: gpu_reproduce.sh OUT [reproduce flags...]}
shift
# shellcheck source=experiments/gpu_env.sh
source "$(dirname "$0")/gpu_env.sh"
if [[ -n ${PATHOGAN_BIN:-} ]]; then
	bin=("$PATHOGAN_BIN")
else
	bin=(go run ./experiments/cmd/pathogan)
fi
"${bin[@]}" reproduce --out "$out" "$@"
