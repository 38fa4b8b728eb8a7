package backend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	timage "github.com/gomlx/gomlx/pkg/core/tensors/images"
	"github.com/pathogan-go/pathogan/pathogan/internal/gradients"
)

// conv2DRef is a direct NHWC/HWIO cross-correlation used as the reference.
func conv2DRef(x []float64, xd []int, k []float64, kd []int, stride int, pads [2][2]int) ([]float64, []int) {
	bn, h, w, c := xd[0], xd[1], xd[2], xd[3]
	kh, kw, co := kd[0], kd[1], kd[3]
	oh := (h+pads[0][0]+pads[0][1]-kh)/stride + 1
	ow := (w+pads[1][0]+pads[1][1]-kw)/stride + 1
	out := make([]float64, bn*oh*ow*co)
	for b := range bn {
		for i := range oh {
			for j := range ow {
				for o := range co {
					sum := 0.0
					for di := range kh {
						for dj := range kw {
							y, xx := i*stride+di-pads[0][0], j*stride+dj-pads[1][0]
							if y < 0 || y >= h || xx < 0 || xx >= w {
								continue
							}
							for ci := range c {
								sum += x[((b*h+y)*w+xx)*c+ci] * k[((di*kw+dj)*c+ci)*co+o]
							}
						}
					}
					out[((b*oh+i)*ow+j)*co+o] = sum
				}
			}
		}
	}
	return out, []int{bn, oh, ow, co}
}

func assertClose(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s: element %d: got %.8g, want %.8g", name, i, got[i], want[i])
		}
	}
}

type convCase struct {
	h, w, k, stride int
	padding         Padding
}

var convCases = []convCase{
	{6, 6, 3, 1, PadSame},
	{6, 7, 3, 2, PadSame},
	{7, 6, 3, 2, PadSame},
	{6, 6, 4, 2, PadExplicit(1, 1, 1, 1)}, // PatchGAN-style k4 s2 p1.
	{7, 7, 7, 1, PadSame},                 // ResNet-generator stem style 7x7.
	{5, 6, 1, 1, PadValid},
	{6, 5, 3, 1, PadValid},
	{5, 5, 2, 2, PadExplicit(0, 1, 1, 0)},
	{6, 6, 3, 2, PadValid},                // Unused last row/column: the gradient crops x.
	{4, 5, 1, 1, PadExplicit(1, 1, 1, 1)}, // Padding wider than the kernel: v is cropped.
}

func (c convCase) String() string {
	return fmt.Sprintf("%dx%d_k%d_s%d_%s", c.h, c.w, c.k, c.stride, c.padding)
}

// TestConv2DForward compares Conv2D with a direct reference, on both conv modes.
func TestConv2DForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	for _, c := range convCases {
		x := randTensor(rng, -1, 1, 2, c.h, c.w, 3)
		k := randTensor(rng, -1, 1, c.k, c.k, 3, 4)
		var pads [2][2]int
		for i, in := range []int{c.h, c.w} {
			pads[i] = c.padding.convPads(i, in, c.k, c.stride)
		}
		want, wantDims := conv2DRef(flat64(t, x), []int{2, c.h, c.w, 3}, flat64(t, k), []int{c.k, c.k, 3, 4}, c.stride, pads)
		if c.padding == PadSame {
			if oh := (c.h + c.stride - 1) / c.stride; wantDims[1] != oh {
				t.Fatalf("%s: reference output height %d, want ceil(h/stride)=%d", c, wantDims[1], oh)
			}
		}
		for _, b := range []*GoBackend{goBackend(t), nativeBackend(t)} {
			x, k := mustLocalClone(t, x), mustLocalClone(t, k)
			got := MustExecOnce(b, func(x, k *Node) *Node { return Conv2D(x, k, c.stride, c.padding) }, x, k)
			if fmt.Sprint(got.Shape().Dimensions) != fmt.Sprint(wantDims) {
				t.Fatalf("%s %s: got shape %s, want %v", c, b.ConvMode(), got.Shape(), wantDims)
			}
			assertClose(t, fmt.Sprintf("%s %s", c, b.ConvMode()), flat64(t, got), want, 1e-12)
		}
	}
}

