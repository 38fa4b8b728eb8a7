package mdgru

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
	"github.com/pathogan-go/pathogan/pathogan/supervised"
)

func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, _, err := backend.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// layerLoss builds Σ Layer(x) ⊙ weights for a fixed pseudo-random weighting,
// the scalar whose gradients the tests check.
func layerLoss(ctx *context.Context, x *graph.Node, hidden, k int, dropConnect float64) *graph.Node {
	out := Layer(ctx.In("layer"), x, hidden, k, k, dropConnect)
	r := rand.New(rand.NewPCG(7, 8))
	w := make([]float64, out.Shape().Size())
	for i := range w {
		w[i] = r.NormFloat64()
	}
	return graph.ReduceAllSum(graph.Mul(out, graph.Reshape(graph.Const(out.Graph(), w), out.Shape().Dimensions...)))
}

// TestCGRUGradient compares the gradients of an MD-GRU layer (four C-GRUs
// over a 6×6 float64 slice, kernels 3) with respect to its input and to
// each of its variables against central finite differences.
func TestCGRUGradient(t *testing.T) {
	b := testBackend(t)
	const s, cin, hidden, k = 6, 2, 3, 3
	r := rand.New(rand.NewPCG(1, 2))
	xv := make([]float64, s*s*cin)
	for i := range xv {
		xv[i] = r.NormFloat64()
	}
	ctx := context.New()
	lossExec := context.MustNewExec(b, ctx, func(ctx *context.Context, x *graph.Node) *graph.Node {
		return layerLoss(ctx, x, hidden, k, 0)
	})
	loss := func(x []float64) float64 {
		out := lossExec.MustExec(tensors.FromFlatDataAndDimensions(x, 1, s, s, cin))
		return tensors.ToScalar[float64](out[0])
	}
	_ = loss(xv) // creates the variables
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		if v.Trainable {
			vars = append(vars, v)
		}
	}
	if len(vars) != 3 {
		t.Fatalf("%d variables, want wx, wh and bias", len(vars))
	}
	gradExec := context.MustNewExec(b, ctx.Reuse(), func(ctx *context.Context, x *graph.Node) []*graph.Node {
		l := layerLoss(ctx, x, hidden, k, 0)
		nodes := []*graph.Node{x}
		for _, v := range vars {
			nodes = append(nodes, v.ValueGraph(x.Graph()))
		}
		return graph.Gradient(l, nodes...)
	})
	grads := gradExec.MustExec(tensors.FromFlatDataAndDimensions(xv, 1, s, s, cin))
	const eps = 1e-5
	check := func(name string, analytic []float64, perturb func(i int, d float64)) {
		for trial := range 12 {
			i := (trial*7919 + 13) % len(analytic)
			perturb(i, eps)
			up := loss(xv)
			perturb(i, -2*eps)
			down := loss(xv)
			perturb(i, eps)
			numeric := (up - down) / (2 * eps)
			if d := math.Abs(numeric - analytic[i]); d > 1e-6*math.Max(1, math.Abs(numeric)) {
				t.Errorf("%s[%d]: gradient %.9g, finite difference %.9g", name, i, analytic[i], numeric)
			}
		}
	}
	check("x", tensors.MustCopyFlatData[float64](grads[0]), func(i int, d float64) { xv[i] += d })
	for j, v := range vars {
		val := tensors.MustCopyFlatData[float64](v.MustValue())
		dims := v.Shape().Dimensions
		check(v.Name(), tensors.MustCopyFlatData[float64](grads[j+1]), func(i int, d float64) {
			val[i] += d
			v.MustSetValue(tensors.FromFlatDataAndDimensions(val, dims...))
		})
	}
}

