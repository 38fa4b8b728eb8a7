#!/usr/bin/env bash
# bench_cpu.sh [OUT [RUNS]]: the CPU comparison with PyTorch, as one command. It runs
# `pathogan bench --compare-torch --json` at 64 px base 8 (20 timed steps), 64 px base 16 (10)
# and 128 px base 16 (5), z 32, 9 residual blocks, one configuration after the other, RUNS times
# (default 5), so that each configuration's runs are spread over the series. Each run is one
# JSON file in OUT (default work/bench-cpu), named SIZE-BASE-runN.json, with its log beside it;
# summary.txt gives, per configuration, every run's ratio to PyTorch's faster setting and
# per-core ratio, their ranges and medians, the share of the AVX-512 peak and the peak RSS.
# Run it on a quiet machine: nothing else may run meanwhile.
#
# Environment (all optional):
#   PATHOGAN_BIN   a built pathogan binary (default: built once into OUT from this checkout)
#   PATHOGAN_BLAS  the matrix product (default go: the project's own kernels, no C library)
#   CONFIGS        space-separated "SIZE/BASE/STEPS" entries (default "64/8/20 64/16/10 128/16/5")
set -euo pipefail
out=${1:-work/bench-cpu}
runs=${2:-5}
if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
	echo "bench_cpu: RUNS must be a positive number, got '$runs'" >&2
	exit 2
fi
mkdir -p "$out"
bin=${PATHOGAN_BIN:-}
if [[ -z $bin ]]; then
	bin=$out/pathogan
	echo "bench_cpu: building $bin" >&2
	go build -o "$bin" ./experiments/cmd/pathogan
fi
export PATHOGAN_BLAS=${PATHOGAN_BLAS:-go}
configs=${CONFIGS:-"64/8/20 64/16/10 128/16/5"}
for run in $(seq 1 "$runs"); do
	for c in $configs; do
		IFS=/ read -r size base steps <<<"$c"
		name=$size-$base-run$run
		echo "== run $run/$runs: $size px, base $base, $steps steps" >&2
		if ! "$bin" bench --preset small --set "size=$size;base=$base;disc_base=$base;z=32;res_blocks=9" \
			--steps "$steps" --compare-torch --json >"$out/$name.json" 2>"$out/$name.log"; then
			echo "bench_cpu: $name failed (log: $out/$name.log)" >&2
			tail -20 "$out/$name.log" >&2
			exit 1
		fi
	done
done

python3 - "$out" <<'EOF' | tee "$out/summary.txt"
import glob, json, os, re, statistics, sys
d = sys.argv[1]
runs = {}
for f in glob.glob(os.path.join(d, '*-run*.json')):
    m = re.match(r'(\d+)-(\d+)-run(\d+)\.json$', os.path.basename(f))
    if m:
        runs.setdefault((int(m[1]), int(m[2])), []).append((int(m[3]), json.load(open(f))))
print(f"PATHOGAN_BLAS={os.environ.get('PATHOGAN_BLAS', '')}; per run: ratio to PyTorch's faster setting / per-core ratio")
for (size, base), rs in sorted(runs.items()):
    rs.sort(key=lambda t: t[0])
    r = [x['ratio'] for _, x in rs]
    pc = [x.get('ratio_per_core', 0) for _, x in rs]
    eff = [100 * x.get('peak_fraction', 0) for _, x in rs]
    rss = [x['go_peak_rss_mib'] for _, x in rs]
    trss = [x.get('torch_peak_rss_mib', 0) for _, x in rs]
    print(f"{size}/{base}: " + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(r, pc)))
    print(f"  ratio {min(r):.2f}-{max(r):.2f} (median {statistics.median(r):.2f}); "
          f"per core {min(pc):.2f}-{max(pc):.2f} (median {statistics.median(pc):.2f}); "
          f"share of the AVX-512 peak {min(eff):.0f}-{max(eff):.0f} %; "
          f"peak RSS Go {min(rss):.0f}-{max(rss):.0f} MiB, PyTorch {min(trss):.0f}-{max(trss):.0f} MiB")
EOF
