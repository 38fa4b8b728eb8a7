package kernels

import "sync/atomic"

// Implicit patch rows. A 2D "rows" convolution whose products go through gemm's narrow kernel
// (at most eight output channels) does not build its patch blocks: the input is copied once into
// a zero-padded [B, Hp, Wp, C] array, in which an output pixel's patch row is kh runs of kw·C
// contiguous floats, one per kernel row, Wp·C·kd floats apart, and gemm.SgemmSegmented reads
// them there. The products are the same, in the same order, as on the patch blocks (the padding
// holds the zeros the blocks would hold), so results do not change by a bit; what goes is the
// writing and reading of a patch block per output row block (kh·kw times the input).

// implicitRows switches the implicit path on (the default) or off (SetImplicitRows).
var implicitRows atomic.Bool

func init() { implicitRows.Store(true) }

// SetImplicitRows turns the implicit patch rows of narrow convolutions on or off and returns the
// previous setting. Results are the same either way; it is there for tests and benchmarks.
func SetImplicitRows(on bool) bool { return implicitRows.Swap(on) }

// implicitOK says whether the plan's convolution can read its patch rows from a padded input:
// two spatial axes, no input dilation, adjacent kernel columns, and no negative low padding.
func (p *convPlan) implicitOK() bool {
	return !p.swapped && p.n == 2 && p.idil[0] == 1 && p.idil[1] == 1 && p.kdil[1] == 1 &&
		p.pad[0] >= 0 && p.pad[1] >= 0
}

// paddedInput is a convolution's input copied into a zero-padded [B, Hp, Wp, C] array, with
// the offset of every output row's patch row in it.
type paddedInput struct {
	data   []float32
	buf    *[]float32
	rows   []int // rows[(b, y0, y1)]: where that output pixel's first tap lies in data
	rowLen int   // Wp·C: one padded image row
}

// pad2D copies in into the padded layout the plan's output pixels read: Hp and Wp cover the
// last output's last tap, and positions off the input hold zeros.
func (p *convPlan) pad2D(in []float32) *paddedInput {
	C := p.inC
	hp := (p.outDims[0]-1)*p.stride[0] + (p.kDims[0]-1)*p.kdil[0] + 1
	wp := (p.outDims[1]-1)*p.stride[1] + p.kDims[1]
	buf := getScratch(p.inB * hp * wp * C)
	data := *buf
	for b := range p.inB {
		for yp := range hp {
			row := data[(b*hp+yp)*wp*C : (b*hp+yp+1)*wp*C]
			iy := yp - p.pad[0]
			if iy < 0 || iy >= p.inDims[0] {
				clear(row)
				continue
			}
			base := b*p.inStrideB + iy*p.inStrides[0]
			for xp := range wp {
				d := row[xp*C : (xp+1)*C]
				ix := xp - p.pad[1]
				if ix < 0 || ix >= p.inDims[1] {
					clear(d)
					continue
				}
				gatherRun(d, in, base+ix*p.inStrides[1], p.inStrideC)
			}
		}
	}
	rows := make([]int, len(p.outOff))
	for r := range rows {
		b, pos := r/p.outPos, r%p.outPos
		y0, y1 := pos/p.outDims[1], pos%p.outDims[1]
		rows[r] = ((b*hp+y0*p.stride[0])*wp + y1*p.stride[1]) * C
	}
	return &paddedInput{data: data, buf: buf, rows: rows, rowLen: wp * C}
}

// release returns the padded array to the scratch pool.
func (pi *paddedInput) release() { putScratch(pi.buf) }
