package kernels

import (
	"sync/atomic"

	"github.com/pathogan-go/pathogan/pathogan/internal/bufpool"
	"github.com/pathogan-go/pathogan/pathogan/internal/gemm"
)

// Implicit patches. A 2D convolution whose products go through gemm's own assembly kernels
// (gemm.UseSegmented) does not build its patch blocks: its input is copied once into a
// zero-padded [outer, Hp, Wp, inner] array, and gemm.SgemmSegmented reads the patch matrix there.
//
//   - rows (a forward convolution; outer is the batch, inner the channels): an output pixel's
//     patch row is kh runs of kw·C contiguous floats, one per kernel row;
//   - taps (a kernel gradient; outer is the contraction's channel, inner the batch): a block of
//     contraction rows is a run of pixels per image row, read for all of the block's (tap,
//     batch) columns at once.
//
// The products are the same, in the same order, as on the patch blocks (the padding holds the
// zeros the blocks would hold), so results do not change by a bit; what goes is writing and
// reading a patch block per row block, kh·kw times the input's size.

// implicitPatches switches the implicit path on (the default) or off (SetImplicitPatches).
var implicitPatches atomic.Bool

func init() { implicitPatches.Store(true) }

// SetImplicitPatches turns the implicit patches of convolutions on or off and returns the
// previous setting. Results are the same either way; it is there for tests and benchmarks.
func SetImplicitPatches(on bool) bool { return implicitPatches.Swap(on) }

// implicitOK says whether the plan's convolution can read its patches from a padded input: two
// spatial axes, no negative low padding, and for "rows" adjacent kernel columns.
func (p *convPlan) implicitOK() bool {
	return implicitPatches.Load() && p.n == 2 && p.pad[0] >= 0 && p.pad[1] >= 0 && (p.swapped || p.kdil[1] == 1)
}

// paddedInput is a convolution's input copied into a zero-padded [outer, Hp, Wp, inner] array.
type paddedInput struct {
	data  []float32
	buf   *[]float32
	inner int // floats per pixel
	wp    int // padded row length, in pixels
	plane int // floats per outer index: Hp·Wp·inner
}

// paddedDims returns the padded layout's outer and inner sizes and strides, Hp and Wp: they
// cover the last output's last tap. outer and inner are the batch and channel axes for "rows",
// the channel and batch axes for "taps".
func (p *convPlan) paddedDims() (outer, outerStride, inner, innerStride, hp, wp int) {
	outer, outerStride, inner, innerStride = p.inB, p.inStrideB, p.inC, p.inStrideC
	if p.swapped {
		outer, outerStride, inner, innerStride = p.inC, p.inStrideC, p.inB, p.inStrideB
	}
	hp = (p.outDims[0]-1)*p.stride[0] + (p.kDims[0]-1)*p.kdil[0] + 1
	wp = (p.outDims[1]-1)*p.stride[1] + (p.kDims[1]-1)*p.kdil[1] + 1
	return
}

// pad2D copies in into the padded layout. Padded position yp holds the input at
// (yp - pad)/idil where that is a whole number on the input, and zero elsewhere: the value
// the patch blocks hold for it (p.tbl).
func (p *convPlan) pad2D(in []float32) *paddedInput {
	outer, outerStride, inner, innerStride, hp, wp := p.paddedDims()
	size := outer * hp * wp * inner
	buf := bufpool.Get(size + tapsSlack)
	data := (*buf)[:size]
	clear((*buf)[size:])
	// The padded columns that hold input columns: xp = pad + ix·idil.
	x0 := p.pad[1]
	nx := 0
	if x0 < wp {
		nx = min(p.inDims[1], (wp-1-x0)/p.idil[1]+1)
	}
	whole := p.idil[1] == 1 && innerStride == 1 && p.inStrides[1] == inner
	if whole && p.idil[0] == 1 {
		// Undilated rows of whole pixels: each padded row is zeros, input, zeros.
		for o := range outer {
			for yp := range hp {
				row := data[(o*hp+yp)*wp*inner : (o*hp+yp+1)*wp*inner]
				iy := yp - p.pad[0]
				if iy < 0 || iy >= p.inDims[0] {
					clear(row)
					continue
				}
				base := o*outerStride + iy*p.inStrides[0]
				clear(row[:x0*inner])
				copy(row[x0*inner:(x0+nx)*inner], in[base:base+nx*inner])
				clear(row[(x0+nx)*inner:])
			}
		}
		return &paddedInput{data: data, buf: buf, inner: inner, wp: wp, plane: hp * wp * inner}
	}
	clear(data)
	for o := range outer {
		for iy := range p.inDims[0] {
			yp := p.pad[0] + iy*p.idil[0]
			if yp >= hp {
				break
			}
			row := data[(o*hp+yp)*wp*inner : (o*hp+yp+1)*wp*inner]
			base := o*outerStride + iy*p.inStrides[0]
			if whole {
				copy(row[x0*inner:(x0+nx)*inner], in[base:base+nx*inner])
				continue
			}
			for ix := range nx {
				xp := x0 + ix*p.idil[1]
				gatherRun(row[xp*inner:(xp+1)*inner], in, base+ix*p.inStrides[1], innerStride)
			}
		}
	}
	return &paddedInput{data: data, buf: buf, inner: inner, wp: wp, plane: hp * wp * inner}
}

