package pathogan

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	pgrad "github.com/pathogan-go/pathogan/pathogan/internal/gradients"
)

// TestStepHasNoZeroInsertingConvs builds the training step of the paper preset (section 2.4's
// networks, transposed up-sampling in EA and ZB, at 240 px; base 8 instead of 64, which changes
// only the widths) on the Go backend, without running it, and checks that none of its convolutions is one that XLA's GPU compiler
// runs on a zero-inserted copy of its input (gradients.ZeroInsertingConvs): each transposed
// convolution's kernel gradient must be in the backward-filter form.
func TestStepHasNoZeroInsertingConvs(t *testing.T) {
	cfg, _ := Preset("paper")
	cfg.Base, cfg.DiscBase = 8, 8
	tr, err := NewTrainer(testBackend(t), cfg, 10)
	if err != nil {
		t.Fatal(err)
	}
	var g *graph.Graph
	exec, err := context.NewExec(tr.Backend, tr.Ctx, func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		g = in[0].Graph()
		out := tr.stepGraph(ctx, in)
		bad := pgrad.ZeroInsertingConvs(g)
		for _, node := range bad {
			t.Errorf("zero-inserting convolution %s", node)
		}
		transposed := 0
		for _, node := range g.Nodes() {
			if node.Type() == graph.NodeTypeConvGeneral && node.Inputs()[1].Type() == graph.NodeTypeReverse {
				transposed++
			}
		}
		t.Logf("%d nodes, %d convolutions with a reversed kernel, %d zero-inserting", len(g.Nodes()), transposed, len(bad))
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
	img := shapes.Make(dtypes.Float32, cfg.Batch, cfg.Size, cfg.Size, cfg.Channels)
	vec := shapes.Make(dtypes.Float32, cfg.Batch)
	if err := exec.PreCompile(tensors.FromShape(img), tensors.FromShape(img), tensors.FromShape(vec),
		tensors.FromShape(img), tensors.FromShape(vec), tensors.FromShape(img)); err != nil {
		t.Fatal(err)
	}
	if g == nil {
		t.Fatal("the step graph was not built")
	}
}

// TestConvPrecisionBFloat16 trains the tiny preset one step with conv_precision bfloat16 and
// with float32 from the same initialisation and batch: every loss term of the bfloat16 step
// differs from the float32 one (the convolutions did round) by less than 3 % (bfloat16 keeps 8
// bits of mantissa), and the second step's losses are finite.
func TestConvPrecisionBFloat16(t *testing.T) {
	var first [2][]float64
	for i, precision := range []string{"", "bfloat16"} {
		cfg, _ := Preset("tiny")
		cfg.Batch, cfg.PoolSize, cfg.ConvPrecision = 2, 3, precision
		tr, err := NewTrainer(testBackend(t), cfg, 10)
		if err != nil {
			t.Fatal(err)
		}
		if first[i], err = tr.Step(randomBatch(cfg, 1), randomBatch(cfg, 2)); err != nil {
			t.Fatalf("%q: %v", precision, err)
		}
		if _, err := tr.Step(randomBatch(cfg, 3), randomBatch(cfg, 4)); err != nil {
			t.Fatalf("%q, second step: %v", precision, err)
		}
	}
	same, worst := 0, 0.0
	for k, name := range LossNames {
		f32, bf16 := first[0][k], first[1][k]
		if f32 == bf16 {
			same++
		}
		worst = max(worst, math.Abs(bf16-f32)/(math.Abs(f32)+0.01))
		if d := math.Abs(bf16 - f32); d > 0.03*(math.Abs(f32)+0.01) {
			t.Errorf("%s: %g with bfloat16 convolutions, %g with float32", name, bf16, f32)
		}
	}
	t.Logf("%d of %d loss terms bit-identical, the largest relative difference %.2g", same, len(LossNames), worst)
	if same == len(LossNames) {
		t.Error("conv_precision bfloat16 gave the float32 losses bit for bit: the convolutions did not round")
	}
}
