package pathogan

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/pathogan-go/pathogan/pathogan/nn"
)

// The loss terms of section 2.3, one function each. Norms ||·||1 and ||·||²
// over images are taken as means over their elements, as CycleGAN does,
// except where the paper normalises explicitly (eqs. 11, 12, 15).

// GANGeneratorLoss is the generator's side of the least-squares GAN loss
// (eq. 7, LSGAN with targets 1 for real and 0 for fake): mean((D(G(x)) - 1)²).
// The generator minimises it to make D call its outputs real.
func GANGeneratorLoss(dFake *graph.Node) *graph.Node {
	return graph.ReduceAllMean(graph.Square(graph.AddScalar(dFake, -1)))
}

// GANDiscriminatorLoss is the discriminator's side of eq. 7:
// mean((D(y) - 1)²) + mean(D(G(x))²), where D(G(x)) is computed on fakes
// that carry no gradient to the generator.
func GANDiscriminatorLoss(dReal, dFake *graph.Node) *graph.Node {
	return graph.Add(graph.ReduceAllMean(graph.Square(graph.AddScalar(dReal, -1))),
		graph.ReduceAllMean(graph.Square(dFake)))
}

// CycleLoss is ||GY(GX(xX, δY), δX) - xX||1 (eq. 8, without λCC): the mean
// absolute difference between the reconstruction and the input.
func CycleLoss(reconstruction, x *graph.Node) *graph.Node {
	return graph.ReduceAllMean(graph.Abs(graph.Sub(reconstruction, x)))
}

// KLLoss is KL[N(μ, exp(logVar)) || N(0, I)] (one term of eq. 9), averaged
// over the batch and the z dimensions:
//
//	-1/2 · mean(1 + logVar - μ² - exp(logVar)).
func KLLoss(mean, logVar *graph.Node) *graph.Node {
	t := graph.Sub(graph.Sub(graph.OnePlus(logVar), graph.Square(mean)), graph.Exp(logVar))
	return graph.MulScalar(graph.ReduceAllMean(t), -0.5)
}

// LatentLoss is the latent regression mean |μ(∆B(l̂A ⊙ ŷB)) - δB| over
// the batch and z (Config.LambdaLatent; BicycleGAN's cLR term): the code ∆B
// reads back from GA's translation against the code GA was given.
func LatentLoss(readBack, drawn *graph.Node) *graph.Node {
	return graph.ReduceAllMean(graph.Abs(graph.Sub(readBack, drawn)))
}

// DiversityLoss is the mode-seeking term in log form with a floor
// (Config.LambdaDiversity, Config.DiversityFloor):
//
//	max(0, log(floor / (r + 1e-4))),  r = mean|l1 - l2| / mean|δ1 - δ2|,
//
// for labelmaps l1, l2 that GA drew for codes δ1, δ2 into the same images.
func DiversityLoss(l1, l2, d1, d2 *graph.Node, floor float64) *graph.Node {
	dl := graph.ReduceAllMean(graph.Abs(graph.Sub(l1, l2)))
	dd := graph.ReduceAllMean(graph.Abs(graph.Sub(d1, d2)))
	v := graph.Neg(graph.Log(graph.MulScalar(graph.AddScalar(graph.Div(dl, dd), 1e-4), 1/floor)))
	return graph.Max(v, graph.ZerosLike(v))
}

// times is n·s, or n itself when s is 1 (no op added to the graph).
func times(n *graph.Node, s float64) *graph.Node {
	if s == 1 {
		return n
	}
	return graph.MulScalar(n, s)
}

// sumPixels sums a [batch, h, w, 1] map.
func sumPixels(l *graph.Node) *graph.Node { return graph.ReduceAllSum(l) }

// InpaintOutsideLoss is -log p(p̂X | γX) of eq. 11 divided by N (eq. 10):
//
//	||(1 - l̂X) ⊙ (p̂X - xX)||² / (N ω1),  ω1 = (Σ(1 - l̂X) + ε) / N,
//
// which is the squared error of the inpainting outside the labelmap, per
// unmasked pixel. ω1 is held constant (no gradient), as the paper says.
// labelmap is [batch, h, w, 1], inpainting and x [batch, h, w, n].
func InpaintOutsideLoss(labelmap, inpainting, x *graph.Node, epsilon float64) *graph.Node {
	return inpaintOutside(labelmap, inpainting, x, epsilon, graph.Square)
}

