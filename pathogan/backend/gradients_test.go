package backend

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/pathogan-go/pathogan/pathogan/internal/gradients"
)

// TestGradientsMissingInGoMLX checks that the node types this package adds gradients for had no
// gradient in GoMLX v0.26.0 (so the registration is needed), and that they are registered now.
func TestGradientsMissingInGoMLX(t *testing.T) {
	if err := Install(); err != nil {
		t.Fatalf("Install: %v", err)
	}
	for _, nt := range []NodeType{NodeTypeExpm1, NodeTypeRsqrt, NodeTypeClamp, NodeTypePad,
		NodeTypeReverse, NodeTypeReduceProduct, NodeTypeRound} {
		if !slices.Contains(gradients.Added(), nt) {
			t.Errorf("%s: expected GoMLX v0.26.0 to lack its gradient, but it had one", nt)
		}
		if VJPRegistration[nt] == nil {
			t.Errorf("%s: gradient not registered", nt)
		}
	}
	if builtinVJP(NodeTypeDotGeneral) == nil {
		t.Errorf("GoMLX's DotGeneral gradient was not saved")
	}
}

func TestGradUnary(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 1))
	b := goBackend(t)
	x := randTensor(rng, 0.2, 2, 3, 4)
	t.Run("Expm1", func(t *testing.T) {
		checkGradient(t, b, func(in []*Node) *Node { return Expm1(AddScalar(in[0], -1)) }, x)
	})
	t.Run("Rsqrt", func(t *testing.T) {
		checkGradient(t, b, func(in []*Node) *Node { return Rsqrt(in[0]) }, x)
	})
	t.Run("Round", func(t *testing.T) {
		// Values away from .5 boundaries: the numerical derivative is 0 there too.
		y := randTensor(rng, 0.1, 0.4, 3, 4)
		checkGradient(t, b, func(in []*Node) *Node { return Mul(Round(in[0]), in[0]) }, y)
	})
}

func TestGradClamp(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 2))
	b := goBackend(t)
	// Keep values away from the bounds (kinks) so finite differences are exact.
	x := randTensor(rng, -1, 1, 4, 5)
	flat := flat64(t, x)
	for i, v := range flat {
		for _, bound := range []float64{-0.5, 0.5} {
			if v > bound-0.05 && v < bound+0.05 {
				flat[i] = bound + 0.1
			}
		}
	}
	x = tensors.FromFlatDataAndDimensions(flat, 4, 5)
	t.Run("scalar bounds", func(t *testing.T) {
		lo, hi := randTensor(rng, -0.5, -0.5, 1), randTensor(rng, 0.5, 0.5, 1)
		checkGradient(t, b, func(in []*Node) *Node {
			return Clamp(Reshape(in[1]), in[0], Reshape(in[2]))
		}, x, lo, hi)
	})
	t.Run("tensor bounds", func(t *testing.T) {
		lo := randTensor(rng, -0.5, -0.5, 4, 5)
		hi := randTensor(rng, 0.5, 0.5, 4, 5)
		checkGradient(t, b, func(in []*Node) *Node { return Clamp(in[1], in[0], in[2]) }, x, lo, hi)
	})
}

func TestGradPad(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 3))
	b := goBackend(t)
	x := randTensor(rng, -1, 1, 3, 4, 2)
	fill := randTensor(rng, -1, 1, 1)
	for _, tc := range []struct {
		name string
		cfg  []backends.PadAxis
	}{
		{"edges", []backends.PadAxis{{Start: 1, End: 2}, {Start: 0, End: 1}}},
		{"interior", []backends.PadAxis{{Interior: 1}, {Start: 2, End: 1, Interior: 2}}},
		{"negative", []backends.PadAxis{{Start: -1, End: 1}, {Start: 1, End: -2, Interior: 1}}},
		{"all", []backends.PadAxis{{Start: 1, End: -1, Interior: 2}, {Start: -1, End: 2}, {Start: 1, End: 1, Interior: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGradient(t, b, func(in []*Node) *Node {
				return Pad(in[0], Reshape(in[1]), tc.cfg...)
			}, x, fill)
		})
	}
}

func TestPadValues(t *testing.T) {
	b := goBackend(t)
	got := MustExecOnce(b, func(g *Graph) *Node {
		x := OnePlus(IotaFull(g, shapesMake(3)))
		return Pad(x, Scalar(g, x.DType(), 9), backends.PadAxis{Start: -1, End: 2, Interior: 1})
	})
	want := []float64{9, 2, 9, 3, 9, 9}
	if v := flat64(t, got); !slices.Equal(v, want) {
		t.Fatalf("Pad: got %v, want %v", v, want)
	}
}

