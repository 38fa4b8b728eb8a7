package gemm

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSgemmSegmentedConv times the product of a 128-px base-16 network's residual-block
// convolution read in place (batch 4, 32×32 outputs, 3×3 taps, 64 → 64 channels, B packed
// beforehand): two of every three image rows end inside a tile of twelve rows, which the
// three-group kernels read in place.
func BenchmarkSgemmSegmentedConv(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	h, w, ch, kh, kw, n := 34, 34, 64, 3, 3, 64
	src := randSlice(r, 4*h*w*ch)
	var pixels []int
	for bi := range 4 {
		for y := range h - kh + 1 {
			for x := range w - kw + 1 {
				pixels = append(pixels, ((bi*h+y)*w+x)*ch)
			}
		}
	}
	a := Segmented{Src: src, Rows: pixels, Step: 1}
	for ky := range kh {
		a.Segs = append(a.Segs, Segment{ky * w * ch, kw * ch})
	}
	k := a.k()
	bw := randSlice(r, k*n)
	pb := PackB(k, n, bw, n)
	c := make([]float32, len(pixels)*n)
	for b.Loop() {
		SgemmSegmentedPacked(a, n, bw, n, pb, c, n)
	}
	b.ReportMetric(float64(2*len(pixels)*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
