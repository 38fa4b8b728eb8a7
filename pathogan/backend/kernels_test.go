package backend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	timage "github.com/gomlx/gomlx/pkg/core/tensors/images"
	"github.com/pathogan-go/pathogan/pathogan/internal/kernels"
)

var (
	im2colOnce sync.Once
	im2colB    *GoBackend
)

// im2colBackend returns a shared Go backend with conv=im2col (the float64 reference path, whose
// gradients the finite-difference tests check).
func im2colBackend(t testing.TB) *GoBackend {
	im2colOnce.Do(func() {
		b, err := NewGoBackend("conv=im2col")
		if err != nil {
			t.Fatal(err)
		}
		im2colB = b
	})
	return im2colB
}

func to32(x *tensors.Tensor) *tensors.Tensor {
	f := tensors.MustCopyFlatData[float64](x)
	g := make([]float32, len(f))
	for i, v := range f {
		g[i] = float32(v)
	}
	return tensors.FromFlatDataAndDimensions(g, x.Shape().Dimensions...)
}

func flatAny(t *testing.T, x *tensors.Tensor) []float64 {
	switch x.DType().String() {
	case "Float32":
		f := tensors.MustCopyFlatData[float32](x)
		out := make([]float64, len(f))
		for i, v := range f {
			out[i] = float64(v)
		}
		return out
	default:
		return tensors.MustCopyFlatData[float64](x)
	}
}

// compareKernels runs fn and its gradients (of weightedSum) on float32 inputs with the kernel
// backend, and on float64 inputs with the im2col backend, and compares every output.
func compareKernels(t *testing.T, fn func(in []*Node) *Node, inputs ...*tensors.Tensor) {
	t.Helper()
	compareKernelsTol(t, 1e-5, fn, inputs...)
}

