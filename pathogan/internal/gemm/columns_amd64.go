//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run gen_columns.go

// hasColumns says whether SgemmColumns' AVX-512 kernels can run here.
var hasColumns = cpu.X86.HasAVX512F

// columnKernel is the signature of the columnsN<n>V<v> kernels (gen_columns.go): 16·v rows of C
// (n columns) into a [n][16·v] tile at c; ldb in bytes, cols in floats.
type columnKernel func(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

// columnKernels[v][n] is the kernel for v vectors of sixteen rows and n columns.
var columnKernels = map[int]*[smallN + 1]columnKernel{
	1: {1: columnsN1V1, 2: columnsN2V1, 3: columnsN3V1, 4: columnsN4V1, 5: columnsN5V1, 6: columnsN6V1, 7: columnsN7V1, 8: columnsN8V1},
	2: {1: columnsN1V2, 2: columnsN2V2, 3: columnsN3V2, 4: columnsN4V2, 5: columnsN5V2, 6: columnsN6V2, 7: columnsN7V2, 8: columnsN8V2},
	4: {1: columnsN1V4, 2: columnsN2V4, 3: columnsN3V4, 4: columnsN4V4, 5: columnsN5V4, 6: columnsN6V4},
}

// columnKernelsNoFMA[n] is the kernel for sixteen rows and n columns that multiplies, then adds.
var columnKernelsNoFMA = [smallN + 1]columnKernel{1: columnsNoFMAN1, 2: columnsNoFMAN2, 3: columnsNoFMAN3, 4: columnsNoFMAN4, 5: columnsNoFMAN5, 6: columnsNoFMAN6, 7: columnsNoFMAN7, 8: columnsNoFMAN8}

//go:noescape
func columnsN1V1(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN2V1(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN3V1(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN4V1(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN5V1(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN6V1(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN7V1(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN8V1(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN1V2(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN2V2(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN3V2(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN4V2(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN5V2(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN6V2(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN7V2(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN8V2(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN1V4(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN2V4(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN3V4(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN4V4(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN5V4(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsN6V4(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsNoFMAN1(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsNoFMAN2(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsNoFMAN3(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsNoFMAN4(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsNoFMAN5(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsNoFMAN6(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsNoFMAN7(k int, cols *int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func columnsNoFMAN8(k int, cols *int, a *float32, b *float32, ldb int, c *float32)
