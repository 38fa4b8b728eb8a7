package kernels

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/pathogan-go/pathogan/pathogan/internal/bufpool"
	"github.com/pathogan-go/pathogan/pathogan/internal/gemm"
	"github.com/pathogan-go/pathogan/pathogan/internal/vec"
)

// This file holds the float32 kernels that replace simplego's ConvGeneral and DotGeneral
// executors (see hook.go). Both turn the op into matrix products for package gemm (OpenBLAS when
// the machine has it, gemm's own AVX2 kernel for products with at most 8 columns, else pure Go)
// and split the work over the cores themselves.
//
// A convolution out[b, o, y] = Σ_{c,k} in[b, c, (y·s + k·kd - pad)/idil] · ker[c, o, k] (the
// input term is zero off the input and between dilated input elements) is computed in one of two
// ways, whichever makes the smaller patch matrix:
//
//   - rows: one row per output position (b, y), one column per (kernel tap k, channel c), and
//     out = P · Km with Km[(k, c), o] = ker[c, o, k] (im2col); a forward convolution;
//   - taps: one row per (channel c, kernel position k), one column per (output position y, batch
//     b), and out[(y, b), o] = Σ_rows P[row, (y, b)] · Km[(c, k), o]: the kernel-gradient
//     convolution, whose "kernel" is the whole output gradient and whose output is a few taps.
//
// Patch matrices are built block by block (a few hundred kilobytes each) so they stay in cache,
// except where gemm's own kernels run the products: those read the patches from a zero-padded
// copy of the input instead (implicit.go).

// workers is how many goroutines a kernel uses.
func workers() int { return max(1, runtime.GOMAXPROCS(0)) }

// parallelFor runs fn(block) for block in [0, n) on up to workers() goroutines, each getting
// blocks from a shared counter; fn also gets the worker index. The calling goroutine is worker
// 0, so that it works instead of sleeping until the others finish.
func parallelFor(n int, fn func(worker, block int)) {
	w := min(workers(), n)
	if w <= 1 {
		for i := range n {
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func(worker int) {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			fn(worker, i)
		}
	}
	for worker := 1; worker < w; worker++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(worker)
		}()
	}
	work(0)
	wg.Wait()
}

// getScratch returns a float32 slice of length n from the pools by size class (its contents are
// whatever it held last); putScratch gives it back. With one pool for all sizes, a request
// larger than the slice the pool handed out allocated a new one: the kernel gradients' partial
// sums of a 128-px network (800 KB each) were allocated and faulted in again and again.
func getScratch(n int) *[]float32 { return bufpool.Get(n) }

func putScratch(p *[]float32) { bufpool.Put(p) }

// rowMajorStrides returns the element strides of a row-major array.
func rowMajorStrides(dims []int) []int {
	st := make([]int, len(dims))
	s := 1
	for i := len(dims) - 1; i >= 0; i-- {
		st[i] = s
		s *= dims[i]
	}
	return st
}

// convPlan is a ConvGeneral node's geometry, worked out once per node.
type convPlan struct {
	builtin bool // not float32 or grouped: simplego's own executor runs it

	n                    int   // spatial rank
	inB, inC             int   // input batch and channel sizes
	inStrideB, inStrideC int   // their strides
	inDims, inStrides    []int // spatial sizes and strides of the input
	stride, pad          []int // per spatial axis: stride, low padding
	kdil, idil           []int // kernel dilation, input dilation
	outDims              []int // output spatial sizes
	kDims                []int // kernel spatial sizes
	O                    int   // output channels
	taps, outPos         int   // kernel positions, output spatial positions

	// Kernel as a matrix: kOff[k*inC+c] is the offset of ker[c, 0, k]; kStrideO steps o.
	kOff     []int
	kStrideO int
	kIdent   bool // the kernel is already laid out as the matrix the formulation needs

	// Output: outOff[row] is the offset of out[row, o=0] in the formulation's row order;
	// outStrideO steps o. outDirect: rows are consecutive blocks of O values.
	outOff     []int
	outStrideO int
	outDirect  bool

	swapped bool // the "taps" formulation

	// tbl[i][y*kDims[i]+k] is the offset along spatial axis i of the input term for output
	// position y and kernel position k, or -1 when it is off the input or between dilated elements.
	tbl [][]int

	// rows: where each patch-matrix row starts in the padded input (implicit.go), set once.
	rowsOnce sync.Once
	rows     []int

	// phases: the convolutions of an input-dilated one's residue classes (phases.go), set once.
	phasesOnce sync.Once
	phases     []phase
}