// compareKernelsTol is compareKernels with a tolerance relative to the largest output value (sums
// of tens of thousands of float32 values need more than 1e-5).
func compareKernelsTol(t *testing.T, tol float64, fn func(in []*Node) *Node, inputs ...*tensors.Tensor) {
	t.Helper()
	all := func(in []*Node) []*Node {
		out := fn(in)
		// Weights computed in float64, so that float32 rounding of the weights is not compared.
		g := out.Graph()
		w := Sin(AddScalar(MulScalar(IotaFull(g, shapesMake(out.Shape().Dimensions...)), 1.7), 0.3))
		loss := ReduceAllSum(Mul(out, ConvertDType(w, out.DType())))
		return append([]*Node{out}, Gradient(loss, in...)...)
	}
	run := func(b backends.Backend, args []any) []*tensors.Tensor {
		e := MustNewExec(b, all)
		out, err := e.Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a64, a32 := make([]any, len(inputs)), make([]any, len(inputs))
	for i, x := range inputs {
		a64[i], a32[i] = x, to32(x)
	}
	want := run(im2colBackend(t), a64)
	got := run(goBackend(t), a32)
	for i := range want {
		if fmt.Sprint(got[i].Shape().Dimensions) != fmt.Sprint(want[i].Shape().Dimensions) {
			t.Fatalf("output %d: shape %s, want %s", i, got[i].Shape(), want[i].Shape())
		}
		g, w := flatAny(t, got[i]), flatAny(t, want[i])
		scale := 0.0
		for _, v := range w {
			scale = max(scale, math.Abs(v))
		}
		for j := range w {
			if math.Abs(g[j]-w[j]) > tol*(1+scale) {
				t.Fatalf("output %d (%s) element %d: float32 kernel %.7g, float64 im2col %.7g", i, want[i].Shape(), j, g[j], w[j])
			}
		}
	}
}

// TestKernelsConv checks the float32 convolution kernel, forward and both gradients (which are
// convolutions in other axis layouts, with input and kernel dilations), against the float64
// im2col path on every conv case, plus transposed, dilated and channels-first convolutions.
func TestKernelsConv(t *testing.T) {
	goBackend(t) // installs the kernels
	if err := KernelsStatus(); err != nil {
		t.Fatal(err)
	}
	if goBackend(t).ConvMode() != ConvKernel {
		t.Fatalf("default conv mode %s, want kernel", goBackend(t).ConvMode())
	}
	rng := rand.New(rand.NewPCG(20, 9))
	for _, c := range convCases {
		t.Run(c.String(), func(t *testing.T) {
			compareKernels(t, func(in []*Node) *Node { return Conv2D(in[0], in[1], c.stride, c.padding) },
				randTensor(rng, -1, 1, 3, c.h, c.w, 5), randTensor(rng, -1, 1, c.k, c.k, 5, 4))
		})
	}
	t.Run("transpose_k3_s2", func(t *testing.T) {
		compareKernels(t, func(in []*Node) *Node { return ConvTranspose2D(in[0], in[1], 2, PadSame) },
			randTensor(rng, -1, 1, 2, 4, 5, 3), randTensor(rng, -1, 1, 3, 3, 3, 2))
	})
	t.Run("transpose_k4_s2_p1", func(t *testing.T) {
		compareKernels(t, func(in []*Node) *Node { return ConvTranspose2D(in[0], in[1], 2, PadExplicit(1, 1, 1, 1)) },
			randTensor(rng, -1, 1, 2, 4, 4, 3), randTensor(rng, -1, 1, 4, 4, 3, 2))
	})
	t.Run("dilated", func(t *testing.T) {
		compareKernels(t, func(in []*Node) *Node {
			return Convolve(in[0], in[1]).Dilations(2).PadSame().Done()
		}, randTensor(rng, -1, 1, 2, 9, 8, 3), randTensor(rng, -1, 1, 3, 3, 3, 2))
	})
	t.Run("channels-first", func(t *testing.T) {
		compareKernels(t, func(in []*Node) *Node {
			return Convolve(in[0], in[1]).ChannelsAxis(timage.ChannelsFirst).Strides(2).PadSame().Done()
		}, randTensor(rng, -1, 1, 2, 3, 7, 6), randTensor(rng, -1, 1, 3, 3, 3, 4))
	})
	t.Run("wide", func(t *testing.T) { // Several blocks per worker in both formulations.
		compareKernels(t, func(in []*Node) *Node { return Conv2D(in[0], in[1], 1, PadSame) },
			randTensor(rng, -1, 1, 2, 40, 33, 6), randTensor(rng, -1, 1, 3, 3, 6, 7))
	})
}

// TestKernelsPhaseSplit checks input-dilated convolutions, which the kernels split into one
// undilated convolution per residue class of the output (kernels.SetPhaseSplit), forward and
// both gradients, against the float64 im2col path, split and unsplit: dilation 2 and 3 and
// along one axis only, no padding (phases whose input starts inside it), padding larger than
// the kernel, kernels of 1 (phases with no taps: zero outputs) to 4 positions, and 16 outputs
// per image row (the narrow column kernels).
func TestKernelsPhaseSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 15))
	for _, c := range []struct {
		h, w, cin, cout, kh, kw int
		idil                    []int
		pads                    [][2]int
	}{
		{4, 5, 3, 2, 3, 3, []int{2, 2}, [][2]int{{1, 2}, {1, 2}}},
		{5, 4, 4, 3, 3, 3, []int{2, 2}, [][2]int{{0, 0}, {0, 1}}},
		{4, 4, 2, 3, 4, 4, []int{2, 2}, [][2]int{{2, 2}, {3, 1}}},
		{3, 4, 3, 2, 1, 1, []int{2, 2}, [][2]int{{0, 0}, {1, 1}}},
		{4, 3, 2, 2, 3, 2, []int{3, 3}, [][2]int{{2, 1}, {0, 2}}},
		{5, 6, 3, 4, 3, 3, []int{2, 1}, [][2]int{{1, 1}, {1, 1}}},
		{4, 16, 5, 4, 3, 3, []int{2, 2}, [][2]int{{1, 2}, {1, 2}}},
		{3, 4, 2, 2, 2, 2, []int{2, 2}, [][2]int{{4, 0}, {0, 3}}},
	} {
		for _, split := range []bool{true, false} {
			name := fmt.Sprintf("%dx%d_k%dx%d_d%v_p%v_split=%v", c.h, c.w, c.kh, c.kw, c.idil, c.pads, split)
			t.Run(name, func(t *testing.T) {
				defer kernels.SetPhaseSplit(kernels.SetPhaseSplit(split))
				compareKernels(t, func(in []*Node) *Node {
					return ConvGeneral(in[0], in[1], nhwcAxes, nil, c.pads, c.idil, nil, 1, 1)
				}, randTensor(rng, -1, 1, 2, c.h, c.w, c.cin), randTensor(rng, -1, 1, c.kh, c.kw, c.cin, c.cout))
			})
		}
	}
}

