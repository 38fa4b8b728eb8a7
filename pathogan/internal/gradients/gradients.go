package gradients

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pathogan-go/pathogan/pathogan/internal/gomlxcheck"
)

// panicf panics with the "pathogan:" prefix used for programmer mistakes in graph building.
func panicf(format string, args ...any) {
	panic(fmt.Errorf("pathogan: "+format, args...))
}

var (
	installMu   sync.Mutex
	installDone bool
	installErr  error

	// builtin keeps GoMLX's own gradients of the node types replaced here (DotGeneral, Dot,
	// ConvGeneral), for grouped convolutions and comparisons.
	builtin = map[NodeType]VJP{}

	// added lists the node types that had no gradient in GoMLX and got one here.
	added []NodeType
)

// Install adds to graph.VJPRegistration the gradients that GoMLX v0.26.0 lacks and a conv GAN
// needs, and replaces the DotGeneral, Dot and ConvGeneral gradients:
//
//   - Expm1, Rsqrt, Clamp, Pad, Reverse, ReduceProduct, Identity: exact gradients;
//   - Round, Floor, Ceil, Sign: zero gradient (piecewise constant);
//   - DotGeneral and Dot: the gradient of each operand is one DotGeneral (plus a transpose) instead
//     of GoMLX's broadcast-multiply-reduce, which materialises a tensor of size
//     batch x lhsCross x rhsCross x contracted;
//   - ConvGeneral: correct for every kernel size, padding and input dilation, and for transposed
//     convolutions in the form XLA's GPU compiler maps to cuDNN without zero-filled copies
//     (convgrad.go).
//
// The registrations are global: they apply to graphs of every backend, XLA included, from then
// on. Before registering anything Install checks the GoMLX version (package gomlxcheck): on
// another version it registers nothing and returns why, and GoMLX's own gradients stay. It is
// idempotent and safe to call from several goroutines (the first call decides; later ones return
// its error), but must not run concurrently with graph building elsewhere, since GoMLX reads its
// registry without locking: call it before building graphs, as the backend constructors do.
func Install() error {
	installMu.Lock()
	defer installMu.Unlock()
	if installDone {
		return installErr
	}
	installDone = true
	if err := gomlxcheck.Check(); err != nil {
		installErr = fmt.Errorf("pathogan gradients not installed: %w", err)
		return installErr
	}
	for _, t := range []NodeType{NodeTypeDotGeneral, NodeTypeDot, NodeTypeConvGeneral} {
		builtin[t] = VJPRegistration[t]
	}
	addVJP := func(t NodeType, fn VJP) {
		if _, found := VJPRegistration[t]; !found {
			VJPRegistration[t] = fn
			added = append(added, t)
		}
	}
	single := func(fn func(node, v *Node) []*Node) VJP {
		return func(node *Node, vjps []*Node, _ shapes.Shape) []*Node { return fn(node, vjps[0]) }
	}
	addVJP(NodeTypeExpm1, single(expm1VJP))
	addVJP(NodeTypeRsqrt, single(rsqrtVJP))
	addVJP(NodeTypeClamp, single(clampVJP))
	addVJP(NodeTypePad, single(padVJP))
	addVJP(NodeTypeReverse, single(reverseVJP))
	addVJP(NodeTypeReduceProduct, single(reduceProductVJP))
	addVJP(NodeTypeIdentity, single(func(_, v *Node) []*Node { return []*Node{v} }))
	for _, t := range []NodeType{NodeTypeRound, NodeTypeFloor, NodeTypeCeil, NodeTypeSign} {
		addVJP(t, single(func(node, _ *Node) []*Node { return []*Node{ZerosLike(node.Inputs()[0])} }))
	}
	VJPRegistration[NodeTypeDotGeneral] = single(dotGeneralVJP)
	VJPRegistration[NodeTypeDot] = single(dotVJP)
	VJPRegistration[NodeTypeConvGeneral] = single(convGeneralVJP)
	return nil
}

// Status returns nil when Install registered the gradients, Install's error when it did not, and
// an error saying so when Install has not been called.
func Status() error {
	installMu.Lock()
	defer installMu.Unlock()
	if !installDone {
		return errors.New("pathogan gradients not installed: Install was not called")
	}
	return installErr
}

// Builtin returns GoMLX's own gradient for a node type that Install replaced (DotGeneral, Dot,
// ConvGeneral) as it was before Install, or the registry's current entry when Install has not
// replaced it. Tests use it to compare with GoMLX's gradients.
func Builtin(t NodeType) VJP {
	installMu.Lock()
	defer installMu.Unlock()
	if fn, ok := builtin[t]; ok {
		return fn
	}
	return VJPRegistration[t]
}

// Added returns the node types that had no gradient in GoMLX and got one from Install.
func Added() []NodeType {
	installMu.Lock()
	defer installMu.Unlock()
	return slices.Clone(added)
}

