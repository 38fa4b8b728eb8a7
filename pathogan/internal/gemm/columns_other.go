//go:build !amd64 || purego

package gemm

// hasColumns is false: SgemmColumns' kernels are AVX-512 assembly.
const hasColumns = false

type columnKernel func(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

var columnKernels = map[int]*[smallN + 1]columnKernel{}

var columnKernelsNoFMA [smallN + 1]columnKernel
