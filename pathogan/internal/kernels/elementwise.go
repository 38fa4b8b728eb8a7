package kernels

import (
	"math"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/pathogan-go/pathogan/pathogan/internal/vec"
)

// This file holds float32 executors for the Go backend's most frequent element-wise ops (binary
// arithmetic with broadcasting, Where, the unary functions of ELU, normalisation and the losses,
// BroadcastInDim, Slice and the sum/max/min reductions), with package vec's AVX2 loops where it
// has them. simplego runs them one element at a time
// through index iterators on one core; these collapse the shapes into contiguous runs and split
// large tensors over the cores. Every other dtype or layout goes to simplego's executor.

// parallelMin is the size below which element-wise work stays on one goroutine: a pass over
// 32k floats (batch 4 of 16×16×32) costs about what handing half of it to a second goroutine
// does (BenchmarkElementwise with this limit and with 1 << 15: docs/benchmarks.md, "CPU,
// 2026-12-05").
const parallelMin = 1 << 17

// splitRange runs fn over [0, n) in one chunk per worker (one chunk when n is small).
func splitRange(n, unit int, fn func(lo, hi int)) {
	w := workers()
	if n*unit < parallelMin || w == 1 || n < 2 {
		fn(0, n)
		return
	}
	w = min(w, n)
	chunk := (n + w - 1) / w
	parallelFor(w, func(_, i int) {
		lo := i * chunk
		hi := min(lo+chunk, n)
		if lo < hi {
			fn(lo, hi)
		}
	})
}

// collapsed is an iteration space: outer dims (row-major) over a contiguous inner run, with each
// operand's element strides per outer dim and its inner stride (0: broadcast, 1: contiguous).
type collapsed struct {
	outer    []int
	strides  [][]int // [operand][outer dim]
	inner    int
	innerStr []int // [operand]
}

// collapse builds the iteration space of an output with dims out, where operand k has, per
// output axis, element stride st[k][axis] (0 on broadcast axes).
func collapse(out []int, st [][]int) collapsed {
	type ax struct {
		d  int
		st []int
	}
	var axes []ax
	for i, d := range out {
		if d == 1 {
			continue
		}
		s := make([]int, len(st))
		for k := range st {
			s[k] = st[k][i]
		}
		if n := len(axes); n > 0 {
			prev := &axes[n-1]
			merge := true
			for k := range s {
				if prev.st[k] != s[k]*d {
					merge = false
					break
				}
			}
			if merge {
				prev.d *= d
				prev.st = s
				continue
			}
		}
		axes = append(axes, ax{d, s})
	}
	c := collapsed{inner: 1, innerStr: make([]int, len(st)), strides: make([][]int, len(st))}
	if len(axes) == 0 {
		return c
	}
	last := axes[len(axes)-1]
	c.inner = last.d
	copy(c.innerStr, last.st)
	for _, a := range axes[:len(axes)-1] {
		c.outer = append(c.outer, a.d)
		for k := range st {
			c.strides[k] = append(c.strides[k], a.st[k])
		}
	}
	return c
}

// each calls fn(run index, operand offsets) for every outer index in [lo, hi).
func (c *collapsed) each(lo, hi int, fn func(offs []int)) {
	n := len(c.outer)
	coord := make([]int, n)
	offs := make([]int, len(c.strides))
	rem := lo
	for i := n - 1; i >= 0; i-- {
		coord[i] = rem % c.outer[i]
		rem /= c.outer[i]
	}
	for k := range offs {
		for i := range n {
			offs[k] += coord[i] * c.strides[k][i]
		}
	}
	for range hi - lo {
		fn(offs)
		for i := n - 1; i >= 0; i-- {
			coord[i]++
			for k := range offs {
				offs[k] += c.strides[k][i]
			}
			if coord[i] < c.outer[i] {
				break
			}
			for k := range offs {
				offs[k] -= coord[i] * c.strides[k][i]
			}
			coord[i] = 0
		}
	}
}

func (c *collapsed) outerSize() int {
	n := 1
	for _, d := range c.outer {
		n *= d
	}
	return n
}

