package kernels

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/pathogan-go/pathogan/pathogan/internal/bufpool"
	"github.com/pathogan-go/pathogan/pathogan/internal/gemm"
)

// Column patches. A forward ("rows") convolution with at most eight output channels, stride 1
// along image columns and as many output columns as a multiple of sixteen runs through
// gemm.SgemmColumns where the CPU has AVX-512: its input is copied into a zero-padded array
// laid out [batch, Hp, channel, Wp], so that for one output row of pixels, one tap and one
// channel the patch matrix's entries are Wp-consecutive floats, sixteen to a register. The
// narrow product (SgemmSegmented) holds eight output channels of one pixel per AVX2 register
// instead, and fills three eighths of it for five channels. Kernel gradients (convTaps) with at
// most eight output channels run the same kernels over the output rows of one kernel row,
// (kernel column, channel) pairs, which lie side by side in the padded input (tapsColumns).
//
// The sums are the narrow product's, bit for bit: each output is summed over (tap, channel) in
// order from zero with fused multiply-adds, and the last rows of each of convRows' row blocks,
// which the narrow product computes with a multiply and an add per step, are computed that way
// again (gemm.SgemmColumnsNoFMA).

// columnPatches switches the column path on (the default) or off (SetColumnPatches).
var columnPatches atomic.Bool

func init() { columnPatches.Store(true) }

// SetColumnPatches turns the column path of narrow convolutions on or off and returns the
// previous setting. Results are the same either way; it is there for tests and benchmarks.
func SetColumnPatches(on bool) bool { return columnPatches.Swap(on) }

// columnsOK says whether convRows runs the plan's product (rows patch rows, blocks of R) through
// convColumns: the implicit path would run every block through the narrow product.
func (p *convPlan) columnsOK(rows, R, K int) bool {
	if !columnPatches.Load() || !p.implicitOK() || p.swapped || p.stride[1] != 1 || p.kdil[1] != 1 ||
		!gemm.ColumnsOK(p.outDims[1], p.O) {
		return false
	}
	nBlocks := (rows + R - 1) / R
	return R >= 8 && rows-(nBlocks-1)*R >= 8 && gemm.UseSegmented(8, p.O, K)
}

// padColumns copies in into the zero-padded [batch, Hp, channel, Wp] layout, with the input
// at the padded positions pad2D puts it.
func (p *convPlan) padColumns(in []float32) (buf *[]float32, hp, wp int) {
	_, _, _, _, hp, wp = p.paddedDims()
	C := p.inC
	buf = bufpool.Get(p.inB * hp * C * wp)
	data := *buf
	x0 := p.pad[1]
	nx := 0
	if x0 < wp {
		nx = min(p.inDims[1], (wp-1-x0)/p.idil[1]+1)
	}
	if p.idil[0] == 1 && p.idil[1] == 1 {
		// Undilated: each padded row is zeros, input, zeros.
		for b := range p.inB {
			for yp := range hp {
				iy := yp - p.pad[0]
				for c := range C {
					row := data[((b*hp+yp)*C+c)*wp : ((b*hp+yp)*C+c+1)*wp]
					if iy < 0 || iy >= p.inDims[0] {
						clear(row)
						continue
					}
					clear(row[:x0])
					stridedCopy(row[x0:], 1, in[b*p.inStrideB+iy*p.inStrides[0]+c*p.inStrideC:], p.inStrides[1], nx)
					clear(row[x0+nx:])
				}
			}
		}
		return buf, hp, wp
	}
	clear(data)
	for b := range p.inB {
		for iy := range p.inDims[0] {
			yp := p.pad[0] + iy*p.idil[0]
			if yp >= hp {
				break
			}
			for c := range C {
				row := data[((b*hp+yp)*C+c)*wp : ((b*hp+yp)*C+c+1)*wp]
				base := b*p.inStrideB + iy*p.inStrides[0] + c*p.inStrideC
				stridedCopy(row[x0:], p.idil[1], in[base:], p.inStrides[1], nx)
			}
		}
	}
	return buf, hp, wp
}

// convColumns is convRows (rows patch rows in blocks of R) through gemm.SgemmColumns, one output
// row of pixels per call.
func (p *convPlan) convColumns(in, km, out []float32, R int) {
	buf, hp, wp := p.padColumns(in)
	defer bufpool.Put(buf)
	data := *buf
	C, H, W := p.inC, p.outDims[0], p.outDims[1]
	// Column (tap (ky, kx), channel c) of an output row's patch matrix, from the row's start.
	cols := make([]int, 0, p.taps*C)
	for ky := range p.kDims[0] {
		for kx := range p.kDims[1] {
			for c := range C {
				cols = append(cols, (ky*p.kdil[0]*C+c)*wp+kx)
			}
		}
	}
	a := gemm.NewColumns(cols)
	lineStart := func(line int) int { return (line/H*hp + line%H*p.stride[0]) * C * wp }
	rows := len(p.outOff)
	parallelFor(rows/W, func(_, line int) {
		src := data[lineStart(line):]
		l0, l1 := line*W, (line+1)*W
		p.storeWith(l0, l1, out, func(c []float32) { gemm.SgemmColumns(W, p.O, src, a, km, p.O, c, p.O) })
		// The last rows of the blocks (rows r0+m8 .. r1) that lie on this line, as the narrow
		// product computes them, sixteen pixels at a time, while the line is in cache.
		for blk := l0 / R; blk*R < l1; blk++ {
			r0, r1 := blk*R, min(blk*R+R, rows)
			if t0, t1 := max(r0+(r1-r0)&^7, l0), min(r1, l1); t0 < t1 {
				noFMARows(t0, t1, l0, src, a, km, p.O, func(t0, t1 int, c []float32) {
					p.storeWith(t0, t1, out, func(dst []float32) { copy(dst[:len(c)], c) })
				})
			}
		}
	})
}

