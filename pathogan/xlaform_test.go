package pathogan

import (
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
