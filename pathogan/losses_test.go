package pathogan

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// evalScalar builds f on constant inputs and returns its value.
func evalScalar(t *testing.T, f func(g *graph.Graph) *graph.Node) float64 {
	t.Helper()
	out := execN(t, func(g *graph.Graph) []*graph.Node { return []*graph.Node{f(g)} })
	return float64(tensors.ToScalar[float32](out[0]))
}

// execN builds and runs a graph with no inputs on the test backend.
func execN(t *testing.T, f func(g *graph.Graph) []*graph.Node) []*tensors.Tensor {
	t.Helper()
	e, err := graph.NewExec(testBackend(t), f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Exec()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// img makes a [1, h, w, 1] constant from values.
func img(g *graph.Graph, h, w int, v ...float32) *graph.Node {
	return graph.Const(g, tensors.FromFlatDataAndDimensions(v, 1, h, w, 1))
}

func vec(g *graph.Graph, v ...float32) *graph.Node {
	return graph.Const(g, tensors.FromFlatDataAndDimensions(v, len(v)))
}

// TestLossValues checks each loss term against values worked out by hand
// (the working is in each case's comment).
func TestLossValues(t *testing.T) {
	ln := func(x float32) float32 { return float32(math.Log(float64(x))) }
	cases := []struct {
		name string
		f    func(g *graph.Graph) *graph.Node
		want float64
	}{
		// mean((0.5-1)², (1-1)², (0-1)²) = (0.25 + 0 + 1) / 3
		{"GANGeneratorLoss", func(g *graph.Graph) *graph.Node { return GANGeneratorLoss(vec(g, 0.5, 1, 0)) }, 1.25 / 3},
		// mean((1-1)², (0-1)²) + mean(0.5², 0²) = 0.5 + 0.125
		{"GANDiscriminatorLoss", func(g *graph.Graph) *graph.Node {
			return GANDiscriminatorLoss(vec(g, 1, 0), vec(g, 0.5, 0))
		}, 0.625},
		// mean(|0|, |2|, |-3|) = 5/3
		{"CycleLoss", func(g *graph.Graph) *graph.Node { return CycleLoss(vec(g, 1, 2, 3), vec(g, 1, 0, 6)) }, 5.0 / 3},
		// mean(|0.5-1|, |-1-0|) = 0.75
		{"LatentLoss", func(g *graph.Graph) *graph.Node { return LatentLoss(vec(g, 0.5, -1), vec(g, 1, 0)) }, 0.75},
		// mean|l1-l2| = mean(0.2, 0) = 0.1, mean|δ1-δ2| = mean(2, 2) = 2: r = 0.05;
		// floor 0.1: log(0.1 / 0.0501) = 0.69115
		{"DiversityLoss", func(g *graph.Graph) *graph.Node {
			return DiversityLoss(vec(g, 0.3, 0.5), vec(g, 0.1, 0.5), vec(g, 1, -1), vec(g, -1, 1), 0.1)
		}, math.Log(0.1 / 0.0501)},
		// r = 0.05 above the floor 0.01: 0
		{"DiversityLoss above the floor", func(g *graph.Graph) *graph.Node {
			return DiversityLoss(vec(g, 0.3, 0.5), vec(g, 0.1, 0.5), vec(g, 1, -1), vec(g, -1, 1), 0.01)
		}, 0},
		// terms 1+lv-μ²-e^lv: (1+0-0-1) = 0 and (1+ln2-1-2) = ln2-2; -1/2 · mean = -(ln2-2)/4
		{"KLLoss", func(g *graph.Graph) *graph.Node { return KLLoss(vec(g, 0, 1), vec(g, 0, ln(2))) }, -(math.Ln2 - 2) / 4},
		// l = [0, .5, 1, .25], p-x = [1, 2, 3, 4]: (1-l)(p-x) = [1, 1, 0, 3], Σ² = 11; Σ(1-l)+1 = 3.25
		{"InpaintOutsideLoss", func(g *graph.Graph) *graph.Node {
			return InpaintOutsideLoss(img(g, 2, 2, 0, 0.5, 1, 0.25), img(g, 2, 2, 1, 2, 3, 4), img(g, 2, 2, 0, 0, 0, 0), 1)
		}, 11 / 3.25},
		// the same with the absolute error: Σ|(1-l)(p-x)| = 5; Σ(1-l)+1 = 3.25
		{"InpaintOutsideL1Loss", func(g *graph.Graph) *graph.Node {
			return InpaintOutsideL1Loss(img(g, 2, 2, 0, 0.5, 1, 0.25), img(g, 2, 2, 1, 2, 3, 4), img(g, 2, 2, 0, 0, 0, 0), 1)
		}, 5 / 3.25},
		// l(p-x) = [0, 1, 3, 1], Σ² = 11; Σl+1 = 2.75
		{"InpaintInsideLoss", func(g *graph.Graph) *graph.Node {
			return InpaintInsideLoss(img(g, 2, 2, 0, 0.5, 1, 0.25), img(g, 2, 2, 1, 2, 3, 4), img(g, 2, 2, 0, 0, 0, 0), 1)
		}, 11 / 2.75},
		// l̃ = S([0, ln3]) = [.5, .75], targets [1, .5]: -ln .5 and -(.5 ln .75 + .5 ln .25); mean
		{"LabelmapBCELoss", func(g *graph.Graph) *graph.Node {
			return LabelmapBCELoss(img(g, 1, 2, 0, ln(3)), img(g, 1, 2, 1, 0.5))
		}, (math.Ln2 - 0.5*(math.Log(0.75)+math.Log(0.25))) / 2},
		{"IdentityLoss", func(g *graph.Graph) *graph.Node { return IdentityLoss(img(g, 1, 2, 0.2, 0.4)) }, 0.3},
		// l = [.5, .75]: mean(-ln(1-.25), -ln(1-.5625)) minus (.5·2 + .75·4) / (.5 + .75)
		{"RelevancyLoss", func(g *graph.Graph) *graph.Node {
			logit := img(g, 1, 2, 0, ln(3))
			gen := Generated{Logit: logit, Labelmap: graph.Sigmoid(logit), Inpainting: img(g, 1, 2, -1, 3)}
			return RelevancyLoss(gen, img(g, 1, 2, 1, -1))
		}, (-math.Log(0.75)-math.Log(0.4375))/2 - 4/1.25},
	}
	for i, c := range cases {
		got := evalScalar(t, c.f)
		if math.Abs(got-c.want) > 1e-5*math.Max(1, math.Abs(c.want)) {
			t.Errorf("case %d %s = %.7f, want %.7f", i, c.name, got, c.want)
		}
	}
}

// gradients returns d loss / d inputs for constant inputs.
func gradients(t *testing.T, f func(g *graph.Graph) (loss *graph.Node, wrt []*graph.Node)) [][]float32 {
	t.Helper()
	out := execN(t, func(g *graph.Graph) []*graph.Node {
		loss, wrt := f(g)
		return graph.Gradient(loss, wrt...)
	})
	res := make([][]float32, len(out))
	for i, o := range out {
		res[i] = tensors.MustCopyFlatData[float32](o)
	}
	return res
}

// TestStopGradients checks that the terms the paper holds constant pass no
// gradient: ω1 in eq. 11, ω2 in eq. 12, l̂Y in eq. 13, (x - p) in eq. 15.
func TestStopGradients(t *testing.T) {
	// Eq. 11: d/dl of Σ(1-l)²d² / const = -2(1-l)d² / 3.25; at pixel 0 (l=0, d=1):
	// -2/3.25. Were ω1 not constant, + 11/3.25² would be added.
	g := gradients(t, func(g *graph.Graph) (*graph.Node, []*graph.Node) {
		l := img(g, 2, 2, 0, 0.5, 1, 0.25)
		return InpaintOutsideLoss(l, img(g, 2, 2, 1, 2, 3, 4), img(g, 2, 2, 0, 0, 0, 0), 1), []*graph.Node{l}
	})
	if want := -2 / 3.25; math.Abs(float64(g[0][0])-want) > 1e-5 {
		t.Errorf("eq. 11: dL/dl[0] = %v, want %v (ω1 held constant)", g[0][0], want)
	}
	// Eq. 12: d/dl of Σ l²d² / const = 2 l d² / 2.75; at pixel 1 (l=.5, d=2): 4/2.75.
	g = gradients(t, func(g *graph.Graph) (*graph.Node, []*graph.Node) {
		l := img(g, 2, 2, 0, 0.5, 1, 0.25)
		return InpaintInsideLoss(l, img(g, 2, 2, 1, 2, 3, 4), img(g, 2, 2, 0, 0, 0, 0), 1), []*graph.Node{l}
	})
	if want := 4 / 2.75; math.Abs(float64(g[0][1])-want) > 1e-5 {
		t.Errorf("eq. 12: dL/dl[1] = %v, want %v (ω2 held constant)", g[0][1], want)
	}
	// Eq. 13: no gradient into the target l̂Y; into the logit: (S(x) - target)/N.
	g = gradients(t, func(g *graph.Graph) (*graph.Node, []*graph.Node) {
		logit, target := img(g, 1, 2, 0, 0), img(g, 1, 2, 1, 0.5)
		return LabelmapBCELoss(logit, target), []*graph.Node{target, logit}
	})
	if g[0][0] != 0 || g[0][1] != 0 {
		t.Errorf("eq. 13: gradient into l̂Y = %v, want 0", g[0])
	}
	if math.Abs(float64(g[1][0])+0.25) > 1e-6 || math.Abs(float64(g[1][1])) > 1e-6 {
		t.Errorf("eq. 13: gradient into the logit = %v, want [-0.25 0]", g[1])
	}
	// Eq. 15: no gradient into the inpainting (x - p is constant).
	g = gradients(t, func(g *graph.Graph) (*graph.Node, []*graph.Node) {
		logit := img(g, 1, 2, 0, 1)
		p := img(g, 1, 2, -1, 3)
		gen := Generated{Logit: logit, Labelmap: graph.Sigmoid(logit), Inpainting: p}
		return RelevancyLoss(gen, img(g, 1, 2, 1, -1)), []*graph.Node{p, logit}
	})
	if g[0][0] != 0 || g[0][1] != 0 {
		t.Errorf("eq. 15: gradient into p = %v, want 0", g[0])
	}
	if g[1][0] == 0 || g[1][1] == 0 {
		t.Errorf("eq. 15: no gradient into the labelmap: %v", g[1])
	}
}

// TestCompose checks eq. 6 on one pixel by hand: r = [0, atanh(.5)], x = -1:
// l = .5, p = .5, y = .5·.5 + .5·(-1) = -.25; with ε = ln 3, l = .75.
func TestCompose(t *testing.T) {
	out := execN(t, func(g *graph.Graph) []*graph.Node {
		r := graph.Const(g, tensors.FromFlatDataAndDimensions([]float32{0, float32(math.Atanh(0.5))}, 1, 1, 1, 2))
		x := img(g, 1, 1, -1)
		a := Compose(r, x, nil)
		b := Compose(r, x, img(g, 1, 1, float32(math.Log(3))))
		return []*graph.Node{a.Labelmap, a.Inpainting, a.Output, b.Labelmap, b.Output}
	})
	want := []float64{0.5, 0.5, -0.25, 0.75, 0.75*0.5 - 0.25}
	for i, o := range out {
		if got := float64(tensors.MustCopyFlatData[float32](o)[0]); math.Abs(got-want[i]) > 1e-6 {
			t.Errorf("output %d = %v, want %v", i, got, want[i])
		}
	}
}

// TestRelevancyScaleB: relevancy_scale_b multiplies GB's relevancy term
// only. On one batch at initialisation (the first step's losses are taken
// before any update), the relevancy loss is λR·(R_A + s·R_B): linear in s,
// with GA's part left at s = 0, and no other term changes.
func TestRelevancyScaleB(t *testing.T) {
	rel := map[float64][]float64{}
	for _, s := range []float64{0, 1, 3} {
		rel[s] = firstStepLosses(t, func(c *Config) { c.RelevancyScaleB = s })
	}
	r := slices.Index(LossNames, "relevancy")
	r0, r1, r3 := rel[0][r], rel[1][r], rel[3][r]
	if math.Abs(r0) < 1e-4 {
		t.Errorf("relevancy at scale 0 = %g: GA's term should remain", r0)
	}
	if math.Abs((r3-r1)-2*(r1-r0)) > 1e-4*(1+math.Abs(r1)) || math.Abs(r1-r0) < 1e-5 {
		t.Errorf("relevancy at scales 0, 1, 3: %g, %g, %g; want linear in the scale", r0, r1, r3)
	}
	for i, name := range LossNames {
		if name == "relevancy" || name == "generator" {
			continue
		}
		if rel[0][i] != rel[3][i] {
			t.Errorf("%s changed with the scale: %g vs %g", name, rel[0][i], rel[3][i])
		}
	}
}

// TestVAETermScales: inpaint_scale_b and label_cycle_scale_a each multiply
// one term of eq. 10 only (GB's eq. 11, the B → A → B eq. 13). On the first
// step the VAE loss is λVAE·(rest + s·E): linear in s, with the other terms
// left at s = 0, 0 read as 1, and no other loss changed.
func TestVAETermScales(t *testing.T) {
	for _, f := range []struct {
		name string
		set  func(*Config, float64)
	}{
		{"inpaint_scale_b", func(c *Config, s float64) { c.InpaintScaleB = s }},
		{"label_cycle_scale_a", func(c *Config, s float64) { c.LabelCycleScaleA = s }},
	} {
		vae := map[float64][]float64{}
		for _, s := range []float64{1e-12, 0, 1, 3} {
			vae[s] = firstStepLosses(t, func(c *Config) { f.set(c, s) })
		}
		v := slices.Index(LossNames, "vae")
		v0, v1, v3 := vae[1e-12][v], vae[1][v], vae[3][v]
		if math.Abs(v0) < 1e-4 || math.Abs(v1-v0) < 1e-4 {
			t.Errorf("%s: vae at scales ~0 and 1 = %g, %g: want the other terms left and the scaled one added", f.name, v0, v1)
		}
		if math.Abs((v3-v1)-2*(v1-v0)) > 1e-4*(1+math.Abs(v1)) {
			t.Errorf("%s: vae at scales 0, 1, 3: %g, %g, %g; want linear in the scale", f.name, v0, v1, v3)
		}
		if vae[0][v] != v1 {
			t.Errorf("%s: vae at scale 0 = %g, at 1 = %g: 0 should read as 1", f.name, vae[0][v], v1)
		}
		for i, name := range LossNames {
			if name == "vae" || name == "generator" {
				continue
			}
			if vae[1e-12][i] != vae[3][i] {
				t.Errorf("%s: %s changed with the scale: %g vs %g", f.name, name, vae[1e-12][i], vae[3][i])
			}
		}
		cfg, _ := Preset("small")
		for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
			f.set(&cfg, bad)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), f.name) {
				t.Errorf("%s %g: error %v, want one naming it", f.name, bad, err)
			}
		}
		f.set(&cfg, 4)
		if s := cfg.Section24(); s.InpaintScaleB != 0 || s.LabelCycleScaleA != 0 {
			t.Errorf("Section24 keeps %s", f.name)
		}
	}
}

