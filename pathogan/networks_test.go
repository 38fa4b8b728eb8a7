package pathogan

import (
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// countParams sums the sizes of the variables under a scope.
func countParams(ctx *context.Context, scope string) int {
	n := 0
	ctx.EnumerateVariables(func(v *context.Variable) {
		if v.Scope() == "/"+scope || len(v.Scope()) > len(scope)+1 && v.Scope()[:len(scope)+2] == "/"+scope+"/" {
			n += v.Shape().Size()
		}
	})
	return n
}

// TestNetworkShapesAndParams builds the networks of each preset (graphs only,
// nothing runs) and checks every output shape and the parameter count of
// each network. The expected counts are those of the PyTorch reference
// (experiments/torchref/pathogan_step.py, written independently from the
// paper's section 2.4), counted with sum(p.numel()) for the same settings:
// the reference has section 2.4's four down-samplings and ZB, so the
// scaled-down presets are checked with downsamplings=4 and ZB's blocks at
// Size/4 (their own layout is checked by TestScaledPresetLayout and
// TestZBBlockScale).
func TestNetworkShapesAndParams(t *testing.T) {
	want := map[string][4]int{ // encoder, decoder EA, ZB, one discriminator
		"paper": {21227215, 20293000, 11387589, 2765761},
		"small": {116828, 319269, 181597, 44665},
		"mini":  {26862, 52797, 18609, 44665},
		"tiny":  {7056, 11365, 2795, 11581},
	}
	for name, w := range want {
		cfg, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Downsamplings, cfg.ZBBlockScale = 4, 4
		ctx := context.New()
		g := graph.NewGraph(testBackend(t), name)
		x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, 2, cfg.Size, cfg.Size, cfg.Channels))
		m := NewModel(ctx, cfg)
		mean, logVar := m.EncodeGammaA(x)
		dm, _ := m.EncodeDeltaB(graph.SliceAxis(x, 3, graph.AxisRange(0, 1)), x)
		r := Decoder(m.ctx.In(ScopeEA), cfg, mean, dm)
		rb := ResidualGeneratorB(m.ctx.In(ScopeZB), cfg, x)
		d := m.DiscriminatorA(x)
		m.DiscriminatorB(x)
		p := cfg.Size/8 - 2
		for _, c := range []struct {
			what string
			n    *graph.Node
			dims []int
		}{
			{"ΓA mean", mean, []int{2, cfg.Z}}, {"ΓA log-variance", logVar, []int{2, cfg.Z}},
			{"EA", r, []int{2, cfg.Size, cfg.Size, cfg.Channels + 1}},
			{"ZB", rb, []int{2, cfg.Size, cfg.Size, cfg.Channels + 1}},
			{"DA", d, []int{2, p, p, 1}},
		} {
			if !c.n.Shape().Equal(shapes.Make(dtypes.Float32, c.dims...)) {
				t.Errorf("%s: %s output %s, want %v", name, c.what, c.n.Shape(), c.dims)
			}
		}
		got := [4]int{countParams(ctx, ScopeGammaA), countParams(ctx, ScopeEA), countParams(ctx, ScopeZB), countParams(ctx, ScopeDA)}
		if got != w || countParams(ctx, ScopeDeltaB) != w[0] || countParams(ctx, ScopeDB) != w[3] {
			t.Errorf("%s: parameters (ΓA, EA, ZB, DA) = %v, want %v (∆B %d, DB %d)", name, got, w, countParams(ctx, ScopeDeltaB), countParams(ctx, ScopeDB))
		}
		g.Finalize()
	}
}

// TestScaledPresetLayout checks that every preset keeps the paper's
// bottleneck structure at its size: EA's layout map is at least 8×8 (the
// paper's 15×15 at 240 px), ΓA's output is z long, and EA's residual blocks
// run at Size/4 as section 2.4's ZB's do. The paper preset keeps section 2.4 exactly.
func TestScaledPresetLayout(t *testing.T) {
	for name, f := range Presets {
		cfg := f()
		if cfg.I() < 8 {
			t.Errorf("%s: layout map %d×%d, want at least 8×8", name, cfg.I(), cfg.I())
		}
		ctx := context.New()
		g := graph.NewGraph(testBackend(t), name)
		x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, 1, cfg.Size, cfg.Size, cfg.Channels))
		m := NewModel(ctx, cfg)
		mean, _ := m.EncodeGammaA(x)
		r := Decoder(m.ctx.In(ScopeEA), cfg, mean, mean)
		if mean.Shape().Dimensions[1] != cfg.Z || r.Shape().Dimensions[1] != cfg.Size {
			t.Errorf("%s: γA %s, EA output %s", name, mean.Shape(), r.Shape())
		}
		res := 0
		ctx.EnumerateVariables(func(v *context.Variable) {
			if v.Scope() == "/"+ScopeEA+"/r0/conv_0" && v.Name() == "weights" {
				res = v.Shape().Dimensions[3]
			}
		})
		if res != 4*cfg.Base {
			t.Errorf("%s: EA's residual blocks have %d channels, want 4b = %d", name, res, 4*cfg.Base)
		}
		g.Finalize()
	}
	p, _ := Preset("paper")
	if p.Downs() != 4 || p.DenseInit != "" || p.LogVarOffset != 0 || p.LambdaLatent != 0 || p.LambdaIdt != 1 || p.Section24() != p {
		t.Errorf("paper preset departs from section 2.4: %+v", p)
	}
	if s, _ := Preset("small"); s.Section24() == s || s.Section24() != withDefaults("small", 64, 8, 32, 9, 8) {
		t.Errorf("small preset: Section24 does not undo what scaled changes: %+v", s.Section24())
	}
}