// broadcastStrides returns the element strides of an operand of the given dims (same rank as
// out, each 1 or equal) in out's index space: 0 on broadcast axes.
func broadcastStrides(dims, out []int) []int {
	if len(dims) == 0 { // a scalar
		return make([]int, len(out))
	}
	st := rowMajorStrides(dims)
	for i := range dims {
		if dims[i] == 1 && out[i] != 1 {
			st[i] = 0
		}
	}
	return st
}

// operandRank says whether an operand of rank r can go with an output of rank out: the same
// rank, or a scalar (rank 0).
func operandRank(r, out int) bool { return r == out || r == 0 }

var binaryOps = []backends.OpType{backends.OpTypeAdd, backends.OpTypeSub, backends.OpTypeMul,
	backends.OpTypeDiv, backends.OpTypeMax, backends.OpTypeMin}

var unaryOps = []backends.OpType{backends.OpTypeExpm1, backends.OpTypeExp, backends.OpTypeSign,
	backends.OpTypeNeg, backends.OpTypeAbs, backends.OpTypeSqrt, backends.OpTypeRsqrt,
	backends.OpTypeTanh, backends.OpTypeLog, backends.OpTypeLogistic, backends.OpTypeLog1p, backends.OpTypeCos}

var reduceOps = []backends.OpType{backends.OpTypeReduceSum, backends.OpTypeReduceMax, backends.OpTypeReduceMin}

// builtinExec holds simplego's executors replaced by the ones in this file.
var builtinExec [backends.OpTypeLast]sgExecutor

// installElementwise replaces the executors listed above (called by Install).
func installElementwise() {
	set := func(op backends.OpType, ex sgExecutor) {
		if sgNodeExecutors[op] == nil {
			return
		}
		builtinExec[op] = sgNodeExecutors[op]
		sgNodeExecutors[op] = ex
	}
	for _, op := range binaryOps {
		set(op, execBinary)
	}
	for _, op := range unaryOps {
		set(op, execUnary)
	}
	for _, op := range reduceOps {
		set(op, execReduce)
	}
	set(backends.OpTypeWhere, execWhere)
	set(backends.OpTypeGreaterThan, execGreaterThan)
	set(backends.OpTypeSlice, execSlice)
	set(backends.OpTypeBroadcastInDim, execBroadcastInDim)
}

// takeOrNew returns input i's buffer for the output when it is owned and has the output's shape
// (marking it taken, as simplego expects), else a new buffer.
func takeOrNew(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool, candidates ...int) *simplego.Buffer {
	shape := nodeOf(node).shape
	for _, i := range candidates {
		if owned[i] && inputs[i] != nil && bufferOf(inputs[i]).shape.Equal(shape) {
			b := inputs[i]
			inputs[i] = nil
			return b
		}
	}
	return newOutput(backend, node)
}

func execBinary(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	nm := nodeOf(node)
	la, lb := bufferOf(inputs[0]), bufferOf(inputs[1])
	out := nm.shape
	if stateOf(nm) == nil || out.DType != dtypes.Float32 || !operandRank(la.shape.Rank(), out.Rank()) ||
		!operandRank(lb.shape.Rank(), out.Rank()) {
		return builtinExec[nm.opType](backend, node, inputs, owned)
	}
	a, b := flat32(inputs[0]), flat32(inputs[1])
	c := collapse(out.Dimensions, [][]int{broadcastStrides(la.shape.Dimensions, out.Dimensions),
		broadcastStrides(lb.shape.Dimensions, out.Dimensions)})
	op := nm.opType
	outBuf := takeOrNew(backend, node, inputs, owned, 0, 1)
	dst := flat32(outBuf)
	n := c.inner
	if rep, ok := c.repeats(); ok {
		binaryTiled(op, &c, rep, dst, [2][]float32{a, b})
		return outBuf, nil
	}
	if k, ok := c.scalarPerRun(); ok && n <= shortRun && binaryPerRun(op, nil, nil, nil, k, n, 0, 0) {
		splitRange(c.outerSize(), n, func(lo, hi int) { binaryPerRun(op, dst, a, b, k, n, lo, hi) })
		return outBuf, nil
	}
	splitRange(c.outerSize(), n, func(lo, hi int) {
		k := lo
		c.each(lo, hi, func(offs []int) {
			d := dst[k*n : (k+1)*n]
			k++
			var x, y []float32
			if c.innerStr[0] == 0 {
				x = a[offs[0] : offs[0]+1]
			} else {
				x = a[offs[0] : offs[0]+n]
			}
			if c.innerStr[1] == 0 {
				y = b[offs[1] : offs[1]+1]
			} else {
				y = b[offs[1] : offs[1]+n]
			}
			if n <= shortRun {
				binaryShort(op, d, x, y)
				return
			}
			binaryRun(op, d, x, y)
		})
	})
	return outBuf, nil
}

