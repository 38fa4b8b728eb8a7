#!/usr/bin/env bash
# install_gonb.sh: installs the Go tools the notebooks need, at pinned versions, into
# $(go env GOPATH)/bin, and registers the GoNB kernel with Jupyter (Debian's
# /usr/bin/jupyter must be installed first; see docs/notebooks.md).
#   GoNB v0.11.1       the Go kernel (built from a throwaway module: `go install
#                      github.com/janpfeifer/gonb@v0.11.1` is refused by the module proxy)
#   goimports v0.52.0  GoNB fixes each cell's imports with it
#   gopls v0.21.1      GoNB's completion and contextual help
set -euo pipefail
bin="$(go env GOPATH)/bin"
mkdir -p "$bin"
export PATH="$bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(
	cd "$tmp"
	go mod init gonb-build >/dev/null 2>&1
	go get github.com/janpfeifer/gonb@v0.11.1 >/dev/null 2>&1
	go build -o "$bin/gonb" github.com/janpfeifer/gonb
)
go install golang.org/x/tools/cmd/goimports@v0.52.0
go install golang.org/x/tools/gopls@v0.21.1
# gonb --install writes the kernel spec for the jupyter it finds on PATH.
PATH="/usr/bin:$PATH" gonb --install >/dev/null
# Read the whole list before looking in it: `| grep -q` closes the pipe at the first match, and
# jupyter-kernelspec, still writing, then fails with BrokenPipeError (which pipefail reports).
specs=$(/usr/bin/jupyter kernelspec list)
if [[ $specs != *gonb* ]]; then
	echo "install_gonb: gonb --install ran, but Jupyter lists no gonb kernel:" >&2
	echo "$specs" >&2
	exit 1
fi
version=$(gonb --version 2>/dev/null || true)
echo "GoNB ${version%%$'\n'*} installed in $bin and registered with Jupyter"