func mustLocalClone(t testing.TB, x *tensors.Tensor) *tensors.Tensor {
	c, err := x.LocalClone()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGradConv2D checks the gradients of Conv2D with respect to input and kernel against finite
// differences, with the im2col convolution (default) and with simplego's own convolution.
func TestGradConv2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 2))
	for _, c := range convCases {
		for _, b := range []*GoBackend{goBackend(t), nativeBackend(t)} {
			if b.ConvMode() == ConvNative && c.k > 4 {
				continue // Slow on the native kernel and covered by im2col.
			}
			t.Run(c.String()+"/"+b.ConvMode().String(), func(t *testing.T) {
				x := randTensor(rng, -1, 1, 2, c.h, c.w, 3)
				k := randTensor(rng, -1, 1, c.k, c.k, 3, 2)
				checkGradient(t, b, func(in []*Node) *Node { return Conv2D(in[0], in[1], c.stride, c.padding) }, x, k)
			})
		}
	}
}

// scrambledAxes puts every axis of a 2-D convolution somewhere other than where the NHWC/HWIO
// layout has it, and the two spatial axes in reverse order.
var scrambledAxes = backends.ConvolveAxesConfig{
	InputBatch: 2, InputChannels: 0, InputSpatial: []int{3, 1},
	KernelInputChannels: 1, KernelOutputChannels: 3, KernelSpatial: []int{2, 0},
	OutputBatch: 1, OutputChannels: 3, OutputSpatial: []int{0, 2},
}

// TestGradConvolveLayersStyle checks graph.Convolve as graph/layers builds it (nil strides,
// PadSame, channels-first too), whose forward pass fails on the raw Go backend.
func TestGradConvolveLayersStyle(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 3))
	b := goBackend(t)
	t.Run("channels-last", func(t *testing.T) {
		checkGradient(t, b, func(in []*Node) *Node { return Convolve(in[0], in[1]).PadSame().Done() },
			randTensor(rng, -1, 1, 2, 5, 5, 2), randTensor(rng, -1, 1, 3, 3, 2, 3))
	})
	t.Run("channels-first-strided", func(t *testing.T) {
		checkGradient(t, b, func(in []*Node) *Node {
			return Convolve(in[0], in[1]).ChannelsAxis(timage.ChannelsFirst).Strides(2).PadSame().Done()
		}, randTensor(rng, -1, 1, 2, 2, 6, 5), randTensor(rng, -1, 1, 3, 2, 3, 3)) // Kernel [out, in, h, w].
	})
	t.Run("dilated", func(t *testing.T) {
		checkGradient(t, b, func(in []*Node) *Node { return Convolve(in[0], in[1]).Dilations(2).PadSame().Done() },
			randTensor(rng, -1, 1, 1, 7, 6, 2), randTensor(rng, -1, 1, 3, 3, 2, 2))
	})
	t.Run("general", func(t *testing.T) {
		// Stride and kernel dilation together, input dilation, negative and asymmetric paddings:
		// what the conv gradient itself produces (second-order gradients).
		checkGradient(t, b, func(in []*Node) *Node {
			return ConvGeneral(in[0], in[1], scrambledAxes, []int{2, 1}, [][2]int{{2, -1}, {1, 0}}, []int{1, 2}, []int{2, 1}, 1, 1)
		}, randTensor(rng, -1, 1, 2, 7, 2, 6), randTensor(rng, -1, 1, 2, 2, 3, 3))
	})
	t.Run("1d", func(t *testing.T) {
		checkGradient(t, b, func(in []*Node) *Node { return Convolve(in[0], in[1]).Strides(2).PadSame().Done() },
			randTensor(rng, -1, 1, 2, 9, 2), randTensor(rng, -1, 1, 3, 2, 3))
	})
}

// TestConvInputDilation checks ConvGeneral with input dilation (zero insertion) against Pad + conv.
func TestConvInputDilation(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 4))
	x := randTensor(rng, -1, 1, 1, 4, 3, 2)
	k := randTensor(rng, -1, 1, 3, 3, 2, 2)
	for _, b := range []*GoBackend{goBackend(t), nativeBackend(t)} {
		outs := MustExecOnceN(b, func(x, k *Node) []*Node {
			a := Convolve(x, k).InputDilationPerAxis(2, 2).PadSame().Done()
			zero := ScalarZero(x.Graph(), x.DType())
			padded := Pad(x, zero, backends.PadAxis{}, backends.PadAxis{Interior: 1}, backends.PadAxis{Interior: 1})
			return []*Node{a, Convolve(padded, k).PadSame().Done()}
		}, mustLocalClone(t, x), mustLocalClone(t, k))
		assertClose(t, "input dilation "+b.ConvMode().String(), flat64(t, outs[0]), flat64(t, outs[1]), 1e-12)
	}
}

