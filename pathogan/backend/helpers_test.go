package backend

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/pathogan-go/pathogan/pathogan/internal/gradients"
)

var (
	testBackendOnce sync.Once
	testBackend     *GoBackend
	testNativeOnce  sync.Once
	testNative      *GoBackend
)

// goBackend returns the shared fixed Go backend (im2col convolutions).
func goBackend(t testing.TB) *GoBackend {
	testBackendOnce.Do(func() {
		b, err := NewGoBackend("")
		if err != nil {
			t.Fatalf("NewGoBackend: %v", err)
		}
		testBackend = b
	})
	return testBackend
}

// nativeBackend returns the shared fixed Go backend with simplego's own convolution.
func nativeBackend(t testing.TB) *GoBackend {
	testNativeOnce.Do(func() {
		b, err := NewGoBackend("conv=native")
		if err != nil {
			t.Fatalf("NewGoBackend: %v", err)
		}
		testNative = b
	})
	return testNative
}

// builtinVJP returns GoMLX's own gradient for a node type whose gradient this package replaces,
// installing the fixes first (so that it is the saved original, not the replacement).
func builtinVJP(nt NodeType) VJP {
	if err := Install(); err != nil {
		panic(err)
	}
	return gradients.Builtin(nt)
}

// randTensor returns a float64 tensor with values uniform in [lo, hi).
func randTensor(rng *rand.Rand, lo, hi float64, dims ...int) *tensors.Tensor {
	size := 1
	for _, d := range dims {
		size *= d
	}
	flat := make([]float64, size)
	for i := range flat {
		flat[i] = lo + (hi-lo)*rng.Float64()
	}
	return tensors.FromFlatDataAndDimensions(flat, dims...)
}

func flat64(t testing.TB, x *tensors.Tensor) []float64 {
	t.Helper()
	v, err := tensors.CopyFlatData[float64](x)
	if err != nil {
		t.Fatalf("CopyFlatData: %v", err)
	}
	return v
}

// weightedSum reduces out to a scalar with fixed pseudo-random weights, so every output element
// contributes a distinct factor to the gradient.
func weightedSum(out *Node) *Node {
	w := Sin(AddScalar(MulScalar(IotaFull(out.Graph(), out.Shape()), 1.7), 0.3))
	return ReduceAllSum(Mul(out, w))
}

// checkGradient compares the autodiff gradient of weightedSum(fn(inputs)) with respect to every
// input with central finite differences, on backend b. Inputs must be float64.
func checkGradient(t *testing.T, b backends.Backend, fn func(in []*Node) *Node, inputs ...*tensors.Tensor) {
	t.Helper()
	const eps, atol, rtol = 1e-6, 1e-6, 1e-5
	lossExec := MustNewExec(b, func(in []*Node) *Node { return weightedSum(fn(in)) })
	gradExec := MustNewExec(b, func(in []*Node) []*Node {
		return Gradient(weightedSum(fn(in)), in...)
	})
	args := make([]any, len(inputs))
	for i, x := range inputs {
		args[i] = x
	}
	grads, err := gradExec.Exec(args...)
	if err != nil {
		t.Fatalf("gradient: %v", err)
	}
	evalLoss := func(args []any) float64 {
		out, err := lossExec.Exec(args...)
		if err != nil {
			t.Fatalf("loss: %v", err)
		}
		return flat64(t, out[0])[0]
	}
	worst := 0.0
	for i, x := range inputs {
		base := flat64(t, x)
		analytic := flat64(t, grads[i])
		if len(analytic) != len(base) {
			t.Fatalf("input #%d: gradient has %d elements, input %d", i, len(analytic), len(base))
		}
		dims := x.Shape().Dimensions
		for j := range base {
			pert := func(delta float64) float64 {
				p := append([]float64(nil), base...)
				p[j] += delta
				a := append([]any(nil), args...)
				a[i] = tensors.FromFlatDataAndDimensions(p, dims...)
				return evalLoss(a)
			}
			numeric := (pert(eps) - pert(-eps)) / (2 * eps)
			diff := math.Abs(numeric - analytic[j])
			if diff > atol+rtol*math.Abs(numeric) {
				t.Fatalf("input #%d %v element %d: analytic %.8g, numeric %.8g (diff %.3g)",
					i, dims, j, analytic[j], numeric, diff)
			}
			worst = max(worst, diff/(1+math.Abs(numeric)))
		}
	}
	t.Logf("max relative gradient error %.2g", worst)
}

func shapesMake(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float64, dims...) }