// planConv returns the node's plan, working it out on the first execution. A node whose
// parameters cannot be read (another GoMLX version) gets a builtin plan.
func planConv(st *builderState, node *simplego.Node, inShape, kShape []int, dtype dtypes.DType) *convPlan {
	nm := nodeOf(node)
	st.mu.Lock()
	p, ok := st.convs[nm.builderIdx]
	st.mu.Unlock()
	if ok {
		return p
	}
	p, err := newConvPlan(nm, inShape, kShape, dtype)
	if err != nil || st.opts.NativeConv {
		p = &convPlan{builtin: true}
	}
	st.mu.Lock()
	st.convs[nm.builderIdx] = p
	st.mu.Unlock()
	return p
}

// newConvPlan works out a float32 ungrouped convolution's plan; other convolutions get a builtin
// plan. It returns an error when the node's parameters cannot be read.
func newConvPlan(nm *nodeMirror, inShape, kShape []int, dtype dtypes.DType) (*convPlan, error) {
	data := nm.data
	p := &convPlan{builtin: true}
	if dtype != dtypes.Float32 || reflectTypeName(data) != convDataType {
		return p, nil
	}
	groups, err := readAs[int](data, "channelGroupCount")
	if err != nil {
		return nil, err
	}
	batchGroups, err := readAs[int](data, "batchGroupCount")
	if err != nil {
		return nil, err
	}
	if groups > 1 || batchGroups > 1 {
		return p, nil
	}
	p.builtin = false
	axes, err := readAs[backends.ConvolveAxesConfig](data, "axes")
	if err != nil {
		return nil, err
	}
	strides, err := readAs[[]int](data, "strides")
	if err != nil {
		return nil, err
	}
	kernelDilations, err := readAs[[]int](data, "kernelDilations")
	if err != nil {
		return nil, err
	}
	inputDilations, err := readAs[[]int](data, "inputDilations")
	if err != nil {
		return nil, err
	}
	pads, err := readAs[[][2]int](data, "paddings")
	if err != nil {
		return nil, err
	}
	n := len(axes.InputSpatial)
	p.n = n
	fill := func(v []int, def int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = def
			if i < len(v) && v[i] > 0 {
				out[i] = v[i]
			}
		}
		return out
	}
	p.stride = fill(strides, 1)
	p.kdil = fill(kernelDilations, 1)
	p.idil = fill(inputDilations, 1)
	p.pad = make([]int, n)
	for i := range n {
		if i < len(pads) {
			p.pad[i] = pads[i][0]
		}
	}
	inSt := rowMajorStrides(inShape)
	kSt := rowMajorStrides(kShape)
	outShape := nm.shape.Dimensions
	outSt := rowMajorStrides(outShape)
	p.inB, p.inC = inShape[axes.InputBatch], inShape[axes.InputChannels]
	p.inStrideB, p.inStrideC = inSt[axes.InputBatch], inSt[axes.InputChannels]
	p.O = kShape[axes.KernelOutputChannels]
	p.kStrideO = kSt[axes.KernelOutputChannels]
	p.outStrideO = outSt[axes.OutputChannels]
	p.taps, p.outPos = 1, 1
	for i := range n {
		p.inDims = append(p.inDims, inShape[axes.InputSpatial[i]])
		p.inStrides = append(p.inStrides, inSt[axes.InputSpatial[i]])
		p.kDims = append(p.kDims, kShape[axes.KernelSpatial[i]])
		p.outDims = append(p.outDims, outShape[axes.OutputSpatial[i]])
		p.taps *= p.kDims[i]
		p.outPos *= p.outDims[i]
	}
	p.swapped = p.taps > p.outPos
	p.buildTables()

	// Kernel matrix rows: (k, c) for "rows", (c, k) for "taps".
	kSpSt := make([]int, n)
	for i := range n {
		kSpSt[i] = kSt[axes.KernelSpatial[i]]
	}
	kStrideC := kSt[axes.KernelInputChannels]
	p.kOff = make([]int, p.taps*p.inC)
	coord := make([]int, n)
	for k := range p.taps {
		off := 0
		for i := range n {
			off += coord[i] * kSpSt[i]
		}
		for c := range p.inC {
			p.kOff[p.kernelRow(k, c)] = off + c*kStrideC
		}
		odometer(coord, p.kDims)
	}

	// Output rows: (b, y) for "rows", (y, b) for "taps".
	outB := outShape[axes.OutputBatch]
	rows := outB * p.outPos
	p.outOff = make([]int, rows)
	outSpSt := make([]int, n)
	for i := range n {
		outSpSt[i] = outSt[axes.OutputSpatial[i]]
	}
	clear(coord)
	for y := range p.outPos {
		off := 0
		for i := range n {
			off += coord[i] * outSpSt[i]
		}
		for b := range outB {
			p.outOff[p.outputRow(b, y)] = off + b*outSt[axes.OutputBatch]
		}
		odometer(coord, p.outDims)
	}
	p.findIdentities()
	return p, nil
}