func TestGradReverse(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 4))
	b := goBackend(t)
	x := randTensor(rng, -1, 1, 3, 4, 2)
	checkGradient(t, b, func(in []*Node) *Node { return Reverse(in[0], 0, 2) }, x)
	got := MustExecOnce(b, func(g *Graph) *Node { return Reverse(IotaFull(g, shapesMake(2, 3)), 0, 1) })
	if v, want := flat64(t, got), []float64{5, 4, 3, 2, 1, 0}; !slices.Equal(v, want) {
		t.Fatalf("Reverse: got %v, want %v", v, want)
	}
}

// TestReverseOnce checks that the Go builder builds one Reverse per operand and axes: asked again,
// it returns the same op, and a graph that reverses one tensor twice along the same axes and once
// along others computes each right.
func TestReverseOnce(t *testing.T) {
	b := goBackend(t)
	bld := b.Builder("reverse")
	x, err := bld.Parameter("x", shapes.Make(dtypes.Float32, 3, 3, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	r1, err1 := bld.Reverse(x, 0, 1)
	r2, err2 := bld.Reverse(x, 0, 1)
	r3, err3 := bld.Reverse(x, 1)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if r1 != r2 || r1 == r3 {
		t.Fatalf("Reverse(x, 0, 1) twice gave %v and %v; Reverse(x, 1) gave %v", r1, r2, r3)
	}
	got := MustExecOnce(b, func(g *Graph) *Node {
		x := IotaFull(g, shapesMake(2, 3))
		return Concatenate([]*Node{Reverse(x, 0, 1), Reverse(x, 1), Reverse(x, 0, 1)}, 0)
	})
	want := []float64{5, 4, 3, 2, 1, 0, 2, 1, 0, 5, 4, 3, 5, 4, 3, 2, 1, 0}
	if v := flat64(t, got); !slices.Equal(v, want) {
		t.Fatalf("got %v, want %v", v, want)
	}
}

func TestGradReduceProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 5))
	b := goBackend(t)
	x := randTensor(rng, -1.5, 1.5, 3, 4)
	flat := flat64(t, x)
	flat[1] = 0             // One zero in row 0.
	flat[8], flat[9] = 0, 0 // Two zeros in row 2.
	x = tensors.FromFlatDataAndDimensions(flat, 3, 4)
	checkGradient(t, b, func(in []*Node) *Node { return ReduceMultiply(in[0], 1) }, x)
	checkGradient(t, b, func(in []*Node) *Node { return ReduceMultiply(in[0]) }, randTensor(rng, 0.5, 1.5, 2, 3))
}

func TestGradDotGeneral(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 6))
	b := goBackend(t)
	t.Run("matmul", func(t *testing.T) {
		checkGradient(t, b, func(in []*Node) *Node {
			return DotGeneral(in[0], []int{1}, nil, in[1], []int{0}, nil)
		}, randTensor(rng, -1, 1, 3, 4), randTensor(rng, -1, 1, 4, 5))
	})
	t.Run("batch+multi-contract+permuted", func(t *testing.T) {
		// lhs [c1=2, b=3, x=4, c2=5], rhs [c2=5, y=2, b=3, c1=2]
		checkGradient(t, b, func(in []*Node) *Node {
			return DotGeneral(in[0], []int{0, 3}, []int{1}, in[1], []int{3, 0}, []int{2})
		}, randTensor(rng, -1, 1, 2, 3, 4, 5), randTensor(rng, -1, 1, 5, 2, 3, 2))
	})
	t.Run("outer", func(t *testing.T) {
		checkGradient(t, b, func(in []*Node) *Node {
			return DotGeneral(in[0], nil, nil, in[1], nil, nil)
		}, randTensor(rng, -1, 1, 3), randTensor(rng, -1, 1, 2, 2))
	})
	t.Run("Dot", func(t *testing.T) {
		checkGradient(t, b, func(in []*Node) *Node { return Dot(in[0], in[1]) },
			randTensor(rng, -1, 1, 3, 4), randTensor(rng, -1, 1, 4, 2))
		checkGradient(t, b, func(in []*Node) *Node { return Dot(in[0], in[1]) },
			randTensor(rng, -1, 1, 3, 4), randTensor(rng, -1, 1, 4))
		checkGradient(t, b, func(in []*Node) *Node { return Dot(in[0], in[1]) },
			randTensor(rng, -1, 1, 4), randTensor(rng, -1, 1, 4))
	})
}

// TestGradStridedSlice checks GoMLX's own Slice gradient, which needs the backend's Pad (with
// interior padding for strides).
func TestGradStridedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 7))
	checkGradient(t, goBackend(t), func(in []*Node) *Node {
		return Slice(in[0], AxisRange(1, 6).Stride(2), AxisRange(0, 3))
	}, randTensor(rng, -1, 1, 7, 4))
}