func TestConvTranspose2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 5))
	b := goBackend(t)
	for _, c := range []struct {
		h, k, stride int
		padding      Padding
		wantH        int
	}{
		{3, 3, 2, PadSame, 6},
		{3, 4, 2, PadSame, 6},
		{4, 1, 2, PadSame, 8},
		{3, 3, 1, PadSame, 3},
		{3, 3, 2, PadValid, 7},
		{3, 3, 2, PadExplicit(1, 0, 1, 0), 6}, // PyTorch k3 s2 p1 output_padding 1.
		{3, 4, 2, PadExplicit(1, 1, 1, 1), 6}, // PyTorch k4 s2 p1.
	} {
		name := fmt.Sprintf("h%d_k%d_s%d_%s", c.h, c.k, c.stride, c.padding)
		t.Run(name, func(t *testing.T) {
			x := randTensor(rng, -1, 1, 2, c.h, c.h, 3)
			k := randTensor(rng, -1, 1, c.k, c.k, 3, 2)
			y := randTensor(rng, -1, 1, 2, c.wantH, c.wantH, 2)
			// Adjoint identity: <ConvT(x, K), y> == <x, Conv2D(y, K with in/out swapped)>.
			outs := MustExecOnceN(b, func(x, k, y *Node) []*Node {
				up := ConvTranspose2D(x, k, c.stride, c.padding)
				down := Conv2D(y, TransposeAllAxes(k, 0, 1, 3, 2), c.stride, c.padding)
				return []*Node{up, ReduceAllSum(Mul(up, y)), ReduceAllSum(Mul(x, down))}
			}, x, k, y)
			if d := outs[0].Shape().Dimensions; d[1] != c.wantH || d[2] != c.wantH || d[3] != 2 {
				t.Fatalf("output shape %s, want height/width %d", outs[0].Shape(), c.wantH)
			}
			lhs, rhs := flat64(t, outs[1])[0], flat64(t, outs[2])[0]
			if math.Abs(lhs-rhs) > 1e-10*(1+math.Abs(lhs)) {
				t.Fatalf("not the adjoint of Conv2D: <ConvT(x),y>=%g, <x,Conv2D(y)>=%g", lhs, rhs)
			}
			checkGradient(t, b, func(in []*Node) *Node { return ConvTranspose2D(in[0], in[1], c.stride, c.padding) },
				mustLocalClone(t, x), mustLocalClone(t, k))
		})
	}
}

