// Package gemm multiplies float32 matrices (C = A·B + beta·C, row-major, either operand
// transposed) for the Go backend's convolution and DotGeneral kernels. It calls Debian's OpenBLAS
// (its Fortran sgemm_), loaded at run time with purego when the machine has it, and otherwise a
// pure-Go kernel. Each call runs on the calling goroutine: OpenBLAS is set to one thread, and the
// callers split their work over the cores themselves, so the two never oversubscribe them.
//
// PATHOGAN_BLAS selects the implementation: unset or "auto" tries the usual OpenBLAS file names,
// "go" forces the pure-Go kernel, and any other value is the path of a library exporting
// sgemm_ (the Fortran BLAS interface, 32-bit integers) (a failure to load it is reported by Impl and the pure-Go kernel is used).
package gemm

import (
	"fmt"
	"os"
	"sync"
)

// Impl describes the implementation in use, e.g. "openblas (libopenblas.so.0)" or
// "go (PATHOGAN_BLAS=go)". It loads the library on first use.
func Impl() string {
	load()
	return implName
}

var (
	loadOnce sync.Once
	implName string
	// blasSgemm is the address of the library's Fortran sgemm_ when one was loaded.
	blasSgemm uintptr
)

// candidates are the OpenBLAS file names tried, in order, when PATHOGAN_BLAS is unset.
var candidates = []string{
	"libopenblas.so.0", "libopenblas.so",
	"/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
	"libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
}

func load() {
	loadOnce.Do(func() {
		choice := os.Getenv("PATHOGAN_BLAS")
		switch choice {
		case "go":
			implName = "go (PATHOGAN_BLAS=go)"
			return
		case "", "auto":
			for _, name := range candidates {
				if loadBLAS(name) == nil {
					implName = "openblas (" + name + ")"
					return
				}
			}
			implName = "go (no OpenBLAS found)"
		default:
			if err := loadBLAS(choice); err != nil {
				implName = fmt.Sprintf("go (PATHOGAN_BLAS=%s: %v)", choice, err)
				return
			}
			implName = "blas (" + choice + ")"
		}
	})
}

// Sgemm computes C = op(A)·op(B) + beta·C for row-major matrices, where op(A) is m×k (A is m×k
// with leading dimension lda, or k×m when transA), op(B) is k×n (B is k×n, or n×k when transB)
// and C is m×n with leading dimension ldc. beta 0 overwrites C (its old values may be NaN).
func Sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if trivial(m, n, k, beta, c, ldc) {
		return
	}
	if useSmallN(transB, m, n, k, beta) {
		smallNSgemm(transA, m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	load()
	if blasSgemm != 0 {
		blasCall(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
		return
	}
	goSgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// GoSgemm is Sgemm's pure-Go kernel, whatever library is loaded (for tests and benchmarks).
func GoSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !trivial(m, n, k, beta, c, ldc) {
		goSgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
	}
}

// trivial handles the products with nothing to multiply (an empty C, or k = 0: C = beta·C) and
// says whether it did.
func trivial(m, n, k int, beta float32, c []float32, ldc int) bool {
	if m == 0 || n == 0 {
		return true
	}
	if k == 0 {
		scale(m, n, beta, c, ldc)
		return true
	}
	return false
}

func scale(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
