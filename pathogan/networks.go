package pathogan

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/nn"
)

// The networks of section 2.4. Names in code and paper:
//
//	Encoder (scope "gamma_a")   ΓA: healthy anatomy around the pathology -> γA
//	Encoder (scope "delta_b")   ∆B: the pathology inside lB ⊙ xB        -> δB
//	Decoder (scope "e_a")       EA: (γA, δB) -> rA, the residual of ZA
//	ResidualGeneratorB ("z_b")  ZB: xB -> rB
//	Discriminator ("d_a", "d_b") DA, DB: CycleGAN's 70x70 PatchGAN
//
// With b = Config.Base (64 in the paper) the widths 64, 128, ..., 1024 of the
// paper are b, 2b, ..., 16b.

// Scopes of the six networks in the model's context.
const (
	ScopeGammaA = "gamma_a"
	ScopeDeltaB = "delta_b"
	ScopeEA     = "e_a"
	ScopeZB     = "z_b"
	ScopeDA     = "d_a"
	ScopeDB     = "d_b"
)

// GeneratorScopes and DiscriminatorScopes group the networks that the two
// optimisers update.
var (
	GeneratorScopes     = []string{ScopeGammaA, ScopeDeltaB, ScopeEA, ScopeZB}
	DiscriminatorScopes = []string{ScopeDA, ScopeDB}
)

// Encoder is ΓA or ∆B: c7-b, d2b, d4b, d8b, d16b, C1-i, Q2F, l(z·i)t, l(2z)
// (with Config.Downsamplings down-samplings d2b ... d(2^D)b; the paper's 4).
// It returns the mean and the log-variance of the encoding, each [batch, z]
// (the output of l(2z) split in half, plus Config.LogVarOffset on the
// log-variance). x is [batch, size, size, channels].
func Encoder(ctx *context.Context, cfg Config, x *graph.Node) (mean, logVar *graph.Node) {
	b, i, z := cfg.Base, cfg.I(), cfg.Z
	nn.AssertDims("Encoder input", x, -1, cfg.Size, cfg.Size, cfg.Channels)
	h := cK(ctx.In("c7"), x, 7, b)
	for k := range cfg.Downs() {
		h = down(ctx.In(fmt.Sprintf("d%d", k)), h, b<<(k+1))
	}
	h = convK(ctx.In("c1"), h, 1, i, 1)
	nn.AssertDims("Encoder C1-i", h, -1, i, i, i)
	h = graph.Reshape(h, -1, i*i*i) // Q2F
	h = graph.Tanh(nn.DenseStd(ctx.In("l0"), h, z*i, cfg.denseStd(i*i*i)))
	h = nn.DenseStd(ctx.In("l1"), h, 2*z, cfg.denseStd(z*i))
	mean = graph.Slice(h, graph.AxisRange(), graph.AxisRange(0, z))
	logVar = graph.Slice(h, graph.AxisRange(), graph.AxisRange(z, 2*z))
	if cfg.LogVarOffset != 0 {
		logVar = graph.AddScalar(logVar, cfg.LogVarOffset)
	}
	return mean, logVar
}