// OnesWhereUnset returns n per-axis values (strides, dilations): v's where given and positive,
// 1 elsewhere (GoMLX passes nil or zeros for "default").
func OnesWhereUnset(v []int, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
		if i < len(v) && v[i] > 0 {
			out[i] = v[i]
		}
	}
	return out
}

// nodeParams returns the (unexported) parameters struct of a graph node: GoMLX v0.26.0 keeps op
// parameters such as axes in node.inputs (*nodeInputs<Op>) and offers no accessor. Reading
// unexported fields' values through reflect is allowed (no unsafe); the layout is pinned by the
// go.mod version and checked by the tests.
func nodeParams(node *Node, fields ...string) reflect.Value {
	f := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if !f.IsValid() || f.Kind() != reflect.Interface || f.IsNil() {
		panicf("cannot read the parameters of node %s: GoMLX's Node layout changed", node)
	}
	p := f.Elem()
	if p.Kind() == reflect.Pointer {
		p = p.Elem()
	}
	for _, name := range fields {
		if !p.FieldByName(name).IsValid() {
			panicf("node %s has no parameter %q: GoMLX's node layout changed", node, name)
		}
	}
	return p
}

func intsField(p reflect.Value, name string) []int {
	f := p.FieldByName(name)
	out := make([]int, f.Len())
	for i := range out {
		out[i] = int(f.Index(i).Int())
	}
	return out
}

// expm1VJP: d/dx (e^x - 1) = e^x = y + 1.
func expm1VJP(node, v *Node) []*Node {
	return []*Node{Mul(v, OnePlus(node))}
}

// rsqrtVJP: d/dx x^-1/2 = -1/2 x^-3/2 = -y^3/2.
func rsqrtVJP(node, v *Node) []*Node {
	return []*Node{Mul(v, MulScalar(Mul(node, Square(node)), -0.5))}
}

// clampVJP: inputs are (min, x, max); the gradient flows to x inside [min, max] and to the active
// bound outside of it.
func clampVJP(node, v *Node) []*Node {
	inputs := node.Inputs()
	lo, x, hi := inputs[0], inputs[1], inputs[2]
	zeros := ZerosLike(v)
	loB, hiB := lo, hi
	if lo.IsScalar() {
		loB = BroadcastToShape(lo, x.Shape())
	}
	if hi.IsScalar() {
		hiB = BroadcastToShape(hi, x.Shape())
	}
	below := LessThan(x, loB)
	above := GreaterThan(x, hiB)
	gradX := Where(Or(below, above), zeros, v)
	gradLo := Where(below, v, zeros)
	gradHi := Where(above, v, zeros)
	if lo.IsScalar() {
		gradLo = ReduceAllSum(gradLo)
	}
	if hi.IsScalar() {
		gradHi = ReduceAllSum(gradHi)
	}
	return []*Node{gradLo, gradX, gradHi}
}

// padVJP: inputs are (x, fillValue). x's gradient is the strided slice of v where x's elements
// landed (zero for cropped elements); the fill value gets the sum of v over the padding.
func padVJP(node, v *Node) []*Node {
	p := nodeParams(node, "axesConfig")
	cfgs := p.FieldByName("axesConfig")
	x := node.Inputs()[0]
	rank := x.Rank()
	// Pad v back where x was cropped, then slice.
	grow := make([]backends.PadAxis, rank)
	specs := make([]SliceAxisSpec, rank)
	needGrow := false
	for axis := range rank {
		start, end, interior := 0, 0, 0
		if axis < cfgs.Len() {
			c := cfgs.Index(axis)
			start, end, interior = int(c.FieldByName("Start").Int()), int(c.FieldByName("End").Int()),
				int(c.FieldByName("Interior").Int())
		}
		if start < 0 || end < 0 {
			needGrow = true
			grow[axis] = backends.PadAxis{Start: max(-start, 0), End: max(-end, 0)}
		}
		dim := x.Shape().Dimensions[axis]
		s := max(start, 0)
		limit := s
		if dim > 0 {
			limit = s + (dim-1)*(interior+1) + 1
		}
		specs[axis] = AxisRange(s, limit).Stride(interior + 1)
	}
	g := v
	if needGrow {
		g = Pad(v, ScalarZero(v.Graph(), v.DType()), grow...)
	}
	gradX := Slice(g, specs...)
	gradFill := Sub(ReduceAllSum(v), ReduceAllSum(gradX))
	return []*Node{gradX, gradFill}
}

// reverseVJP: reversing is its own transpose.
func reverseVJP(node, v *Node) []*Node {
	axes := intsField(nodeParams(node, "axes"), "axes")
	return []*Node{Reverse(v, axes...)}
}