// TestTransposeFilterForm checks the backward-filter form of a transposed convolution's kernel
// gradient (SetTransposeFilterForm): against finite differences with any axes layout, input
// dilation and padding (float64), and against the input-dilated form on float32 data, where both
// run on the Go backend's float32 convolution kernels; and that with it, no convolution in the
// gradients of the model's layers is one that XLA's GPU compiler runs on a zero-inserted copy of
// its input (gradients.ZeroInsertingConvs), while the input-dilated form leaves one per
// transposed convolution.
func TestTransposeFilterForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 6))
	b := goBackend(t)
	defer SetTransposeFilterForm(SetTransposeFilterForm(true))

	t.Run("general", func(t *testing.T) {
		// Input dilations 2 and 3, asymmetric paddings, one of them 0 (the form's pad k-1).
		checkGradient(t, b, func(in []*Node) *Node {
			return ConvGeneral(in[0], in[1], scrambledAxes, []int{1, 1}, [][2]int{{2, 0}, {1, 2}}, []int{2, 3}, nil, 1, 1)
		}, randTensor(rng, -1, 1, 2, 4, 2, 3), randTensor(rng, -1, 1, 3, 2, 3, 3))
	})

	// The decoder's up-sampling layer (PyTorch's k3 s2 p1 output_padding 1) on float32 data.
	x, k := randTensor32(rng, 2, 9, 9, 6), randTensor32(rng, 3, 3, 6, 4)
	var grads [2][]float32
	for i, on := range []bool{true, false} {
		SetTransposeFilterForm(on)
		out := MustExecOnceN(b, func(x, k *Node) []*Node {
			return Gradient(weightedSum(ConvTranspose2D(x, k, 2, PadExplicit(1, 0, 1, 0))), k)
		}, x, k)
		var err error
		if grads[i], err = tensors.CopyFlatData[float32](out[0]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range grads[0] {
		if d := math.Abs(float64(grads[0][i] - grads[1][i])); d > 1e-4*(1+math.Abs(float64(grads[1][i]))) {
			t.Fatalf("kernel gradient element %d: %g in the backward-filter form, %g in the input-dilated form",
				i, grads[0][i], grads[1][i])
		}
	}

	layers := func(x, k3, k4, kT *Node) *Node {
		h := Conv2D(x, k3, 2, PadSame)                            // d: 3x3, stride 2.
		h = Conv2D(h, k4, 2, PadExplicit(1, 1, 1, 1))             // PatchGAN: 4x4, stride 2, padding 1.
		return ConvTranspose2D(h, kT, 2, PadExplicit(1, 0, 1, 0)) // u: 3x3, stride 2.
	}
	for _, on := range []bool{true, false} {
		SetTransposeFilterForm(on)
		g := NewGraph(b, "layers")
		param := func(name string, dims ...int) *Node { return Parameter(g, name, shapes.Make(dtypes.Float32, dims...)) }
		xs, k3, k4, kT := param("x", 2, 16, 16, 3), param("k3", 3, 3, 3, 4), param("k4", 4, 4, 4, 5), param("kT", 3, 3, 5, 2)
		Gradient(weightedSum(layers(xs, k3, k4, kT)), xs, k3, k4, kT)
		bad := gradients.ZeroInsertingConvs(g)
		if on && len(bad) > 0 {
			t.Errorf("backward-filter form: %d zero-inserting convolutions, the first %s", len(bad), bad[0])
		}
		if !on && len(bad) != 1 {
			t.Errorf("input-dilated form: %d zero-inserting convolutions, want the transposed convolution's kernel gradient", len(bad))
		}
		g.Finalize()
	}
}

func TestInstanceNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 7))
	b := goBackend(t)
	x := randTensor(rng, -2, 3, 2, 4, 5, 3)
	y := MustExecOnce(b, func(x *Node) *Node { return InstanceNorm(x, nil, nil, 0) }, x)
	v := flat64(t, y)
	for n := range 2 {
		for c := range 3 {
			var sum, sq float64
			for p := range 20 {
				e := v[(n*20+p)*3+c]
				sum += e
				sq += e * e
			}
			if mean, variance := sum/20, sq/20-(sum/20)*(sum/20); math.Abs(mean) > 1e-12 || math.Abs(variance-1) > 1e-9 {
				t.Fatalf("sample %d channel %d: mean %g, variance %g", n, c, mean, variance)
			}
		}
	}
	for _, closed := range []bool{true, false} {
		was := SetClosedForm(closed)
		checkGradient(t, b, func(in []*Node) *Node { return InstanceNorm(in[0], in[1], in[2], 1e-5) },
			mustLocalClone(t, x), randTensor(rng, 0.5, 1.5, 3), randTensor(rng, -1, 1, 3))
		checkGradient(t, b, func(in []*Node) *Node { return InstanceNorm(in[0], nil, nil, 1e-3) },
			randTensor(rng, -4, 1, 2, 6, 2))
		SetClosedForm(was)
	}
}

