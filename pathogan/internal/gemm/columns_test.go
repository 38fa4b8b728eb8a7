package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSgemmColumns checks SgemmColumns bit for bit against SgemmSegmented on the same matrix
// (its narrow kernel, rows in blocks of eight) for every width n ≤ 8 and row counts that take
// each kernel (one, two and four vectors of sixteen rows), with columns at scattered offsets;
// and SgemmColumnsNoFMA against the last rows of SgemmSegmented's product.
func TestSgemmColumns(t *testing.T) {
	if !ColumnsOK(16, 1) || !UseSegmented(8, 8, 1) {
		t.Skip("no AVX-512 column kernels here")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, m := range []int{16, 48, 64, 128} {
		for n := 1; n <= 8; n++ {
			k := 20 + r.IntN(60)
			src := randSlice(r, 4*m+200)
			cols := make([]int, k)
			segs := make([]Segment, k)
			for p := range cols {
				cols[p] = r.IntN(len(src) - m + 1)
				segs[p] = Segment{Off: cols[p], Len: 1}
			}
			rows := make([]int, m)
			for i := range rows {
				rows[i] = i
			}
			ldb, ldc := n+2, n+1
			b := randSlice(r, k*ldb)
			got, want := make([]float32, m*ldc), make([]float32, m*ldc)
			SgemmColumns(m, n, src, NewColumns(cols), b, ldb, got, ldc)
			a := Segmented{Src: src, Rows: rows, Segs: segs, Step: 1}
			SgemmSegmented(a, n, b, ldb, want, ldc)
			sameBits(t, fmt.Sprintf("m %d, n %d, k %d", m, n, k), got, want)

			// The last 5 of 13 rows, without fused multiply-adds.
			a.Rows = rows[:13]
			want13 := make([]float32, 13*ldc)
			SgemmSegmented(a, n, b, ldb, want13, ldc)
			got16 := make([]float32, 16*ldc)
			SgemmColumnsNoFMA(n, src, NewColumns(cols), b, ldb, got16, ldc)
			sameBits(t, fmt.Sprintf("last rows, n %d, k %d", n, k), got16[8*ldc:13*ldc], want13[8*ldc:])
			if equalBits(want[8*ldc:13*ldc], got16[8*ldc:13*ldc]) {
				t.Errorf("n %d, k %d: the rows without fused multiply-adds equal the fused ones; the check cannot tell them apart", n, k)
			}
		}
	}
}

// equalBits says whether x and y are the same bit for bit.
func equalBits(x, y []float32) bool {
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}
