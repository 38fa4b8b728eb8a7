// Package nn holds the layers PathoGAN's networks and the supervised U-Net
// baseline are built from, as functions over a GoMLX context: convolutions
// with bias (weights from N(0, 0.02), biases 0, as in CycleGAN), the
// transposed convolution, instance normalisation, ELU, leaky ReLU, dense
// layers, and a FLOP counter that the layers add to while a graph is built.
// Programmer mistakes (wrong ranks or shapes) panic with a "pathogan:" prefix.
package nn

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/pathogan-go/pathogan/pathogan/backend"
)

// InitStd is the standard deviation of the weight initialisation (CycleGAN's).
const InitStd = 0.02

// NormEpsilon is the ε of instance normalisation.
const NormEpsilon = 1e-5

// flopsParam names the context parameter that holds the *FLOPCounter the
// layers add to while a graph is built.
const flopsParam = "pathogan_flop_counter"

// FLOPCounter counts the forward floating-point operations of the
// convolutions and dense layers built while it is set on a context (see
// SetFLOPCounter): 2 per multiply-add, the count the PyTorch reference's
// forward hooks make (experiments/torchref/pathogan_step.py), so the two
// implementations' GFLOP/s estimates compare. A layer applied twice in one
// graph counts twice.
type FLOPCounter struct {
	// Forward is the number of forward FLOPs counted so far.
	Forward int64
}

// SetFLOPCounter makes the layers built under ctx add their FLOPs to c.
func SetFLOPCounter(ctx *context.Context, c *FLOPCounter) { ctx.SetParam(flopsParam, c) }

// AddFLOPs adds n FLOPs to ctx's counter, if one is set.
func AddFLOPs(ctx *context.Context, n int) {
	if v, found := ctx.GetParam(flopsParam); found {
		if c, ok := v.(*FLOPCounter); ok && c != nil {
			c.Forward += int64(n)
		}
	}
}

// Panicf reports a programmer mistake in graph building.
func Panicf(format string, args ...any) {
	panic(fmt.Sprintf("pathogan: "+format, args...))
}

// weightsAndBias returns a trainable variable of the given shape initialised
// from N(0, std²), and a bias of `out` zeros.
func weightsAndBias(ctx *context.Context, g *graph.Graph, shape shapes.Shape, out int, std float64) (*graph.Node, *graph.Node) {
	w := ctx.WithInitializer(initializers.RandomNormalFn(ctx, std)).VariableWithShape("weights", shape).ValueGraph(g)
	b := ctx.WithInitializer(initializers.Zero).VariableWithShape("biases", shapes.Make(shape.DType, out)).ValueGraph(g)
	return w, b
}

// convDTypeParam names the context parameter that holds the dtype the
// convolutions compute in (SetConvDType).
const convDTypeParam = "pathogan_conv_dtype"

// SetConvDType makes the convolutions built under ctx (Conv, UpConv,
// ResizeConv) round their input and kernel to dtype, convolve in it and
// widen the result back to the input's dtype; the variables, biases and
// everything between the convolutions keep theirs. dtypes.InvalidDType (the
// default) convolves in the input's dtype. With dtypes.BFloat16 on an NVIDIA
// GPU, XLA gives the convolutions to cuDNN's bfloat16 tensor-core kernels,
// which accumulate in float32.
func SetConvDType(ctx *context.Context, dtype dtypes.DType) { ctx.SetParam(convDTypeParam, dtype) }

// inConvDType applies conv to x and w in the dtype SetConvDType set on ctx,
// and returns the result in x's dtype.
func inConvDType(ctx *context.Context, x, w *graph.Node, conv func(x, w *graph.Node) *graph.Node) *graph.Node {
	dt := dtypes.InvalidDType
	if v, found := ctx.GetParam(convDTypeParam); found {
		dt, _ = v.(dtypes.DType)
	}
	if dt == dtypes.InvalidDType || dt == x.DType() {
		return conv(x, w)
	}
	return graph.ConvertDType(conv(graph.ConvertDType(x, dt), graph.ConvertDType(w, dt)), x.DType())
}