// shortRun is the longest run that binaryShort computes in Go rather than through a vector call,
// whose overhead outweighs a few floats' work (a [B, H, W, 4] by [B, H, W, 1] product is 16k
// runs of four).
const shortRun = 8

// binaryShort is binaryRun for a short run: the same float32 operation on each element, so
// results are bit-identical, in a plain loop.
func binaryShort(op backends.OpType, dst, x, y []float32) {
	n := len(dst)
	var xs, ys int // strides: 0 for a broadcast scalar
	if len(x) == n {
		xs = 1
	}
	if len(y) == n {
		ys = 1
	}
	switch op {
	case backends.OpTypeAdd:
		for i := range dst {
			dst[i] = x[i*xs] + y[i*ys]
		}
	case backends.OpTypeSub:
		for i := range dst {
			dst[i] = x[i*xs] - y[i*ys]
		}
	case backends.OpTypeMul:
		for i := range dst {
			dst[i] = x[i*xs] * y[i*ys]
		}
	case backends.OpTypeDiv:
		for i := range dst {
			dst[i] = x[i*xs] / y[i*ys]
		}
	default:
		binaryRun(op, dst, x, y)
	}
}

// scalarPerRun says whether c is one axis of runs where one operand (k) holds one value per run
// and the other the run itself, as in a [B, H, W, C] by [B, H, W, 1] product.
func (c *collapsed) scalarPerRun() (k int, ok bool) {
	if len(c.outer) != 1 || len(c.strides) != 2 {
		return 0, false
	}
	for k := range 2 {
		if c.innerStr[k] == 0 && c.strides[k][0] == 1 && c.innerStr[1-k] == 1 && c.strides[1-k][0] == c.inner {
			return k, true
		}
	}
	return 0, false
}

// binaryPerRun computes runs lo..hi of dst = x op y where operand k holds one value per run of
// n (c.scalarPerRun), in one loop instead of one call per run: the same float32 operation on
// each element as binaryShort, so results are bit-identical. It returns false, doing nothing,
// for an op it does not have.
func binaryPerRun(op backends.OpType, dst, x, y []float32, k, n, lo, hi int) bool {
	switch op {
	case backends.OpTypeAdd, backends.OpTypeSub, backends.OpTypeMul, backends.OpTypeDiv:
	default:
		return false
	}
	runs, scalars := x, y // scalars[r] goes with runs[r·n : (r+1)·n]
	if k == 0 {
		runs, scalars = y, x
	}
	swapped := k == 0 // the scalar is the left operand
	dst, runs, scalars = dst[lo*n:hi*n], runs[lo*n:hi*n], scalars[lo:hi]
	switch {
	case op == backends.OpTypeMul && n == 4: // the modalities of a slice times its labelmap
		for r, s := range scalars {
			d, v := (*[4]float32)(dst[r*4:]), (*[4]float32)(runs[r*4:])
			d[0], d[1], d[2], d[3] = v[0]*s, v[1]*s, v[2]*s, v[3]*s
		}
	case op == backends.OpTypeAdd:
		for r, s := range scalars {
			for j, v := range runs[r*n : (r+1)*n] {
				dst[r*n+j] = v + s
			}
		}
	case op == backends.OpTypeMul:
		for r, s := range scalars {
			for j, v := range runs[r*n : (r+1)*n] {
				dst[r*n+j] = v * s
			}
		}
	case op == backends.OpTypeSub && !swapped:
		for r, s := range scalars {
			for j, v := range runs[r*n : (r+1)*n] {
				dst[r*n+j] = v - s
			}
		}
	case op == backends.OpTypeSub:
		for r, s := range scalars {
			for j, v := range runs[r*n : (r+1)*n] {
				dst[r*n+j] = s - v
			}
		}
	case op == backends.OpTypeDiv && !swapped:
		for r, s := range scalars {
			for j, v := range runs[r*n : (r+1)*n] {
				dst[r*n+j] = v / s
			}
		}
	default:
		for r, s := range scalars {
			for j, v := range runs[r*n : (r+1)*n] {
				dst[r*n+j] = s / v
			}
		}
	}
	return true
}

