package backend

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/pathogan-go/pathogan/pathogan/internal/kernels"
)

func randTensor32(rng *rand.Rand, dims ...int) *tensors.Tensor {
	size := 1
	for _, d := range dims {
		size *= d
	}
	flat := make([]float32, size)
	for i := range flat {
		flat[i] = float32(rng.Float64()*2 - 1)
	}
	return tensors.FromFlatDataAndDimensions(flat, dims...)
}

// benchExec runs exec once to compile, then b.N times.
func benchExec(b *testing.B, exec *Exec, args ...any) {
	b.Helper()
	// Tensors are tied to one backend instance once used: give each benchmark its own copies.
	for i, a := range args {
		if t, ok := a.(*tensors.Tensor); ok {
			c, err := t.LocalClone()
			if err != nil {
				b.Fatal(err)
			}
			args[i] = c
		}
	}
	run := func() {
		outs, err := exec.Exec(args...)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
	}
	run()
	b.ResetTimer()
	for range b.N {
		run()
	}
}

// BenchmarkConv3x3 compares a 3x3 conv (batch 4, 64x64, 16->16 channels, stride 1, same padding)
// forward and forward+backward:
//
//   - im2col: this package's way (GoBackend default: im2col + matmul, this package's conv gradient);
//   - im2col+gomlx-grad: same forward, GoMLX's own conv gradient graph;
//   - native: GoBackend with conv=native (simplego's conv kernel, repaired arguments), this
//     package's conv gradient;
//   - native+gomlx-grad: the "built-in way" as far as it can run: simplego's conv kernel and
//     GoMLX's conv gradient, with only the missing Reverse/Pad/nil-strides supplied;
//   - simplego-raw: GoMLX's Go backend untouched: only the forward pass runs (with explicit
//     strides), its gradient fails (Reverse not implemented).
func BenchmarkConv3x3(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := randTensor32(rng, 4, 64, 64, 16)
	k := randTensor32(rng, 3, 3, 16, 16)
	fwd := func(in []*Node) *Node { return Conv2D(in[0], in[1], 1, PadSame) }
	fwdBwd := func(in []*Node) []*Node {
		out := Conv2D(in[0], in[1], 1, PadSame)
		loss := ReduceAllSum(Square(out))
		return append([]*Node{loss}, Gradient(loss, in[0], in[1])...)
	}
	raw, err := simplego.New("ops_sequential")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name     string
		backend  backends.Backend
		gomlxVJP bool
		noGrad   bool
	}{
		{"im2col", goBackend(b), false, false},
		{"im2col+gomlx-grad", goBackend(b), true, false},
		{"native", nativeBackend(b), false, false},
		{"native+gomlx-grad", nativeBackend(b), true, false},
		{"simplego-raw", raw, false, true},
	} {
		if !bc.gomlxVJP {
			b.Run(bc.name+"/forward", func(b *testing.B) {
				benchExec(b, MustNewExec(bc.backend, fwd), x, k)
			})
		}
		if bc.noGrad {
			continue
		}
		b.Run(bc.name+"/forward+backward", func(b *testing.B) {
			exec := MustNewExec(bc.backend, fwdBwd)
			if bc.gomlxVJP {
				withVJP(NodeTypeConvGeneral, builtinVJP(NodeTypeConvGeneral), func() { benchExec(b, exec, x, k) })
			} else {
				benchExec(b, exec, x, k)
			}
		})
	}
}

