package backend

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// convLayer is a tiny layer helper for the test: a kernel variable (He-initialized by the context)
// plus a zero-initialized bias.
func convLayer(ctx *context.Context, x *Node, k, out, stride int, transpose bool) *Node {
	in := x.Shape().Dimensions[3]
	kernel := ctx.VariableWithShape("kernel", shapes.Make(x.DType(), k, k, in, out)).ValueGraph(x.Graph())
	bias := ctx.VariableWithShape("bias", shapes.Make(x.DType(), out)).ValueGraph(x.Graph())
	var y *Node
	if transpose {
		y = ConvTranspose2D(x, kernel, stride, PadSame)
	} else {
		y = Conv2D(x, kernel, stride, PadSame)
	}
	return Add(y, Reshape(bias, 1, 1, 1, out))
}

func instanceNormLayer(ctx *context.Context, x *Node) *Node {
	c := x.Shape().Dimensions[3]
	g := x.Graph()
	scale := ctx.VariableWithValue("scale", tensors.FromFlatDataAndDimensions(ones32(c), c)).ValueGraph(g)
	offset := ctx.VariableWithShape("offset", shapes.Make(x.DType(), c)).ValueGraph(g)
	return InstanceNorm(x, scale, offset, 1e-5)
}

func ones32(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// tinyGenerator: conv s1, instance norm, ELU, conv s2, ELU, transposed conv s2, ELU, conv, tanh.
func tinyGenerator(ctx *context.Context, x *Node) *Node {
	h := convLayer(ctx.In("conv1"), x, 3, 8, 1, false)
	h = ELU(instanceNormLayer(ctx.In("norm1"), h), 1)
	h = ELU(convLayer(ctx.In("down"), h, 3, 16, 2, false), 1)
	h = ELU(convLayer(ctx.In("up"), h, 3, 8, 2, true), 1)
	return Tanh(convLayer(ctx.In("out"), h, 3, 3, 1, false))
}

// TestTinyConvNetTrains trains a tiny conv net with Adam on the Go backend (picked through
// GOMLX_BACKEND=go) and checks that the loss decreases. The generator is applied twice per step
// (a cycle-style reconstruction), the second time with ctx.Reuse().
func TestTinyConvNetTrains(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	b, info, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", info)
	rng := rand.New(rand.NewPCG(40, 1))
	x := randTensor32(rng, 4, 16, 16, 3)
	// Target: a fixed smooth function of the input.
	target := MustExecOnce(b, func(x *Node) *Node {
		return Tanh(MulScalar(Add(x, Reverse(x, 2)), 0.7))
	}, x)
	x, target = mustLocalClone(t, x), mustLocalClone(t, target)

	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(42); err != nil {
		t.Fatal(err)
	}
	opt := optimizers.Adam().LearningRate(0.01).Done()
	step := context.MustNewExec(b, ctx, func(ctx *context.Context, x, y *Node) *Node {
		g := ctx.In("G")
		fake := tinyGenerator(g, x)
		// Second application of the same sub-network: its variables must be reused.
		rec := tinyGenerator(g.Reuse(), fake)
		loss := Add(ReduceAllMean(Abs(Sub(fake, y))), MulScalar(ReduceAllMean(Square(Sub(rec, y))), 0.1))
		opt.UpdateGraph(ctx, x.Graph(), loss)
		return loss
	})
	var losses []float32
	for range 12 {
		out := step.MustExec(x, target)
		losses = append(losses, tensors.ToScalar[float32](out[0]))
	}
	t.Logf("losses: %v", losses)
	first, last := losses[0], losses[len(losses)-1]
	if !(last < 0.8*first) {
		t.Fatalf("loss did not decrease enough: first %g, last %g", first, last)
	}
	for i, l := range losses {
		if l != l {
			t.Fatalf("loss is NaN at step %d", i)
		}
	}
}