// tapsSlack is how many zeros follow a padded input: the column kernels of kernel gradients
// (convTapsColumns) read whole vectors of sixteen rows past a group's last row.
const tapsSlack = 64

// release returns the padded array to its pool.
func (pi *paddedInput) release() { bufpool.Put(pi.buf) }

// pixel is the offset of padded position (y, x) of outer index o.
func (pi *paddedInput) pixel(o, y, x int) int { return o*pi.plane + (y*pi.wp+x)*pi.inner }

// rowsMatrix returns the "rows" patch matrix: a row per output position (b, y0, y1), a segment
// per kernel row.
func (p *convPlan) rowsMatrix(pi *paddedInput) gemm.Segmented {
	a := gemm.Segmented{Src: pi.data, Rows: p.matrixRows(pi), Step: 1}
	for ky := range p.kDims[0] {
		a.Segs = append(a.Segs, gemm.Segment{Off: pi.pixel(0, ky*p.kdil[0], 0), Len: p.kDims[1] * p.inC})
	}
	return a
}

// tapsMatrix returns the "taps" patch matrix's transpose without its segments: a row per
// (output position y, batch b), whose element for contraction row (c, t) lies at the row's start
// plus pi.pixel(c, t·kd) (tapsBlock).
func (p *convPlan) tapsMatrix(pi *paddedInput) gemm.Segmented {
	return gemm.Segmented{Src: pi.data, Rows: p.matrixRows(pi), Step: p.kdil[1] * pi.inner}
}

// matrixRows returns where the patch matrix's rows start in the padded input (rowsMatrix,
// tapsMatrix), worked out on the first call: the layout depends on the plan only.
func (p *convPlan) matrixRows(pi *paddedInput) []int {
	p.rowsOnce.Do(func() {
		p.rows = make([]int, len(p.outOff))
		if !p.swapped {
			for r := range p.rows {
				b, pos := r/p.outPos, r%p.outPos
				p.rows[r] = pi.pixel(b, pos/p.outDims[1]*p.stride[0], pos%p.outDims[1]*p.stride[1])
			}
			return
		}
		outB := len(p.outOff) / p.outPos
		for i := range p.rows {
			y, b := i/outB, i%outB
			p.rows[i] = pi.pixel(0, y/p.outDims[1]*p.stride[0], y%p.outDims[1]*p.stride[1]) + b
		}
	})
	return p.rows
}

// tapsBlock sets a's segments to contraction rows r0..r1 (channel c, tap t): one per run of taps
// along the last axis.
func (p *convPlan) tapsBlock(a *gemm.Segmented, pi *paddedInput, r0, r1 int) {
	a.Segs = a.Segs[:0]
	for r := r0; r < r1; {
		c, t := r/p.taps, r%p.taps
		t0, t1 := t/p.kDims[1], t%p.kDims[1]
		n := min(p.kDims[1]-t1, r1-r)
		a.Segs = append(a.Segs, gemm.Segment{Off: pi.pixel(c, t0*p.kdil[0], t1*p.kdil[1]), Len: n})
		r += n
	}
}