// TestKernelsDot checks the float32 matmul kernel on the DotGeneral layouts it takes over
// (lhs and rhs contracted first or last, batch axes) and on one it leaves to simplego.
func TestKernelsDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 10))
	cases := []struct {
		name   string
		fn     func(in []*Node) *Node
		ld, rd []int
	}{
		{"dense", func(in []*Node) *Node { return Dot(in[0], in[1]) }, []int{70, 9}, []int{9, 5}},
		{"batched", func(in []*Node) *Node { return Einsum("bmk,bkn->bmn", in[0], in[1]) }, []int{3, 7, 9}, []int{3, 9, 5}},
		{"lhsT", func(in []*Node) *Node { return Einsum("km,kn->mn", in[0], in[1]) }, []int{9, 70}, []int{9, 5}},
		{"rhsT", func(in []*Node) *Node { return Einsum("mk,nk->mn", in[0], in[1]) }, []int{130, 9}, []int{5, 9}},
		{"multi", func(in []*Node) *Node { return Einsum("bmxk,bkyn->bmxyn", in[0], in[1]) }, []int{2, 3, 4, 6}, []int{2, 6, 2, 5}},
		{"builtin", func(in []*Node) *Node { return Einsum("kbm,bkn->bmn", in[0], in[1]) }, []int{6, 2, 3}, []int{2, 6, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			compareKernels(t, c.fn, randTensor(rng, -1, 1, c.ld...), randTensor(rng, -1, 1, c.rd...))
		})
	}
}

