package backend

import (
	"fmt"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pathogan-go/pathogan/pathogan/internal/gradients"
)

type paddingKind int

const (
	padSame paddingKind = iota
	padValid
	padExplicit
)

// Padding selects the spatial padding of Conv2D and ConvTranspose2D. Use PadSame, PadValid or
// PadExplicit; the zero value is PadSame.
type Padding struct {
	kind paddingKind
	// pads[spatialAxis] = {start, end}.
	pads [2][2]int
}

var (
	// PadSame is TensorFlow/Keras "same" padding: Conv2D outputs ceil(in/stride) positions, padding
	// max(0, (out-1)*stride + k - in) in total, the odd one at the end. For ConvTranspose2D the
	// output is in*stride (the adjoint of Conv2D with PadSame).
	PadSame = Padding{kind: padSame}

	// PadValid is no padding.
	PadValid = Padding{kind: padValid}
)

// PadExplicit pads height by (top, bottom) and width by (left, right). For ConvTranspose2D they
// are the padding of the forward convolution it transposes, as PyTorch's ConvTranspose2d padding
// (negative values add rows/columns at the end, like output_padding).
func PadExplicit(top, bottom, left, right int) Padding {
	return Padding{kind: padExplicit, pads: [2][2]int{{top, bottom}, {left, right}}}
}

// String implements fmt.Stringer.
func (p Padding) String() string {
	switch p.kind {
	case padSame:
		return "same"
	case padValid:
		return "valid"
	}
	return "explicit"
}

// convPads returns the {start, end} paddings of one spatial axis for a forward convolution.
func (p Padding) convPads(axis, in, k, stride int) [2]int {
	switch p.kind {
	case padValid:
		return [2]int{}
	case padExplicit:
		return p.pads[axis]
	}
	out := (in + stride - 1) / stride
	total := max((out-1)*stride+k-in, 0)
	return [2]int{total / 2, total - total/2}
}

// nhwcAxes is the NHWC input/output, HWIO kernel configuration.
var nhwcAxes = backends.ConvolveAxesConfig{
	InputBatch: 0, InputSpatial: []int{1, 2}, InputChannels: 3,
	KernelSpatial: []int{0, 1}, KernelInputChannels: 2, KernelOutputChannels: 3,
	OutputBatch: 0, OutputSpatial: []int{1, 2}, OutputChannels: 3,
}

func checkConvArgs(fn string, x, kernel *graph.Node, stride int) {
	if x == nil || kernel == nil {
		panicf("%s: nil input or kernel", fn)
	}
	if x.Rank() != 4 || kernel.Rank() != 4 {
		panicf("%s: want x [batch, height, width, channels] and kernel [kh, kw, in, out], got x %s and kernel %s",
			fn, x.Shape(), kernel.Shape())
	}
	if x.Shape().Dimensions[3] != kernel.Shape().Dimensions[2] {
		panicf("%s: x has %d channels but kernel expects %d (x %s, kernel %s)",
			fn, x.Shape().Dimensions[3], kernel.Shape().Dimensions[2], x.Shape(), kernel.Shape())
	}
	if x.DType() != kernel.DType() {
		panicf("%s: x dtype %s differs from kernel dtype %s", fn, x.DType(), kernel.DType())
	}
	if stride < 1 {
		panicf("%s: stride must be >= 1, got %d", fn, stride)
	}
}

// Conv2D convolves x [batch, height, width, inChannels] with kernel [kh, kw, inChannels,
// outChannels] (cross-correlation, as every deep learning framework does), with the given stride
// on both spatial axes and padding. It returns [batch, outHeight, outWidth, outChannels].
//
// It builds a plain graph.Convolve with explicit strides and paddings: on XLA that is the native
// convolution; on GoBackend it runs as im2col + matmul and its gradient (GoMLX's own conv gradient)
// works because GoBackend supplies Reverse, Pad and input dilation.
func Conv2D(x, kernel *graph.Node, stride int, padding Padding) *graph.Node {
	checkConvArgs("Conv2D", x, kernel, stride)
	pads := make([][2]int, 2)
	for i := range 2 {
		pads[i] = padding.convPads(i, x.Shape().Dimensions[1+i], kernel.Shape().Dimensions[i], stride)
		if k := kernel.Shape().Dimensions[i]; x.Shape().Dimensions[1+i]+pads[i][0]+pads[i][1] < k {
			panicf("Conv2D: kernel %s larger than the padded input %s", kernel.Shape(), x.Shape())
		}
	}
	return graph.ConvGeneral(x, kernel, nhwcAxes, []int{stride, stride}, pads, nil, nil, 1, 1)
}

