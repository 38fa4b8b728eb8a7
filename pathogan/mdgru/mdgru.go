package mdgru

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/pathogan-go/pathogan/pathogan/nn"
	"github.com/pathogan-go/pathogan/pathogan/supervised"
)

// Scope is the context scope of the network's variables.
const Scope = "mdgru"

// Directions is the number of C-GRUs in one MD-GRU layer on a 2-D slice:
// forward and backward along each of the two axes.
const Directions = 4

// gateBias is the initial bias of the update and reset gates: σ(1) ≈ 0.73,
// so at the start each C-GRU mostly keeps its state and resets little (the
// reference implementation's choice).
const gateBias = 1.0

// variable returns a trainable variable of dtype and the given shape drawn
// from N(0, std²), or zeros when std is 0.
func variable(ctx *context.Context, g *graph.Graph, name string, std float64, dtype dtypes.DType, dims ...int) *graph.Node {
	init := initializers.Zero
	if std > 0 {
		init = initializers.RandomNormalFn(ctx, std)
	}
	return ctx.WithInitializer(init).VariableWithShape(name, shapes.Make(dtype, dims...)).ValueGraph(g)
}

// unstack returns the slices of x at every index of axis, each keeping the
// axis with size 1. The gradient of a slice is a zero-padded copy of the
// whole operand, so slicing n pieces straight from x would cost n copies of
// x in the backward pass; unstack slices x into about √n blocks first and
// the pieces from those, about 2√n copies.
func unstack(x *graph.Node, axis int) []*graph.Node {
	n := x.Shape().Dimensions[axis]
	block := int(math.Ceil(math.Sqrt(float64(n))))
	out := make([]*graph.Node, 0, n)
	for start := 0; start < n; start += block {
		end := min(start+block, n)
		blk := graph.SliceAxis(x, axis, graph.AxisRange(start, end))
		for i := range end - start {
			out = append(out, graph.SliceAxis(blk, axis, graph.AxisElem(i)))
		}
	}
	return out
}

// window stacks the k neighbours of every position along axis 2 of x
// [a, b, p, c] (zero padded, "same" size) into the channel axis:
// [a, b, p, k·c], neighbour -k/2 first. A product with a [k·c, f] matrix is
// then the 1-D convolution along p.
func window(x *graph.Node, k int) *graph.Node {
	if k == 1 {
		return x
	}
	p := x.Shape().Dimensions[2]
	half := k / 2
	axes := make([]backends.PadAxis, x.Rank())
	axes[2] = backends.PadAxis{Start: half, End: k - 1 - half}
	pad := graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), axes...)
	parts := make([]*graph.Node, k)
	for i := range k {
		parts[i] = graph.SliceAxis(pad, 2, graph.AxisRange(i, i+p))
	}
	return graph.Concatenate(parts, -1)
}

// dropConnect multiplies w by a Bernoulli(1-rate) mask scaled by 1/(1-rate)
// while training (DropConnect on the weights, as the reference applies it
// to the gates), and returns w unchanged otherwise. One mask serves every
// time step of a graph execution.
func dropConnect(ctx *context.Context, w *graph.Node, rate float64) *graph.Node {
	if rate <= 0 || !ctx.IsTraining(w.Graph()) {
		return w
	}
	keep := 1 - rate
	u := ctx.RandomUniform(w.Graph(), w.Shape())
	mask := graph.ConvertDType(graph.LessThan(u, graph.Scalar(w.Graph(), w.DType(), keep)), w.DType())
	return graph.MulScalar(graph.Mul(w, mask), 1/keep)
}

// undirections puts the C-GRUs' outputs [Directions, s (time), b,
// s (position), c], in the order down the rows, up the rows, right along
// the columns, left along the columns, back on the input's grid: it returns
// the four outputs, each [b, s, s, c].
func undirections(y *graph.Node) []*graph.Node {
	out := make([]*graph.Node, Directions)
	for d := range Directions {
		yd := graph.Squeeze(graph.SliceAxis(y, 0, graph.AxisElem(d)), 0)
		if d%2 == 1 {
			yd = graph.Reverse(yd, 0)
		}
		if d < 2 {
			out[d] = graph.TransposeAllDims(yd, 1, 0, 2, 3)
		} else {
			out[d] = graph.TransposeAllDims(yd, 1, 2, 0, 3)
		}
	}
	return out
}

