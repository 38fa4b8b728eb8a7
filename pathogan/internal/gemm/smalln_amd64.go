//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run gen_smalln.go

// hasFMA says whether kernel8x8 can run here.
var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasBcst says whether the AVX-512VL forms (multiply-adds with a broadcast operand) can run here.
var hasBcst = hasFMA && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL

//go:noescape
func kernel8x8(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func kernel8x8segs(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func kernel8x8nofma(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func kernel8x8rows(nseg int, segs *int, rows *[8]uintptr, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernel8x8segsBcst(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func kernel8x8Bcst(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func kernel8x8rowsBcst(nseg int, segs *int, rows *[8]uintptr, sAk int, b *float32, c *float32, ldc int)

// The narrow kernels in use: the AVX-512VL forms where the CPU has them.
var (
	k8     = kernel8x8
	k8segs = kernel8x8segs
	k8rows = kernel8x8rows
)

func init() {
	if hasBcst {
		k8, k8segs, k8rows = kernel8x8Bcst, kernel8x8segsBcst, kernel8x8rowsBcst
	}
}

// narrowAVX2 puts the AVX2 forms of the narrow kernels back (PATHOGAN_BLAS=avx2).
func narrowAVX2() {
	k8, k8segs, k8rows = kernel8x8, kernel8x8segs, kernel8x8rows
	columnsOn = false
}