// ConvTranspose2D is the transposed convolution ("deconvolution") of x [batch, height, width,
// inChannels] with kernel [kh, kw, inChannels, outChannels]: the adjoint of
// Conv2D(·, kernel with its in/out channel axes swapped, stride, padding). With PadSame the output
// is [batch, height*stride, width*stride, outChannels], as Keras' Conv2DTranspose(padding="same");
// with PadValid it is (in-1)*stride + k; with PadExplicit(t, b, l, r) it is (in-1)*stride + k - t - b
// (PyTorch's ConvTranspose2d(padding=p, output_padding=o) is PadExplicit(p, p-o, p, p-o)).
//
// It is a stride-1 convolution of x with the spatially reversed kernel, zeros inserted between
// x's pixels (input dilation = stride) and the borders padded: one ConvGeneral with input
// dilation, whose gradient this package registers (GoMLX defines none), or, when the padding would
// be negative, an explicit graph.Pad followed by a stride-1 Conv2D.
func ConvTranspose2D(x, kernel *graph.Node, stride int, padding Padding) *graph.Node {
	checkConvArgs("ConvTranspose2D", x, kernel, stride)
	cfg := make([]backends.PadAxis, 4)
	for i := range 2 {
		in, k := x.Shape().Dimensions[1+i], kernel.Shape().Dimensions[i]
		var fwd [2]int
		extra := 0
		switch padding.kind {
		case padSame:
			total := max(k-stride, 0)
			fwd = [2]int{total / 2, total - total/2}
			extra = in*stride - ((in-1)*stride + k - total)
		case padExplicit:
			fwd = padding.pads[i]
		}
		start, end := k-1-fwd[0], k-1-fwd[1]+extra
		if (in-1)*stride+1+start+end < k {
			panicf("ConvTranspose2D: padding %v too large for input %s and kernel %s", padding, x.Shape(), kernel.Shape())
		}
		cfg[1+i] = backends.PadAxis{Start: start, End: end, Interior: stride - 1}
	}
	flipped := kernel
	if kernel.Shape().Dimensions[0] > 1 || kernel.Shape().Dimensions[1] > 1 {
		flipped = graph.Reverse(kernel, 0, 1)
	}
	if cfg[1].Start >= 0 && cfg[1].End >= 0 && cfg[2].Start >= 0 && cfg[2].End >= 0 {
		pads := [][2]int{{cfg[1].Start, cfg[1].End}, {cfg[2].Start, cfg[2].End}}
		return graph.ConvGeneral(x, flipped, nhwcAxes, []int{1, 1}, pads, []int{stride, stride}, nil, 1, 1)
	}
	dilated := graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), cfg...)
	return Conv2D(dilated, flipped, 1, PadValid)
}

// SetTransposeFilterForm says whether the kernel gradient of ConvTranspose2D (of every
// input-dilated ConvGeneral with stride 1), in graphs built from now on, is built in the form of
// a strided convolution's kernel gradient (on, the default), which XLA's GPU compiler runs as
// cuDNN's backward-filter convolution, or as a convolution of the input-dilated input (off),
// which it runs as a forward convolution over a zero-filled copy of the input with the whole
// image as its window. It returns the previous setting. Both give the same values up to
// rounding. It is process-wide, for comparisons such as bench's --dilated-kernel-grad.
func SetTransposeFilterForm(on bool) (was bool) { return gradients.SetFilterForm(on) }

// closedFormOff turns the closed-form gradients of InstanceNorm, ELU and LeakyReLU off
// (SetClosedForm).
var closedFormOff atomic.Bool

