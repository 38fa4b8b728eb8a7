package pathogan

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/nn"
)

// Generated is one application of a generator GX (eq. 6).
type Generated struct {
	// Logit is r0 + ε, the labelmap before the sigmoid (kept for numerically
	// stable logs of l and 1 - l).
	Logit *graph.Node
	// Labelmap is lX = S(r0 + ε), [batch, h, w, 1].
	Labelmap *graph.Node
	// Inpainting is pX = tanh(r1..n), [batch, h, w, n].
	Inpainting *graph.Node
	// Output is ŷY = lX ⊙ pX + (1 - lX) ⊙ xX.
	Output *graph.Node
}

// Compose turns residual maps r [batch, h, w, n+1] and the input x into the
// generator's labelmap, inpainting and output (eq. 6):
//
//	lX = S(r0 + ε),  pX = tanh(r1..n),  ŷY = lX ⊙ pX + (1 - lX) ⊙ xX.
//
// noise is ε [batch, h, w, 1] (N(0, 1) in training), or nil for ε = 0 (test).
func Compose(r, x, noise *graph.Node) Generated {
	n := x.Shape().Dimensions[3]
	nn.AssertDims("Compose r", r, x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2], n+1)
	logit := graph.SliceAxis(r, 3, graph.AxisRange(0, 1))
	if noise != nil {
		logit = graph.Add(logit, noise)
	}
	l := graph.Sigmoid(logit)
	p := graph.Tanh(graph.SliceAxis(r, 3, graph.AxisRange(1, n+1)))
	y := graph.Add(graph.Mul(l, p), graph.Mul(graph.OneMinus(l), x))
	return Generated{Logit: logit, Labelmap: l, Inpainting: p, Output: y}
}

// Model builds the networks of one PathoGAN in a context. Every method may be
// called several times in one graph: the variables are created on first use
// and shared afterwards.
type Model struct {
	Cfg Config
	ctx *context.Context
}

// NewModel returns a model whose variables live in ctx (under the scopes
// named by the Scope constants). With cfg.ConvPrecision "bfloat16" it makes
// the convolutions built under ctx compute in bfloat16 (nn.SetConvDType).
func NewModel(ctx *context.Context, cfg Config) *Model {
	if cfg.ConvPrecision == "bfloat16" {
		nn.SetConvDType(ctx, dtypes.BFloat16)
	}
	return &Model{Cfg: cfg, ctx: ctx.Checked(false)}
}

// Context returns the model's context.
func (m *Model) Context() *context.Context { return m.ctx }

// labelNoise returns ε ~ N(0, LabelNoise²) for a labelmap of x's size, or nil
// when not training (ε = 0 at test time, section 2.2).
func (m *Model) labelNoise(x *graph.Node, training bool) *graph.Node {
	if !training || m.Cfg.LabelNoise == 0 {
		return nil
	}
	d := x.Shape().Dimensions
	eps := m.ctx.RandomNormal(x.Graph(), nn.ShapeOf(x, d[0], d[1], d[2], 1))
	return graph.MulScalar(eps, m.Cfg.LabelNoise)
}

// Reparameterize draws z = μ + exp(logVar/2) ⊙ n with n ~ N(0, I) (the
// reparameterisation trick); when not training it returns μ.
func (m *Model) Reparameterize(mean, logVar *graph.Node, training bool) *graph.Node {
	if !training {
		return mean
	}
	n := m.ctx.RandomNormal(mean.Graph(), mean.Shape())
	return graph.Add(mean, graph.Mul(graph.Exp(graph.MulScalar(logVar, 0.5)), n))
}

// EncodeGammaA is ΓA(xA): the mean and log-variance of γA.
func (m *Model) EncodeGammaA(x *graph.Node) (mean, logVar *graph.Node) {
	return Encoder(m.ctx.In(ScopeGammaA), m.Cfg, x)
}

// EncodeDeltaB is ∆B(lB ⊙ xB): the mean and log-variance of δB.
func (m *Model) EncodeDeltaB(labelmap, x *graph.Node) (mean, logVar *graph.Node) {
	return Encoder(m.ctx.In(ScopeDeltaB), m.Cfg, graph.Mul(labelmap, x))
}

// DecodeA is EA(γA, δB) composed with x: the generator GA given its
// encodings (eq. 6 with rA = EA(γA, δB)).
func (m *Model) DecodeA(x, gamma, delta *graph.Node, training bool) Generated {
	r := Decoder(m.ctx.In(ScopeEA), m.Cfg, gamma, delta)
	return Compose(r, x, m.labelNoise(x, training))
}

// GeneratorA is GA(xA, δB) = EA(ΓA(xA), δB) composed with xA: it adds the
// pathology encoded by δB to the healthy image xA. γA is sampled from
// q(γA|xA) in training and its mean otherwise. It also returns γA's mean and
// log-variance (for the KL term).
func (m *Model) GeneratorA(x, delta *graph.Node, training bool) (g Generated, gammaMean, gammaLogVar *graph.Node) {
	gammaMean, gammaLogVar = m.EncodeGammaA(x)
	gamma := m.Reparameterize(gammaMean, gammaLogVar, training)
	return m.DecodeA(x, gamma, delta, training), gammaMean, gammaLogVar
}

