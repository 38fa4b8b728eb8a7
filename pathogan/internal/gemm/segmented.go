package gemm

import (
	"runtime"
	"sync"
	"unsafe"
)

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
// it (with A copied out, beta 0, B not transposed) through its own assembly kernels.
func UseSegmented(m, n, k int) bool {
	load()
	return !pureGo && (useSmallN(false, m, n, k, 0) || asm != nil)
}

// SgemmSegmented computes C = A·B (m×n, beta 0) for a segmented A, where UseSegmented holds. It
// does the arithmetic of Sgemm on A copied out into an m×k matrix, in the same order, so the
// result is the same bit for bit. Blocks of rows whose starts are evenly spaced are read in
// place, and so are the packed AVX-512 kernels' tiles of three groups of four evenly spaced
// rows (a tile that crosses into the next image row); other blocks and the last rows are
// copied out first. It panics when a row reaches
// outside Src (the caller's offsets are wrong).
func SgemmSegmented(a Segmented, n int, b []float32, ldb int, c []float32, ldc int) {
	SgemmSegmentedPacked(a, n, b, ldb, nil, c, ldc)
}

// SgemmSegmentedPacked is SgemmSegmented with B also given packed (PackB, or nil), for a B that
// several calls share.
func SgemmSegmentedPacked(a Segmented, n int, b []float32, ldb int, pb *PackedB, c []float32, ldc int) {
	const f = 4 // bytes per float32
	m, k := len(a.Rows), a.k()
	a.check()
	sp := segPool.Get().(*[]float32)
	defer segPool.Put(sp)
	var segs []int
	if useSmallN(false, m, n, k, 0) {
		segs = a.clip(0, k, segs)
		rows := grow(*sp, 8*k)
		*sp = rows
		eightRows(m, n, k, b, ldb, c, ldc, func(i int, bp *float32, bStride int, cp *float32, cStride int) {
			if d, ok := evenlySpaced(a.Rows[i : i+8]); ok {
				k8segs(len(segs)/2, &segs[0], &a.Src[a.Rows[i]], d*f, a.Step*f, bp, bStride, cp, cStride)
				return
			}
			if bStride == smallN*f {
				// Each row from its own start (the rows were checked to lie inside Src,
				// which stays reachable through a).
				var starts [8]uintptr
				base := uintptr(unsafe.Pointer(&a.Src[0]))
				for j, r := range a.Rows[i : i+8] {
					starts[j] = base + uintptr(r*f)
				}
				k8rows(len(segs)/2, &segs[0], &starts, a.Step*f, bp, cp, cStride)
				runtime.KeepAlive(a.Src)
				return
			}
			for j := range 8 {
				a.copyRange(rows[j*k:(j+1)*k], a.Rows[i+j], 0, k)
			}
			k8(k, &rows[0], k*f, f, bp, bStride, cp, cStride)
		}, func(dst []float32, i int) { a.copyRange(dst, a.Rows[i], 0, k) })
		return
	}
	scale(m, n, 0, c, ldc)
	mr := asm.mr
	clipped := -1 // the pc that segs holds
	if pb != nil && (pb.ks != asm || pb.k != k || pb.n != n) {
		panic("gemm: a packed B of another shape")
	}
	packedProduct(asm, pb, false, m, n, k, b, ldb, c, ldc,
		func(t tile, i, pc, kb int, bp, cp *float32, ldcBytes int) {
			if d, ok := evenlySpaced(a.Rows[i : i+mr]); ok {
				if clipped != pc {
					segs, clipped = a.clip(pc, kb, segs[:0]), pc
				}
				t.seg(len(segs)/2, &segs[0], &a.Src[a.Rows[i]], d*f, a.Step*f, bp, cp, ldcBytes)
				return
			}
			if d, ok := fourByFour(a.Rows[i : i+mr]); ok && t.seg3 != nil {
				// A tile that crosses from one image row into the next: three groups of four
				// rows, each read in place from its own start.
				if clipped != pc {
					segs, clipped = a.clip(pc, kb, segs[:0]), pc
				}
				r := a.Rows[i:]
				t.seg3(len(segs)/2, &segs[0], &a.Src[r[0]], &a.Src[r[4]], &a.Src[r[8]], d*f, a.Step*f, bp, cp, ldcBytes)
				return
			}
			rows := grow(*sp, mr*kb)
			*sp = rows
			for j := range mr {
				a.copyRange(rows[j*kb:(j+1)*kb], a.Rows[i+j], pc, kb)
			}
			t.fn(kb, &rows[0], kb*f, f, bp, cp, ldcBytes)
		},
		func(dst []float32, i, pc, kb int) { a.copyRange(dst, a.Rows[i], pc, kb) })
}

// check panics when a row reaches outside Src or a segment is empty.
func (a *Segmented) check() {
	lo, hi := 0, 0
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
	}
	for _, r := range a.Rows {
		if r+lo < 0 || r+hi >= len(a.Src) {
			panic("gemm: a segmented row reaches outside its source")
		}
	}
}

// evenlySpaced says whether rows start d floats apart, and gives d.
func evenlySpaced(rows []int) (d int, ok bool) {
	d = rows[1] - rows[0]
	for j := 2; j < len(rows); j++ {
		if rows[j]-rows[j-1] != d {
			return 0, false
		}
	}
	return d, true
}

// fourByFour says whether twelve rows are three groups of four, each evenly spaced, with the
// same spacing d inside every group, and gives d.
func fourByFour(rows []int) (d int, ok bool) {
	if len(rows) != 12 {
		return 0, false
	}
	d, ok = evenlySpaced(rows[:4])
	for g := 4; ok && g < 12; g += 4 {
		dg, okg := evenlySpaced(rows[g : g+4])
		ok = okg && dg == d
	}
	return d, ok
}

// parts calls fn for each segment's part that covers steps pc..pc+kb: its offset from a row's
// start, the step it begins at (relative to pc) and its length.
func (a *Segmented) parts(pc, kb int, fn func(off, at, n int)) {
	e := 0 // the first step of segment s
	for _, s := range a.Segs {
		if lo, hi := max(e, pc), min(e+s.Len, pc+kb); lo < hi {
			fn(s.Off+(lo-e)*a.Step, lo-pc, hi-lo)
		}
		e += s.Len
	}
}

// clip appends to buf the (byte offset, length) pairs of the segments' parts that cover steps
// pc..pc+kb, as the segmented kernels take them.
func (a *Segmented) clip(pc, kb int, buf []int) []int {
	a.parts(pc, kb, func(off, _, n int) { buf = append(buf, off*4, n) })
	return buf
}

// copyRange copies steps pc..pc+kb of the row that starts at Src[start] into dst.
func (a *Segmented) copyRange(dst []float32, start, pc, kb int) {
	a.parts(pc, kb, func(off, at, n int) {
		d, src := dst[at:at+n], start+off
		if a.Step == 1 {
			copy(d, a.Src[src:src+n])
			return
		}
		for j := range d {
			d[j] = a.Src[src+j*a.Step]
		}
	})
}

// segPool holds SgemmSegmented's copied-out rows.
var segPool = sync.Pool{New: func() any { return new([]float32) }}