// TestKernelsElementwise checks the float32 element-wise executors (binary ops with every kind of
// broadcast, unary functions, Where, BroadcastInDim, reductions) and their gradients against
// simplego's float64 executors.
func TestKernelsElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 11))
	big := []int{2, 5, 4, 3}
	binary := map[string]func(a, b *Node) *Node{"Add": Add, "Sub": Sub, "Mul": Mul, "Div": Div, "Max": Max, "Min": Min}
	for name, f := range binary {
		for _, other := range [][]int{{2, 5, 4, 3}, {1, 1, 1, 3}, {2, 1, 1, 3}, {1, 5, 4, 1}, {2, 5, 1, 3}, {1, 1, 1, 1}} {
			t.Run(fmt.Sprintf("%s/%v", name, other), func(t *testing.T) {
				lo := -1.0
				if name == "Div" {
					lo = 0.5 // Keep the divisor away from 0.
				}
				compareKernels(t, func(in []*Node) *Node { return f(in[0], in[1]) },
					randTensor(rng, -1, 1, big...), randTensor(rng, lo, 1.5, other...))
				compareKernels(t, func(in []*Node) *Node { return f(in[1], in[0]) },
					randTensor(rng, lo, 1.5, big...), randTensor(rng, -1, 1, other...))
			})
		}
	}
	unary := map[string]func(x *Node) *Node{"Expm1": Expm1, "Exp": Exp, "Sign": Sign, "Neg": Neg, "Abs": Abs,
		"Sqrt": Sqrt, "Rsqrt": Rsqrt, "Tanh": Tanh, "Log": Log, "Logistic": Sigmoid, "Log1p": Log1p, "Cos": Cos,
		"ELU": func(x *Node) *Node { return ELU(x, 1) }}
	for name, f := range unary {
		t.Run(name, func(t *testing.T) {
			lo := -2.0
			if name == "Sqrt" || name == "Rsqrt" || name == "Log" || name == "Log1p" {
				lo = 0.2
			}
			compareKernels(t, func(in []*Node) *Node { return f(in[0]) }, randTensor(rng, lo, 2, 3, 50, 7))
		})
	}
	t.Run("Where", func(t *testing.T) {
		compareKernels(t, func(in []*Node) *Node {
			return Where(GreaterThan(in[0], ZerosLike(in[0])), in[0], MulScalar(in[1], 3))
		}, randTensor(rng, -1, 1, 2, 40, 9), randTensor(rng, -1, 1, 2, 40, 9))
		compareKernels(t, func(in []*Node) *Node {
			return Where(GreaterThan(in[0], in[1]), in[0], ScalarOne(in[0].Graph(), in[0].DType()))
		}, randTensor(rng, -1, 1, 3, 7), randTensor(rng, -1, 1, 3, 7))
	})
	t.Run("BroadcastInDim", func(t *testing.T) {
		compareKernels(t, func(in []*Node) *Node { return Mul(BroadcastToDims(in[0], 2, 5, 4, 3), in[1]) },
			randTensor(rng, -1, 1, 1, 5, 1, 3), randTensor(rng, -1, 1, 2, 5, 4, 3))
		compareKernels(t, func(in []*Node) *Node { return Mul(ExpandAndBroadcast(in[0], []int{2, 5, 4, 3}, []int{1, 2}), in[1]) },
			randTensor(rng, -1, 1, 2, 3), randTensor(rng, -1, 1, 2, 5, 4, 3))
	})
	for _, axes := range [][]int{{1, 2}, {0}, {3}, {0, 1, 2}, {0, 1, 2, 3}, {0, 2}, {1, 3}} {
		t.Run(fmt.Sprintf("Reduce%v", axes), func(t *testing.T) {
			for _, red := range []func(*Node, ...int) *Node{ReduceSum, ReduceMax, ReduceMin, ReduceMean} {
				compareKernels(t, func(in []*Node) *Node { return red(in[0], axes...) }, randTensor(rng, -1, 1, 3, 6, 5, 4))
			}
		})
	}
	t.Run("Slice", func(t *testing.T) {
		compareKernels(t, func(in []*Node) *Node {
			return Slice(in[0], AxisRange(1, 3), AxisRange(0, 5).Stride(2), AxisRange(), AxisRange(1, 4))
		}, randTensor(rng, -1, 1, 3, 6, 5, 4))
		compareKernels(t, func(in []*Node) *Node { return Slice(in[0], AxisRange(), AxisRange(2, 3), AxisRange().Stride(3)) },
			randTensor(rng, -1, 1, 2, 6, 9))
	})
	t.Run("Reverse", func(t *testing.T) {
		for _, axes := range [][]int{{0}, {1, 2}, {0, 1, 2}} {
			compareKernels(t, func(in []*Node) *Node { return Reverse(in[0], axes...) }, randTensor(rng, -1, 1, 3, 4, 20))
		}
	})
	t.Run("large", func(t *testing.T) { // Split over the workers.
		compareKernelsTol(t, 3e-4, func(in []*Node) *Node {
			return ReduceSum(ELU(Add(Mul(in[0], in[1]), in[1]), 1), 1, 2)
		}, randTensor(rng, -1, 1, 2, 64, 64, 8), randTensor(rng, -1, 1, 1, 1, 1, 8))
		compareKernelsTol(t, 3e-4, func(in []*Node) *Node { return ReduceSum(in[0], 0, 2) },
			randTensor(rng, -1, 1, 4, 64, 64, 8))
	})
}

// TestKernelsDeterministic runs a convolution, a transposed one, a matmul and their gradients with one and with
// four goroutines and wants bit-identical results: the kernels split sums the same way whatever
// the number of cores.
func TestKernelsDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 12))
	x, k, w := to32(randTensor(rng, -1, 1, 4, 24, 24, 8)), to32(randTensor(rng, -1, 1, 3, 3, 8, 16)), to32(randTensor(rng, -1, 1, 16, 5))
	k2 := to32(randTensor(rng, -1, 1, 3, 3, 16, 16))
	fn := func(in []*Node) []*Node {
		y := Conv2D(in[0], in[1], 1, PadSame)
		y = ConvTranspose2D(y, in[3], 2, PadExplicit(1, 0, 1, 0)) // split into phases
		z := Dot(Reshape(y, -1, 16), in[2])
		return append([]*Node{z}, Gradient(ReduceAllSum(Mul(z, z)), in...)...)
	}
	run := func(procs int) [][]float64 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		out, err := MustNewExec(goBackend(t), fn).Exec(x, k, w, k2)
		if err != nil {
			t.Fatal(err)
		}
		var res [][]float64
		for _, o := range out {
			res = append(res, flatAny(t, o))
		}
		return res
	}
	a, b := run(1), run(4)
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Fatalf("output %d element %d: %v with 1 goroutine, %v with 4", i, j, a[i][j], b[i][j])
			}
		}
	}
}