// buildTables works out p.tbl from the plan's geometry.
func (p *convPlan) buildTables() {
	p.tbl = make([][]int, p.n)
	for i := range p.n {
		p.tbl[i] = make([]int, p.outDims[i]*p.kDims[i])
		for y := range p.outDims[i] {
			for k := range p.kDims[i] {
				off := -1
				pos := y*p.stride[i] + k*p.kdil[i] - p.pad[i]
				if pos >= 0 && pos%p.idil[i] == 0 && pos/p.idil[i] < p.inDims[i] {
					off = pos / p.idil[i] * p.inStrides[i]
				}
				p.tbl[i][y*p.kDims[i]+k] = off
			}
		}
	}
}

// findIdentities sets kIdent and outDirect from kOff and outOff.
func (p *convPlan) findIdentities() {
	p.kIdent = p.kStrideO == 1
	for r, off := range p.kOff {
		p.kIdent = p.kIdent && off == r*p.O
	}
	p.outDirect = p.outStrideO == 1
	for r, off := range p.outOff {
		p.outDirect = p.outDirect && off == r*p.O
	}
}

// kernelRow returns the index in kOff of kernel position k (flat over kDims) and channel c, in
// the formulation's row order.
func (p *convPlan) kernelRow(k, c int) int {
	if p.swapped {
		return c*p.taps + k
	}
	return k*p.inC + c
}

// outputRow returns the index in outOff of batch b and output position y (flat over outDims),
// in the formulation's row order.
func (p *convPlan) outputRow(b, y int) int {
	if p.swapped {
		return y*(len(p.outOff)/p.outPos) + b
	}
	return b*p.outPos + y
}

// odometer advances a multi-index over dims (last index fastest).
func odometer(coord, dims []int) {
	for i := len(coord) - 1; i >= 0; i-- {
		coord[i]++
		if coord[i] < dims[i] {
			return
		}
		coord[i] = 0
	}
}

// inputOffset returns the offset of in[·, ·, y·s + k·kd - pad] (without the batch and channel
// terms), or -1 when that is off the input or between dilated elements.
func (p *convPlan) inputOffset(y, k []int) int {
	off := 0
	for i := range p.n {
		o := p.tbl[i][y[i]*p.kDims[i]+k[i]]
		if o < 0 {
			return -1
		}
		off += o
	}
	return off
}

// validRange returns the range [lo, hi) of t's non-negative entries, which are contiguous when
// there is no input dilation.
func validRange(t []int) (lo, hi int) {
	lo, hi = 0, len(t)
	for lo < hi && t[lo] < 0 {
		lo++
	}
	for hi > lo && t[hi-1] < 0 {
		hi--
	}
	return lo, hi
}