// SetClosedForm says whether InstanceNorm, ELU and LeakyReLU, in graphs built from now on, carry
// the closed form of their gradients (on, the default) or leave them to GoMLX's differentiation
// of their ops (off), and returns the previous setting. The two compute the same values up to
// rounding; the closed forms take a half to a third of the tensor passes of the backward pass
// (see InstanceNorm, ELU and LeakyReLU). It is process-wide, for comparisons such as bench's
// --autodiff-norm.
func SetClosedForm(on bool) (was bool) { return !closedFormOff.Swap(!on) }

// InstanceNorm normalizes x [batch, spatial..., channels] per sample and per channel over the
// spatial axes: (x - mean) / sqrt(var + epsilon), with the biased variance, then multiplies by
// scale and adds offset (each [channels], or nil to skip). A typical epsilon is 1e-5.
//
// Its gradient is the closed form (with SetClosedForm on): for x̂ = (x - μ)·r, r = (σ² + ε)^-½,
// and v the gradient arriving at x̂, the gradient at x is r·(v - mean(v) - x̂·mean(v·x̂)), the
// means taken over the spatial axes: two reductions and five element-wise passes, where
// differentiating the ops (the mean, the centring, the square, the variance, the rsqrt and
// their broadcasts) takes about twice as many.
func InstanceNorm(x, scale, offset *graph.Node, epsilon float64) *graph.Node {
	if x == nil || x.Rank() < 3 {
		panicf("InstanceNorm: want x [batch, spatial..., channels], got %v", shapeOf(x))
	}
	if epsilon < 0 {
		panicf("InstanceNorm: negative epsilon %g", epsilon)
	}
	rank := x.Rank()
	channels := x.Shape().Dimensions[rank-1]
	axes := make([]int, rank-2)
	for i := range axes {
		axes[i] = 1 + i
	}
	mean := graph.ReduceAndKeep(x, graph.ReduceMean, axes...)
	centered := graph.Sub(x, mean)
	variance := graph.ReduceAndKeep(graph.Square(centered), graph.ReduceMean, axes...)
	r := graph.Rsqrt(graph.AddScalar(variance, epsilon))
	y := graph.Mul(centered, r)
	if !closedFormOff.Load() {
		normGradient(x, centered, y, r, axes)
	}
	bshape := make([]int, rank)
	for i := range bshape {
		bshape[i] = 1
	}
	bshape[rank-1] = channels
	param := func(name string, p *graph.Node) *graph.Node {
		if p.Shape().Size() != channels || p.DType() != x.DType() {
			panicf("InstanceNorm: %s must be [%d] of dtype %s, got %s", name, channels, x.DType(), p.Shape())
		}
		return graph.Reshape(p, bshape...)
	}
	if scale != nil {
		y = graph.Mul(y, param("scale", scale))
	}
	if offset != nil {
		y = graph.Add(y, param("offset", offset))
	}
	return y
}

// normGradient gives y = centered·r, centered = x - μ, the closed-form gradient of
// InstanceNorm: y's returns the whole gradient at x through centered (as centered's input, so
// nothing is computed twice) and none to r, and centered's passes it on to x and none to μ. The
// statistics' nodes then get no gradient at all. Where the nodes are not laid out as expected
// (x broadcast, say) or the gradient cannot be set, the ops' own gradients stay.
func normGradient(x, centered, y, r *graph.Node, axes []int) {
	if ins := centered.Inputs(); len(ins) != 2 || ins[0] != x {
		return
	}
	if ins := y.Inputs(); len(ins) != 2 || ins[0] != centered {
		return
	}
	if !gradients.SetVJP(centered, func(_ *graph.Node, v []*graph.Node, _ shapes.Shape) []*graph.Node {
		return []*graph.Node{v[0], nil}
	}) {
		return
	}
	gradients.SetVJP(y, func(node *graph.Node, v []*graph.Node, _ shapes.Shape) []*graph.Node {
		m1 := graph.ReduceAndKeep(v[0], graph.ReduceMean, axes...)
		m2 := graph.ReduceAndKeep(graph.Mul(v[0], node), graph.ReduceMean, axes...)
		return []*graph.Node{graph.Mul(graph.Sub(v[0], graph.Add(graph.Mul(node, m2), m1)), r), nil}
	})
}