// Layer is one MD-GRU layer (Andermatt et al. 2016) on x [b, s, s, c]: four
// convolutional GRUs, forward and backward along each axis, whose outputs
// are averaged into [b, s, s, hidden]. Each C-GRU runs along its axis; at
// every step its gates and candidate are 1-D convolutions over the other
// axis, of the input (kernel kx) and of the previous state (kernel kh):
//
//	z, r = σ(Wxz∗x_t + Whz∗h_{t-1} + bz), σ(Wxr∗x_t + Whr∗h_{t-1} + br)
//	h̃_t  = tanh(Wxh∗x_t + r ⊙ (Whh∗h_{t-1}) + bh)
//	h_t  = z ⊙ h_{t-1} + (1 - z) ⊙ h̃_t
//
// with h_0 = 0 and the reset gate applied after the state convolution, as
// in the reference implementation. The four C-GRUs have their own weights;
// they run together, one batched product per step. The sequence loop is
// unrolled. dropConnectRate applies DropConnect to the gate weights while
// training.
func Layer(ctx *context.Context, x *graph.Node, hidden, kx, kh int, dropConnectRate float64) *graph.Node {
	outs := cgrus(ctx, x, hidden, kx, kh, dropConnectRate)
	out := outs[0]
	for _, o := range outs[1:] {
		out = graph.Add(out, o)
	}
	return graph.MulScalar(out, 1.0/Directions)
}

// cgrus runs Layer's four C-GRUs and returns their outputs, each
// [b, s, s, hidden] on x's grid, in the order down the rows, up the rows,
// right along the columns, left along the columns.
func cgrus(ctx *context.Context, x *graph.Node, hidden, kx, kh int, dropConnectRate float64) []*graph.Node {
	if x.Rank() != 4 || x.Shape().Dimensions[1] != x.Shape().Dimensions[2] {
		nn.Panicf("MD-GRU layer: want x [batch, s, s, c], got %s", x.Shape())
	}
	g := x.Graph()
	dims := x.Shape().Dimensions
	b, s, cin := dims[0], dims[1], dims[3]
	const D = Directions
	h3 := 3 * hidden

	// Input transforms of every step at once: [D, s·b·s, kx·cin] × [D, kx·cin, 3h].
	wx := variable(ctx, g, "wx", math.Sqrt(2/float64(kx*cin+h3)), x.DType(), D, kx*cin, h3)
	wh := variable(ctx, g, "wh", math.Sqrt(2/float64(kh*hidden+h3)), x.DType(), D, kh*hidden, h3)
	bias := variable(ctx, g, "bias", 0, x.DType(), D, 1, h3)
	if ctx.IsTraining(g) && dropConnectRate > 0 {
		// DropConnect on the gates' weights only (the first 2h columns).
		gx, cx := graph.SliceAxis(wx, 2, graph.AxisRange(0, 2*hidden)), graph.SliceAxis(wx, 2, graph.AxisRangeToEnd(2*hidden))
		gh, ch := graph.SliceAxis(wh, 2, graph.AxisRange(0, 2*hidden)), graph.SliceAxis(wh, 2, graph.AxisRangeToEnd(2*hidden))
		wx = graph.Concatenate([]*graph.Node{dropConnect(ctx.In("dropconnect_x"), gx, dropConnectRate), cx}, 2)
		wh = graph.Concatenate([]*graph.Node{dropConnect(ctx.In("dropconnect_h"), gh, dropConnectRate), ch}, 2)
	}
	// The gate biases start at gateBias: add it as a constant so that the
	// variable starts at 0 and the checkpoint holds the learned offset.
	offsets := make([]float32, h3)
	for i := range 2 * hidden {
		offsets[i] = gateBias
	}
	bias = graph.Add(bias, graph.ConvertDType(graph.Reshape(graph.Const(g, offsets), 1, 1, h3), x.DType()))

	// Each step takes its four input lines from x itself, each row and
	// column sliced once and shared by the two C-GRUs that run over it.
	rows, cols := unstack(x, 1), unstack(x, 2)
	step := func(t int) *graph.Node {
		line := func(l *graph.Node) *graph.Node { return graph.Reshape(l, b, s, cin) }
		return graph.Stack([]*graph.Node{line(rows[t]), line(rows[s-1-t]), line(cols[t]), line(cols[s-1-t])}, 0) // [D, b, s, cin]
	}
	h := graph.Zeros(g, shapes.Make(x.DType(), D, b*s, hidden))
	outs := make([]*graph.Node, s)
	for t := range s {
		xw := graph.Reshape(window(step(t), kx), D, b*s, kx*cin)
		xt := graph.Add(graph.DotGeneral(xw, []int{2}, []int{0}, wx, []int{1}, []int{0}), bias) // [D, b·s, 3h]
		hw := window(graph.Reshape(h, D, b, s, hidden), kh)                                     // [D, b, s, kh·h]
		hh := graph.DotGeneral(graph.Reshape(hw, D, b*s, kh*hidden), []int{2}, []int{0}, wh, []int{1}, []int{0})
		gates := graph.Sigmoid(graph.Add(graph.SliceAxis(xt, 2, graph.AxisRange(0, 2*hidden)), graph.SliceAxis(hh, 2, graph.AxisRange(0, 2*hidden))))
		z := graph.SliceAxis(gates, 2, graph.AxisRange(0, hidden))
		r := graph.SliceAxis(gates, 2, graph.AxisRangeToEnd(hidden))
		cand := graph.Tanh(graph.Add(graph.SliceAxis(xt, 2, graph.AxisRangeToEnd(2*hidden)), graph.Mul(r, graph.SliceAxis(hh, 2, graph.AxisRangeToEnd(2*hidden)))))
		h = graph.Add(cand, graph.Mul(z, graph.Sub(h, cand))) // z⊙h + (1-z)⊙h̃
		outs[t] = h
	}
	y := graph.Reshape(graph.Stack(outs, 1), D, s, b, s, hidden)
	nn.AddFLOPs(ctx, 2*D*s*b*s*(kx*cin+kh*hidden)*h3)
	return undirections(y)
}