// gather2D fills dst, laid out as [n0][n1][run], with in[base + t0[j0] + t1[j1] + r·runStride]
// (zero where t0 or t1 is negative). contiguous says that consecutive j1 with valid offsets are
// adjacent runs in memory (t1 steps by run, runStride 1, no holes), so they are copied at once.
func gather2D(dst, in []float32, base int, t0, t1 []int, run, runStride int, contiguous bool) {
	n1 := len(t1)
	lo, hi := 0, n1
	if contiguous {
		lo, hi = validRange(t1)
	}
	for j0, o0 := range t0 {
		seg := dst[j0*n1*run : (j0+1)*n1*run]
		if o0 < 0 {
			clear(seg)
			continue
		}
		if contiguous {
			clear(seg[:lo*run])
			if hi > lo {
				off := base + o0 + t1[lo]
				copy(seg[lo*run:hi*run], in[off:off+(hi-lo)*run])
			}
			clear(seg[hi*run:])
			continue
		}
		for j1, o1 := range t1 {
			d := seg[j1*run : (j1+1)*run]
			if o1 < 0 {
				clear(d)
			} else {
				gatherRun(d, in, base+o0+o1, runStride)
			}
		}
	}
}

// gatherRun copies n values of in starting at off with the given stride into dst.
func gatherRun(dst, in []float32, off, stride int) {
	if stride == 1 {
		// Runs of 4 or 8 (the channels of narrow networks) as array copies, which the compiler
		// inlines; copy calls memmove, which costs more than such a short move.
		switch len(dst) {
		case 8:
			*(*[8]float32)(dst) = *(*[8]float32)(in[off : off+8])
		case 4:
			*(*[4]float32)(dst) = *(*[4]float32)(in[off : off+4])
		default:
			copy(dst, in[off:off+len(dst)])
		}
		return
	}
	for j := range dst {
		dst[j] = in[off+j*stride]
	}
}

// execConv is the ConvGeneral executor.
func execConv(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	st := stateOf(nodeOf(node))
	if st == nil {
		return builtinConv(backend, node, inputs, owned)
	}
	inB, kB := bufferOf(inputs[0]), bufferOf(inputs[1])
	p := planConv(st, node, inB.shape.Dimensions, kB.shape.Dimensions, inB.shape.DType)
	if p.builtin {
		return builtinConv(backend, node, inputs, owned)
	}
	in, ker := flat32(inputs[0]), flat32(inputs[1])
	outBuf := newOutput(backend, node)
	out := flat32(outBuf)
	if p.splitOK() {
		for _, ph := range p.splitPhases() {
			ph.run(in, ker, out)
		}
		return outBuf, nil
	}
	p.run(in, ker, out)
	return outBuf, nil
}

// run computes the convolution of in by ker into out.
func (p *convPlan) run(in, ker, out []float32) {
	// The kernel as a matrix.
	km := ker
	var kmScratch *[]float32
	if !p.kIdent {
		kmScratch = getScratch(len(p.kOff) * p.O)
		km = *kmScratch
		for r, off := range p.kOff {
			row := km[r*p.O : (r+1)*p.O]
			gatherRun(row, ker, off, p.kStrideO)
		}
	}
	if p.swapped {
		p.convTaps(in, km, out)
	} else {
		p.convRows(in, km, out)
	}
	if kmScratch != nil {
		putScratch(kmScratch)
	}
}

// blockRows picks how many patch rows of length k go in one block: about 256 KiB, with the
// number of blocks rounded to a multiple of four so that one, two or four cores get equal shares.
// It does not depend on the number of cores, so results (which depend on how products are
// split) are the same on every machine with the same BLAS.
func blockRows(k, total int) int {
	r := max(4, (64<<10)/max(k, 1))
	n := max(1, total/r)
	if total >= 16 {
		n = (n + 3) / 4 * 4
	}
	return max(1, (total+n-1)/n)
}

// adjacentRuns says whether a patch row's channel runs for adjacent kernel columns are adjacent
// in the input (gather2D's contiguous): in 2D with channels innermost, stride-1 kernel columns.
func (p *convPlan) adjacentRuns() bool {
	return p.n == 2 && p.inStrideC == 1 && p.idil[1] == 1 && p.kdil[1]*p.inStrides[1] == p.inC
}

