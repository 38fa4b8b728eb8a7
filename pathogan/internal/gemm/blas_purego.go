//go:build (linux || darwin || freebsd) && (amd64 || arm64)

package gemm

import (
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/pkg/errors"
)

// loadBLAS opens the shared library and finds sgemm_, setting OpenBLAS to one thread when the
// library has openblas_set_num_threads.
func loadBLAS(name string) (err error) {
	lib, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return errors.Wrapf(err, "loading %s", name)
	}
	sym, err := purego.Dlsym(lib, "sgemm_")
	if err != nil {
		return errors.Errorf("%s has no sgemm_", name)
	}
	if set, err := purego.Dlsym(lib, "openblas_set_num_threads"); err == nil {
		one := int32(1)
		// openblas_set_num_threads(int) takes its argument by value.
		purego.SyscallN(set, uintptr(one))
	}
	blasSgemm = sym
	return nil
}

// fortranArgs holds the by-reference arguments of one sgemm_ call. They live on the heap (from
// a pool), so the pointers handed to C stay valid and no call allocates.
type fortranArgs struct {
	transA, transB byte
	m, n, k        int32
	lda, ldb, ldc  int32
	alpha, beta    float32
	_              [2]byte
}

var argsPool = sync.Pool{New: func() any { return new(fortranArgs) }}

// blasCall computes the row-major product through the column-major sgemm_: row-major C is
// column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so the operands swap and each keeps its transpose flag.
func blasCall(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := argsPool.Get().(*fortranArgs)
	p.transA, p.transB = 'N', 'N'
	if transA {
		p.transA = 'T'
	}
	if transB {
		p.transB = 'T'
	}
	p.m, p.n, p.k = int32(m), int32(n), int32(k)
	p.lda, p.ldb, p.ldc = int32(lda), int32(ldb), int32(ldc)
	p.alpha, p.beta = 1, beta
	purego.SyscallN(blasSgemm,
		uintptr(unsafe.Pointer(&p.transB)), uintptr(unsafe.Pointer(&p.transA)),
		uintptr(unsafe.Pointer(&p.n)), uintptr(unsafe.Pointer(&p.m)), uintptr(unsafe.Pointer(&p.k)),
		uintptr(unsafe.Pointer(&p.alpha)),
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&p.ldb)),
		uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&p.lda)),
		uintptr(unsafe.Pointer(&p.beta)),
		uintptr(unsafe.Pointer(&c[0])), uintptr(unsafe.Pointer(&p.ldc)))
	argsPool.Put(p)
}