// TestLambdaGANInpaint: the adversarial term on p̂B adds a positive amount to
// the GAN term and to DA's loss on the first step, and changes no other term.
func TestLambdaGANInpaint(t *testing.T) {
	losses := map[float64][]float64{}
	for _, w := range []float64{0, 2} {
		losses[w] = firstStepLosses(t, func(c *Config) { c.LambdaGANInpaint = w })
	}
	for i, name := range LossNames {
		added := losses[2][i] - losses[0][i]
		switch name {
		case "gan", "generator", "disc_a":
			if !(added > 1e-6) {
				t.Errorf("%s without and with lambda_gan_inpaint: %g, %g; want a positive addition", name, losses[0][i], losses[2][i])
			}
		default:
			if added != 0 {
				t.Errorf("%s changed with lambda_gan_inpaint: %g vs %g", name, losses[0][i], losses[2][i])
			}
		}
	}
}

// TestKLGammaCycle: the option adds ΓA(ŷA)'s KL, a positive amount, to the
// KL term (and the generator's total) and changes no other term of the
// first step.
func TestKLGammaCycle(t *testing.T) {
	losses := map[bool][]float64{}
	for _, on := range []bool{false, true} {
		losses[on] = firstStepLosses(t, func(c *Config) { c.KLGammaCycle = on })
	}
	k := slices.Index(LossNames, "kl")
	if added := losses[true][k] - losses[false][k]; !(added > 1e-7) {
		t.Errorf("kl without and with kl_gamma_cycle: %g, %g; want a positive addition", losses[false][k], losses[true][k])
	}
	for i, name := range LossNames {
		if name == "kl" || name == "generator" {
			continue
		}
		if losses[false][i] != losses[true][i] {
			t.Errorf("%s changed with kl_gamma_cycle: %g vs %g", name, losses[false][i], losses[true][i])
		}
	}
}

