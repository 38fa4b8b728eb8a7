#!/usr/bin/env bash
# The learning check (PathoGAN alone; the main job is `pathogan reproduce`): make the built-in phantom data, prepare it at 32 px, train
# PathoGAN's "mini" preset on the CPU and evaluate its labelmaps on the held-out
# patients' pathological slices (Dice against the phantom's tumours, never seen in
# training). Run again on the same folder, it resumes instead of restarting.
#
#   bash experiments/learn_check.sh [OUT]     (default OUT: work/learn-check; STEPS=N for a shorter run)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-work/learn-check}
steps=${STEPS:-1200} # the check above used 1200
mkdir -p "$out"
go build -o "$out/pathogan" ./experiments/cmd/pathogan
p="$out/pathogan"
"$p" phantom --out "$out/phantom" --patients 24 --seed 1
"$p" prepare --brats "$out/phantom" --out "$out/slices32" --size 32
start=$(date +%s)
"$p" train --data "$out/slices32" --preset mini --set "learning_rate=5e-4" --steps "$steps" --out "$out/run" --resume
echo "training took $(( $(date +%s) - start )) s"
"$p" eval --run "$out/run" --data "$out/slices32"