// convRows is the "rows" formulation: out[(b, y), o] = P[(b, y), (k, c)] · Km[(k, c), o].
func (p *convPlan) convRows(in, km, out []float32) {
	K := p.taps * p.inC
	rows := len(p.outOff)
	R := blockRows(K, rows)
	if p.columnsOK(rows, R, K) {
		p.convColumns(in, km, out, R)
		return
	}
	nBlocks := (rows + R - 1) / R
	var implicit gemm.Segmented
	if p.implicitOK() && gemm.UseSegmented(min(R, rows), p.O, K) {
		padded := p.pad2D(in)
		defer padded.release()
		implicit = p.rowsMatrix(padded)
	}
	// The kernel matrix, packed once for all row blocks when the packed kernels run them.
	var packedKm *gemm.PackedB
	if implicit.Src != nil {
		packedKm = gemm.PackB(K, p.O, km, p.O)
		defer packedKm.Release()
	}
	parallelFor(nBlocks, func(_, blk int) {
		r0 := blk * R
		r1 := min(r0+R, rows)
		if implicit.Src != nil && gemm.UseSegmented(r1-r0, p.O, K) {
			a := implicit
			a.Rows = a.Rows[r0:r1]
			p.storeWith(r0, r1, out, func(c []float32) { gemm.SgemmSegmentedPacked(a, p.O, km, p.O, packedKm, c, p.O) })
			return
		}
		patch := getScratch((r1 - r0) * K)
		defer putScratch(patch)
		y := make([]int, p.n)
		k := make([]int, p.n)
		contiguous := p.adjacentRuns()
		for r := r0; r < r1; r++ {
			b, pos := r/p.outPos, r%p.outPos
			for i := p.n - 1; i >= 0; i-- {
				y[i] = pos % p.outDims[i]
				pos /= p.outDims[i]
			}
			row := (*patch)[(r-r0)*K : (r-r0+1)*K]
			if p.n == 2 {
				kh, kw := p.kDims[0], p.kDims[1]
				gather2D(row, in, b*p.inStrideB, p.tbl[0][y[0]*kh:(y[0]+1)*kh], p.tbl[1][y[1]*kw:(y[1]+1)*kw],
					p.inC, p.inStrideC, contiguous)
				continue
			}
			clear(k)
			for t := range p.taps {
				dst := row[t*p.inC : (t+1)*p.inC]
				if off := p.inputOffset(y, k); off < 0 {
					clear(dst)
				} else {
					gatherRun(dst, in, off+b*p.inStrideB, p.inStrideC)
				}
				odometer(k, p.kDims)
			}
		}
		p.storeRows(r0, r1, *patch, K, km, out, false)
	})
}

// storeRows multiplies a patch block (rows r0..r1, or its transpose when transA) by Km and
// writes the rows of out.
func (p *convPlan) storeRows(r0, r1 int, patch []float32, K int, km, out []float32, transA bool) {
	p.storeWith(r0, r1, out, func(c []float32) { gemm.Sgemm(transA, false, r1-r0, p.O, K, patch, K, km, p.O, 0, c, p.O) })
}

// storeWith writes rows r0..r1 of out, which product computes as an (r1-r0)×O matrix with
// leading dimension O: in place when out's rows are laid out that way, else through a copy.
func (p *convPlan) storeWith(r0, r1 int, out []float32, product func(c []float32)) {
	m := r1 - r0
	if p.outDirect {
		product(out[r0*p.O:])
		return
	}
	tmp := getScratch(m * p.O)
	defer putScratch(tmp)
	product(*tmp)
	for r := r0; r < r1; r++ {
		src := (*tmp)[(r-r0)*p.O : (r-r0+1)*p.O]
		base := p.outOff[r]
		for o, v := range src {
			out[base+o*p.outStrideO] = v
		}
	}
}

