//go:build !amd64 || purego

package gemm

const (
	hasFMA  = false
	hasBcst = false
)

func kernel8x8(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int) {
	panic("gemm: kernel8x8 without AVX2")
}

func kernel8x8segs(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int) {
	panic("gemm: kernel8x8segs without AVX2")
}

func kernel8x8nofma(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int) {
	panic("gemm: kernel8x8nofma without AVX2")
}

func kernel8x8rows(nseg int, segs *int, rows *[8]uintptr, sAk int, b *float32, c *float32, ldc int) {
	panic("gemm: kernel8x8rows without AVX2")
}

func kernel8x8segsBcst(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int) {
	panic("gemm: kernel8x8segsBcst without AVX-512")
}

func kernel8x8Bcst(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int) {
	panic("gemm: kernel8x8Bcst without AVX-512")
}

func kernel8x8rowsBcst(nseg int, segs *int, rows *[8]uintptr, sAk int, b *float32, c *float32, ldc int) {
	panic("gemm: kernel8x8rowsBcst without AVX-512")
}

var (
	k8     = kernel8x8
	k8segs = kernel8x8segs
	k8rows = kernel8x8rows
)

func narrowAVX2() { columnsOn = false }
