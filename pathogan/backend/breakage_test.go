package backend

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// withVJP runs body with VJPRegistration[nt] temporarily set to fn (tests are not parallel).
func withVJP(nt NodeType, fn VJP, body func()) {
	saved := VJPRegistration[nt]
	VJPRegistration[nt] = fn
	defer func() { VJPRegistration[nt] = saved }()
	body()
}

// execError builds and runs fn once, returning its error or panic as an error.
func execError(b backends.Backend, fn func(in []*Node) *Node, args ...any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	exec, err := NewExec(b, fn)
	if err != nil {
		return err
	}
	_, err = exec.Exec(args...)
	return err
}

// TestGoMLXGoBackendBreakage documents what fails on GoMLX v0.26.0's own Go backend (and with
// GoMLX's own conv gradient), and checks that GoBackend plus this package's gradients fix it. If
// a GoMLX upgrade fixes an item, its "raw" expectation fails here: update doc.go.
func TestGoMLXGoBackendBreakage(t *testing.T) {
	raw, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(30, 1))
	newArgs := func() []any {
		return []any{randTensor(rng, -1, 1, 2, 6, 6, 3), randTensor(rng, -1, 1, 3, 3, 3, 2)}
	}
	gradOf := func(conv func(x, k *Node) *Node) func(in []*Node) *Node {
		return func(in []*Node) *Node {
			loss := ReduceAllSum(Square(conv(in[0], in[1])))
			grads := Gradient(loss, in[0], in[1])
			return Add(ReduceAllSum(grads[0]), ReduceAllSum(grads[1]))
		}
	}
	cases := []struct {
		name    string
		fn      func(in []*Node) *Node
		builtin bool   // Use GoMLX's own conv gradient.
		rawErr  string // Expected error on raw simplego.
	}{
		{"Convolve with nil strides (graph/layers default)",
			func(in []*Node) *Node { return Convolve(in[0], in[1]).PadSame().Done() },
			false, "stride[0]=0 must be >= 1"},
		{"Pad",
			func(in []*Node) *Node {
				return Pad(in[0], ScalarZero(in[0].Graph(), in[0].DType()), backends.PadAxis{Start: 1})
			},
			false, `op "Pad" not implemented`},
		{"Reverse",
			func(in []*Node) *Node { return Reverse(in[1], 0, 1) },
			false, `op "Reverse" not implemented`},
		{"Slice gradient",
			func(in []*Node) *Node {
				return Gradient(ReduceAllSum(Slice(in[0], AxisRange(0, 1))), in[0])[0]
			}, false, `op "Pad" not implemented`},
		{"Convolve input dilation",
			func(in []*Node) *Node {
				return Convolve(in[0], in[1]).StridePerAxis(1, 1).InputDilationPerAxis(2, 2).PadSame().Done()
			}, false, "panic"},
		{"GoMLX conv gradient, stride 2",
			gradOf(func(x, k *Node) *Node { return Convolve(x, k).Strides(2).PadSame().Done() }),
			true, `op "Reverse" not implemented`},
		{"GoMLX conv gradient, stride 1",
			gradOf(func(x, k *Node) *Node { return Convolve(x, k).StridePerAxis(1, 1).PadSame().Done() }),
			true, `op "Reverse" not implemented`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(b backends.Backend) error { return execError(b, c.fn, newArgs()...) }
			var rawErr, fixedErr error
			if c.builtin {
				withVJP(NodeTypeConvGeneral, builtinVJP(NodeTypeConvGeneral), func() { rawErr = run(raw) })
			} else {
				rawErr = run(raw)
			}
			fixedErr = run(goBackend(t))
			if rawErr == nil || !strings.Contains(rawErr.Error(), c.rawErr) {
				t.Errorf("raw Go backend: expected error containing %q, got %v", c.rawErr, firstLine(rawErr))
			} else {
				t.Logf("raw Go backend: %s", firstLine(rawErr))
			}
			if fixedErr != nil {
				t.Errorf("GoBackend: %v", fixedErr)
			}
		})
	}
}

// TestGoMLXConvGradientIsWrong shows that GoMLX's own conv gradient (the backend-independent
// graph code, used on XLA too) is wrong for even-sized kernels and fails for some paddings, and
// that this package's replacement is right (see TestGradConv2D).
func TestGoMLXConvGradientIsWrong(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 2))
	x := randTensor(rng, -1, 1, 1, 6, 6, 2)
	k := randTensor(rng, -1, 1, 4, 4, 2, 2)
	grads := func() []*tensors.Tensor {
		return MustNewExec(goBackend(t), func(x, k *Node) []*Node {
			return Gradient(weightedSum(Conv2D(x, k, 2, PadExplicit(1, 1, 1, 1))), x, k)
		}).MustExec(mustLocalClone(t, x), mustLocalClone(t, k))
	}
	var builtin []*tensors.Tensor
	withVJP(NodeTypeConvGeneral, builtinVJP(NodeTypeConvGeneral), func() { builtin = grads() })
	fixed := grads()
	a, b := flat64(t, builtin[0]), flat64(t, fixed[0])
	maxDiff := 0.0
	for i := range a {
		maxDiff = max(maxDiff, abs(a[i]-b[i]))
	}
	if maxDiff < 1e-3 {
		t.Fatalf("GoMLX's conv input gradient for k4 s2 p1 now matches: max diff %g (update doc.go)", maxDiff)
	}
	t.Logf("GoMLX's conv input gradient for a 4x4 stride-2 padding-1 conv differs from the correct one by up to %.3g", maxDiff)

	var err error
	withVJP(NodeTypeConvGeneral, builtinVJP(NodeTypeConvGeneral), func() {
		err = execError(goBackend(t), func(in []*Node) *Node {
			return Gradient(ReduceAllSum(Conv2D(in[0], in[1], 2, PadExplicit(0, 1, 1, 0))), in[0])[0]
		}, randTensor(rng, -1, 1, 1, 5, 5, 2), randTensor(rng, -1, 1, 2, 2, 2, 2))
	})
	if err == nil || !strings.Contains(err.Error(), "outputDimStart") {
		t.Fatalf("expected GoMLX's conv gradient to fail for k2 s2 pads (0,1),(1,0), got %v", err)
	}
	t.Logf("GoMLX's conv gradient, k2 s2 pads (0,1),(1,0): %s", firstLine(err))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func firstLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
