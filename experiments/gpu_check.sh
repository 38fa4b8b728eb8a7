#!/usr/bin/env bash
# gpu_check.sh [OUT]: the GPU check, as one command. On a machine with an
# NVIDIA GPU, JAX's CUDA PJRT plugin (pip jax-cuda13-plugin / jax-cuda12-plugin)
# and PyTorch with CUDA, it times full PathoGAN training steps with
# `pathogan bench` on GoMLX's XLA backend and the PyTorch reference on CUDA,
# one after the other, for the paper preset and the CPU comparison sizes.
# Each result is one JSON file in OUT (default work/gpu-check), plus
# nvidia-smi's view and a summary table (summary.txt). The paper preset runs twice: with
# the closed-form instance norm, ELU and LeakyReLU gradients (the default) and with --autodiff-norm
# (GoMLX differentiating their ops), so one run shows what that formulation does on the GPU.
# For the configurations named in HLO_DUMP, XLA also writes the optimized HLO into
# OUT/hlo-NAME, and summary.txt counts its kernels: fusions, cuDNN convolutions, and the
# transposes and copies that layout changes cost.
#
# Environment (all optional):
#   PYTHON               Python with torch and the jax CUDA plugin (default python3)
#   PJRT_CUDA_PLUGIN     path of xla_cuda_plugin.so (default: found through PYTHON)
#   PATHOGAN_BIN         a built pathogan binary (default: go run ./experiments/cmd/pathogan)
#   PATHOGAN_TORCH_BENCH the PyTorch reference (default: experiments/torchref/pathogan_step.py, which bench finds itself)
#   GPU_CHECK_TIMEOUT    seconds per configuration (default 300)
#   CONFIGS              space-separated "name:bench flags" entries (default below, the paper
#                        preset first: with a short device lease, CONFIGS="paper:--preset paper"
#                        is the check that matters)
#   HLO_DUMP             space-separated configuration names whose optimized HLO is dumped
#                        (default "paper"; empty: none)
set -euo pipefail
out=${1:-work/gpu-check}
mkdir -p "$out"
# shellcheck source=experiments/gpu_env.sh
source "$(dirname "$0")/gpu_env.sh"

if [[ -n ${PATHOGAN_BIN:-} ]]; then
	bin=("$PATHOGAN_BIN")
else
	bin=(go run ./experiments/cmd/pathogan)
fi

{
	echo "plugin: $plugin"
	echo "XLA_FLAGS: ${XLA_FLAGS:-}"
	nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
} | tee "$out/machine.txt"

configs=${CONFIGS:-"paper:--preset paper paper-autodiff-norm:--preset paper --autodiff-norm size64-base8:--set size=64;base=8;disc_base=8;z=32;res_blocks=9 size64-base16:--set size=64;base=16;disc_base=16;z=32;res_blocks=9 size128-base16:--set size=128;base=16;disc_base=16;z=32;res_blocks=9"}
dumps=" ${HLO_DUMP-paper} "
status=0
# Entries hold spaces, so split on the name prefixes instead.
mapfile -t entries < <(echo "$configs" | sed -E 's/ ([a-z0-9_-]+):/\n\1:/g')
for entry in "${entries[@]}"; do
	name=${entry%%:*}
	flags=${entry#*:}
	echo "== $name: bench $flags --compare-torch --torch-device cuda" >&2
	xla_flags=${XLA_FLAGS:-}
	if [[ $dumps == *" $name "* ]]; then
		xla_flags="$xla_flags --xla_dump_to=$out/hlo-$name --xla_dump_hlo_as_text"
	fi
	# shellcheck disable=SC2086
	if ! XLA_FLAGS=$xla_flags timeout "${GPU_CHECK_TIMEOUT:-300}" "${bin[@]}" bench --preset small $flags --steps 20 --warmup 3 \
		--compare-torch --torch-device cuda --torch-python "$py" --json >"$out/$name.json" 2>"$out/$name.log"; then
		echo "gpu_check: $name failed (log: $out/$name.log)" >&2
		tail -20 "$out/$name.log" >&2
		status=1
		continue
	fi
	tail -3 "$out/$name.log" >&2
done

"$py" - "$out" <<'EOF' | tee "$out/summary.txt"
import json, os, sys
d = sys.argv[1]
print(f"{'config':16} {'go s/step':>10} {'torch s/step':>13} {'ratio':>6} {'go GFLOP/s':>11} {'torch GFLOP/s':>14}")
for f in sorted(os.listdir(d)):
    if not f.endswith('.json'):
        continue
    try:
        r = json.load(open(os.path.join(d, f)))
    except Exception:
        continue
    print(f"{f[:-5]:16} {r['go_step_s']:10.4f} {r.get('torch_step_s', 0):13.4f} {r.get('ratio', 0):6.2f} "
          f"{r['go_gflops_est']:11.1f} {r.get('torch_gflops_est', 0):14.1f}")
# The optimized HLO of each dumped configuration's largest module (the training step).
import collections, glob, re
for h in sorted(glob.glob(os.path.join(d, 'hlo-*'))):
    mods = glob.glob(os.path.join(h, '*after_optimizations.txt'))
    if not mods:
        continue
    text = open(max(mods, key=os.path.getsize)).read()
    ops = collections.Counter()
    for line in text.splitlines():
        m = re.match(r'\s*(?:ROOT )?%?[\w.-]+ = [^=]*? (fusion|custom-call|transpose|copy|convolution|reduce|all-reduce)\(', line)
        if m:
            kind = m.group(1)
            if kind == 'custom-call':
                t = re.search(r'custom_call_target="([^"]+)"', line)
                kind += ':' + (t.group(1) if t else '?')
            if kind == 'fusion' and 'calls=' in line:
                k = re.search(r'kind=(\w+)', line)
                kind += ':' + (k.group(1) if k else '?')
            ops[kind] += 1
    print(f"\n{os.path.basename(h)} (optimized HLO, entry and fused computations):")
    for kind, n in ops.most_common():
        print(f"  {n:6d} {kind}")
EOF
exit $status
