#!/usr/bin/env bash
# gpu_check.sh [OUT]: the GPU check, as one command. On a machine with an
# NVIDIA GPU, JAX's CUDA PJRT plugin (pip jax-cuda13-plugin / jax-cuda12-plugin)
# and PyTorch with CUDA, it times full PathoGAN training steps with
# `pathogan bench` on GoMLX's XLA backend and the PyTorch reference on CUDA,
# one after the other, for the paper preset (and with CONFIGS=all the CPU comparison sizes).
# Each result is one JSON file in OUT (default work/gpu-check), plus
# nvidia-smi's view and a summary table (summary.txt). The paper preset also runs with
# --dilated-kernel-grad (the transposed convolutions' kernel gradients in the input-dilated form,
# which XLA runs on zero-filled copies of their inputs, instead of cuDNN's backward-filter
# convolution) and with conv_precision=bfloat16 (the convolutions in bfloat16), Go only, so one
# run shows what each formulation does on the GPU; CONFIGS=all adds --autodiff-norm (GoMLX
# differentiating instance norm, ELU and LeakyReLU op by op instead of their closed-form
# gradients). On the H100 of 2026-11-26 the paper step's XLA compilation alone took 70 s, so
# the default's three paper configurations fit one 10-minute command, and "all" may not.
# For the configurations named in HLO_DUMP, XLA also writes the optimized HLO into
# OUT/hlo-NAME, and summary.txt counts its kernels: fusions, cuDNN convolutions by kind, the
# transposes and copies that layout changes cost, and the pads that insert zeros.
#
# Environment (all optional):
#   PYTHON               Python with torch and the jax CUDA plugin (default python3)
#   PJRT_CUDA_PLUGIN     path of xla_cuda_plugin.so (default: found through PYTHON)
#   PATHOGAN_BIN         a built pathogan binary (default: go run ./experiments/cmd/pathogan)
#   PATHOGAN_TORCH_BENCH the PyTorch reference (default: experiments/torchref/pathogan_step.py, which bench finds itself)
#   GPU_CHECK_TIMEOUT    seconds per configuration (default 300)
#   CONFIGS              space-separated "name:bench flags" entries, or "all" (both lists
#                        below; the default is the paper preset's three)
#   TORCH                space-separated configuration names that also time the PyTorch
#                        reference (default: those without a formulation flag)
#   HLO_DUMP             space-separated configuration names whose optimized HLO is dumped
#                        (default "paper paper-dilated-kernel-grad"; empty: none)
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

paper_configs="paper:--preset paper paper-dilated-kernel-grad:--preset paper --dilated-kernel-grad paper-bf16:--preset paper --set conv_precision=bfloat16"
configs=${CONFIGS:-$paper_configs}
[[ $configs != all ]] || configs="$paper_configs paper-autodiff-norm:--preset paper --autodiff-norm size64-base8:--set size=64;base=8;disc_base=8;z=32;res_blocks=9 size64-base16:--set size=64;base=16;disc_base=16;z=32;res_blocks=9 size128-base16:--set size=128;base=16;disc_base=16;z=32;res_blocks=9"
dumps=" ${HLO_DUMP-paper paper-dilated-kernel-grad} "
torch=" ${TORCH-paper size64-base8 size64-base16 size128-base16} "
status=0
# Entries hold spaces, so split on the name prefixes instead.
mapfile -t entries < <(echo "$configs" | sed -E 's/ ([a-z0-9_-]+):/\n\1:/g')
for entry in "${entries[@]}"; do
	name=${entry%%:*}
	flags=${entry#*:}
	cmp=()
	if [[ $torch == *" $name "* ]]; then
		cmp=(--compare-torch --torch-device cuda --torch-python "$py")
	fi
	echo "== $name: bench $flags ${cmp[*]}" >&2
	xla_flags=${XLA_FLAGS:-}
	if [[ $dumps == *" $name "* ]]; then
		xla_flags="$xla_flags --xla_dump_to=$out/hlo-$name --xla_dump_hlo_as_text"
	fi
	# shellcheck disable=SC2086
	if ! XLA_FLAGS=$xla_flags timeout "${GPU_CHECK_TIMEOUT:-300}" "${bin[@]}" bench --preset small $flags --steps 20 --warmup 3 \
		"${cmp[@]}" --json >"$out/$name.json" 2>"$out/$name.log"; then
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
print(f"{'config':26} {'go s/step':>10} {'torch s/step':>13} {'ratio':>6} {'go GFLOP/s':>11} {'torch GFLOP/s':>14}")
for f in sorted(os.listdir(d)):
    if not f.endswith('.json'):
        continue
    try:
        r = json.load(open(os.path.join(d, f)))
    except Exception:
        continue
    opt = lambda key, fmt: format(r[key], fmt) if key in r else '-'
    print(f"{f[:-5]:26} {r['go_step_s']:10.4f} {opt('torch_step_s', '.4f'):>13} {opt('ratio', '.2f'):>6} "
          f"{r['go_gflops_est']:11.1f} {opt('torch_gflops_est', '.1f'):>14}")
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
        # A pad with interior padding (lo_hi_interior per axis) inserts zeros between elements.
        p = re.search(r' pad\(.*padding=([0-9_x-]+)', line)
        if p and any(len(a.split('_')) == 3 and a.split('_')[2] != '0' for a in p.group(1).split('x')):
            ops['pad with interior zeros'] += 1
    print(f"\n{os.path.basename(h)} (optimized HLO, entry and fused computations):")
    for kind, n in ops.most_common():
        print(f"  {n:6d} {kind}")
EOF
exit $status