// InpaintOutsideL1Loss is InpaintOutsideLoss with the absolute error in place of the squared
// one (Config.InpaintLoss "l1"): ||(1 - l̂X) ⊙ (p̂X - xX)||₁ / (N ω1).
func InpaintOutsideL1Loss(labelmap, inpainting, x *graph.Node, epsilon float64) *graph.Node {
	return inpaintOutside(labelmap, inpainting, x, epsilon, graph.Abs)
}

// inpaintOutside is eq. 11 with the error err (Square or Abs) of the masked difference.
func inpaintOutside(labelmap, inpainting, x *graph.Node, epsilon float64, err func(*graph.Node) *graph.Node) *graph.Node {
	outside := graph.OneMinus(labelmap)
	num := graph.ReduceAllSum(err(graph.Mul(outside, graph.Sub(inpainting, x))))
	den := graph.StopGradient(graph.AddScalar(sumPixels(outside), epsilon))
	return graph.Div(num, den)
}

// InpaintInsideLoss is -log p(p̃X | δY) of eq. 12 divided by N:
//
//	||l̃ ⊙ (p̃ - xY)||² / (N ω2),  ω2 = (Σ l̃ + ε) / N,
//
// the squared error of the reconstruction's inpainting inside its labelmap,
// per labelled pixel, with ω2 held constant.
func InpaintInsideLoss(labelmap, inpainting, target *graph.Node, epsilon float64) *graph.Node {
	num := graph.ReduceAllSum(graph.Square(graph.Mul(labelmap, graph.Sub(inpainting, target))))
	den := graph.StopGradient(graph.AddScalar(sumPixels(labelmap), epsilon))
	return graph.Div(num, den)
}

// LabelmapBCELoss is -log p(l̃X | γX, δY) of eq. 13 divided by N: the binary
// cross-entropy of the labelmap l̃X = S(logit) against the other
// generator's labelmap l̂Y, which is held constant:
//
//	-mean(l̂Y log l̃X + (1 - l̂Y) log(1 - l̃X)).
//
// It takes l̃X's logit so that the logs never see 0.
func LabelmapBCELoss(logit, target *graph.Node) *graph.Node {
	return nn.SigmoidCrossEntropy(logit, graph.StopGradient(target))
}

// IdentityLoss is ||lX,xY||1 (eq. 14, without λIdt): the mean of the
// labelmap that GX produces when fed an image already in its target domain.
func IdentityLoss(labelmap *graph.Node) *graph.Node {
	return graph.ReduceAllMean(labelmap)
}

// RelevancyLoss is eq. 15 (without λR):
//
//	mean(-log(1 - lX²)) - Σ|lX ⊙ (xX - pX)| / (n Σ lX + 1e-6),
//
// the first term penalising large labelmaps (and pushing l towards 0 or
// away from 1 only where it pays), the second rewarding labelmaps where the
// inpainting differs from the image. (xX - pX) is held constant so that
// exaggerated inpaintings are not rewarded. -log(1 - l²) is computed from
// the logit as nn.Softplus(logit) - log(1 + l), which is finite for every l.
func RelevancyLoss(g Generated, x *graph.Node) *graph.Node {
	l := g.Labelmap
	n := float64(x.Shape().Dimensions[3])
	penalty := graph.ReduceAllMean(graph.Sub(nn.Softplus(g.Logit), graph.Log1p(l)))
	diff := graph.StopGradient(graph.Abs(graph.Sub(x, g.Inpainting)))
	reward := graph.Div(graph.ReduceAllSum(graph.Mul(l, diff)),
		graph.AddScalar(graph.MulScalar(sumPixels(l), n), 1e-6))
	return graph.Sub(penalty, reward)
}

