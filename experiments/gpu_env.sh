#!/usr/bin/env bash
# gpu_env.sh: sourced by the GPU scripts. Points GoMLX at JAX's CUDA PJRT plugin
# (GOMLX_BACKEND=xla:PATH, no auto-install), makes the plugin's CUDA libraries (the pip
# "nvidia" packages) and ptxas findable, and sets $py to the Python with torch and the plugin.
#   PYTHON            Python with torch and the jax CUDA plugin (default python3)
#   PJRT_CUDA_PLUGIN  path of xla_cuda_plugin.so (default: found through PYTHON)
py=${PYTHON:-python3}

plugin=${PJRT_CUDA_PLUGIN:-}
if [[ -z $plugin ]]; then
	plugin=$("$py" - <<'EOF'
import glob, importlib.util, os
for name in ("jax_plugins.xla_cuda13", "jax_plugins.xla_cuda12"):
    spec = importlib.util.find_spec(name)
    if spec and spec.submodule_search_locations:
        for d in spec.submodule_search_locations:
            for f in glob.glob(os.path.join(d, "xla_cuda_plugin.so")):
                print(f); raise SystemExit
EOF
)
fi
if [[ -z $plugin || ! -f $plugin ]]; then
	echo "gpu_check: no CUDA PJRT plugin found (set PJRT_CUDA_PLUGIN or install jax-cuda13-plugin)" >&2
	exit 1
fi

# The plugin loads cuDNN, cuBLAS, ... from the pip "nvidia" packages that
# JAX would put on its own search path; a Go program must be told.
site=$("$py" -c 'import os, nvidia; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null || true)
if [[ -n $site ]]; then
	libs=$(find "$site/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
	export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:-}"
fi
# XLA needs ptxas; point it at a CUDA toolkit when there is one (go-xla v0.1.4
# would otherwise set a data dir that exists only on its author's machine).
for d in /usr/local/cuda "$site/nvidia/cuda_nvcc" "$site/nvidia/cu13"; do
	if [[ -x $d/bin/ptxas && -z ${XLA_FLAGS:-} ]]; then
		export XLA_FLAGS="--xla_gpu_cuda_data_dir=$d" PATH="$d/bin:$PATH"
	fi
done
export GOMLX_BACKEND="xla:$plugin" GOMLX_NO_AUTO_INSTALL=1