// TestKernelsImplicitPatchesExact checks that convolutions give the same bits with their patches
// read from a padded input as with patch blocks built: 7×7 and 3×3 kernels, stride 1 and 2,
// 1 to 37 output channels (the eight-column kernel and the packed ones), output rows of 14-64
// pixels (blocks of rows inside one image row and across two), forward, input gradient and
// kernel gradient (the "taps" formulation), split over four goroutines; and by columns
// (kernels.SetColumnPatches) where the output has at most eight channels and rows of a multiple
// of 16 pixels, with blocks that end in rows of their own arithmetic (13×32, 5 channels) and a
// transposed convolution (the stride-2 input gradient).
func TestKernelsImplicitPatchesExact(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	goBackend(t)
	rng := rand.New(rand.NewPCG(20, 14))
	for _, c := range []struct{ h, w, cin, cout, k, stride int }{
		{22, 27, 4, 8, 7, 1}, {20, 21, 8, 5, 7, 1}, {24, 20, 8, 8, 3, 2}, {17, 26, 3, 1, 3, 1},
		{16, 20, 32, 32, 3, 1}, {18, 17, 8, 16, 3, 2}, {12, 14, 32, 37, 7, 1},
		{13, 32, 8, 5, 7, 1}, {10, 48, 4, 8, 7, 1}, {16, 32, 8, 8, 3, 2}, {9, 64, 16, 4, 7, 1},
	} {
		x := to32(randTensor(rng, -1, 1, 3, c.h, c.w, c.cin))
		k := to32(randTensor(rng, -1, 1, c.k, c.k, c.cin, c.cout))
		fn := func(in []*Node) []*Node {
			y := Conv2D(in[0], in[1], c.stride, PadSame)
			return append([]*Node{y}, Gradient(ReduceAllSum(Mul(y, Sin(y))), in...)...)
		}
		run := func(implicit, columns bool) []*tensors.Tensor {
			defer kernels.SetImplicitPatches(kernels.SetImplicitPatches(implicit))
			defer kernels.SetColumnPatches(kernels.SetColumnPatches(columns))
			out, err := MustNewExec(goBackend(t), fn).Exec(x, k)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		want := run(false, false)
		for _, way := range []struct {
			name              string
			implicit, columns bool
		}{{"read in place", true, false}, {"read in place by columns", true, true}} {
			got := run(way.implicit, way.columns)
			for i := range want {
				w, g := tensors.MustCopyFlatData[float32](want[i]), tensors.MustCopyFlatData[float32](got[i])
				for j := range w {
					if math.Float32bits(w[j]) != math.Float32bits(g[j]) {
						t.Fatalf("%+v output %d element %d: %v %s, %v from patch blocks", c, i, j, g[j], way.name, w[j])
					}
				}
			}
		}
	}
}

// TestKernelsElementwiseExact checks the element-wise kernels bit for bit against plain float32
// loops where they take their fast paths: binary ops with a [B, 1, 1, C] or [1, 1, 1, C]
// operand (tiled runs, including a last partial tile and a split over the workers), Where with
// a scalar branch (spread over tiles), sums over H and W of short channel runs (eight
// outputs held at a time, with a remainder), and a [B, H, W, C] by [B, H, W, 1] product and
// the sum over C (one loop over the runs, with -0 among the values), binary ops with a rank-0
// scalar, and GreaterThan against a scalar or a tensor. Each element is one float32 operation, or a sum
// in run order, so any other rounding or order shows as a bit difference.
func TestKernelsElementwiseExact(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	rng := rand.New(rand.NewPCG(20, 13))
	flat := func(x *tensors.Tensor) []float32 { return tensors.MustCopyFlatData[float32](x) }
	run := func(fn func(in []*Node) *Node, in ...*tensors.Tensor) []float32 {
		args := make([]any, len(in))
		for i, x := range in {
			args[i] = x
		}
		out, err := MustNewExec(goBackend(t), fn).Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		return flat(out[0])
	}
	same := func(what string, got, want []float32) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: element %d is %v, want %v", what, i, got[i], want[i])
			}
		}
	}
	ops := map[string]struct {
		node func(a, b *Node) *Node
		f    func(a, b float32) float32
	}{
		"Add": {Add, func(a, b float32) float32 { return a + b }},
		"Sub": {Sub, func(a, b float32) float32 { return a - b }},
		"Mul": {Mul, func(a, b float32) float32 { return a * b }},
		"Div": {Div, func(a, b float32) float32 { return a / b }},
		"Max": {Max, func(a, b float32) float32 { return max(a, b) }},
	}
	// [B, H, W, C] with [B or 1, 1, 1, C]: 4x64x64x8 splits over the workers, 3x10x10x24 ends
	// with a partial tile (85 runs of 24 per tile, 100 runs).
	for _, dims := range [][]int{{4, 64, 64, 8}, {3, 10, 10, 24}, {2, 16, 16, 32}} {
		b, h, w, c := dims[0], dims[1], dims[2], dims[3]
		for _, small := range [][]int{{b, 1, 1, c}, {1, 1, 1, c}} {
			x := to32(randTensor(rng, 0.5, 2, dims...))
			y := to32(randTensor(rng, 0.5, 2, small...))
			xs, ys := flat(x), flat(y)
			for name, op := range ops {
				want := make([]float32, len(xs))
				wantRev := make([]float32, len(xs))
				for i := range want {
					bi := i / (h * w * c)
					if small[0] == 1 {
						bi = 0
					}
					yv := ys[bi*c+i%c]
					want[i], wantRev[i] = op.f(xs[i], yv), op.f(yv, xs[i])
				}
				what := fmt.Sprintf("%s %v %v", name, dims, small)
				same(what, run(func(in []*Node) *Node { return op.node(in[0], in[1]) }, x, y), want)
				same(what+" reversed", run(func(in []*Node) *Node { return op.node(in[1], in[0]) }, x, y), wantRev)
			}
		}
	}
	// [B, H, W, C] with [B, H, W, 1]: one value per run of C, in one loop; -0 among the values.
	for _, dims := range [][]int{{4, 64, 64, 4}, {3, 10, 10, 3}} {
		x := to32(randTensor(rng, 0.5, 2, dims...))
		y := to32(randTensor(rng, 0.5, 2, dims[0], dims[1], dims[2], 1))
		xs, ys := flat(x), flat(y)
		xs[0], ys[1] = float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))
		x, y = tensors.FromFlatDataAndDimensions(xs, dims...), tensors.FromFlatDataAndDimensions(ys, dims[0], dims[1], dims[2], 1)
		c := dims[3]
		for name, op := range ops {
			want, wantRev := make([]float32, len(xs)), make([]float32, len(xs))
			for i := range want {
				want[i], wantRev[i] = op.f(xs[i], ys[i/c]), op.f(ys[i/c], xs[i])
			}
			what := fmt.Sprintf("%s %v by a value per run", name, dims)
			same(what, run(func(in []*Node) *Node { return op.node(in[0], in[1]) }, x, y), want)
			same(what+" reversed", run(func(in []*Node) *Node { return op.node(in[1], in[0]) }, x, y), wantRev)
		}
		// Sums over the channels, each run into its own output, as runSum adds them.
		want := make([]float32, len(ys))
		for r := range want {
			var s [4]float32
			for j, v := range xs[r*c : (r+1)*c] {
				s[j%4] += v
			}
			want[r] = 0 + ((s[0] + s[1]) + (s[2] + s[3]))
		}
		same(fmt.Sprintf("ReduceSum %v over 3", dims), run(func(in []*Node) *Node { return ReduceSum(in[0], 3) }, x), want)
	}
	// A scalar (rank 0) operand on either side, and GreaterThan against a scalar or a tensor.
	{
		x := to32(randTensor(rng, -1, 1, 4, 64, 64, 8))
		z := to32(randTensor(rng, -1, 1, 4, 64, 64, 8))
		xs, zs := flat(x), flat(z)
		xs[5] = 0.375
		x = tensors.FromFlatDataAndDimensions(xs, 4, 64, 64, 8)
		const v = float32(0.375)
		scalar := func(n *Node) *Node { return Scalar(n.Graph(), n.DType(), v) }
		for name, op := range ops {
			want, wantRev := make([]float32, len(xs)), make([]float32, len(xs))
			for i, e := range xs {
				want[i], wantRev[i] = op.f(e, v), op.f(v, e)
			}
			same(name+" by a rank-0 scalar", run(func(in []*Node) *Node { return op.node(in[0], scalar(in[0])) }, x), want)
			same(name+" of a rank-0 scalar", run(func(in []*Node) *Node { return op.node(scalar(in[0]), in[0]) }, x), wantRev)
		}
		bits := func(b []bool) []float32 {
			f := make([]float32, len(b))
			for i, t := range b {
				if t {
					f[i] = 1
				}
			}
			return f
		}
		gt, gtRev, gtXZ := make([]bool, len(xs)), make([]bool, len(xs)), make([]bool, len(xs))
		for i, e := range xs {
			gt[i], gtRev[i], gtXZ[i] = e > v, v > e, e > zs[i]
		}
		runBool := func(fn func(in []*Node) *Node, in ...*tensors.Tensor) []float32 {
			return run(func(nodes []*Node) *Node {
				c := fn(nodes)
				return Where(c, OnesLike(nodes[0]), ZerosLike(nodes[0]))
			}, in...)
		}
		same("x > 0.375", runBool(func(in []*Node) *Node { return GreaterThan(in[0], scalar(in[0])) }, x), bits(gt))
		same("0.375 > x", runBool(func(in []*Node) *Node { return GreaterThan(scalar(in[0]), in[0]) }, x), bits(gtRev))
		same("x > z", runBool(func(in []*Node) *Node { return GreaterThan(in[0], in[1]) }, x, z), bits(gtXZ))
	}
	// Where with a scalar branch on either side, over several tiles and workers.
	x := to32(randTensor(rng, -1, 1, 4, 64, 64, 8))
	xs := flat(x)
	want, wantRev := make([]float32, len(xs)), make([]float32, len(xs))
	for i, v := range xs {
		want[i], wantRev[i] = 0.25, v
		if v > 0 {
			want[i], wantRev[i] = v, 0.25
		}
	}
	quarter := func(x *Node) *Node { return Scalar(x.Graph(), x.DType(), 0.25) }
	same("Where(x > 0, x, 0.25)", run(func(in []*Node) *Node {
		return Where(GreaterThan(in[0], ScalarZero(in[0].Graph(), in[0].DType())), in[0], quarter(in[0]))
	}, x), want)
	same("Where(x > 0, 0.25, x)", run(func(in []*Node) *Node {
		return Where(GreaterThan(in[0], ScalarZero(in[0].Graph(), in[0].DType())), quarter(in[0]), in[0])
	}, x), wantRev)
	// Sums over H and W in run order: 20 channels are two groups of eight and four more.
	for _, dims := range [][]int{{4, 64, 64, 8}, {3, 10, 10, 20}} {
		x := to32(randTensor(rng, -1, 1, dims...))
		xs := flat(x)
		hw, c := dims[1]*dims[2], dims[3]
		want := make([]float32, dims[0]*c)
		for bi := range dims[0] {
			for ci := range c {
				var s float32
				for p := range hw {
					s += xs[(bi*hw+p)*c+ci]
				}
				want[bi*c+ci] = s
			}
		}
		same(fmt.Sprintf("ReduceSum %v over 1, 2", dims), run(func(in []*Node) *Node { return ReduceSum(in[0], 1, 2) }, x), want)
	}
}

// TestOpProfileKeys checks that the op profile keys a broadcast product by its operands' shapes,
// so that it is told apart from the product of two full tensors.
func TestOpProfileKeys(t *testing.T) {
	goBackend(t)
	if err := EnableOpProfile(); err != nil {
		t.Skip(err)
	}
	OpProfile()
	x, y := to32(randTensor(rand.New(rand.NewPCG(1, 2)), -1, 1, 2, 3, 4)), to32(randTensor(rand.New(rand.NewPCG(3, 4)), -1, 1, 1, 1, 4))
	if _, err := MustNewExec(goBackend(t), func(a, b *Node) *Node { return Add(Mul(a, b), a) }).Exec(x, y); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, e := range OpProfile() {
		keys[e.Op] = true
	}
	for _, want := range []string{"Mul (Float32)[2 3 4] = (Float32)[1 1 4]", "Add (Float32)[2 3 4] = ="} {
		if !keys[want] {
			t.Errorf("no profile entry %q in %v", want, keys)
		}
	}
}
