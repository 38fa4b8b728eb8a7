//go:build !((linux || darwin || freebsd) && (amd64 || arm64))

package gemm

import "github.com/pkg/errors"

// loadBLAS is not supported on this platform: the pure-Go kernel is used.
func loadBLAS(name string) error {
	return errors.Errorf("loading %s: no run-time library loading on this platform", name)
}

func blasCall(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("gemm: no BLAS on this platform")
}