// TestDirections: each of a layer's four C-GRUs carries information along
// the whole slice in its own direction and never against it. A pixel at the
// start of a column (row) changes that C-GRU's output at the far end; a
// pixel in the middle leaves its outputs before that pixel, in running
// order, unchanged. (A C-GRU fed its input in the wrong order, or whose
// output were left in its running order, fails one or the other.)
func TestDirections(t *testing.T) {
	b := testBackend(t)
	const s, hidden, k = 12, 4, 3
	ctx := context.New()
	e := context.MustNewExec(b, ctx, func(ctx *context.Context, x *graph.Node) []*graph.Node {
		return cgrus(ctx.In("layer"), x, hidden, k, k, 0)
	})
	base := make([]float32, s*s)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range base {
		base[i] = float32(r.NormFloat64())
	}
	run := func(x []float32) [][]float32 {
		var out [][]float32
		for _, o := range e.MustExec(tensors.FromFlatDataAndDimensions(x, 1, s, s, 1)) {
			out = append(out, tensors.MustCopyFlatData[float32](o))
		}
		return out
	}
	ref := run(base)
	// change returns the largest change of direction d's output at (i, j).
	change := func(out [][]float32, d, i, j int) float64 {
		var m float64
		for h := range hidden {
			k := (i*s+j)*hidden + h
			m = math.Max(m, math.Abs(float64(out[d][k]-ref[d][k])))
		}
		return m
	}
	perturb := func(i, j int) [][]float32 {
		x := append([]float32(nil), base...)
		x[i*s+j] += 3
		return run(x)
	}
	const col, mid = 5, 6
	// pos maps a position along direction d's axis to (row, column) on line col.
	pos := func(d, t int) (int, int) {
		if d < 2 {
			return t, col
		}
		return col, t
	}
	for d, name := range []string{"down the rows", "up the rows", "right along a row", "left along a row"} {
		start, end := 0, s-1
		if d%2 == 1 {
			start, end = s-1, 0
		}
		i, j := pos(d, start)
		fi, fj := pos(d, end)
		if c := change(perturb(i, j), d, fi, fj); c < 1e-4 {
			t.Errorf("%s: pixel (%d, %d) changed the output at (%d, %d) by %.2g, want a change", name, i, j, fi, fj, c)
		}
		mi, mj := pos(d, mid)
		out := perturb(mi, mj)
		for tt := range s {
			before := (d%2 == 0 && tt < mid) || (d%2 == 1 && tt > mid)
			oi, oj := pos(d, tt)
			c := change(out, d, oi, oj)
			if before && c != 0 {
				t.Errorf("%s: pixel (%d, %d) changed the output at (%d, %d), before it, by %.2g", name, mi, mj, oi, oj, c)
			}
			if !before && c < 1e-4 {
				t.Errorf("%s: pixel (%d, %d) left the output at (%d, %d), after it, unchanged", name, mi, mj, oi, oj)
			}
		}
	}
}