// Conv is a k×k convolution of x [batch, h, w, c] to f channels with stride
// s, padded by pad pixels on every side, plus a bias; no normalisation, no
// activation. Its variables ("weights" [k, k, c, f], "biases" [f]) live in
// ctx's scope.
func Conv(ctx *context.Context, x *graph.Node, k, f, stride, pad int) *graph.Node {
	if x.Rank() != 4 {
		Panicf("conv: want x [batch, h, w, c], got %s", x.Shape())
	}
	in := x.Shape().Dimensions[3]
	w, b := weightsAndBias(ctx, x.Graph(), shapes.Make(x.DType(), k, k, in, f), f, InitStd)
	y := inConvDType(ctx, x, w, func(x, w *graph.Node) *graph.Node {
		return backend.Conv2D(x, w, stride, backend.PadExplicit(pad, pad, pad, pad))
	})
	AddFLOPs(ctx, 2*y.Shape().Size()*k*k*in)
	return graph.Add(y, graph.Reshape(b, 1, 1, 1, f))
}

// UpConv is a transposed convolution with kernel 3 and stride 2 that
// doubles the size (PyTorch's ConvTranspose2d(3, 2, padding=1,
// output_padding=1)), plus a bias.
func UpConv(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	in := x.Shape().Dimensions[3]
	w, b := weightsAndBias(ctx, x.Graph(), shapes.Make(x.DType(), 3, 3, in, f), f, InitStd)
	y := inConvDType(ctx, x, w, func(x, w *graph.Node) *graph.Node {
		return backend.ConvTranspose2D(x, w, 2, backend.PadExplicit(1, 0, 1, 0))
	})
	AddFLOPs(ctx, 2*x.Shape().Size()*3*3*f) // PyTorch's count: per input pixel
	return graph.Add(y, graph.Reshape(b, 1, 1, 1, f))
}

// ResizeConv doubles the size of x [batch, h, w, c] by repeating each pixel
// 2×2 (nearest neighbour) and applies a 3×3 convolution with bias to f
// channels, padded to keep the size: the resize-convolution of Odena et
// al. (2016), which has no checkerboard. Its variables have UpConv's shapes.
func ResizeConv(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	if x.Rank() != 4 {
		Panicf("resize-conv: want x [batch, h, w, c], got %s", x.Shape())
	}
	d := x.Shape().Dimensions
	y := graph.Reshape(x, d[0], d[1], 1, d[2], 1, d[3])
	y = graph.BroadcastToDims(y, d[0], d[1], 2, d[2], 2, d[3])
	y = graph.Reshape(y, d[0], 2*d[1], 2*d[2], d[3])
	return Conv(ctx, y, 3, f, 1, 1)
}

// Norm is instance normalisation without learned scale and offset (as
// PyTorch's InstanceNorm2d default, which CycleGAN uses).
func Norm(x *graph.Node) *graph.Node { return backend.InstanceNorm(x, nil, nil, NormEpsilon) }

// ELU is the exponential linear unit with α = 1.
func ELU(x *graph.Node) *graph.Node { return backend.ELU(x, 1) }

// LeakyReLU is max(x, 0.2x), the discriminators' activation.
func LeakyReLU(x *graph.Node) *graph.Node { return backend.LeakyReLU(x, 0.2) }

// Dense is a fully connected layer x [batch, in] -> [batch, f], with bias,
// its weights drawn from N(0, InitStd²).
func Dense(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	return DenseStd(ctx, x, f, InitStd)
}

// DenseStd is Dense with weights drawn from N(0, std²).
func DenseStd(ctx *context.Context, x *graph.Node, f int, std float64) *graph.Node {
	if x.Rank() != 2 {
		Panicf("dense: want x [batch, features], got %s", x.Shape())
	}
	in := x.Shape().Dimensions[1]
	w, b := weightsAndBias(ctx, x.Graph(), shapes.Make(x.DType(), in, f), f, std)
	AddFLOPs(ctx, 2*x.Shape().Dimensions[0]*in*f)
	return graph.Add(graph.MatMul(x, w), graph.Reshape(b, 1, f))
}

// AssertDims panics when x does not have the given dimensions (-1: any).
func AssertDims(where string, x *graph.Node, dims ...int) {
	d := x.Shape().Dimensions
	ok := len(d) == len(dims)
	for i := 0; ok && i < len(d); i++ {
		ok = dims[i] < 0 || dims[i] == d[i]
	}
	if !ok {
		Panicf("%s: shape %s, want %v", where, x.Shape(), dims)
	}
}

// ShapeOf returns the shape of dims in x's dtype.
func ShapeOf(x *graph.Node, dims ...int) shapes.Shape { return shapes.Make(x.DType(), dims...) }
