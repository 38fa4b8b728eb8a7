package gradients

import (
	"slices"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// convParams are the parameters of a ConvGeneral node.
type convParams struct {
	axes                               backends.ConvolveAxesConfig
	strides, inputDilations, kernelDil []int
	paddings                           [][2]int
	channelGroups, batchGroups         int
}

func readConvParams(node *Node) convParams {
	p := nodeParams(node, "axes", "strides", "paddings", "inputDilations", "kernelDilations",
		"channelGroupCount", "batchGroupCount")
	a := p.FieldByName("axes")
	var cp convParams
	cp.axes = backends.ConvolveAxesConfig{
		InputBatch:           int(a.FieldByName("InputBatch").Int()),
		InputChannels:        int(a.FieldByName("InputChannels").Int()),
		InputSpatial:         intsField(a, "InputSpatial"),
		KernelInputChannels:  int(a.FieldByName("KernelInputChannels").Int()),
		KernelOutputChannels: int(a.FieldByName("KernelOutputChannels").Int()),
		KernelSpatial:        intsField(a, "KernelSpatial"),
		OutputBatch:          int(a.FieldByName("OutputBatch").Int()),
		OutputChannels:       int(a.FieldByName("OutputChannels").Int()),
		OutputSpatial:        intsField(a, "OutputSpatial"),
	}
	n := len(cp.axes.InputSpatial)
	cp.strides = OnesWhereUnset(intsField(p, "strides"), n)
	cp.inputDilations = OnesWhereUnset(intsField(p, "inputDilations"), n)
	cp.kernelDil = OnesWhereUnset(intsField(p, "kernelDilations"), n)
	cp.paddings = make([][2]int, n)
	pads := p.FieldByName("paddings")
	for i := 0; i < pads.Len() && i < n; i++ {
		cp.paddings[i] = [2]int{int(pads.Index(i).Index(0).Int()), int(pads.Index(i).Index(1).Int())}
	}
	cp.channelGroups = max(int(p.FieldByName("channelGroupCount").Int()), 1)
	cp.batchGroups = max(int(p.FieldByName("batchGroupCount").Int()), 1)
	return cp
}

// convGeneralVJP is the gradient of an ungrouped ConvGeneral with any axes layout, strides,
// paddings (including negative and asymmetric ones), kernel dilations and input dilations.
//
// GoMLX v0.26.0's own conv gradient assumes "centered" kernels: it gives wrong input gradients
// for even-sized kernels (e.g. the 4x4 stride-2 padding-1 convolutions of PatchGAN
// discriminators, on every backend, XLA included), panics for some explicit paddings
// ("outputDimStart=1 > 0") and has no gradient for input-dilated convolutions.
//
// With K = (k-1)*kernelDilation+1 the kernel span, L = in + padStart + padEnd the padded input
// length, o the output length, s the stride and excess = L - ((o-1)*s + K) the unused tail:
//
//   - d input = conv(zero-insert(v, s-1) padded by (K-1-padStart, K-1+excess-padEnd),
//     spatially reversed kernel with in/out channels swapped, kernel dilation kept);
//     then a stride-inputDilation slice when the forward input was dilated;
//   - d kernel = conv(input cropped to the used span [padStart, L-excess), with batch and
//     channels swapped, "kernel" v with kernel dilation s, stride = kernel dilation); for a
//     stride-1 convolution with input dilation (a transposed convolution), the same sums in the
//     form XLA runs as cuDNN's backward-filter convolution (filterFormKernelGradient).
func convGeneralVJP(node, v *Node) []*Node {
	cp := readConvParams(node)
	if cp.channelGroups > 1 || cp.batchGroups > 1 {
		return builtin[NodeTypeConvGeneral](node, []*Node{v}, shapes.Make(v.DType()))
	}
	x, kernel := node.Inputs()[0], node.Inputs()[1]
	axes := cp.axes
	n := len(axes.InputSpatial)
	g := x.Graph()
	zero := ScalarZero(g, x.DType())

	// The effective (dilated) input, built only when the gradients need it as a tensor.
	dilated := false
	for _, d := range cp.inputDilations {
		dilated = dilated || d > 1
	}
	dilatedInput := func() *Node {
		if !dilated {
			return x
		}
		cfg := make([]backends.PadAxis, x.Rank())
		for i, a := range axes.InputSpatial {
			cfg[a].Interior = cp.inputDilations[i] - 1
		}
		return Pad(x, zero, cfg...)
	}

	vPad := make([]backends.PadAxis, v.Rank())
	xCrop := make([]backends.PadAxis, x.Rank())
	needCrop := false
	ones := make([]int, n)
	for i := range n {
		ones[i] = 1
		k := kernel.Shape().Dimensions[axes.KernelSpatial[i]]
		span := (k-1)*cp.kernelDil[i] + 1
		in := (x.Shape().Dimensions[axes.InputSpatial[i]]-1)*cp.inputDilations[i] + 1
		o := node.Shape().Dimensions[axes.OutputSpatial[i]]
		s := cp.strides[i]
		pl, ph := cp.paddings[i][0], cp.paddings[i][1]
		excess := in + pl + ph - ((o-1)*s + span)
		if excess < 0 {
			panicf("conv gradient: inconsistent ConvGeneral node %s (spatial axis %d: input %d, pads %v, span %d, stride %d, output %d)",
				node, i, in, cp.paddings[i], span, s, o)
		}
		vPad[axes.OutputSpatial[i]] = backends.PadAxis{Start: span - 1 - pl, End: span - 1 + excess - ph, Interior: s - 1}
		xCrop[axes.InputSpatial[i]] = backends.PadAxis{Start: pl, End: ph - excess}
		needCrop = needCrop || pl != 0 || ph-excess != 0
	}

	// Both gradients are convolutions. When their paddings are non-negative they take the zero
	// insertion (stride s for d input, the forward input dilation for d kernel) and the borders as
	// ConvGeneral's own input dilation and padding, so that no padded copy of v or x is made (a
	// backend computes input-dilated convolutions without the inserted zeros). Otherwise the
	// padding is an explicit Pad, as described above.
	flipped := Reverse(kernel, axes.KernelSpatial...)
	axesX := backends.ConvolveAxesConfig{
		InputBatch: axes.OutputBatch, InputChannels: axes.OutputChannels, InputSpatial: axes.OutputSpatial,
		KernelInputChannels: axes.KernelOutputChannels, KernelOutputChannels: axes.KernelInputChannels,
		KernelSpatial: axes.KernelSpatial,
		OutputBatch:   axes.InputBatch, OutputChannels: axes.InputChannels, OutputSpatial: axes.InputSpatial,
	}
	axesK := backends.ConvolveAxesConfig{
		InputBatch: axes.InputChannels, InputChannels: axes.InputBatch, InputSpatial: axes.InputSpatial,
		KernelInputChannels: axes.OutputBatch, KernelOutputChannels: axes.OutputChannels,
		KernelSpatial: axes.OutputSpatial,
		OutputBatch:   axes.KernelInputChannels, OutputChannels: axes.KernelOutputChannels,
		OutputSpatial: axes.KernelSpatial,
	}
	direct := true
	vPads := make([][2]int, n)
	xPads := make([][2]int, n)
	for i := range n {
		vp, xp := vPad[axes.OutputSpatial[i]], xCrop[axes.InputSpatial[i]]
		vPads[i] = [2]int{vp.Start, vp.End}
		xPads[i] = [2]int{xp.Start, xp.End}
		direct = direct && vp.Start >= 0 && vp.End >= 0 && xp.Start >= 0 && xp.End >= 0
	}
	if direct {
		gradX := ConvGeneral(v, flipped, axesX, cp.inputDilations, vPads, cp.strides, cp.kernelDil, 1, 1)
		gradK := filterFormKernelGradient(cp, kernel, x, v)
		if gradK == nil {
			gradK = ConvGeneral(x, v, axesK, cp.kernelDil, xPads, cp.inputDilations, cp.strides, 1, 1)
		}
		return []*Node{gradX, gradK}
	}

	// Gradient with respect to the (effective) input.
	gradX := ConvGeneral(Pad(v, zero, vPad...), flipped, axesX, ones, nil, nil, cp.kernelDil, 1, 1)
	if dilated {
		specs := make([]SliceAxisSpec, x.Rank())
		for a := range specs {
			specs[a] = AxisRange()
		}
		for i, a := range axes.InputSpatial {
			specs[a] = AxisRange().Stride(cp.inputDilations[i])
		}
		gradX = Slice(gradX, specs...)
	}

	// Gradient with respect to the kernel.
	xUsed := dilatedInput()
	if needCrop {
		xUsed = Pad(xUsed, zero, xCrop...)
	}
	gradK := ConvGeneral(xUsed, v, axesK, cp.kernelDil, nil, nil, cp.strides, 1, 1)
	return []*Node{gradX, gradK}
}

// filterFormOff turns filterFormKernelGradient off (SetFilterForm).
var filterFormOff atomic.Bool

// SetFilterForm says whether the kernel gradient of an input-dilated convolution (a transposed
// convolution's) is built in the backward-filter form (on, the default) or in the input-dilated
// form (off), in graphs built from now on, and returns the previous setting. Both compute the same
// values up to rounding. It is process-wide, for comparisons such as bench's
// --dilated-kernel-grad.
func SetFilterForm(on bool) (was bool) { return !filterFormOff.Swap(!on) }

// filterFormKernelGradient returns the kernel gradient of a stride-1 ConvGeneral whose input is
// dilated (a transposed convolution: input dilation D, kernel k, paddings pl and ph) in the form
// of a strided convolution's kernel gradient, or nil where that form does not apply (a stride or
// kernel dilation above 1, or pl or ph above k-1) or SetFilterForm is off.
//
// With x the input, v the output's gradient and xd the dilated, padded input, the kernel
// gradient is dK[j] = Σ_o v[o]·xd[o+j] = Σ_i x[i]·v[i·D + pl - j] (per spatial axis). That is the
// convolution C[m] = Σ_i x[i]·v'[m + i·D] of v', v padded by k-1-pl before and k-1-ph after,
// with x as the kernel at kernel dilation D, batch axes contracted; then dK[j] = C[k-1-j], a
// reversal. The input-dilated form, conv(xd, v), computes the same sums, but XLA's GPU compiler
// does not recognize a convolution with input dilation as a kernel gradient: it materializes xd
// with its D²-1 of D² zeros and runs a forward convolution whose window is the whole image. The
// form here is the one XLA maps to cuDNN's backward-filter convolution.
func filterFormKernelGradient(cp convParams, kernel, x, v *Node) *Node {
	if filterFormOff.Load() || slices.Max(cp.inputDilations) == 1 ||
		slices.Max(cp.strides) > 1 || slices.Max(cp.kernelDil) > 1 {
		return nil
	}
	axes := cp.axes
	n := len(axes.InputSpatial)
	pads := make([][2]int, n)
	for i := range n {
		k := kernel.Shape().Dimensions[axes.KernelSpatial[i]]
		pads[i] = [2]int{k - 1 - cp.paddings[i][0], k - 1 - cp.paddings[i][1]}
		if pads[i][0] < 0 || pads[i][1] < 0 {
			return nil
		}
	}
	axesF := backends.ConvolveAxesConfig{
		InputBatch: axes.OutputChannels, InputChannels: axes.OutputBatch, InputSpatial: axes.OutputSpatial,
		KernelInputChannels: axes.InputBatch, KernelOutputChannels: axes.InputChannels,
		KernelSpatial: axes.InputSpatial,
		OutputBatch:   axes.KernelOutputChannels, OutputChannels: axes.KernelInputChannels,
		OutputSpatial: axes.KernelSpatial,
	}
	c := ConvGeneral(v, x, axesF, OnesWhereUnset(nil, n), pads, nil, cp.inputDilations, 1, 1)
	return Reverse(c, axes.KernelSpatial...)
}

// ZeroInsertingConvs returns the ConvGeneral nodes of g that XLA's GPU compiler would run on a
// copy of their input with zeros inserted: those with an input dilation above 1 that are not a
// backward-input convolution, which XLA recognizes as stride 1, no kernel dilation, and a kernel
// that is a Reverse of all its spatial axes (a transposed convolution, or a strided convolution's
// input gradient). Every other convolution maps to one cuDNN call without such a copy.
func ZeroInsertingConvs(g *Graph) []*Node {
	var out []*Node
	for _, node := range g.Nodes() {
		if node.Type() != NodeTypeConvGeneral {
			continue
		}
		cp := readConvParams(node)
		if slices.Max(cp.inputDilations) == 1 {
			continue
		}
		kernel := node.Inputs()[1]
		reversed := kernel.Type() == NodeTypeReverse && sameAxes(intsField(nodeParams(kernel, "axes"), "axes"), cp.axes.KernelSpatial)
		if !reversed || slices.Max(cp.strides) > 1 || slices.Max(cp.kernelDil) > 1 {
			out = append(out, node)
		}
	}
	return out
}

// sameAxes says whether a and b hold the same axes, in any order.
func sameAxes(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
