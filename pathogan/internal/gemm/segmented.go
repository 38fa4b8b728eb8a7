package gemm

import "sync"

// Segmented is an m×k matrix A read where it lies instead of being copied out. Row i starts at
// Src[Rows[i]]; its k elements are the segments in order, segment s covering Segs[s].Len
// elements from Rows[i] + Segs[s].Off, Step floats apart (k = Σ Len). A convolution's patch
// matrix is one when read from its zero-padded input: for a forward convolution a row is an
// output pixel and a segment the taps of one kernel row; for a kernel gradient a row is a tap
// and channel, and a segment one image row of pixels.
type Segmented struct {
	Src  []float32
	Rows []int
	Segs []Segment
	Step int
}

// Segment is one run of a Segmented row: Len elements from offset Off of the row's start.
type Segment struct{ Off, Len int }

// k is the number of columns.
func (a *Segmented) k() int {
	k := 0
	for _, s := range a.Segs {
		k += s.Len
	}
	return k
}

// UseSegmented says whether SgemmSegmented takes an m×n product with this k: when Sgemm would run
// it (with A copied out, beta 0, B not transposed) through its narrow-product kernel.
func UseSegmented(m, n, k int) bool {
	load()
	return !pureGo && useSmallN(false, m, n, k, 0)
}

// SgemmSegmented computes C = A·B (m×n, beta 0) for a segmented A, where UseSegmented holds. It
// does the arithmetic of Sgemm on A copied out into an m×k matrix, in the same order, so the
// result is the same bit for bit. Blocks of eight rows whose starts are evenly spaced are read in
// place; other blocks and the last rows are copied out first. It panics when a row reaches
// outside Src (the caller's offsets are wrong).
func SgemmSegmented(a Segmented, n int, b []float32, ldb int, c []float32, ldc int) {
	const f = 4 // bytes per float32
	m, k := len(a.Rows), a.k()
	lo, hi := 0, 0
	segs := make([]int, 0, 2*len(a.Segs))
	for i, s := range a.Segs {
		if s.Len <= 0 {
			panic("gemm: an empty segment")
		}
		last := s.Off + (s.Len-1)*a.Step
		if i == 0 || min(s.Off, last) < lo {
			lo = min(s.Off, last)
		}
		if i == 0 || max(s.Off, last) > hi {
			hi = max(s.Off, last)
		}
		segs = append(segs, s.Off*f, s.Len)
	}
	for _, r := range a.Rows {
		if r+lo < 0 || r+hi >= len(a.Src) {
			panic("gemm: a segmented row reaches outside its source")
		}
	}
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
			kernel8x8segs(len(a.Segs), &segs[0], &a.Src[r[0]], d*f, a.Step*f, bp, bStride, cp, cStride)
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
	p := 0
	for _, s := range a.Segs {
		off := start + s.Off
		if a.Step == 1 {
			copy(dst[p:p+s.Len], a.Src[off:off+s.Len])
		} else {
			for j := range s.Len {
				dst[p+j] = a.Src[off+j*a.Step]
			}
		}
		p += s.Len
	}
}

// segPool holds SgemmSegmented's copied-out rows.
var segPool = sync.Pool{New: func() any { return new([]float32) }}