// noFMARows computes rows t0..t1 of SgemmColumns' product on src (row base at src[0]) with
// gemm.SgemmColumnsNoFMA, sixteen rows at a time, and hands put each run of them (rows t0..t1
// of C, O values per row).
func noFMARows(t0, t1, base int, src []float32, a gemm.Columns, km []float32, o int, put func(t0, t1 int, c []float32)) {
	tile := getScratch(16 * o)
	defer putScratch(tile)
	for t0 < t1 {
		v0 := base + (t0-base)&^15 // the vector of sixteen rows that holds t0
		end := min(t1, v0+16)
		gemm.SgemmColumnsNoFMA(o, src[v0-base:], a, km, o, *tile, o)
		put(t0, end, (*tile)[(t0-v0)*o:(end-v0)*o])
		t0 = end
	}
}

// tapsColumnsOK says whether convTaps runs its blocks (R contraction rows of rows, M output
// rows) through tapsColumns: the implicit path would run each block through the narrow product
// (at most eight output channels), and the output rows of one kernel row, (kernel column,
// channel) pairs, lie side by side in the padded input (stride 1 along the columns).
func (p *convPlan) tapsColumnsOK(M, R, rows int) bool {
	group := p.outDims[1] * (M / p.outPos)
	m := (group + 15) &^ 15
	// Seven or eight channels need two vectors of rows per call to beat the narrow product
	// (one vector leaves the kernel loading more broadcasts than it multiplies).
	return columnPatches.Load() && p.stride[1] == 1 && gemm.ColumnsOK(m, p.O) && (p.O <= 6 || m%32 == 0) &&
		gemm.UseSegmented(M, p.O, min(R, rows)) && gemm.UseSegmented(M, p.O, rows-(rows-1)/R*R)
}

// tapsColumns computes block r0..r1 of convTaps' contraction into part (M×O) through
// gemm.SgemmColumns: column j is contraction row r0+j, the output rows of one kernel row are one
// call (rounded up to whole vectors of sixteen rows, whose extra rows are dropped), and the last
// M%8 rows, which the narrow product computes with a multiply and an add per step, are computed
// that way again (gemm.SgemmColumnsNoFMA). The sums are the narrow product's, bit for bit.
func (p *convPlan) tapsColumns(pi *paddedInput, r0, r1 int, km, part []float32) {
	cols := make([]int, 0, r1-r0)
	for r := r0; r < r1; r++ {
		c, t := r/p.taps, r%p.taps
		cols = append(cols, pi.pixel(c, t/p.kDims[1]*p.kdil[0], t%p.kDims[1]*p.kdil[1]))
	}
	a := gemm.NewColumns(cols)
	src := (*pi.buf)[:len(pi.data)+tapsSlack]
	M := len(p.outOff)
	outB := M / p.outPos
	group := p.outDims[1] * outB // output rows per kernel row
	m := (group + 15) &^ 15
	m8 := M &^ 7
	tile := getScratch(m * p.O)
	defer putScratch(tile)
	for y0 := range p.outDims[0] {
		i0 := y0 * group // the group's first output row
		start := src[pi.pixel(0, y0*p.stride[0], 0):]
		gemm.SgemmColumns(m, p.O, start, a, km, p.O, *tile, p.O)
		copy(part[i0*p.O:(i0+group)*p.O], (*tile)[:group*p.O])
		if t0 := max(m8, i0); t0 < i0+group {
			noFMARows(t0, i0+group, i0, start, a, km, p.O, func(t0, t1 int, c []float32) { copy(part[t0*p.O:t1*p.O], c) })
		}
	}
}

// stridedCopy sets dst[i·ds] = src[i·ss] for i < n.
func stridedCopy(dst []float32, ds int, src []float32, ss, n int) {
	if n == 0 {
		return
	}
	_, _ = dst[(n-1)*ds], src[(n-1)*ss] // the last elements are there, so all the others are
	d, s := unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0])
	for i := range n {
		*(*float32)(unsafe.Add(d, i*ds*4)) = *(*float32)(unsafe.Add(s, i*ss*4))
	}
	runtime.KeepAlive(dst)
	runtime.KeepAlive(src)
}