// tileLen is the length, in floats, of the tiles that binaryTiled builds from a repeated run.
const tileLen = 2048

// repeats reports whether the inner runs of c are short and its last outer axis can join them by
// tiling: every operand either goes on contiguously across that axis (inner stride 1, axis
// stride = inner run) or repeats there (axis stride 0), and at least one operand repeats a run
// of several values (as [B, 1, 1, C] does in a product with [B, H, W, C]). rep marks those.
func (c *collapsed) repeats() (rep []bool, ok bool) {
	m := len(c.outer)
	if m == 0 || c.inner >= tileLen/8 {
		return nil, false
	}
	rep = make([]bool, len(c.strides))
	for k := range c.strides {
		switch s := c.strides[k][m-1]; {
		case s == 0:
			rep[k] = c.innerStr[k] == 1
			ok = ok || rep[k]
		case c.innerStr[k] != 1 || s != c.inner:
			return nil, false
		}
	}
	return rep, ok
}

// binaryTiled computes dst = x op y over c, whose last outer axis repeats the inner run of the
// operands marked in rep (c.repeats): those runs are copied side by side into a tile of about
// tileLen floats once per outer index, so that one vector call covers many runs instead of one
// call per run of a few floats. Every element is computed by the same float32 operation as in
// the run-by-run loop, so results are bit-identical to it.
func binaryTiled(op backends.OpType, c *collapsed, rep []bool, dst []float32, src [2][]float32) {
	m := len(c.outer)
	n, axis := c.inner, c.outer[m-1]
	r := max(1, min(axis, tileLen/n))
	chunks := (axis + r - 1) / r
	sub := collapsed{outer: c.outer[:m-1], inner: axis * n, innerStr: c.innerStr,
		strides: [][]int{c.strides[0][:m-1], c.strides[1][:m-1]}}
	splitRange(sub.outerSize()*chunks, r*n, func(lo, hi int) {
		var tiles [2][]float32
		for k := range tiles {
			if rep[k] {
				t := getScratch(r * n)
				defer putScratch(t)
				tiles[k] = *t
			}
		}
		var offs [2]int
		last := -1
		for u := lo; u < hi; u++ {
			idx, j0 := u/chunks, (u%chunks)*r
			if idx != last {
				sub.each(idx, idx+1, func(o []int) { copy(offs[:], o) })
				for k, t := range tiles {
					if t != nil {
						run := src[k][offs[k] : offs[k]+n]
						for j := 0; j < len(t); j += n {
							copy(t[j:j+n], run)
						}
					}
				}
				last = idx
			}
			cnt := min(r, axis-j0) * n
			base := idx*axis*n + j0*n
			var xy [2][]float32
			for k := range xy {
				switch {
				case tiles[k] != nil:
					xy[k] = tiles[k][:cnt]
				case c.innerStr[k] == 0:
					xy[k] = src[k][offs[k] : offs[k]+1]
				default:
					xy[k] = src[k][offs[k]+j0*n : offs[k]+j0*n+cnt]
				}
			}
			binaryRun(op, dst[base:base+cnt], xy[0], xy[1])
		}
	})
}