// convTaps is the "taps" formulation: out[(y, b), o] = Σ_{(c, k)} P[(c, k), (y, b)] · Km[(c, k), o],
// with the contraction over (c, k) split in blocks over the workers and their partial sums added.
func (p *convPlan) convTaps(in, km, out []float32) {
	M := len(p.outOff) // (y, b)
	outB := M / p.outPos
	rows := p.inC * p.taps // (c, k): the contraction
	// Blocks of at least 256 contraction rows keep the products efficient (a thin transA product
	// is slow) and the partial sums few, even when M is large (a 7x7 kernel gradient).
	R := min(rows, max(256, min((256<<10)/M, (rows+3)/4)))
	nBlocks := (rows + R - 1) / R
	// One partial sum per block, added in block order: the result does not depend on which
	// worker ran which block.
	partial := make([]*[]float32, nBlocks)
	for i := range partial {
		partial[i] = getScratch(M * p.O)
	}
	var implicit gemm.Segmented
	var padded *paddedInput
	if p.implicitOK() && gemm.UseSegmented(M, p.O, min(R, rows)) {
		padded = p.pad2D(in)
		defer padded.release()
		implicit = p.tapsMatrix(padded)
	}
	columns := implicit.Src != nil && p.tapsColumnsOK(M, R, rows)
	parallelFor(nBlocks, func(_, blk int) {
		r0 := blk * R
		r1 := min(r0+R, rows)
		if columns {
			p.tapsColumns(padded, r0, r1, km[r0*p.O:], *partial[blk])
			return
		}
		if implicit.Src != nil && gemm.UseSegmented(M, p.O, r1-r0) {
			a := implicit
			a.Segs = nil
			p.tapsBlock(&a, padded, r0, r1)
			gemm.SgemmSegmented(a, p.O, km[r0*p.O:], p.O, *partial[blk], p.O)
			return
		}
		patch := getScratch((r1 - r0) * M)
		defer putScratch(patch)
		y := make([]int, p.n)
		k := make([]int, p.n)
		// In 2D with the batch innermost, stride-1 output columns read adjacent batch runs.
		contiguous := p.n == 2 && p.inStrideB == 1 && p.idil[1] == 1 && p.stride[1]*p.inStrides[1] == outB
		t0, t1 := make([]int, 0, 64), make([]int, 0, 64)
		for r := r0; r < r1; r++ {
			c, t := r/p.taps, r%p.taps
			for i := p.n - 1; i >= 0; i-- {
				k[i] = t % p.kDims[i]
				t /= p.kDims[i]
			}
			row := (*patch)[(r-r0)*M : (r-r0+1)*M]
			if p.n == 2 {
				t0, t1 = t0[:0], t1[:0]
				for yy := range p.outDims[0] {
					t0 = append(t0, p.tbl[0][yy*p.kDims[0]+k[0]])
				}
				for yy := range p.outDims[1] {
					t1 = append(t1, p.tbl[1][yy*p.kDims[1]+k[1]])
				}
				gather2D(row, in, c*p.inStrideC, t0, t1, outB, p.inStrideB, contiguous)
				continue
			}
			clear(y)
			for yi := range p.outPos {
				dst := row[yi*outB : (yi+1)*outB]
				if off := p.inputOffset(y, k); off < 0 {
					clear(dst)
				} else {
					gatherRun(dst, in, off+c*p.inStrideC, p.inStrideB)
				}
				odometer(y, p.outDims)
			}
		}
		gemm.Sgemm(true, false, M, p.O, r1-r0, *patch, M, km[r0*p.O:], p.O, 0, *partial[blk], p.O)
	})
	sum := *partial[0]
	for _, pp := range partial[1:] {
		vec.VV(vec.Add, sum, sum, *pp) // sum[i] + pp[i], element by element, as a loop adds them
		putScratch(pp)
	}
	if p.outDirect {
		copy(out, sum)
	} else {
		for r := range M {
			base := p.outOff[r]
			for o := range p.O {
				out[base+o*p.outStrideO] = sum[r*p.O+o]
			}
		}
	}
	putScratch(partial[0])
}

// dotPlan is a DotGeneral node's layout as a batch of matrix products, when it is one.
type dotPlan struct {
	builtin        bool
	batch, m, n, k int
	transA, transB bool
}

// planDot returns the node's plan, working it out on the first execution.
func planDot(st *builderState, node *simplego.Node, lhsDims, rhsDims []int, dtype dtypes.DType) *dotPlan {
	nm := nodeOf(node)
	st.mu.Lock()
	p, ok := st.dots[nm.builderIdx]
	st.mu.Unlock()
	if ok {
		return p
	}
	p, err := newDotPlan(nm, lhsDims, rhsDims, dtype)
	if err != nil {
		p = &dotPlan{builtin: true}
	}
	st.mu.Lock()
	st.dots[nm.builderIdx] = p
	st.mu.Unlock()
	return p
}

