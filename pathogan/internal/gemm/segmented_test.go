package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmSegmented checks SgemmSegmented bit for bit against Sgemm's narrow kernel on the same
// A copied out, for the rows of a padded image's output pixels (blocks of eight inside one output
// row, blocks across two rows, and last rows), narrow and full B, and one and several segments.
func TestSgemmSegmented(t *testing.T) {
	if !UseSegmented(8, 8, 1) {
		t.Skip("no narrow-product kernel here")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ h, w, ch, kh, kw, stride, n int }{
		{8, 40, 8, 7, 7, 1, 5}, {10, 20, 4, 3, 3, 1, 8}, {9, 35, 3, 3, 3, 2, 1}, {5, 24, 8, 1, 1, 1, 8}, {11, 7, 2, 4, 4, 2, 7},
	} {
		// The padded image is h × w pixels of ch channels; outputs cover it with stride. With
		// 17-34 outputs per row, some blocks of eight lie in one row and some span two.
		oh, ow := (c.h-c.kh)/c.stride+1, (c.w-c.kw)/c.stride+1
		src := randSlice(r, 2*c.h*c.w*c.ch)
		var rows []int
		for b := range 2 {
			for y := range oh {
				for x := range ow {
					rows = append(rows, ((b*c.h+y*c.stride)*c.w+x*c.stride)*c.ch)
				}
			}
		}
		a := Segmented{Src: src, Rows: rows, NSeg: c.kh, SegLen: c.kw * c.ch, Jump: c.w * c.ch}
		k := a.NSeg * a.SegLen
		flat := make([]float32, len(rows)*k)
		for i, start := range rows {
			a.copyRow(flat[i*k:(i+1)*k], start)
		}
		b := randSlice(r, k*(c.n+3))
		want, got := make([]float32, len(rows)*c.n), make([]float32, len(rows)*c.n)
		for i := range got {
			got[i] = float32(math.NaN())
		}
		m := len(rows)
		smallNSgemm(false, m, c.n, k, flat, k, b, c.n+3, want, c.n)
		SgemmSegmented(a, c.n, b, c.n+3, got, c.n)
		for i := range want {
			if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
				t.Fatalf("%+v: C[%d] = %v, want %v (bit for bit)", c, i, got[i], want[i])
			}
		}
	}
}