// Losses are the named terms of the objective (eqs. 16, 17), each already
// weighted by its λ, plus their sums.
type Losses struct {
	GAN, Cycle, VAE, Identity, Relevancy, KL *graph.Node
	// Latent is λLatent LatentLoss (Config.LambdaLatent) plus λDiversity
	// DiversityLoss (Config.LambdaDiversity); 0 when both are off.
	Latent *graph.Node
	// Generator is L_PathoGAN (eq. 17): the sum of the terms above.
	Generator *graph.Node
	// DiscA and DiscB are the discriminators' LSGAN losses (scaled by
	// Config.DiscLossScale).
	DiscA, DiscB *graph.Node
}

// LossNames are the names of the terms in the order Losses.List gives them
// (used for logs, the progress bar and the CSV history).
var LossNames = []string{"gan", "cycle", "vae", "identity", "relevancy", "kl", "latent", "generator", "disc_a", "disc_b"}

// List returns the terms in LossNames order.
func (l *Losses) List() []*graph.Node {
	return []*graph.Node{l.GAN, l.Cycle, l.VAE, l.Identity, l.Relevancy, l.KL, l.Latent, l.Generator, l.DiscA, l.DiscB}
}

// Objective writes out the full PathoGAN objective for one forward pass:
//
//	L_X→Y = L_GAN + L_CC + L_VAE + L_Idt + L_R        (eq. 16)
//	L_PathoGAN = L_A→B + L_B→A + λKL L_KL(xA, xB)      (eq. 17)
//
// with, for A→B (GA adds a pathology) and B→A (GB removes it):
//
//	L_GAN: GANGeneratorLoss(DB(ŷB)) and GANGeneratorLoss(DA(ŷA))      (7)
//	L_CC:  λCC ||x̃A - xA||1 and λCC ||x̃B - xB||1                        (8)
//	L_VAE: λVAE [outside: p̂A vs xA out of l̂A, p̂B vs xB out of l̂B    (11)
//	             (the latter times Config.InpaintScaleB)
//	             inside:  p̃A vs xB in l̃A,   p̃B vs xA in l̃B          (12)
//	             labels:  l̃A vs l̂B,         l̃B vs l̂A]               (13)
//	L_Idt: λIdt ||l of GA(xB, 0)||1 and λIdt ||l of GB(xA)||1          (14)
//	L_R:   λR relevancy of (l̂A, p̂A, xA) and of (l̂B, p̂B, xB)           (15)
//	L_KL:  KL of γA = ΓA(xA) and of δB = ∆B(l̂B ⊙ xB)                   (9)
//	       (and of γA = ΓA(ŷA) with Config.KLGammaCycle)
//
// plus, when Config.LambdaLatent or LambdaDiversity > 0 (not in the paper),
// the latent regression λLatent |μ(∆B(l̂A ⊙ ŷB)) - δB| and the mode-seeking
// term λDiversity DiversityLoss (logged together as "latent").
//
// dFakeA and dFakeB are the discriminators' scores of ŷA and ŷB (gradients
// flow through them to the generators); dRealA, dRealB, dPoolA and dPoolB
// are the scores used for the discriminators' own loss (on real images and
// on fakes drawn from the image pool, without gradient to the generators).
func Objective(cfg Config, xA, xB *graph.Node, c *Cycles, dFakeA, dFakeB, dRealA, dRealB, dPoolA, dPoolB *graph.Node) *Losses {
	eps := cfg.OmegaEpsilon
	l := &Losses{}
	l.GAN = graph.MulScalar(graph.Add(GANGeneratorLoss(dFakeB), GANGeneratorLoss(dFakeA)), cfg.LambdaGAN)
	l.Cycle = graph.MulScalar(graph.Add(CycleLoss(c.TildeB.Output, xA), CycleLoss(c.TildeA.Output, xB)), cfg.LambdaCC)
	outside := InpaintOutsideLoss
	if cfg.InpaintLoss == "l1" {
		outside = InpaintOutsideL1Loss
	}
	vae := []*graph.Node{
		outside(c.HatA.Labelmap, c.HatA.Inpainting, xA, eps),
		times(outside(c.HatB.Labelmap, c.HatB.Inpainting, xB, eps), orOne(cfg.InpaintScaleB)),
		InpaintInsideLoss(c.TildeA.Labelmap, c.TildeA.Inpainting, xB, eps),
		InpaintInsideLoss(c.TildeB.Labelmap, c.TildeB.Inpainting, xA, eps),
		times(LabelmapBCELoss(c.TildeA.Logit, c.HatB.Labelmap), orOne(cfg.LabelCycleScaleA)),
		LabelmapBCELoss(c.TildeB.Logit, c.HatA.Labelmap),
	}
	l.VAE = graph.MulScalar(addN(vae...), cfg.LambdaVAE)
	if c.IdtA.Labelmap != nil {
		l.Identity = graph.MulScalar(graph.Add(IdentityLoss(c.IdtA.Labelmap), IdentityLoss(c.IdtB.Labelmap)), cfg.LambdaIdt)
	} else {
		l.Identity = graph.ScalarZero(xA.Graph(), xA.DType())
	}
	l.Relevancy = graph.MulScalar(graph.Add(RelevancyLoss(c.HatA, xA), graph.MulScalar(RelevancyLoss(c.HatB, xB), cfg.RelevancyScaleB)), cfg.LambdaR)
	kl := graph.Add(KLLoss(c.GammaMean, c.GammaLogVar), KLLoss(c.DeltaMean, c.DeltaLogVar))
	if cfg.KLGammaCycle {
		kl = graph.Add(kl, KLLoss(c.CycleGammaMean, c.CycleGammaLogVar))
	}
	l.KL = graph.MulScalar(kl, cfg.LambdaKL)
	l.Latent = graph.ScalarZero(xA.Graph(), xA.DType())
	if c.LatentMean != nil {
		l.Latent = graph.Add(l.Latent, graph.MulScalar(LatentLoss(c.LatentMean, c.DeltaPrior), cfg.LambdaLatent))
	}
	if c.HatA2.Labelmap != nil {
		l1, l2 := c.HatA.Labelmap, c.HatA2.Labelmap
		if k := cfg.DiversitySharpness; k > 1 {
			l1 = graph.Sigmoid(graph.MulScalar(c.HatA.Logit, k))
			l2 = graph.Sigmoid(graph.MulScalar(c.HatA2.Logit, k))
		}
		l.Latent = graph.Add(l.Latent, graph.MulScalar(DiversityLoss(l1, l2, c.DeltaPrior, c.DeltaPrior2, cfg.DiversityFloor), cfg.LambdaDiversity))
	}
	l.Generator = addN(l.GAN, l.Cycle, l.VAE, l.Identity, l.Relevancy, l.KL, l.Latent)
	l.DiscA = graph.MulScalar(GANDiscriminatorLoss(dRealA, dPoolA), cfg.DiscLossScale)
	l.DiscB = graph.MulScalar(GANDiscriminatorLoss(dRealB, dPoolB), cfg.DiscLossScale)
	return l
}

// AddInpaintGAN adds the adversarial term on GB's inpainting (Config.LambdaGANInpaint,
// not in the paper) to l: λ GANGeneratorLoss(DA(p̂B)) to the GAN term and the generator's
// total, and λ mean(DA(p̂B)²), scaled as DiscA is, to DA's loss. dInpaint is DA's score of
// p̂B with gradient to GB, dInpaintFake its score of the gradient-free p̂B.
func (l *Losses) AddInpaintGAN(cfg Config, dInpaint, dInpaintFake *graph.Node) {
	gen := graph.MulScalar(GANGeneratorLoss(dInpaint), cfg.LambdaGANInpaint)
	l.GAN = graph.Add(l.GAN, gen)
	l.Generator = graph.Add(l.Generator, gen)
	fake := graph.ReduceAllMean(graph.Square(dInpaintFake))
	l.DiscA = graph.Add(l.DiscA, graph.MulScalar(fake, cfg.LambdaGANInpaint*cfg.DiscLossScale))
}

// addN sums scalar nodes.
func addN(xs ...*graph.Node) *graph.Node {
	s := xs[0]
	for _, x := range xs[1:] {
		s = graph.Add(s, x)
	}
	return s
}