// newDotPlan recognises DotGeneral nodes whose operands are [batch, M, K] or [batch, K, M] (lhs)
// and [batch, K, N] or [batch, N, K] (rhs) when flattened, with the batch axes first; others get
// a builtin plan. It returns an error when the node's parameters cannot be read.
func newDotPlan(nm *nodeMirror, lhsDims, rhsDims []int, dtype dtypes.DType) (*dotPlan, error) {
	data := nm.data
	p := &dotPlan{builtin: true}
	if dtype != dtypes.Float32 || reflectTypeName(data) != dotDataType {
		return p, nil
	}
	var axes [4][]int
	for i, name := range []string{"lhsContractingAxes", "lhsBatchAxes", "rhsContractingAxes", "rhsBatchAxes"} {
		v, err := readAs[[]int](data, name)
		if err != nil {
			return nil, err
		}
		axes[i] = v
	}
	lc, lb, rc, rb := axes[0], axes[1], axes[2], axes[3]
	if len(lb) != len(rb) {
		return p, nil
	}
	// Batch axes first, in order.
	for i := range lb {
		if lb[i] != i || rb[i] != i {
			return p, nil
		}
	}
	nb := len(lb)
	// Contracting axes: increasing and contiguous, right after the batch axes or at the end.
	layout := func(axes []int, rank int) (first bool, ok bool) {
		if len(axes) == 0 {
			return false, false
		}
		for i := 1; i < len(axes); i++ {
			if axes[i] != axes[0]+i {
				return false, false
			}
		}
		if axes[0] == nb {
			return true, true
		}
		if axes[len(axes)-1] == rank-1 {
			return false, true
		}
		return false, false
	}
	lFirst, ok1 := layout(lc, len(lhsDims))
	rFirst, ok2 := layout(rc, len(rhsDims))
	if !ok1 || !ok2 {
		return p, nil
	}
	prod := func(d []int) int {
		s := 1
		for _, v := range d {
			s *= v
		}
		return s
	}
	p.batch = prod(lhsDims[:nb])
	p.k = 1
	for _, a := range lc {
		p.k *= lhsDims[a]
	}
	p.m = prod(lhsDims) / max(p.batch*p.k, 1)
	p.n = prod(rhsDims) / max(p.batch*p.k, 1)
	p.transA = lFirst  // lhs is [batch, K, M]
	p.transB = !rFirst // rhs is [batch, N, K]
	if slices.Contains([]int{p.batch, p.m, p.n, p.k}, 0) {
		return p, nil
	}
	p.builtin = false
	return p, nil
}

// execDot is the DotGeneral executor.
func execDot(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	st := stateOf(nodeOf(node))
	if st == nil {
		return builtinDot(backend, node, inputs, owned)
	}
	lB, rB := bufferOf(inputs[0]), bufferOf(inputs[1])
	p := planDot(st, node, lB.shape.Dimensions, rB.shape.Dimensions, lB.shape.DType)
	if p.builtin {
		return builtinDot(backend, node, inputs, owned)
	}
	lhs, rhs := flat32(inputs[0]), flat32(inputs[1])
	outBuf := newOutput(backend, node)
	out := flat32(outBuf)
	lda, ldb := p.k, p.n
	if p.transA {
		lda = p.m
	}
	if p.transB {
		ldb = p.k
	}
	mk, kn, mn := p.m*p.k, p.k*p.n, p.m*p.n
	// Split M into blocks when there are fewer batches than workers.
	mBlocks := 1
	if p.batch < workers() && p.m >= 64 && p.m*p.n*p.k >= 1<<16 {
		mBlocks = 4 // Fixed, so that results do not depend on the number of cores.
	}
	mb := (p.m + mBlocks - 1) / mBlocks
	parallelFor(p.batch*mBlocks, func(_, job int) {
		b, blk := job/mBlocks, job%mBlocks
		i0 := blk * mb
		i1 := min(i0+mb, p.m)
		if i0 >= i1 {
			return
		}
		a := lhs[b*mk:]
		if p.transA {
			a = a[i0:]
		} else {
			a = a[i0*lda:]
		}
		gemm.Sgemm(p.transA, p.transB, i1-i0, p.n, p.k, a, lda, rhs[b*kn:], ldb, 0, out[b*mn+i0*p.n:], p.n)
	})
	return outBuf, nil
}
