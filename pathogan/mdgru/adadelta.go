package mdgru

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/pathogan-go/pathogan/pathogan/nn"
)

// Adadelta is Zeiler's Adadelta (2012), the optimiser of the reference
// MDGRU: per weight,
//
//	E[g²] ← ρ E[g²] + (1-ρ) g²
//	Δ     = -√(E[Δ²] + ε) / √(E[g²] + ε) · g
//	E[Δ²] ← ρ E[Δ²] + (1-ρ) Δ²
//	w     ← w + lr · Δ
//
// with lr the context's learning-rate variable (optimizers.LearningRateVar).
type Adadelta struct {
	// Rho is the decay ρ of the running averages, Epsilon the ε.
	Rho, Epsilon float64
}

// adadeltaScope is the scope of Adadelta's running averages.
const adadeltaScope = "adadelta"

// UpdateGraph builds the update of every trainable variable used by the
// graph. It implements optimizers.Interface.
func (a Adadelta) UpdateGraph(ctx *context.Context, g *graph.Graph, loss *graph.Node) {
	grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
	lr := optimizers.LearningRateVar(ctx, dtypes.Float32, 1).ValueGraph(g)
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	if len(vars) != len(grads) {
		nn.Panicf("adadelta: %d trainable variables, %d gradients", len(vars), len(grads))
	}
	for i, v := range vars {
		grad := grads[i]
		state := ctx.Checked(false).InAbsPath(context.ScopeSeparator + adadeltaScope + v.Scope()).WithInitializer(initializers.Zero)
		sg := state.VariableWithShape(v.Name()+"_g2", v.Shape()).SetTrainable(false)
		sd := state.VariableWithShape(v.Name()+"_d2", v.Shape()).SetTrainable(false)
		g2 := graph.Add(graph.MulScalar(sg.ValueGraph(g), a.Rho), graph.MulScalar(graph.Square(grad), 1-a.Rho))
		d2 := sd.ValueGraph(g)
		step := graph.Mul(graph.Div(graph.Sqrt(graph.AddScalar(d2, a.Epsilon)), graph.Sqrt(graph.AddScalar(g2, a.Epsilon))), grad)
		sg.SetValueGraph(g2)
		sd.SetValueGraph(graph.Add(graph.MulScalar(d2, a.Rho), graph.MulScalar(graph.Square(step), 1-a.Rho)))
		v.SetValueGraph(graph.Sub(v.ValueGraph(g), graph.Mul(step, graph.ConvertDType(lr, grad.DType()))))
	}
}

// Clear does nothing: the running averages live in the context and are
// saved with it. It implements optimizers.Interface.
func (a Adadelta) Clear(*context.Context) error { return nil }