// TestLearnsDiscs trains the tiny MDGRU on bright discs and checks that it
// segments new ones (Dice > 0.8), that the loss fell, and that a saved and
// reloaded model segments as the trainer's variables do.
func TestLearnsDiscs(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	cfg, _ := Preset("tiny")
	if err := cfg.ApplySettings(os.Getenv("MDGRU_SET")); err != nil {
		t.Fatal(err)
	}
	b := testBackend(t)
	const steps = 150
	tr, err := supervised.NewTrainer(b, cfg, steps)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var first, last float64
	for i := range steps {
		x, y := supervised.DiscBatch(r, cfg.Size, cfg.Channels, cfg.Batch)
		l, err := tr.Step(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if i < 10 {
			first += l[0] / 10
		}
		if i >= steps-10 {
			last += l[0] / 10
		}
	}
	t.Logf("loss %.3f -> %.3f", first, last)
	if !(last < 0.5*first) {
		t.Errorf("loss (mean of 10 steps) %.3f -> %.3f: want half off at least", first, last)
	}
	dir := t.TempDir()
	if _, err := tr.Save(filepath.Join(dir, "checkpoints"), 0); err != nil {
		t.Fatal(err)
	}
	m, err := LoadInference(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Step != steps || m.Cfg.Preset != "tiny" {
		t.Errorf("loaded step %d preset %q, want %d and tiny", m.Step, m.Cfg.Preset, steps)
	}
	x, y := supervised.DiscBatch(r, cfg.Size, cfg.Channels, 8)
	p, err := m.Segment(x)
	if err != nil {
		t.Fatal(err)
	}
	px := cfg.Size * cfg.Size
	var s metrics.Summary
	for k := range 8 {
		s.Add(metrics.Dice(metrics.Threshold(p[k*px:(k+1)*px], 0.5), y[k*px:(k+1)*px]))
	}
	t.Logf("Dice on new discs %s", s.String())
	if s.Mean() < 0.8 {
		t.Errorf("Dice on new discs %s, want mean > 0.8", s.String())
	}
}

func TestConfig(t *testing.T) {
	for name := range Presets {
		cfg, err := Preset(name)
		if err != nil || cfg.Validate() != nil {
			t.Errorf("preset %s: %v / %v", name, err, cfg.Validate())
		}
	}
	cfg, _ := Preset("paper")
	if fmtInts(cfg.Hidden) != "16,32,64" || fmtInts(cfg.FC) != "25,45" || cfg.FilterX != 7 || cfg.FilterH != 7 ||
		cfg.Optimizer != OptAdadelta || cfg.LearningRate != 1 || cfg.Rho != 0.9 || cfg.Batch != 4 || cfg.DropConnect != 0.5 {
		t.Errorf("paper preset %+v: want the reference's defaults", cfg)
	}
	if err := cfg.Set("optimizer", "sgd"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "adadelta") {
		t.Errorf("optimizer sgd: %v, want an error naming the choices", err)
	}
	cfg, _ = Preset("small")
	cfg.FilterX = 4
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "odd") {
		t.Errorf("filter 4: %v, want an odd-size error", err)
	}
	if _, err := Preset("huge"); err == nil || !strings.Contains(err.Error(), "small") {
		t.Errorf("Preset(huge): %v, want the known names", err)
	}
}

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = string(rune('0'+x/10)) + string(rune('0'+x%10))
		s[i] = strings.TrimLeft(s[i], "0")
	}
	return strings.Join(s, ",")
}

// TestAdadelta: three steps of Adadelta on f(w) = Σ (w - 3)² match the
// update rule computed by hand in float64.
func TestAdadelta(t *testing.T) {
	b := testBackend(t)
	ctx := context.New()
	opt := Adadelta{Rho: 0.9, Epsilon: 1e-6}
	start := []float64{0, 5}
	e := context.MustNewExec(b, ctx, func(ctx *context.Context, dummy *graph.Node) *graph.Node {
		w := ctx.WithInitializer(func(g *graph.Graph, _ shapes.Shape) *graph.Node { return graph.Const(g, start) }).
			VariableWithShape("w", shapes.Make(dtypes.Float64, 2)).ValueGraph(dummy.Graph())
		loss := graph.ReduceAllSum(graph.Square(graph.AddScalar(w, -3)))
		opt.UpdateGraph(ctx, dummy.Graph(), loss)
		return loss
	})
	w, g2, d2 := append([]float64(nil), start...), make([]float64, 2), make([]float64, 2)
	for step := range 3 {
		e.MustExec(tensors.FromScalar(float64(0)))
		for i := range w {
			g := 2 * (w[i] - 3)
			g2[i] = 0.9*g2[i] + 0.1*g*g
			dx := math.Sqrt(d2[i]+1e-6) / math.Sqrt(g2[i]+1e-6) * g
			d2[i] = 0.9*d2[i] + 0.1*dx*dx
			w[i] -= dx
		}
		var got []float64
		for v := range ctx.IterVariables() {
			if v.Name() == "w" {
				got = tensors.MustCopyFlatData[float64](v.MustValue())
			}
		}
		for i := range w {
			if math.Abs(got[i]-w[i]) > 1e-12 {
				t.Fatalf("step %d: w = %v, want %v", step+1, got, w)
			}
		}
	}
	if !(w[0] > start[0] && w[1] < start[1]) {
		t.Errorf("w %v: want both moved towards 3 from %v", w, start)
	}
}
