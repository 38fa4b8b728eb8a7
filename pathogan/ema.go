package pathogan

import (
	"math"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

// ScopeEMA holds the moving averages of the generators' weights
// (Config.EMADecay): "/ema/<scope>/<name>" for each generator variable
// "/<scope>/<name>", and "/ema/count", the number of updates averaged.
const ScopeEMA = "ema"

// generatorVariables returns the float32 variables of the generators.
func generatorVariables(ctx *context.Context) []*context.Variable {
	var out []*context.Variable
	ctx.EnumerateVariables(func(v *context.Variable) {
		if v.Shape().DType != dtypes.Float32 {
			return
		}
		for _, s := range GeneratorScopes {
			if v.Scope() == "/"+s || strings.HasPrefix(v.Scope(), "/"+s+"/") {
				out = append(out, v)
				return
			}
		}
	})
	return out
}

// averageGenerators adds to the training graph g, after the generator
// update, the step of the weights' moving averages: w̄ ← d·w̄ + (1 - d)·w
// for each generator variable, from w̄ = 0, and count ← count + 1.
func averageGenerators(ctx *context.Context, g *graph.Graph, decay float64) {
	root := ctx.InAbsPath("/" + ScopeEMA).Checked(false).WithInitializer(initializers.Zero)
	count := root.VariableWithShape("count", shapes.Make(dtypes.Float32)).SetTrainable(false)
	count.SetValueGraph(graph.AddScalar(count.ValueGraph(g), 1))
	for _, v := range generatorVariables(ctx) {
		avg := ctx.InAbsPath("/"+ScopeEMA+v.Scope()).Checked(false).WithInitializer(initializers.Zero).
			VariableWithShape(v.Name(), v.Shape()).SetTrainable(false)
		avg.SetValueGraph(graph.Add(graph.MulScalar(avg.ValueGraph(g), decay), graph.MulScalar(v.ValueGraph(g), 1-decay)))
	}
}

// useAverages replaces, in a context loaded from a checkpoint, each
// generator variable by its moving average divided by 1 - decay^count (the
// start-up correction). It reports whether the context held averages (an
// exported model holds the averaged weights only, with none to swap in).
func useAverages(ctx *context.Context, decay float64) (bool, error) {
	count := ctx.GetVariableByScopeAndName("/"+ScopeEMA, "count")
	if count == nil || decay <= 0 {
		return false, nil
	}
	cv, err := count.Value()
	if err != nil {
		return false, err
	}
	n := float64(tensors.ToScalar[float32](cv))
	if n < 1 {
		return false, nil
	}
	corr := 1 / (1 - math.Pow(decay, n))
	for _, v := range generatorVariables(ctx) {
		avg := ctx.GetVariableByScopeAndName("/"+ScopeEMA+v.Scope(), v.Name())
		if avg == nil {
			continue
		}
		at, err := avg.Value()
		if err != nil {
			return false, err
		}
		w := tensors.MustCopyFlatData[float32](at)
		for i := range w {
			w[i] = float32(float64(w[i]) * corr)
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(w, v.Shape().Dimensions...)); err != nil {
			return false, err
		}
	}
	return true, nil
}