// TestZBBlockScale: ZB keeps its output shape at every zb_block_scale and
// runs its residual blocks at Size/scale with width 4b/scale.
func TestZBBlockScale(t *testing.T) {
	for _, c := range []struct{ scale, side, width int }{{0, 16, 32}, {4, 16, 32}, {2, 32, 16}, {1, 64, 8}} {
		cfg, _ := Preset("small")
		cfg.ZBBlockScale = c.scale
		if err := cfg.Validate(); err != nil {
			t.Fatalf("zb_block_scale %d: %v", c.scale, err)
		}
		ctx := context.New()
		g := graph.NewGraph(testBackend(t), "zb")
		x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, 1, cfg.Size, cfg.Size, cfg.Channels))
		rb := ResidualGeneratorB(ctx.In(ScopeZB), cfg, x)
		if !rb.Shape().Equal(shapes.Make(dtypes.Float32, 1, cfg.Size, cfg.Size, cfg.R())) {
			t.Errorf("zb_block_scale %d: ZB output %s", c.scale, rb.Shape())
		}
		width, downs := 0, 0
		ctx.EnumerateVariables(func(v *context.Variable) {
			if v.Scope() == "/"+ScopeZB+"/r0/conv_0" && v.Name() == "weights" {
				width = v.Shape().Dimensions[3]
			}
			if strings.HasPrefix(v.Scope(), "/"+ScopeZB+"/d") && v.Name() == "weights" {
				downs++
			}
		})
		if side := cfg.Size >> downs; side != c.side || width != c.width {
			t.Errorf("zb_block_scale %d: residual blocks %d×%d×%d, want %d×%d×%d", c.scale, side, side, width, c.side, c.side, c.width)
		}
		g.Finalize()
	}
	cfg, _ := Preset("small")
	for _, bad := range []int{-1, 3, 8} {
		cfg.ZBBlockScale = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "zb_block_scale") {
			t.Errorf("zb_block_scale %d: error %v, want one naming it", bad, err)
		}
	}
	cfg.ZBBlockScale, cfg.InpaintScaleB, cfg.LambdaGANInpaint = 2, 4, 1
	if s := cfg.Section24(); s.ZBBlockScale != 0 || s.InpaintScaleB != 0 || s.LambdaGANInpaint != 0 {
		t.Errorf("Section24 keeps zb_block_scale %d, inpaint_scale_b %g, lambda_gan_inpaint %g", s.ZBBlockScale, s.InpaintScaleB, s.LambdaGANInpaint)
	}
	cfg.InpaintScaleB = -1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "inpaint_scale_b") {
		t.Errorf("inpaint_scale_b -1: error %v, want one naming it", err)
	}
}

// TestPresets checks the presets' sizes and that every preset validates.
func TestPresets(t *testing.T) {
	for name, f := range Presets {
		c := f()
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if c.Preset != name {
			t.Errorf("%s: Preset field %q", name, c.Preset)
		}
	}
	p, _ := Preset("paper")
	if p.Size != 240 || p.I() != 15 || p.Z != 256 || p.Base != 64 || p.ResBlocks != 9 || p.R() != 5 {
		t.Errorf("paper preset: %+v", p)
	}
	if p.LambdaKL != 0.1 || p.LambdaR != 0.5 || p.LambdaIdt != 1 || p.LambdaCC != 5 || p.LambdaVAE != 1 {
		t.Errorf("paper loss weights: %+v", p)
	}
	if _, err := Preset("huge"); err == nil {
		t.Error("unknown preset: no error")
	}
	c := p
	if err := c.ApplySettings("lambda_r=0.25; size=48;augment=false"); err != nil || c.LambdaR != 0.25 || c.Size != 48 || c.Augment {
		t.Errorf("ApplySettings: %v %+v", err, c)
	}
	if err := c.ApplySettings("size=50"); err != nil || c.Validate() == nil {
		t.Error("size 50 should fail validation")
	}
	if err := c.ApplySettings("nope=1"); err == nil {
		t.Error("unknown key: no error")
	}
}