// TestClosedForm checks that InstanceNorm, ELU and LeakyReLU carry their closed-form gradients:
// the gradient graph of LeakyReLU(ELU(InstanceNorm(x))) has fewer nodes than with
// SetClosedForm(false), and the two gradients agree on float32 data.
func TestClosedForm(t *testing.T) {
	b := goBackend(t)
	rng := rand.New(rand.NewPCG(20, 9))
	x := randTensor(rng, -3, 2, 2, 16, 16, 8)
	xf := flat64(t, x)
	x32 := make([]float32, len(xf))
	for i, v := range xf {
		x32[i] = float32(v)
	}
	for _, alpha := range []float64{1, 0.5} {
		grads, nodes := gradientBothWays(t, b, func(x *Node) *Node {
			return LeakyReLU(ELU(InstanceNorm(x, nil, nil, 1e-5), alpha), 0.2)
		}, tensors.FromFlatDataAndDimensions(x32, 2, 16, 16, 8))
		if nodes[0] >= nodes[1] {
			t.Errorf("alpha %g: the closed-form gradient graph has %d nodes, the differentiated one %d", alpha, nodes[0], nodes[1])
		}
		worst := 0.0
		for i := range grads[0] {
			worst = max(worst, math.Abs(float64(grads[0][i])-float64(grads[1][i])))
		}
		if worst > 1e-5 {
			t.Errorf("alpha %g: closed-form and differentiated gradients differ by up to %.3g", alpha, worst)
		}
		t.Logf("alpha %g: %d against %d nodes, gradients differ by up to %.2g", alpha, nodes[0], nodes[1], worst)
	}
}

func TestELU(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 8))
	b := goBackend(t)
	// 1.5 takes the Where form, 1 and 0.5 the max form.
	for _, alpha := range []float64{1.5, 1, 0.5} {
		got := MustExecOnce(b, func(g *Graph) *Node {
			return ELU(Const(g, []float64{-1000, -1, -1e-9, 0, 2, 1000}), alpha)
		})
		want := []float64{-alpha, alpha * math.Expm1(-1), alpha * math.Expm1(-1e-9), 0, 2, 1000}
		assertClose(t, fmt.Sprintf("ELU alpha %g", alpha), flat64(t, got), want, 1e-12)
	}
	for _, alpha := range []float64{1.5, 1, 0.5} {
		checkActivationGradient(t, b, rng, func(x *Node) *Node { return ELU(x, alpha) })
	}
}

// gradientBothWays returns the gradient of weightedSum(fn(x)) at the float32 x, and the number
// of nodes of its graph, with the closed forms on ([0]) and off ([1]).
func gradientBothWays(t *testing.T, b backends.Backend, fn func(x *Node) *Node, x *tensors.Tensor) (grads [2][]float32, nodes [2]int) {
	t.Helper()
	for i, closed := range []bool{true, false} {
		was := SetClosedForm(closed)
		exec := MustNewExec(b, func(x *Node) *Node {
			g := Gradient(weightedSum(fn(x)), x)[0]
			nodes[i] = len(x.Graph().Nodes())
			return g
		})
		out, err := exec.Exec(x)
		SetClosedForm(was)
		if err != nil {
			t.Fatal(err)
		}
		if grads[i], err = tensors.CopyFlatData[float32](out[0]); err != nil {
			t.Fatal(err)
		}
	}
	return grads, nodes
}

// checkActivationGradient checks an element-wise activation's gradient against finite
// differences, with and without the closed forms, on values away from the kink at 0 (of
// either sign, at least 0.05 from it).
func checkActivationGradient(t *testing.T, b backends.Backend, rng *rand.Rand, fn func(x *Node) *Node) {
	t.Helper()
	xf := flat64(t, randTensor(rng, 0.05, 2, 3, 4))
	for i := range xf {
		if i%2 == 0 {
			xf[i] = -xf[i]
		}
	}
	for _, closed := range []bool{true, false} {
		was := SetClosedForm(closed)
		checkGradient(t, b, func(in []*Node) *Node { return fn(in[0]) }, tensors.FromFlatDataAndDimensions(xf, 3, 4))
		SetClosedForm(was)
	}
}

// TestLeakyReLU checks LeakyReLU's values, its gradient against finite differences with and
// without the closed form, and that on float32 data the closed form gives GoMLX's gradient bit
// for bit (zeros of either sign taken as equal), x = 0 included, with fewer nodes.
func TestLeakyReLU(t *testing.T) {
	b := goBackend(t)
	got := MustExecOnce(b, func(g *Graph) *Node {
		return LeakyReLU(Const(g, []float64{-10, -1, 0, 0.5, 3}), 0.2)
	})
	assertClose(t, "LeakyReLU", flat64(t, got), []float64{-2, -0.2, 0, 0.5, 3}, 1e-12)
	rng := rand.New(rand.NewPCG(20, 10))
	checkActivationGradient(t, b, rng, func(x *Node) *Node { return LeakyReLU(x, 0.2) })
	x32 := make([]float32, 64)
	for i := range x32 {
		x32[i] = float32(rng.NormFloat64())
	}
	x32[5], x32[6] = 0, float32(math.Copysign(0, -1))
	grads, nodes := gradientBothWays(t, b, func(x *Node) *Node { return LeakyReLU(x, 0.2) },
		tensors.FromFlatDataAndDimensions(x32, 4, 16))
	for i := range grads[0] {
		if grads[0][i] != grads[1][i] {
			t.Fatalf("x = %g: closed-form gradient %g, GoMLX's %g", x32[i], grads[0][i], grads[1][i])
		}
	}
	if nodes[0] >= nodes[1] {
		t.Errorf("the closed-form gradient graph has %d nodes, the differentiated one %d", nodes[0], nodes[1])
	}
	t.Logf("%d against %d nodes", nodes[0], nodes[1])
}

