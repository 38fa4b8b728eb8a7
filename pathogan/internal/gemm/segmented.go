package gemm

import "sync"

// Segmented is an m×k matrix A read where it lies instead of being copied out: row i is NSeg
// segments of SegLen contiguous floats (k = NSeg·SegLen), the first starting at Src[Rows[i]] and
// each next one Jump floats after the one before. A convolution's patch matrix is one when read
// from its zero-padded input: a row is an output pixel, a segment the taps of one kernel row.
type Segmented struct {
	Src                []float32
	Rows               []int
	NSeg, SegLen, Jump int
}

// UseSegmented says whether SgemmSegmented takes an m×n product with this k: when Sgemm would run
// it (with A copied out, beta 0, B not transposed) through its narrow-product kernel.
func UseSegmented(m, n, k int) bool {
	load()
	return !pureGo && useSmallN(false, m, n, k, 0)
}

// SgemmSegmented computes C = A·B (m×n, beta 0) for a segmented A, where UseSegmented holds. It
// does the arithmetic of Sgemm on A copied out into a row-major m×k matrix, in the same order,
// so the result is the same bit for bit. Blocks of eight rows whose starts are evenly spaced
// (an output row's pixels) are read in place; other blocks and the last rows are copied out
// first.
func SgemmSegmented(a Segmented, n int, b []float32, ldb int, c []float32, ldc int) {
	const f = 4 // bytes per float32
	m, k := len(a.Rows), a.NSeg*a.SegLen
	for _, r := range a.Rows {
		if r < 0 || r+(a.NSeg-1)*a.Jump+a.SegLen > len(a.Src) {
			panic("gemm: a segmented row reaches past its source")
		}
	}
	skip := (a.Jump - a.SegLen) * f
	sp := segPool.Get().(*[]float32)
	rows := grow(*sp, 8*k)
	eightRows(m, n, k, b, ldb, c, ldc, func(i int, bp *float32, bStride int, cp *float32, cStride int) {
		r := a.Rows[i : i+8]
		d := r[1] - r[0]
		even := true
		for j := 2; j < 8; j++ {
			even = even && r[j]-r[j-1] == d
		}
		if even {
			kernel8x8seg(a.NSeg, a.SegLen, &a.Src[r[0]], d*f, skip, bp, bStride, cp, cStride)
			return
		}
		for j, start := range r {
			a.copyRow(rows[j*k:(j+1)*k], start)
		}
		kernel8x8(k, &rows[0], k*f, f, bp, bStride, cp, cStride)
	})
	for i := m &^ 7; i < m; i++ {
		a.copyRow(rows[:k], a.Rows[i])
		rowTimesB(c[i*ldc:i*ldc+n], rows[:k], 1, k, b, ldb)
	}
	*sp = rows
	segPool.Put(sp)
}

// copyRow copies the row that starts at Src[start] into dst (length k).
func (a *Segmented) copyRow(dst []float32, start int) {
	for s := range a.NSeg {
		off := start + s*a.Jump
		copy(dst[s*a.SegLen:(s+1)*a.SegLen], a.Src[off:off+a.SegLen])
	}
}

// segPool holds SgemmSegmented's copied-out rows.
var segPool = sync.Pool{New: func() any { return new([]float32) }}
