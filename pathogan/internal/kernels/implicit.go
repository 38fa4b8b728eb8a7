package kernels

import (
	"sync/atomic"

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
// spatial axes, no input dilation, no negative low padding, and for "rows" adjacent kernel
// columns.
func (p *convPlan) implicitOK() bool {
	return implicitPatches.Load() && p.n == 2 && p.idil[0] == 1 && p.idil[1] == 1 &&
		p.pad[0] >= 0 && p.pad[1] >= 0 && (p.swapped || p.kdil[1] == 1)
}

// paddedInput is a convolution's input copied into a zero-padded [outer, Hp, Wp, inner] array.
type paddedInput struct {
	data  []float32
	buf   *[]float32
	inner int // floats per pixel
	wp    int // padded row length, in pixels
	plane int // floats per outer index: Hp·Wp·inner
}

// pad2D copies in into the padded layout: Hp and Wp cover the last output's last tap, and
// positions off the input hold zeros. outer and inner are the batch and channel axes for "rows",
// the channel and batch axes for "taps".
func (p *convPlan) pad2D(in []float32) *paddedInput {
	outer, outerStride, inner, innerStride := p.inB, p.inStrideB, p.inC, p.inStrideC
	if p.swapped {
		outer, outerStride, inner, innerStride = p.inC, p.inStrideC, p.inB, p.inStrideB
	}
	hp := (p.outDims[0]-1)*p.stride[0] + (p.kDims[0]-1)*p.kdil[0] + 1
	wp := (p.outDims[1]-1)*p.stride[1] + (p.kDims[1]-1)*p.kdil[1] + 1
	buf := getScratch(outer * hp * wp * inner)
	data := *buf
	for o := range outer {
		for yp := range hp {
			row := data[(o*hp+yp)*wp*inner : (o*hp+yp+1)*wp*inner]
			iy := yp - p.pad[0]
			if iy < 0 || iy >= p.inDims[0] {
				clear(row)
				continue
			}
			base := o*outerStride + iy*p.inStrides[0]
			for xp := range wp {
				d := row[xp*inner : (xp+1)*inner]
				ix := xp - p.pad[1]
				if ix < 0 || ix >= p.inDims[1] {
					clear(d)
					continue
				}
				gatherRun(d, in, base+ix*p.inStrides[1], innerStride)
			}
		}
	}
	return &paddedInput{data: data, buf: buf, inner: inner, wp: wp, plane: hp * wp * inner}
}

// release returns the padded array to the scratch pool.
func (pi *paddedInput) release() { putScratch(pi.buf) }

// pixel is the offset of padded position (y, x) of outer index o.
func (pi *paddedInput) pixel(o, y, x int) int { return o*pi.plane + (y*pi.wp+x)*pi.inner }

// rowsMatrix returns the "rows" patch matrix: a row per output position (b, y0, y1), a segment
// per kernel row.
func (p *convPlan) rowsMatrix(pi *paddedInput) gemm.Segmented {
	a := gemm.Segmented{Src: pi.data, Rows: make([]int, len(p.outOff)), Step: 1}
	for r := range a.Rows {
		b, pos := r/p.outPos, r%p.outPos
		a.Rows[r] = pi.pixel(b, pos/p.outDims[1]*p.stride[0], pos%p.outDims[1]*p.stride[1])
	}
	for ky := range p.kDims[0] {
		a.Segs = append(a.Segs, gemm.Segment{Off: pi.pixel(0, ky*p.kdil[0], 0), Len: p.kDims[1] * p.inC})
	}
	return a
}

// tapsMatrix returns the "taps" patch matrix's transpose without its segments: a row per
// (output position y, batch b), whose element for contraction row (c, t) lies at the row's start
// plus pi.pixel(c, t·kd) (tapsBlock).
func (p *convPlan) tapsMatrix(pi *paddedInput) gemm.Segmented {
	outB := len(p.outOff) / p.outPos
	a := gemm.Segmented{Src: pi.data, Rows: make([]int, len(p.outOff)), Step: p.kdil[1] * pi.inner}
	for i := range a.Rows {
		y, b := i/outB, i%outB
		a.Rows[i] = pi.pixel(0, y/p.outDims[1]*p.stride[0], y%p.outDims[1]*p.stride[1]) + b
	}
	return a
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