// TestPanicsArePrefixed checks that programmer mistakes panic with the "pathogan:" prefix.
func TestPanicsArePrefixed(t *testing.T) {
	b := goBackend(t)
	for name, fn := range map[string]func(g *Graph) *Node{
		"Conv2D rank": func(g *Graph) *Node {
			return Conv2D(Zeros(g, shapesMake(2, 3, 3)), Zeros(g, shapesMake(3, 3, 3, 1)), 1, PadSame)
		},
		"Conv2D channels": func(g *Graph) *Node {
			return Conv2D(Zeros(g, shapesMake(1, 3, 3, 2)), Zeros(g, shapesMake(3, 3, 3, 1)), 1, PadSame)
		},
		"Conv2D stride": func(g *Graph) *Node {
			return Conv2D(Zeros(g, shapesMake(1, 3, 3, 3)), Zeros(g, shapesMake(3, 3, 3, 1)), 0, PadSame)
		},
		"ConvT channels": func(g *Graph) *Node {
			return ConvTranspose2D(Zeros(g, shapesMake(1, 3, 3, 2)), Zeros(g, shapesMake(3, 3, 3, 1)), 2, PadSame)
		},
		"InstanceNorm": func(g *Graph) *Node {
			return InstanceNorm(Zeros(g, shapesMake(1, 3, 3, 3)), Zeros(g, shapesMake(2)), nil, 1e-5)
		},
		"ELU nil":         func(g *Graph) *Node { return ELU(nil, 1) },
		"LeakyReLU alpha": func(g *Graph) *Node { return LeakyReLU(Zeros(g, shapesMake(1, 3)), 1.5) },
		"Conv2D too small": func(g *Graph) *Node {
			return Conv2D(Zeros(g, shapesMake(1, 2, 2, 1)), Zeros(g, shapesMake(3, 3, 1, 1)), 1, PadValid)
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("no panic")
				}
				if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "pathogan:") {
					t.Fatalf("panic without pathogan: prefix: %s", msg)
				}
			}()
			g := NewGraph(b, "panic")
			fn(g)
		})
	}
}

// TestConvGeneralModesAgree compares the im2col and native convolutions (and the native one's
// gradient) on a convolution with unusual axes, strides with kernel dilation, input dilation and
// negative padding.
func TestConvGeneralModesAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 3))
	axes := backends.ConvolveAxesConfig{
		InputBatch: 2, InputChannels: 0, InputSpatial: []int{3, 1},
		KernelInputChannels: 1, KernelOutputChannels: 3, KernelSpatial: []int{2, 0},
		OutputBatch: 1, OutputChannels: 3, OutputSpatial: []int{0, 2},
	}
	x, k := randTensor(rng, -1, 1, 2, 7, 2, 6), randTensor(rng, -1, 1, 2, 2, 3, 3)
	fn := func(x, k *Node) *Node {
		return ConvGeneral(x, k, axes, []int{2, 1}, [][2]int{{2, -1}, {1, 0}}, []int{1, 2}, []int{2, 1}, 1, 1)
	}
	a := MustExecOnce(goBackend(t), fn, x, k)
	b := MustExecOnce(nativeBackend(t), fn, mustLocalClone(t, x), mustLocalClone(t, k))
	assertClose(t, "native vs im2col", flat64(t, b), flat64(t, a), 1e-12)
	checkGradient(t, nativeBackend(t), func(in []*Node) *Node { return fn(in[0], in[1]) }, mustLocalClone(t, x), mustLocalClone(t, k))
}