// GeneratorB is GB(xB) = ZB(xB) composed with xB: it segments the pathology
// (lB) and inpaints healthy tissue (pB), giving the healthy image ŷA.
func (m *Model) GeneratorB(x *graph.Node, training bool) Generated {
	r := ResidualGeneratorB(m.ctx.In(ScopeZB), m.Cfg, x)
	return Compose(r, x, m.labelNoise(x, training))
}

// DiscriminatorA is DA: healthy or not, per patch.
func (m *Model) DiscriminatorA(x *graph.Node) *graph.Node {
	return Discriminator(m.ctx.In(ScopeDA), m.Cfg, x)
}

// DiscriminatorB is DB: pathological or not, per patch.
func (m *Model) DiscriminatorB(x *graph.Node) *graph.Node {
	return Discriminator(m.ctx.In(ScopeDB), m.Cfg, x)
}

// Cycles holds every tensor of one training forward pass (Fig. 1), named as
// in section 2.3: a hat for the translation, a tilde for the reconstruction.
type Cycles struct {
	// A → B → A, with δB ~ N(0, I).
	GammaMean, GammaLogVar *graph.Node // q(γA | xA)
	HatA                   Generated   // GA(xA, δB): l̂A, p̂A, ŷB
	TildeB                 Generated   // GB(ŷB): l̃B, p̃B, x̃A
	// B → A → B, with δB = ∆B(l̂B ⊙ xB).
	HatB                   Generated   // GB(xB): l̂B, p̂B, ŷA
	DeltaMean, DeltaLogVar *graph.Node // q(δB | xB, l̂B)
	TildeA                 Generated   // GA(ŷA, δB): l̃A, p̃A, x̃B
	// CycleGammaMean, CycleGammaLogVar: q(γA | ŷA), the encoding GA
	// reads from the healthy translation (its KL is Config.KLGammaCycle).
	CycleGammaMean, CycleGammaLogVar *graph.Node
	// DeltaPrior is the δB drawn for A → B; LatentMean is μ of
	// ∆B(l̂A ⊙ ŷB), the code ∆B reads back from GA's output (nil unless
	// Config.LambdaLatent > 0).
	DeltaPrior, LatentMean *graph.Node
	// HatA2 is GA(xA, δ2) with a second draw δ2 = DeltaPrior2 and the same
	// γA (unset unless Config.LambdaDiversity > 0).
	HatA2       Generated
	DeltaPrior2 *graph.Node
	// Identity (eq. 4): each generator fed the other domain (unset when
	// Config.LambdaIdt is 0).
	IdtA Generated // GA(xB, 0)
	IdtB Generated // GB(xA)
}

// Forward runs both cycles and the identity mappings on a healthy batch xA
// and a pathological batch xB (Fig. 1).
func (m *Model) Forward(xA, xB *graph.Node, training bool) *Cycles {
	c := &Cycles{}
	batch := xA.Shape().Dimensions[0]
	// A -> B -> A: δB drawn from its prior.
	deltaPrior := m.ctx.RandomNormal(xA.Graph(), nn.ShapeOf(xA, batch, m.Cfg.Z))
	c.GammaMean, c.GammaLogVar = m.EncodeGammaA(xA)
	gamma := m.Reparameterize(c.GammaMean, c.GammaLogVar, training)
	c.HatA = m.DecodeA(xA, gamma, deltaPrior, training)
	if m.Cfg.LambdaDiversity > 0 {
		// A second code into the same images and the same γA.
		c.DeltaPrior2 = m.ctx.RandomNormal(xA.Graph(), nn.ShapeOf(xA, batch, m.Cfg.Z))
		c.HatA2 = m.DecodeA(xA, gamma, c.DeltaPrior2, training)
	}
	c.TildeB = m.GeneratorB(c.HatA.Output, training)
	c.DeltaPrior = deltaPrior
	if m.Cfg.LambdaLatent > 0 {
		c.LatentMean, _ = m.EncodeDeltaB(c.HatA.Labelmap, c.HatA.Output)
	}
	// B -> A -> B: δB encodes the pathology the labelmap l̂B cut out.
	c.HatB = m.GeneratorB(xB, training)
	c.DeltaMean, c.DeltaLogVar = m.EncodeDeltaB(c.HatB.Labelmap, xB)
	delta := m.Reparameterize(c.DeltaMean, c.DeltaLogVar, training)
	c.TildeA, c.CycleGammaMean, c.CycleGammaLogVar = m.GeneratorA(c.HatB.Output, delta, training)
	// Identity: GA(xB, 0) and GB(xA) should change nothing (not built when
	// λIdt is 0: two generator passes saved).
	if m.Cfg.LambdaIdt > 0 {
		zeros := graph.ZerosLike(deltaPrior)
		c.IdtA, _, _ = m.GeneratorA(xB, zeros, training)
		c.IdtB = m.GeneratorB(xA, training)
	}
	return c
}