// vecOp returns package vec's op for a binary op type, if it has one.
func vecOp(op backends.OpType) (vec.Op, bool) {
	switch op {
	case backends.OpTypeAdd:
		return vec.Add, true
	case backends.OpTypeSub:
		return vec.Sub, true
	case backends.OpTypeMul:
		return vec.Mul, true
	case backends.OpTypeDiv:
		return vec.Div, true
	case backends.OpTypeMax:
		return vec.Max, true
	case backends.OpTypeMin:
		return vec.Min, true
	}
	return 0, false
}

// binaryRun computes dst = x op y, where x or y may have length 1 (broadcast).
func binaryRun(op backends.OpType, dst, x, y []float32) {
	n := len(dst)
	vop, _ := vecOp(op) // Every op of binaryOps has one.
	switch {
	case len(x) == n && len(y) == n:
		vec.VV(vop, dst, x, y)
	case len(y) == 1 && len(x) == n:
		vec.VS(vop, dst, x, y[0])
	case len(x) == 1 && len(y) == n:
		vec.SV(vop, dst, x[0], y)
	default: // Both broadcast: a constant run.
		var v [1]float32
		vec.VV(vop, v[:], x[:1], y[:1])
		for i := range dst {
			dst[i] = v[0]
		}
	}
}

// max32 and min32 (the reductions' steps) propagate NaN like simplego's (and XLA's) Max and Min;
// Go's built-in min and max do, without data-dependent branches. Element-wise Max and Min run
// through package vec, which follows the same rules.
func max32(a, b float32) float32 { return max(a, b) }

func min32(a, b float32) float32 { return min(a, b) }

func execUnary(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	nm := nodeOf(node)
	if stateOf(nm) == nil || nm.shape.DType != dtypes.Float32 {
		return builtinExec[nm.opType](backend, node, inputs, owned)
	}
	x := flat32(inputs[0])
	outBuf := takeOrNew(backend, node, inputs, owned, 0)
	dst := flat32(outBuf)
	op := nm.opType
	splitRange(len(dst), 1, func(lo, hi int) { unaryRun(op, dst[lo:hi], x[lo:hi]) })
	return outBuf, nil
}

