// Package gemm multiplies float32 matrices (C = A·B + beta·C, row-major, either operand
// transposed) for the Go backend's convolution and DotGeneral kernels. Its own packed,
// cache-blocked product runs register-tiled micro-kernels in Go assembly, AVX-512 where the CPU
// has it and AVX2/FMA otherwise (packed.go, gen_kernels.go), so a machine with nothing installed
// multiplies at full speed. Debian's OpenBLAS (its Fortran sgemm_, loaded at run time with
// purego) is an option, and a pure-Go kernel is the last fallback. Each call runs on the calling
// goroutine: OpenBLAS is set to one thread, and the callers split their work over the cores
// themselves, so the two never oversubscribe them.
//
// PATHOGAN_BLAS selects the implementation:
//   - unset or "auto": the widest assembly kernels this CPU runs, else OpenBLAS when one of the
//     usual file names loads, else pure Go;
//   - "avx512" or "avx2": those kernels (pure Go when the CPU lacks them);
//   - "openblas": OpenBLAS (pure Go when none loads);
//   - "go": this package's own product, never a C library: the widest assembly kernels this CPU
//     runs, else pure Go (what a machine without OpenBLAS runs);
//   - "purego": the pure-Go kernel, no assembly at all (the last fallback, for tests and
//     comparisons);
//   - any other value: the path of a library exporting sgemm_ (the Fortran BLAS interface, 32-bit
//     integers).
//
// Impl reports the choice, and why when it fell back.
//
// SgemmSegmented multiplies a matrix A that is not laid out as one (a convolution's patches, read
// from its padded input) through the same assembly kernels, with the same result bit for bit as
// Sgemm on A copied out.
package gemm

import (
	"fmt"
	"os"
	"sync"
)

// Impl describes the implementation in use, e.g. "own avx512 kernels",
// "openblas (libopenblas.so.0)" or "purego (PATHOGAN_BLAS=purego)". It loads the library on
// first use.
func Impl() string {
	load()
	return implName
}

var (
	loadOnce sync.Once
	implName string
	// blasSgemm is the address of the library's Fortran sgemm_ when one was loaded.
	blasSgemm uintptr
	// asm is the assembly kernel set in use, or nil.
	asm *kernelSet
	// pureGo is set by PATHOGAN_BLAS=purego: no assembly at all, the narrow kernel included.
	pureGo bool
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
		case "purego":
			implName, pureGo = "purego (PATHOGAN_BLAS=purego)", true
			return
		case "go":
			if asm = bestKernels(); asm != nil {
				implName = "own " + asm.name + " kernels (PATHOGAN_BLAS=go)"
				return
			}
			implName = "purego (PATHOGAN_BLAS=go: no AVX2/FMA)"
		case "", "auto":
			if asm = bestKernels(); asm != nil {
				implName = "own " + asm.name + " kernels"
				return
			}
			if loadOpenBLAS() {
				return
			}
			implName = "purego (no AVX2/FMA, no OpenBLAS found)"
		case "avx512", "avx2":
			if choice == "avx2" {
				narrowAVX2() // the narrow kernels without their AVX-512VL forms too
			}
			if asm = kernelSetNamed(choice); asm != nil {
				implName = "own " + asm.name + " kernels (PATHOGAN_BLAS=" + choice + ")"
				return
			}
			implName = "purego (PATHOGAN_BLAS=" + choice + ": this CPU or build has no " + choice + ")"
		case "openblas":
			if !loadOpenBLAS() {
				implName = "purego (PATHOGAN_BLAS=openblas: no OpenBLAS found)"
			}
		default:
			if err := loadBLAS(choice); err != nil {
				implName = fmt.Sprintf("purego (PATHOGAN_BLAS=%s: %v)", choice, err)
				return
			}
			implName = "blas (" + choice + ")"
		}
	})
}

// loadOpenBLAS tries the usual OpenBLAS file names and says whether one loaded.
func loadOpenBLAS() bool {
	for _, name := range candidates {
		if loadBLAS(name) == nil {
			implName = "openblas (" + name + ")"
			return true
		}
	}
	return false
}

// Sgemm computes C = op(A)·op(B) + beta·C for row-major matrices, where op(A) is m×k (A is m×k
// with leading dimension lda, or k×m when transA), op(B) is k×n (B is k×n, or n×k when transB)
// and C is m×n with leading dimension ldc. beta 0 overwrites C (its old values may be NaN).
func Sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if trivial(m, n, k, beta, c, ldc) {
		return
	}
	load()
	switch {
	case pureGo:
		goSgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
	case useSmallN(transB, m, n, k, beta):
		smallNSgemm(transA, m, n, k, a, lda, b, ldb, c, ldc)
	case asm != nil:
		packedSgemm(asm, transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
	case blasSgemm != 0:
		blasCall(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
	default:
		goSgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
	}
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
	if beta == 0 && ldc == n {
		clear(c[:m*n]) // one call rather than one per short row
		return
	}
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