// reduceProductVJP: d prod / d x_i = prod_{j != i} x_j, computed without dividing by zero.
func reduceProductVJP(node, v *Node) []*Node {
	x := node.Inputs()[0]
	axes := intsField(nodeParams(node, "axes"), "axes")
	if len(axes) == 0 {
		axes = make([]int, x.Rank())
		for i := range axes {
			axes[i] = i
		}
	}
	keep := x.Shape().Clone()
	for _, a := range axes {
		keep.Dimensions[a] = 1
	}
	expand := func(r *Node) *Node { return BroadcastToShape(ReshapeWithShape(r, keep), x.Shape()) }
	isZero := Equal(x, ZerosLike(x))
	one := OnesLike(x)
	nonZero := Where(isZero, one, x)
	prodNonZero := expand(ReduceMultiply(nonZero, axes...))
	numZeros := expand(ReduceSum(ConvertDType(isZero, x.DType()), axes...))
	zeroB := ZerosLike(x)
	noZeros := Equal(numZeros, zeroB)
	oneZero := Equal(numZeros, one)
	grad := Where(noZeros, Div(prodNonZero, nonZero),
		Where(And(oneZero, isZero), prodNonZero, zeroB))
	return []*Node{Mul(expand(v), grad)}
}

// dotGeneralVJP computes each operand's gradient with one DotGeneral of v and the other operand,
// followed by a transpose back to the operand's axes order.
func dotGeneralVJP(node, v *Node) []*Node {
	p := nodeParams(node, "lhsContractingAxes", "lhsBatchAxes", "rhsContractingAxes", "rhsBatchAxes")
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	lhsContract, lhsBatch := intsField(p, "lhsContractingAxes"), intsField(p, "lhsBatchAxes")
	rhsContract, rhsBatch := intsField(p, "rhsContractingAxes"), intsField(p, "rhsBatchAxes")
	lhsCross := crossAxes(lhs.Rank(), lhsContract, lhsBatch)
	rhsCross := crossAxes(rhs.Rank(), rhsContract, rhsBatch)
	nb := len(lhsBatch)
	// v axes: [batch..., lhsCross..., rhsCross...].
	vBatch := axisRange(0, nb)
	vLhsCross := axisRange(nb, len(lhsCross))
	vRhsCross := axisRange(nb+len(lhsCross), len(rhsCross))
	grad := func(thisRank int, thisBatch, thisCross, thisContract []int,
		other *Node, otherBatch, otherCross, otherContract []int, vOtherCross []int) *Node {
		// DotGeneral(v, other) contracting v's "other cross" axes with other's cross axes:
		// result is [batch..., thisCross..., other's contracting axes in increasing axis order].
		r := DotGeneral(v, vOtherCross, vBatch, other, otherCross, otherBatch)
		// Where each of other's contracting axes lands in r.
		sortedOther := slices.Clone(otherContract)
		slices.Sort(sortedOther)
		perm := make([]int, thisRank)
		for i, a := range thisBatch {
			perm[a] = i
		}
		for i, a := range thisCross {
			perm[a] = nb + i
		}
		for i, a := range thisContract {
			pos := slices.Index(sortedOther, otherContract[i])
			perm[a] = nb + len(thisCross) + pos
		}
		if isIdentityPerm(perm) {
			return r
		}
		return TransposeAllAxes(r, perm...)
	}
	gradLhs := grad(lhs.Rank(), lhsBatch, lhsCross, lhsContract, rhs, rhsBatch, rhsCross, rhsContract, vRhsCross)
	gradRhs := grad(rhs.Rank(), rhsBatch, rhsCross, rhsContract, lhs, lhsBatch, lhsCross, lhsContract, vLhsCross)
	return []*Node{gradLhs, gradRhs}
}

// dotVJP handles graph.Dot: vector.vector, matrix.vector and matrix.matrix.
func dotVJP(node, v *Node) []*Node {
	a, b := node.Inputs()[0], node.Inputs()[1]
	switch {
	case a.Rank() == 1 && b.Rank() == 1:
		return []*Node{Mul(v, b), Mul(v, a)}
	case a.Rank() == 2 && b.Rank() == 1:
		// y[i] = sum_j a[i,j] b[j]
		return []*Node{
			DotGeneral(v, nil, nil, b, nil, nil),
			DotGeneral(a, []int{0}, nil, v, []int{0}, nil),
		}
	case a.Rank() == 2 && b.Rank() == 2:
		return []*Node{
			DotGeneral(v, []int{1}, nil, b, []int{1}, nil),
			DotGeneral(a, []int{0}, nil, v, []int{0}, nil),
		}
	}
	panicf("Dot gradient for ranks %d and %d is not defined", a.Rank(), b.Rank())
	return nil
}

func crossAxes(rank int, contract, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contract, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

func axisRange(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}

func isIdentityPerm(perm []int) bool {
	for i, p := range perm {
		if i != p {
			return false
		}
	}
	return true
}
