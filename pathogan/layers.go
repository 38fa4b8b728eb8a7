package pathogan

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/pathogan-go/pathogan/pathogan/backend"
)

// The building blocks of section 2.4's notation. Every convolution pads
// k/2 pixels on each side (as PyTorch's padding=k//2), so a stride-1
// convolution keeps the size and a stride-2 one halves it. Weights start
// from N(0, 0.02) and biases from 0, as in CycleGAN.

// initStd is the standard deviation of the weight initialisation.
const initStd = 0.02

// normEpsilon is the ε of instance normalisation.
const normEpsilon = 1e-5

// flopsParam names the context parameter that holds the *FLOPCounter the
// layers add to while a graph is built.
const flopsParam = "pathogan_flop_counter"

// FLOPCounter counts the forward floating-point operations of the
// convolutions and dense layers built while it is set on a context (see
// SetFLOPCounter): 2 per multiply-add, the count the PyTorch reference's
// forward hooks make (../shared/bench/torch_pathogan.py), so the two
// implementations' GFLOP/s estimates compare. A layer applied twice in one
// graph counts twice.
type FLOPCounter struct {
	// Forward is the number of forward FLOPs counted so far.
	Forward int64
}

// SetFLOPCounter makes the layers built under ctx add their FLOPs to c.
func SetFLOPCounter(ctx *context.Context, c *FLOPCounter) { ctx.SetParam(flopsParam, c) }

// addFLOPs adds n FLOPs to ctx's counter, if one is set.
func addFLOPs(ctx *context.Context, n int) {
	if v, found := ctx.GetParam(flopsParam); found {
		if c, ok := v.(*FLOPCounter); ok && c != nil {
			c.Forward += int64(n)
		}
	}
}

// panicf reports a programmer mistake in graph building.
func panicf(format string, args ...any) {
	panic(fmt.Sprintf("pathogan: "+format, args...))
}

// weightsAndBias returns a trainable variable of the given shape initialised
// from N(0, initStd), and a bias of `out` zeros.
func weightsAndBias(ctx *context.Context, g *graph.Graph, shape shapes.Shape, out int) (*graph.Node, *graph.Node) {
	w := ctx.WithInitializer(initializers.RandomNormalFn(ctx, initStd)).VariableWithShape("weights", shape).ValueGraph(g)
	b := ctx.WithInitializer(initializers.Zero).VariableWithShape("biases", shapes.Make(shape.DType, out)).ValueGraph(g)
	return w, b
}

// convK is Ck-f with stride s: a k×k convolution to f channels, with bias,
// no normalisation, no activation.
func convK(ctx *context.Context, x *graph.Node, k, f, stride int) *graph.Node {
	if x.Rank() != 4 {
		panicf("conv: want x [batch, h, w, c], got %s", x.Shape())
	}
	in := x.Shape().Dimensions[3]
	w, b := weightsAndBias(ctx, x.Graph(), shapes.Make(x.DType(), k, k, in, f), f)
	y := backendConv(x, w, stride, k/2)
	addFLOPs(ctx, 2*y.Shape().Size()*k*k*in)
	return graph.Add(y, graph.Reshape(b, 1, 1, 1, f))
}

// upConv is the transposed convolution of uf: kernel 3, stride 2, doubling
// the size (PyTorch's ConvTranspose2d(3, 2, padding=1, output_padding=1)).
func upConv(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	in := x.Shape().Dimensions[3]
	w, b := weightsAndBias(ctx, x.Graph(), shapes.Make(x.DType(), 3, 3, in, f), f)
	y := backend.ConvTranspose2D(x, w, 2, backend.PadExplicit(1, 0, 1, 0))
	addFLOPs(ctx, 2*x.Shape().Size()*3*3*f) // PyTorch's count: per input pixel
	return graph.Add(y, graph.Reshape(b, 1, 1, 1, f))
}

// norm is instance normalisation without learned scale and offset (as
// PyTorch's InstanceNorm2d default, which CycleGAN uses).
func norm(x *graph.Node) *graph.Node { return backend.InstanceNorm(x, nil, nil, normEpsilon) }

// elu is the exponential linear unit with α = 1.
func elu(x *graph.Node) *graph.Node { return backend.ELU(x, 1) }

// cK is ck-f: convolution, instance norm, ELU.
func cK(ctx *context.Context, x *graph.Node, k, f int) *graph.Node {
	return elu(norm(convK(ctx, x, k, f, 1)))
}

// down is df: a stride-2 3×3 convolution, instance norm, ELU.
func down(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	return elu(norm(convK(ctx, x, 3, f, 2)))
}

// up is uf: a transposed convolution, instance norm, ELU.
func up(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	return elu(norm(upConv(ctx, x, f)))
}

// residual is Rf: x + C3(ELU(IN(C3(x)))).
func residual(ctx *context.Context, x *graph.Node) *graph.Node {
	f := x.Shape().Dimensions[3]
	h := elu(norm(convK(ctx.In("conv_0"), x, 3, f, 1)))
	h = convK(ctx.In("conv_1"), h, 3, f, 1)
	return graph.Add(x, h)
}

// dense is l(f): a fully connected layer x [batch, in] -> [batch, f].
func dense(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	if x.Rank() != 2 {
		panicf("dense: want x [batch, features], got %s", x.Shape())
	}
	in := x.Shape().Dimensions[1]
	w, b := weightsAndBias(ctx, x.Graph(), shapes.Make(x.DType(), in, f), f)
	addFLOPs(ctx, 2*x.Shape().Dimensions[0]*in*f)
	return graph.Add(graph.MatMul(x, w), graph.Reshape(b, 1, f))
}

// leakyReLU is max(x, 0.2x), the discriminator's activation.
func leakyReLU(x *graph.Node) *graph.Node {
	return graph.Max(x, graph.MulScalar(x, 0.2))
}

// assertDims panics when x does not have the given dimensions (-1: any).
func assertDims(where string, x *graph.Node, dims ...int) {
	d := x.Shape().Dimensions
	ok := len(d) == len(dims)
	for i := 0; ok && i < len(d); i++ {
		ok = dims[i] < 0 || dims[i] == d[i]
	}
	if !ok {
		panicf("%s: shape %s, want %v", where, x.Shape(), dims)
	}
}

// backendConv is a convolution padded by pad on every side.
func backendConv(x, w *graph.Node, stride, pad int) *graph.Node {
	return backend.Conv2D(x, w, stride, backend.PadExplicit(pad, pad, pad, pad))
}

// shapeOf returns the shape of dims in x's dtype.
func shapeOf(x *graph.Node, dims ...int) shapes.Shape { return shapes.Make(x.DType(), dims...) }