func unaryRun(op backends.OpType, dst, x []float32) {
	x = x[:len(dst)]
	switch op {
	case backends.OpTypeExpm1:
		expSlice(dst, x, true)
	case backends.OpTypeExp:
		expSlice(dst, x, false)
	case backends.OpTypeSign:
		for i, v := range x {
			dst[i] = signf(v)
		}
	case backends.OpTypeNeg:
		for i, v := range x {
			dst[i] = -v
		}
	case backends.OpTypeAbs:
		for i, v := range x {
			dst[i] = float32(math.Abs(float64(v)))
		}
	case backends.OpTypeSqrt:
		for i, v := range x {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	case backends.OpTypeRsqrt:
		for i, v := range x {
			dst[i] = float32(1 / math.Sqrt(float64(v)))
		}
	case backends.OpTypeTanh:
		tanhSlice(dst, x)
	case backends.OpTypeLog:
		logSlice(dst, x)
	case backends.OpTypeLog1p:
		log1pSlice(dst, x)
	case backends.OpTypeLogistic:
		logisticSlice(dst, x)
	case backends.OpTypeCos:
		cosSlice(dst, x)
	}
}

// execGreaterThan is GreaterThan of float32 operands that are each a scalar (one value) or as
// large as the output (x > 0 in ELU and its gradient): a plain loop, which gives what simplego's
// element-by-element executor gives.
func execGreaterThan(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	nm := nodeOf(node)
	n := nm.shape.Size()
	x, y := flat32(inputs[0]), flat32(inputs[1])
	okLen := func(v []float32) bool { return v != nil && (len(v) == 1 || len(v) == n) }
	if stateOf(nm) == nil || nm.shape.DType != dtypes.Bool || !okLen(x) || !okLen(y) || n == 0 {
		return builtinExec[nm.opType](backend, node, inputs, owned)
	}
	outBuf := newOutput(backend, node)
	dst, _ := bufferOf(outBuf).flat.([]bool)
	if len(dst) != n {
		return builtinExec[nm.opType](backend, node, inputs, owned)
	}
	splitRange(n, 1, func(lo, hi int) {
		d := dst[lo:hi]
		switch {
		case len(x) == n && len(y) == n:
			xs, ys := x[lo:hi], y[lo:hi]
			for i := range d {
				d[i] = xs[i] > ys[i]
			}
		case len(x) == n:
			xs, s := x[lo:hi], y[0]
			for i := range d {
				d[i] = xs[i] > s
			}
		case len(y) == n:
			s, ys := x[0], y[lo:hi]
			for i := range d {
				d[i] = s > ys[i]
			}
		default:
			v := x[0] > y[0]
			for i := range d {
				d[i] = v
			}
		}
	})
	return outBuf, nil
}

func execWhere(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	nm := nodeOf(node)
	n := nm.shape.Size()
	cond, _ := bufferOf(inputs[0]).flat.([]bool)
	okLen := func(l int) bool { return l == 1 || l == n }
	if stateOf(nm) == nil || nm.shape.DType != dtypes.Float32 || cond == nil || !okLen(len(cond)) ||
		!okLen(len(flat32(inputs[1]))) || !okLen(len(flat32(inputs[2]))) {
		return builtinExec[nm.opType](backend, node, inputs, owned)
	}
	t, f := flat32(inputs[1]), flat32(inputs[2])
	outBuf := takeOrNew(backend, node, inputs, owned, 1, 2)
	dst := flat32(outBuf)
	splitRange(n, 1, func(lo, hi int) {
		if len(cond) > 1 {
			// A scalar branch (ELU's zero, a constant) is spread over a tile, so that the
			// vector select runs on every element.
			var ts, fs []float32
			if len(t) == 1 {
				p := filledScratch(min(tileLen, hi-lo), t[0])
				defer putScratch(p)
				ts = *p
			}
			if len(f) == 1 {
				p := filledScratch(min(tileLen, hi-lo), f[0])
				defer putScratch(p)
				fs = *p
			}
			for i := lo; i < hi; i += tileLen {
				j := min(i+tileLen, hi)
				tt, ff := ts, fs
				if tt == nil {
					tt = t[i:j]
				}
				if ff == nil {
					ff = f[i:j]
				}
				vec.Select(dst[i:j], cond[i:j], tt, ff)
			}
			return
		}
		for i := lo; i < hi; i++ {
			c := cond[0]
			if len(cond) > 1 {
				c = cond[i]
			}
			if c {
				if len(t) > 1 {
					dst[i] = t[i]
				} else {
					dst[i] = t[0]
				}
			} else {
				if len(f) > 1 {
					dst[i] = f[i]
				} else {
					dst[i] = f[0]
				}
			}
		}
	})
	return outBuf, nil
}

// filledScratch returns a pooled slice of n copies of v (give it back with putScratch).
func filledScratch(n int, v float32) *[]float32 {
	p := getScratch(n)
	for i := range *p {
		(*p)[i] = v
	}
	return p
}

func execBroadcastInDim(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	nm := nodeOf(node)
	axes, ok := nm.data.([]int)
	if stateOf(nm) == nil || nm.shape.DType != dtypes.Float32 || !ok {
		return builtinExec[nm.opType](backend, node, inputs, owned)
	}
	x := flat32(inputs[0])
	outDims := nm.shape.Dimensions
	xDims := bufferOf(inputs[0]).shape.Dimensions
	st := make([]int, len(outDims))
	xst := rowMajorStrides(xDims)
	for xa, oa := range axes {
		if xDims[xa] == outDims[oa] {
			st[oa] = xst[xa]
		}
	}
	c := collapse(outDims, [][]int{st})
	outBuf := newOutput(backend, node)
	dst := flat32(outBuf)
	n := c.inner
	splitRange(c.outerSize(), n, func(lo, hi int) {
		k := lo
		c.each(lo, hi, func(offs []int) {
			d := dst[k*n : (k+1)*n]
			k++
			if c.innerStr[0] == 0 {
				v := x[offs[0]]
				for i := range d {
					d[i] = v
				}
			} else {
				copy(d, x[offs[0]:offs[0]+n])
			}
		})
	})
	return outBuf, nil
}

func execReduce(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	nm := nodeOf(node)
	axes, ok := nm.data.([]int)
	if stateOf(nm) == nil || nm.shape.DType != dtypes.Float32 || !ok || len(axes) == 0 {
		return builtinExec[nm.opType](backend, node, inputs, owned)
	}
	x := flat32(inputs[0])
	inDims := bufferOf(inputs[0]).shape.Dimensions
	// Iterate over the input in memory order; the output stride of a reduced axis is 0.
	reduced := make([]bool, len(inDims))
	for _, a := range axes {
		reduced[a] = true
	}
	keptDims := make([]int, len(inDims))
	for i, d := range inDims {
		keptDims[i] = d
		if reduced[i] {
			keptDims[i] = 1
		}
	}
	ost := rowMajorStrides(keptDims)
	for i := range ost {
		if reduced[i] {
			ost[i] = 0
		}
	}
	c := collapse(inDims, [][]int{rowMajorStrides(inDims), ost})
	outBuf := newOutput(backend, node)
	dst := flat32(outBuf)
	op := nm.opType
	var init float32
	switch op {
	case backends.OpTypeReduceMax:
		init = float32(math.Inf(-1))
	case backends.OpTypeReduceMin:
		init = float32(math.Inf(1))
	}
	for i := range dst {
		dst[i] = init
	}
	n := c.inner
	// A kept inner run under a reduced axis (e.g. the mean over H, W of [B, H, W, C]): add the
	// whole reduced axis at once instead of one short run per call.
	if c.innerStr[1] != 0 && len(c.outer) > 0 && c.strides[1][len(c.outer)-1] == 0 {
		last := len(c.outer) - 1
		dr, sr := c.outer[last], c.strides[0][last]
		sub := collapsed{outer: c.outer[:last], inner: n, innerStr: c.innerStr,
			strides: [][]int{c.strides[0][:last], c.strides[1][:last]}}
		body := func(lo, hi int) {
			sub.each(lo, hi, func(offs []int) {
				reduceRuns(op, dst[offs[1]:offs[1]+n], x, offs[0], dr, sr)
			})
		}
		// When every outer axis is kept, different outer indices write different outputs:
		// split them over the cores (each output is still summed in the same order).
		if !slices.Contains(sub.strides[1], 0) {
			splitRange(sub.outerSize(), dr*n, body)
		} else {
			body(0, sub.outerSize())
		}
		return outBuf, nil
	}
	// Short runs each summed into their own output (the sum over the channels of [B, H, W, C]):
	// one loop instead of one call per run, the same sums.
	if op == backends.OpTypeReduceSum && len(c.outer) == 1 && c.innerStr[0] == 1 && c.innerStr[1] == 0 &&
		c.strides[0][0] == n && c.strides[1][0] == 1 {
		splitRange(c.outerSize(), n, func(lo, hi int) {
			if n == 4 { // runSum of four, written out (its zero starts only change a zero's sign,
				// which adding to dst's +0 drops)
				for r := lo; r < hi; r++ {
					v := (*[4]float32)(x[r*4:])
					dst[r] += (v[0] + v[1]) + (v[2] + v[3])
				}
				return
			}
			for r := lo; r < hi; r++ {
				dst[r] += runSum(x[r*n : (r+1)*n])
			}
		})
		return outBuf, nil
	}
	c.each(0, c.outerSize(), func(offs []int) {
		run := x[offs[0] : offs[0]+n]
		if c.innerStr[1] == 0 { // The run is reduced into one value.
			d := &dst[offs[1]]
			switch op {
			case backends.OpTypeReduceSum:
				*d += runSum(run)
			case backends.OpTypeReduceMax:
				for _, v := range run {
					*d = max32(*d, v)
				}
			case backends.OpTypeReduceMin:
				for _, v := range run {
					*d = min32(*d, v)
				}
			}
			return
		}
		reduceRuns(op, dst[offs[1]:offs[1]+n], x, offs[0], 1, 0)
	})
	return outBuf, nil
}

func execSlice(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	nm := nodeOf(node)
	if stateOf(nm) == nil || nm.shape.DType != dtypes.Float32 || reflectTypeName(nm.data) != "*simplego.sliceNode" {
		return builtinExec[nm.opType](backend, node, inputs, owned)
	}
	starts, err1 := readAs[[]int](nm.data, "starts")
	strides, err2 := readAs[[]int](nm.data, "strides")
	if err1 != nil || err2 != nil {
		return builtinExec[nm.opType](backend, node, inputs, owned)
	}
	x := flat32(inputs[0])
	inDims := bufferOf(inputs[0]).shape.Dimensions
	outDims := nm.shape.Dimensions
	ist := rowMajorStrides(inDims)
	base := 0
	st := make([]int, len(inDims))
	for i := range inDims {
		s := 1
		if i < len(strides) && strides[i] > 0 {
			s = strides[i]
		}
		if i < len(starts) {
			base += starts[i] * ist[i]
		}
		st[i] = ist[i] * s
		if outDims[i] == 1 {
			st[i] = 0
		}
	}
	c := collapse(outDims, [][]int{st})
	outBuf := newOutput(backend, node)
	dst := flat32(outBuf)
	n := c.inner
	splitRange(c.outerSize(), n, func(lo, hi int) {
		k := lo
		c.each(lo, hi, func(offs []int) {
			d := dst[k*n : (k+1)*n]
			k++
			off := base + offs[0]
			if c.innerStr[0] == 1 || n == 1 {
				copy(d, x[off:off+n])
				return
			}
			for i := range d {
				d[i] = x[off+i*c.innerStr[0]]
			}
		})
	})
	return outBuf, nil
}

// runSum is the sum of a run, in four interleaved partial sums.
func runSum(run []float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(run)
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += run[i]
		s1 += run[i+1]
		s2 += run[i+2]
		s3 += run[i+3]
	}
	for ; i < n; i++ {
		s0 += run[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// reduceRuns folds dr runs of len(d) values of x, starting at off and sr apart, into d.
func reduceRuns(op backends.OpType, d, x []float32, off, dr, sr int) {
	n := len(d)
	if op == backends.OpTypeReduceSum && n < 64 {
		sumRuns(d, x, off, dr, sr)
		return
	}
	for r := range dr {
		run := x[off+r*sr : off+r*sr+n]
		switch op {
		case backends.OpTypeReduceSum:
			vec.VV(vec.Add, d, d, run)
		case backends.OpTypeReduceMax:
			for i, v := range run {
				d[i] = max32(d[i], v)
			}
		case backends.OpTypeReduceMin:
			for i, v := range run {
				d[i] = min32(d[i], v)
			}
		}
	}
}

// sumRuns is reduceRuns' sum for short runs (the channels of an [N, H, W, C] activation summed
// over H and W): eight outputs at a time are held in registers over all dr runs instead of one
// vector call per run. Each output is still added in run order, so the sums are bit-identical.
func sumRuns(d, x []float32, off, dr, sr int) {
	n := len(d)
	c := 0
	for ; c+8 <= n; c += 8 {
		a0, a1, a2, a3, a4, a5, a6, a7 := d[c], d[c+1], d[c+2], d[c+3], d[c+4], d[c+5], d[c+6], d[c+7]
		for r := range dr {
			i := off + r*sr + c
			p := x[i : i+8 : i+8]
			a0 += p[0]
			a1 += p[1]
			a2 += p[2]
			a3 += p[3]
			a4 += p[4]
			a5 += p[5]
			a6 += p[6]
			a7 += p[7]
		}
		d[c], d[c+1], d[c+2], d[c+3], d[c+4], d[c+5], d[c+6], d[c+7] = a0, a1, a2, a3, a4, a5, a6, a7
	}
	for ; c < n; c++ {
		a := d[c]
		for r := range dr {
			a += x[off+r*sr+c]
		}
		d[c] = a
	}
}
