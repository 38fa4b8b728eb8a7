//go:build !amd64 || purego

package gemm

const hasFMA = false

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