// ELU is the exponential linear unit: x for x > 0, alpha*(exp(x)-1) otherwise (alpha is usually
// 1). Expm1 is taken of min(x, 0), so large positive x never overflow the unused branch.
//
// With SetClosedForm on and 0 < alpha <= 1 it is max(x, alpha·(e^min(x, 0) - 1)): three passes,
// all vectorised on the Go backend, and no boolean mask. This is ELU because e^x - 1 >= x
// for x <= 0 (which the Go backend's float32 e^x - 1 keeps for every float32, checked by the
// kernels package), so the max picks the negative branch there and x (against 0) elsewhere. Its
// gradient is the closed form, written with y = ELU(x) so that the backward pass reads the
// output, which the next layer keeps anyway, instead of holding the negative branch: for alpha
// 1 it is v·(1 + min(y, 0)); otherwise v where y > 0 and v·(y + alpha) elsewhere. GoMLX's
// gradients of the Max, the Expm1 and the Min would take about seventeen passes.
//
// With SetClosedForm off, or another alpha, it is Where(x > 0, x, alpha·(e^min(x, 0) - 1)) with
// the min written as a Where, which GoMLX differentiates.
func ELU(x *graph.Node, alpha float64) *graph.Node {
	if x == nil {
		panicf("ELU: nil input")
	}
	zero := graph.ScalarZero(x.Graph(), x.DType())
	if closedFormOff.Load() || alpha <= 0 || alpha > 1 {
		positive := graph.GreaterThan(x, zero)
		neg := graph.Expm1(graph.Where(positive, zero, x))
		if alpha != 1 {
			neg = graph.MulScalar(neg, alpha)
		}
		return graph.Where(positive, x, neg)
	}
	neg := graph.Expm1(graph.Min(x, zero))
	if alpha != 1 {
		neg = graph.MulScalar(neg, alpha)
	}
	y := graph.Max(x, neg)
	if ins := y.Inputs(); len(ins) == 2 && ins[0] == x {
		gradients.SetVJP(y, func(node *graph.Node, v []*graph.Node, _ shapes.Shape) []*graph.Node {
			if alpha == 1 {
				return []*graph.Node{graph.Mul(v[0], graph.OnePlus(graph.Min(node, zero))), nil}
			}
			return []*graph.Node{graph.Where(graph.GreaterThan(node, zero), v[0], graph.Mul(v[0], graph.AddScalar(node, alpha))), nil}
		})
	}
	return y
}

// LeakyReLU is max(x, alpha·x) for 0 < alpha < 1 (the CycleGAN discriminators use 0.2).
//
// With SetClosedForm on its gradient is the closed form, v where x >= 0 and alpha·v elsewhere:
// three element-wise passes. GoMLX's gradient takes nine: for the Max, a difference, two Signs
// and a sum (its indicator), the indicator's complement and two products; then the product by
// alpha and the sum of the two paths. Both give v at x = 0.
func LeakyReLU(x *graph.Node, alpha float64) *graph.Node {
	if x == nil {
		panicf("LeakyReLU: nil input")
	}
	if alpha <= 0 || alpha >= 1 {
		panicf("LeakyReLU: alpha %g outside (0, 1)", alpha)
	}
	y := graph.Max(x, graph.MulScalar(x, alpha))
	if ins := y.Inputs(); !closedFormOff.Load() && len(ins) == 2 && ins[0] == x {
		zero := graph.ScalarZero(x.Graph(), x.DType())
		gradients.SetVJP(y, func(_ *graph.Node, v []*graph.Node, _ shapes.Shape) []*graph.Node {
			return []*graph.Node{graph.Where(graph.GreaterThan(zero, x), graph.MulScalar(v[0], alpha), v[0]), nil}
		})
	}
	return y
}

func shapeOf(x *graph.Node) any {
	if x == nil {
		return "nil"
	}
	return x.Shape()
}

// panicf panics with the "pathogan:" prefix used for programmer mistakes in graph building.
func panicf(format string, args ...any) {
	panic(fmt.Errorf("pathogan: "+format, args...))
}
