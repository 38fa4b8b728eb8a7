package unet

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/nn"
	"github.com/pathogan-go/pathogan/pathogan/supervised"
)

// Scope is the context scope of the network's variables.
const Scope = "unet"

// block is two 3×3 convolutions to f channels, each with instance norm and ELU.
func block(ctx *context.Context, x *graph.Node, f int) *graph.Node {
	h := nn.ELU(nn.Norm(nn.Conv(ctx.In("conv_0"), x, 3, f, 1, 1)))
	return nn.ELU(nn.Norm(nn.Conv(ctx.In("conv_1"), h, 3, f, 1, 1)))
}

// Network returns the U-Net's logits [batch, size, size, 1] for images x
// [batch, size, size, channels].
func Network(ctx *context.Context, cfg Config, x *graph.Node) *graph.Node {
	ctx = ctx.In(Scope)
	nn.AssertDims("U-Net input", x, -1, cfg.Size, cfg.Size, cfg.Channels)
	var skips []*graph.Node
	h := x
	for l := range cfg.Depth {
		h = block(ctx.In(fmt.Sprintf("enc_%d", l)), h, cfg.Base<<l)
		skips = append(skips, h)
		h = nn.ELU(nn.Norm(nn.Conv(ctx.In(fmt.Sprintf("down_%d", l)), h, 3, cfg.Base<<(l+1), 2, 1)))
	}
	h = block(ctx.In("bottleneck"), h, cfg.Base<<cfg.Depth)
	for l := cfg.Depth - 1; l >= 0; l-- {
		h = nn.ELU(nn.Norm(nn.UpConv(ctx.In(fmt.Sprintf("up_%d", l)), h, cfg.Base<<l)))
		h = graph.Concatenate([]*graph.Node{h, skips[l]}, -1)
		h = block(ctx.In(fmt.Sprintf("dec_%d", l)), h, cfg.Base<<l)
	}
	out := nn.Conv(ctx.In("out"), h, 1, 1, 1, 0)
	nn.AssertDims("U-Net output", out, -1, cfg.Size, cfg.Size, 1)
	return out
}

// Loss is the training loss of logits [b, h, w, 1] against the whole-tumour
// masks y [b, h, w] (0 or 1): the mean binary cross-entropy plus
// DiceWeight·(1 - soft Dice), the soft Dice taken per image as
// (2Σpy + 1) / (Σp + Σy + 1) with p = sigmoid(logit), averaged over the
// batch (the +1 makes an empty prediction of an empty label score 1). It
// returns the total, the cross-entropy and the soft Dice loss.
func Loss(cfg Config, logits, y *graph.Node) (total, bce, dice *graph.Node) {
	y = graph.Reshape(y, logits.Shape().Dimensions...)
	bce = nn.SigmoidCrossEntropy(logits, y)
	p := graph.Sigmoid(logits)
	dice = supervised.SoftDiceLoss(p, y)
	total = graph.Add(bce, graph.MulScalar(dice, cfg.DiceWeight))
	return total, bce, dice
}