// pixelwise is the voxel-wise fully connected layer: a 1×1 convolution of x
// [b, s, s, c] to f channels, weights from N(0, 1.3/((c+f)/2)) as the
// reference initialises it, plus a bias.
func pixelwise(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	d := x.Shape().Dimensions
	c := d[3]
	w := variable(ctx, x.Graph(), "weights", math.Sqrt(1.3/(float64(c+f)/2)), x.DType(), c, f)
	bias := variable(ctx, x.Graph(), "biases", 0, x.DType(), f)
	nn.AddFLOPs(ctx, 2*d[0]*d[1]*d[2]*c*f)
	y := graph.DotGeneral(x, []int{3}, nil, w, []int{0}, nil)
	return graph.Add(y, graph.Reshape(bias, 1, 1, 1, f))
}

// Network returns MDGRU's logits [batch, size, size, Classes] for images x
// [batch, size, size, channels]: for each entry of cfg.Hidden an MD-GRU
// layer followed by a voxel-wise fully connected layer (cfg.FC, then
// Classes for the last), with tanh between the blocks and none after the
// last, as the reference network (Andermatt et al. 2016) stacks them.
func Network(ctx *context.Context, cfg Config, x *graph.Node) *graph.Node {
	ctx = ctx.In(Scope)
	nn.AssertDims("MDGRU input", x, -1, cfg.Size, cfg.Size, cfg.Channels)
	h := x
	for l, hidden := range cfg.Hidden {
		lctx := ctx.In(fmt.Sprintf("layer_%d", l))
		h = Layer(lctx.In("mdgru"), h, hidden, cfg.FilterX, cfg.FilterH, cfg.DropConnect)
		f := Classes
		if l < len(cfg.FC) {
			f = cfg.FC[l]
		}
		h = pixelwise(lctx.In("fc"), h, f)
		if l < len(cfg.Hidden)-1 {
			h = graph.Tanh(h)
		}
	}
	nn.AssertDims("MDGRU output", h, -1, cfg.Size, cfg.Size, Classes)
	return h
}

// Classes is the number of output classes: background and tumour.
const Classes = 2

// Probability returns the tumour probability [batch, size, size] from
// logits [batch, size, size, Classes]: the softmax's tumour entry.
func Probability(logits *graph.Node) *graph.Node {
	p := graph.Softmax(logits, -1)
	return graph.Squeeze(graph.SliceAxis(p, 3, graph.AxisElem(1)), 3)
}

// Loss is the training loss of logits [b, h, w, Classes] against the
// whole-tumour masks y [b, h, w] (0 or 1): (1 - DiceWeight) times the mean
// softmax cross-entropy plus DiceWeight·(1 - soft Dice) of the tumour
// class, the soft Dice taken per image as (2Σpy + 1) / (Σp + Σy + 1) and
// averaged over the batch. With DiceWeight 0 it is the reference's loss. It
// returns the total, the cross-entropy and the soft Dice loss.
func Loss(cfg Config, logits, y *graph.Node) (total, ce, dice *graph.Node) {
	dims := logits.Shape().Dimensions
	y = graph.Reshape(graph.StopGradient(y), dims[0], dims[1], dims[2])
	logp := graph.LogSoftmax(logits, -1)
	lp0 := graph.Squeeze(graph.SliceAxis(logp, 3, graph.AxisElem(0)), 3)
	lp1 := graph.Squeeze(graph.SliceAxis(logp, 3, graph.AxisElem(1)), 3)
	ce = graph.Neg(graph.ReduceAllMean(graph.Add(graph.Mul(y, lp1), graph.Mul(graph.OneMinus(y), lp0))))
	p := graph.Exp(lp1)
	dice = supervised.SoftDiceLoss(p, y)
	total = graph.Add(graph.MulScalar(ce, 1-cfg.DiceWeight), graph.MulScalar(dice, cfg.DiceWeight))
	return total, ce, dice
}