// firstStepLosses returns the losses (LossNames' order) of one training step
// of the tiny preset, changed by set, on fixed random batches.
func firstStepLosses(t *testing.T, set func(*Config)) []float64 {
	t.Helper()
	cfg, _ := Preset("tiny")
	cfg.Batch, cfg.PoolSize = 2, 3
	set(&cfg)
	tr, err := NewTrainer(testBackend(t), cfg, 10)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tr.Step(randomBatch(cfg, 1), randomBatch(cfg, 2))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestDiversitySharpness: diversity_sharpness changes the mode-seeking term
// (logged in "latent") and nothing else on the first step; 0 reads as 1; a
// value below 1 is refused with its name.
func TestDiversitySharpness(t *testing.T) {
	losses := map[float64][]float64{}
	for _, k := range []float64{0, 1, 4} {
		// a floor out of reach keeps the term active, so it depends on the labelmaps
		losses[k] = firstStepLosses(t, func(c *Config) { c.LambdaDiversity, c.DiversityFloor, c.DiversitySharpness = 1, 10, k })
	}
	if !slices.Equal(losses[0], losses[1]) {
		t.Errorf("sharpness 0 and 1: %v, %v; 0 should read as 1", losses[0], losses[1])
	}
	for i, name := range LossNames {
		switch name {
		case "latent", "generator":
			if losses[4][i] == losses[1][i] {
				t.Errorf("%s at sharpness 1 and 4: both %g; want the sharper labelmaps to change it", name, losses[1][i])
			}
		default:
			if losses[4][i] != losses[1][i] {
				t.Errorf("%s changed with the sharpness: %g vs %g", name, losses[1][i], losses[4][i])
			}
		}
	}
	cfg, _ := Preset("small")
	for _, bad := range []float64{-1, 0.5, math.NaN(), math.Inf(1)} {
		cfg.DiversitySharpness = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "diversity_sharpness") {
			t.Errorf("diversity_sharpness %g: error %v, want one naming it", bad, err)
		}
	}
	cfg.DiversitySharpness = 4
	if cfg.Section24().DiversitySharpness != 0 {
		t.Error("Section24 keeps diversity_sharpness")
	}
}