// Decoder is EA: l(i·i)e, l(i·i), F2Q, c3-16b, u8b, u4b, C7-4b e, nine R4b,
// u2b, ub, C7-r (with Config.Downsamplings-2 up-samplings before C7-4b e,
// from c3-(2^D)b; the paper's two). It maps γA and δB (each [batch, z]) to the n+1 residual
// maps rA [batch, size, size, n+1].
func Decoder(ctx *context.Context, cfg Config, gamma, delta *graph.Node) *graph.Node {
	b, i := cfg.Base, cfg.I()
	nn.AssertDims("Decoder γ", gamma, -1, cfg.Z)
	nn.AssertDims("Decoder δ", delta, -1, cfg.Z)
	h := graph.Concatenate([]*graph.Node{gamma, delta}, 1)
	h = nn.ELU(nn.DenseStd(ctx.In("l0"), h, i*i, cfg.denseStd(2*cfg.Z)))
	h = nn.DenseStd(ctx.In("l1"), h, i*i, cfg.denseStd(i*i))
	h = graph.Reshape(h, -1, i, i, 1) // F2Q
	downs := cfg.Downs()
	h = cK(ctx.In("c3"), h, 3, b<<downs)
	// Up to Size/4: u8b, u4b at the paper's four down-samplings. The scopes
	// keep the paper's names (u0 is the 8b layer, u1 the 4b one).
	for k := downs - 2; k > 0; k-- {
		h = up(ctx.In(fmt.Sprintf("u%d", 2-k)), h, b<<(k+1), cfg.upsampleEA())
	}
	h = nn.ELU(convK(ctx.In("c7_0"), h, 7, 4*b, 1))
	for k := range cfg.ResBlocks {
		h = residual(ctx.In(fmt.Sprintf("r%d", k)), h)
	}
	h = up(ctx.In("u2"), h, 2*b, cfg.upsampleEA())
	h = up(ctx.In("u3"), h, b, cfg.upsampleEA())
	r := convK(ctx.In("c7_1"), h, 7, cfg.R(), 1)
	nn.AssertDims("Decoder output", r, -1, cfg.Size, cfg.Size, cfg.R())
	return r
}

// ResidualGeneratorB is ZB: c7-b, d2b, d4b, nine R4b, u2b, ub, C7-r (with
// Config.ZBBlockScale 2: c7-b, d2b, nine R2b, ub, C7-r; with 1: c7-b, nine
// Rb, C7-r). It maps x [batch, size, size, n] to rB [batch, size, size, n+1].
func ResidualGeneratorB(ctx *context.Context, cfg Config, x *graph.Node) *graph.Node {
	b, downs := cfg.Base, cfg.ZBDowns()
	nn.AssertDims("ZB input", x, -1, cfg.Size, cfg.Size, cfg.Channels)
	h := cK(ctx.In("c7_0"), x, 7, b)
	for k := range downs {
		h = down(ctx.In(fmt.Sprintf("d%d", k)), h, b<<(k+1))
	}
	for k := range cfg.ResBlocks {
		h = residual(ctx.In(fmt.Sprintf("r%d", k)), h)
	}
	// The scopes keep the paper's names: u0 is the 2b layer, u1 the b one.
	for k := downs - 1; k >= 0; k-- {
		h = up(ctx.In(fmt.Sprintf("u%d", 1-k)), h, b<<k, cfg.upsampleZB())
	}
	r := convK(ctx.In("c7_1"), h, 7, cfg.R(), 1)
	nn.AssertDims("ZB output", r, -1, cfg.Size, cfg.Size, cfg.R())
	return r
}

// Discriminator is CycleGAN's 70x70 PatchGAN: C4-d s2 + LReLU, C4-2d s2 + IN
// + LReLU, C4-4d s2 + IN + LReLU, C4-8d s1 + IN + LReLU, C4-1 s1 (d =
// DiscBase, every 4×4 convolution padded by 1, LReLU slope 0.2). It returns
// one score per patch, [batch, size/8 - 2, size/8 - 2, 1].
func Discriminator(ctx *context.Context, cfg Config, x *graph.Node) *graph.Node {
	d := cfg.DiscBase
	nn.AssertDims("Discriminator input", x, -1, cfg.Size, cfg.Size, cfg.Channels)
	h := nn.LeakyReLU(conv4(ctx.In("c0"), x, d, 2))
	h = nn.LeakyReLU(nn.Norm(conv4(ctx.In("c1"), h, 2*d, 2)))
	h = nn.LeakyReLU(nn.Norm(conv4(ctx.In("c2"), h, 4*d, 2)))
	h = nn.LeakyReLU(nn.Norm(conv4(ctx.In("c3"), h, 8*d, 1)))
	return conv4(ctx.In("c4"), h, 1, 1)
}

// conv4 is a 4×4 convolution padded by 1 on each side (PatchGAN's layers).
func conv4(ctx *context.Context, x *graph.Node, f, stride int) *graph.Node {
	return nn.Conv(ctx, x, 4, f, stride, 1)
}