// BenchmarkDenseGradient compares GoMLX's built-in DotGeneral gradient (broadcast-multiply +
// reduce) with this package's matmul-based one, for a [256, 576] x [576, 64] product (the shape of
// an im2col'ed 3x3 conv with 64 channels on a 16x16 patch).
func BenchmarkDenseGradient(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := randTensor32(rng, 256, 576)
	w := randTensor32(rng, 576, 64)
	fn := func(in []*Node) []*Node {
		out := DotGeneral(in[0], []int{1}, nil, in[1], []int{0}, nil)
		return Gradient(ReduceAllSum(Square(out)), in[0], in[1])
	}
	b.Run("matmul", func(b *testing.B) {
		benchExec(b, MustNewExec(goBackend(b), fn), x, w)
	})
	b.Run("gomlx-builtin", func(b *testing.B) {
		withVJP(NodeTypeDotGeneral, builtinVJP(NodeTypeDotGeneral), func() {
			benchExec(b, MustNewExec(goBackend(b), fn), x, w)
		})
	})
}

// BenchmarkElementwise times a chain of the element-wise ops of an instance norm and ELU
// (broadcast products and sums with [B, 1, 1, C] and [1, 1, 1, C], Where with a scalar branch,
// Expm1, the reductions over H and W) on the activation shapes of the small preset.
func BenchmarkElementwise(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, dims := range [][]int{{4, 16, 16, 32}, {4, 64, 64, 8}} {
		x := randTensor32(rng, dims...)
		g := randTensor32(rng, 1, 1, 1, dims[3])
		fn := func(in []*Node) *Node {
			h := in[0]
			for range 4 {
				mean := ReduceAndKeep(h, ReduceMean, 1, 2)
				c := Sub(h, mean)
				v := ReduceAndKeep(Square(c), ReduceMean, 1, 2)
				h = Add(Mul(Mul(c, Rsqrt(AddScalar(v, 1e-5))), in[1]), in[1])
				h = ELU(h, 1)
			}
			return h
		}
		b.Run(fmt.Sprint(dims), func(b *testing.B) {
			benchExec(b, MustNewExec(goBackend(b), fn), x, g)
		})
	}
}

// BenchmarkNarrowConv times the forward 7×7 convolutions of a network's first and last layers
// (batch 4, "same" padding; 64 px 8 → 5 and 4 → 8 channels, 128 px 16 → 5) with the column path
// (kernels.SetColumnPatches) off and on.
func BenchmarkNarrowConv(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ s, ci, co, k int }{{64, 8, 5, 7}, {64, 4, 8, 7}, {128, 16, 5, 7}} {
		x := randTensor32(rng, 4, c.s, c.s, c.ci)
		k := randTensor32(rng, c.k, c.k, c.ci, c.co)
		fwd := func(in []*Node) *Node { return Conv2D(in[0], in[1], 1, PadSame) }
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dpx_%dto%d/columns=%v", c.s, c.ci, c.co, on), func(b *testing.B) {
				old := kernels.SetColumnPatches(on)
				defer kernels.SetColumnPatches(old)
				benchExec(b, MustNewExec(goBackend(b), fwd), x, k)
			})
		}
	}
}

// BenchmarkUnary times the float32 transcendental ops of a 128-px step on [4, 128, 128, 4]
// (Tanh: the generator's inpainting; Cos and Log: normal noise; Log1p and Logistic: the
// losses), Abs as the cost of one plain pass, and a [4, 128, 128, 4] by [4, 128, 128, 1]
// product.
func BenchmarkUnary(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 7))
	x := randTensor32(rng, 4, 128, 128, 4)
	m := randTensor32(rng, 4, 128, 128, 1)
	for _, c := range []struct {
		name string
		fn   func(x *Node) *Node
	}{
		{"Tanh", Tanh}, {"Logistic", Sigmoid}, {"Log", func(x *Node) *Node { return Log(Abs(x)) }},
		{"Log1p", func(x *Node) *Node { return Log1p(Abs(x)) }}, {"Cos", Cos}, {"Abs", Abs},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchExec(b, MustNewExec(goBackend(b), func(in []*Node) *Node { return c.fn(in[0]) }), x)
		})
	}
	b.Run("MulPerPixel", func(b *testing.B) {
		benchExec(b, MustNewExec(goBackend(b), func(in []*Node) *Node { return Mul(in[0], in[1]) }), x, m)
	})
}
