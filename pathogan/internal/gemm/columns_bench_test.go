package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSgemmColumns measures SgemmColumns' rate on the products of a 64-px base-8 network's
// narrow convolutions (one output row of pixels per call: 64 rows, 8 or 5 columns, 196 or 392
// steps) and of a 128-px base-16 one (128 rows, 5 or 4 columns, 784 steps), with its columns
// spread over a few kilobytes as a convolution's are.
func BenchmarkSgemmColumns(b *testing.B) {
	if !ColumnsOK(16, 1) {
		b.Skip("no AVX-512 column kernels here")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ m, n, k int }{{64, 8, 196}, {64, 5, 392}, {128, 5, 784}, {128, 4, 784}} {
		src := randSlice(r, 64*c.m+c.k*2)
		cols := make([]int, c.k)
		for p := range cols {
			cols[p] = (p % 64) * c.m / 2
		}
		a := NewColumns(cols)
		bm := randSlice(r, c.k*c.n)
		out := make([]float32, c.m*c.n)
		b.Run(fmt.Sprintf("%dx%dx%d", c.m, c.n, c.k), func(b *testing.B) {
			for b.Loop() {
				SgemmColumns(c.m, c.n, src, a, bm, c.n, out, c.n)
			}
			b.ReportMetric(float64(2*c.m*c.n*c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
