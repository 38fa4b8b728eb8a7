package pathogan

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/nn"
)

// The building blocks of section 2.4's notation, from package nn. Every
// convolution pads k/2 pixels on each side (as PyTorch's padding=k//2), so
// a stride-1 convolution keeps the size and a stride-2 one halves it.

// convK is Ck-f with stride s: a k×k convolution to f channels, with bias,
// no normalisation, no activation.
func convK(ctx *context.Context, x *graph.Node, k, f, stride int) *graph.Node {
	return nn.Conv(ctx, x, k, f, stride, k/2)
}

// cK is ck-f: convolution, instance norm, ELU.
func cK(ctx *context.Context, x *graph.Node, k, f int) *graph.Node {
	return nn.ELU(nn.Norm(convK(ctx, x, k, f, 1)))
}

// down is df: a stride-2 3×3 convolution, instance norm, ELU.
func down(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	return nn.ELU(nn.Norm(convK(ctx, x, 3, f, 2)))
}

// up is uf: a transposed convolution (kernel 3, stride 2), instance norm,
// ELU; with mode "resize" (Config.Upsample) a 2× nearest-neighbour resize
// and a 3×3 convolution take the transposed convolution's place.
func up(ctx *context.Context, x *graph.Node, f int, mode string) *graph.Node {
	if mode == "resize" {
		return nn.ELU(nn.Norm(nn.ResizeConv(ctx, x, f)))
	}
	return nn.ELU(nn.Norm(nn.UpConv(ctx, x, f)))
}

// residual is Rf: x + C3(ELU(IN(C3(x)))).
func residual(ctx *context.Context, x *graph.Node) *graph.Node {
	f := x.Shape().Dimensions[3]
	h := nn.ELU(nn.Norm(convK(ctx.In("conv_0"), x, 3, f, 1)))
	h = convK(ctx.In("conv_1"), h, 3, f, 1)
	return graph.Add(x, h)
}
