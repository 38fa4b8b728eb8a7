package nn

import "github.com/gomlx/gomlx/pkg/core/graph"

// Softplus is log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) with
// -|x| = min(x, -x) (no Abs, whose gradient needs Sign), so that it neither
// overflows nor loses precision for large |x|.
func Softplus(x *graph.Node) *graph.Node {
	return graph.Add(graph.Max(x, graph.ZerosLike(x)), graph.Log1p(graph.Exp(graph.Min(x, graph.Neg(x)))))
}

// LogSigmoid is log S(x) = -Softplus(-x); log(1 - S(x)) is -Softplus(x).
func LogSigmoid(x *graph.Node) *graph.Node { return graph.Neg(Softplus(graph.Neg(x))) }

// SigmoidCrossEntropy is the mean binary cross-entropy of the probabilities
// S(logit) against target (values in [0, 1]):
//
//	-mean(t log S(logit) + (1 - t) log(1 - S(logit))).
//
// It takes the logit so that the logs never see 0.
func SigmoidCrossEntropy(logit, target *graph.Node) *graph.Node {
	ll := graph.Add(graph.Mul(target, LogSigmoid(logit)), graph.Mul(graph.OneMinus(target), graph.Neg(Softplus(logit))))
	return graph.Neg(graph.ReduceAllMean(ll))
}
