package backend

import (
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pathogan-go/pathogan/pathogan/internal/gradients"
	"github.com/pathogan-go/pathogan/pathogan/internal/kernels"
	"github.com/pkg/errors"
)

// GoBackendName is the name (String()) of the Go backend, with or without this package's fixes.
const GoBackendName = simplego.BackendName

// ConvMode selects how the fixed Go backend computes ConvGeneral.
type ConvMode int

const (
	// ConvKernel keeps each float32 ConvGeneral as one node, input dilations included, and runs it
	// with this package's kernel (package internal/kernels): matrix products through package gemm
	// that read the patches from a padded copy of the input (im2col blocks with OpenBLAS or pure
	// Go), on every core. This is the default. If the kernels
	// cannot be installed (see KernelsStatus) the backend uses ConvIm2Col instead.
	ConvKernel ConvMode = iota

	// ConvIm2Col lowers every ungrouped ConvGeneral to strided slices, one concatenation and one
	// DotGeneral (matrix multiplication) in the graph. It is faster than the Go backend's direct
	// convolution loop, forward and backward (docs/benchmarks.md, "The Go backend's design").
	ConvIm2Col

	// ConvNative runs simplego's own ConvGeneral executor (its direct loop), for every dtype, and
	// only repairs the arguments (nil strides, input dilations). Kept for comparison.
	ConvNative
)

// String implements fmt.Stringer.
func (m ConvMode) String() string {
	switch m {
	case ConvKernel:
		return "kernel"
	case ConvIm2Col:
		return "im2col"
	case ConvNative:
		return "native"
	}
	return "ConvMode(?)"
}

// GoBackend wraps GoMLX v0.26.0's pure-Go backend ("simplego") and supplies the operations that
// conv-net training needs and that backend lacks: Pad, Reverse, ConvGeneral with nil strides, with
// input dilation, and (by default) faster float32 kernels. Everything else is the embedded
// backend's, so buffers and every other op come straight from simplego.
type GoBackend struct {
	*simplego.Backend

	convMode     ConvMode
	capabilities backends.Capabilities
	config       string
}

var _ backends.Backend = (*GoBackend)(nil)

// NewGoBackend creates the Go backend with this package's fixes. config is a comma separated list
// of options: the simplego ones (parallelism=N, ops_sequential, ops_parallel, dotgeneral_small,
// dotgeneral_large, dotgeneral_check) plus "conv=kernel" (default), "conv=im2col" or "conv=native".
//
// If none of ops_sequential, ops_parallel and parallelism=N is given, ops_sequential is added
// when the process has one core (GOMAXPROCS 1 when the backend is created), else
// "ops_parallel,parallelism=-1": simplego's parallel executor, which runs independent ops at the
// same time, with an unlimited worker pool. With its default pool (2×NumCPU slots) that executor deadlocks on small
// machines (see the package doc, item 8); an unlimited pool never waits for a slot. What it
// gains is in docs/benchmarks.md ("CPU, 2026-12-05: independent ops at once").
// parallelism=-1 is set without simplego's stdout line (kernels.UnlimitWorkers); where that
// cannot be done (another GoMLX version), ops_sequential is added instead, which never deadlocks.
// If no dotgeneral_* option is given, dotgeneral_small is added: simplego's blocked ("large")
// matmul pads both output dimensions to 64, which wastes most of its work on the skinny
// im2col matmuls of narrow conv nets (docs/benchmarks.md, "The Go backend's design"). Give
// dotgeneral_large for wide networks.
// simplego itself prints one line to stdout when parallelism=N is given, except for
// parallelism=-1, which this package sets itself.
//
// NewGoBackend calls Install: the first Go backend of a process registers this package's
// gradients and installs its float32 kernels (process-wide, after the GoMLX version and layout
// checks). If the kernels cannot be installed, conv=kernel becomes conv=im2col; Description says
// why. Errors from Install do not fail NewGoBackend.
func NewGoBackend(config string) (*GoBackend, error) {
	convMode := ConvKernel
	var goOpts []string
	hasExecMode, hasDotMode, unlimited := false, false, false
	for _, part := range strings.Split(config, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case part == "conv=kernel":
			convMode = ConvKernel
		case part == "conv=im2col":
			convMode = ConvIm2Col
		case part == "conv=native":
			convMode = ConvNative
		case strings.HasPrefix(part, "conv="):
			return nil, errors.Errorf("pathogan: unknown Go backend option %q: valid are conv=kernel, conv=im2col, conv=native", part)
		case part == "parallelism=-1":
			hasExecMode, unlimited = true, true
		default:
			if part == "ops_sequential" || part == "ops_parallel" || strings.HasPrefix(part, "parallelism=") {
				hasExecMode = true
			}
			if strings.HasPrefix(part, "dotgeneral_") {
				hasDotMode = true
			}
			goOpts = append(goOpts, part)
		}
	}
	canUnlimit := kernels.CanUnlimitWorkers() == nil
	if !hasExecMode {
		switch {
		case runtime.GOMAXPROCS(0) == 1:
			// One core runs one op at a time anyway: the sequential executor skips the
			// parallel one's goroutine per op (15-20 % of a 64-px step on one core).
			goOpts = append(goOpts, "ops_sequential")
		case canUnlimit:
			goOpts, unlimited = append(goOpts, "ops_parallel"), true
		default:
			goOpts = append(goOpts, "ops_sequential")
		}
	}
	if unlimited && !canUnlimit { // Asked for, and only simplego can set it (printing its line).
		goOpts, unlimited = append(goOpts, "parallelism=-1"), false
	}
	if !hasDotMode {
		goOpts = append(goOpts, "dotgeneral_small")
	}
	inner, err := simplego.New(strings.Join(goOpts, ","))
	if err != nil {
		return nil, errors.WithMessage(err, "pathogan: creating the Go backend")
	}
	sb := inner.(*simplego.Backend)
	if unlimited {
		if err := kernels.UnlimitWorkers(sb); err != nil {
			return nil, errors.WithMessage(err, "pathogan: creating the Go backend")
		}
		goOpts = append(goOpts, "parallelism=-1")
	}
	// The gradients and the float32 kernels are installed here, not at import (see Install). The
	// kernels serve every conv mode: the matmuls of conv=im2col use them too.
	if err := Install(); err != nil && convMode == ConvKernel && kernels.Status() != nil {
		convMode = ConvIm2Col
	}
	caps := simplego.Capabilities.Clone()
	caps.Operations[backends.OpTypePad] = true
	caps.Operations[backends.OpTypeReverse] = true
	return &GoBackend{
		Backend:      sb,
		convMode:     convMode,
		capabilities: caps,
		config:       strings.Join(append(goOpts, "conv="+convMode.String()), ","),
	}, nil
}

// ConvMode returns how this backend computes convolutions.
func (b *GoBackend) ConvMode() ConvMode { return b.convMode }

// Config returns the effective configuration string (simplego options plus conv=...).
func (b *GoBackend) Config() string { return b.config }

// Description implements backends.Backend.
func (b *GoBackend) Description() string {
	return "Simple Go Portable Backend + " + fixesDescription() + " (" + b.config + ")"
}

// Capabilities implements backends.Backend: simplego's plus Pad and Reverse.
func (b *GoBackend) Capabilities() backends.Capabilities { return b.capabilities }

// Builder implements backends.Backend, returning a builder with the extra ops, whose nodes the
// installed kernels run (see kernels.Adopt).
func (b *GoBackend) Builder(name string) backends.Builder {
	sb := b.Backend.Builder(name).(*simplego.Builder)
	kernels.Adopt(sb, kernels.Options{NativeConv: b.convMode == ConvNative})
	return &goBuilder{Builder: sb, convMode: b.convMode, broadcasts: map[backends.Op]broadcastSource{},
		reversed: map[reverseKey]backends.Op{}}
}

// goBuilder embeds simplego's builder and overrides the ops it lacks or gets wrong.
type goBuilder struct {
	*simplego.Builder
	convMode ConvMode

	// broadcasts records the float32 BroadcastInDim ops built so far that only repeat their
	// operand along new or size-1 axes (see implicitBroadcast).
	broadcasts map[backends.Op]broadcastSource

	// reversed holds the Reverse ops built so far, by operand and axes: a graph reverses the
	// same kernel for every application of a layer (each gradient's input convolution, each
	// transposed convolution), and Reverse is several ops here.
	reversed map[reverseKey]backends.Op
}

// reverseKey identifies a Reverse: its operand and its axes (as a string of bytes).
type reverseKey struct {
	x    backends.Op
	axes string
}

var _ backends.Builder = (*goBuilder)(nil)

// Compile implements backends.Builder, returning an executable that releases the kernels' plans
// for this builder's nodes when finalized.
func (b *goBuilder) Compile(outputs []backends.Op, shardings []*backends.ShardingSpec) (backends.Executable, error) {
	exec, err := b.Builder.Compile(outputs, shardings)
	if err != nil {
		return nil, err
	}
	return &goExecutable{Executable: exec, builder: b.Builder}, nil
}

// goExecutable is simplego's executable with a Finalize that also releases the kernels' plans.
type goExecutable struct {
	backends.Executable
	builder *simplego.Builder
}

// Finalize implements backends.Executable.
func (e *goExecutable) Finalize() {
	kernels.Release(e.builder)
	e.Executable.Finalize()
}

func (b *goBuilder) shape(op backends.Op) (shapes.Shape, error) { return b.Builder.OpShape(op) }

// zeroConstant returns a scalar zero of the given dtype (the Go zero value is zero for every
// supported dtype, bfloat16 included).
func (b *goBuilder) zeroConstant(dtype dtypes.DType) (backends.Op, error) {
	goType := dtype.GoType()
	if goType == nil {
		return nil, errors.Errorf("pathogan: dtype %s has no Go type", dtype)
	}
	return b.Builder.Constant(reflect.MakeSlice(reflect.SliceOf(goType), 1, 1).Interface())
}

// fillBlock broadcasts the scalar fill to the given dimensions.
func (b *goBuilder) fillBlock(fill backends.Op, dims []int) (backends.Op, error) {
	return b.Builder.Broadcast(fill, dims...)
}

// Pad implements backends.Builder.Pad (missing in simplego) with Slice, Reshape, Broadcast and
// Concatenate. Negative Start/End crop; Interior inserts fill values between elements.
func (b *goBuilder) Pad(x, fillValue backends.Op, axesConfig ...backends.PadAxis) (backends.Op, error) {
	xShape, err := b.shape(x)
	if err != nil {
		return nil, err
	}
	fillShape, err := b.shape(fillValue)
	if err != nil {
		return nil, err
	}
	if fillShape.Rank() != 0 || fillShape.DType != xShape.DType {
		return nil, errors.Errorf("pathogan: Pad fill value must be a scalar of dtype %s, got %s", xShape.DType, fillShape)
	}
	if len(axesConfig) > xShape.Rank() {
		return nil, errors.Errorf("pathogan: Pad got %d axes configurations for a rank-%d operand", len(axesConfig), xShape.Rank())
	}
	op := x
	dims := slices.Clone(xShape.Dimensions)
	for axis, cfg := range axesConfig {
		if cfg.Interior < 0 {
			return nil, errors.Errorf("pathogan: Pad with negative interior padding %d on axis %d", cfg.Interior, axis)
		}
		// Interior padding.
		if cfg.Interior > 0 && dims[axis] > 1 {
			n := dims[axis]
			expanded := slices.Insert(slices.Clone(dims), axis+1, 1)
			if op, err = b.Builder.Reshape(op, expanded...); err != nil {
				return nil, err
			}
			fillDims := slices.Clone(expanded)
			fillDims[axis+1] = cfg.Interior
			block, err := b.fillBlock(fillValue, fillDims)
			if err != nil {
				return nil, err
			}
			if op, err = b.Builder.Concatenate(axis+1, op, block); err != nil {
				return nil, err
			}
			merged := slices.Clone(dims)
			merged[axis] = n * (1 + cfg.Interior)
			if op, err = b.Builder.Reshape(op, merged...); err != nil {
				return nil, err
			}
			// Drop the trailing fill after the last element.
			if op, err = b.sliceAxis(op, merged, axis, 0, merged[axis]-cfg.Interior); err != nil {
				return nil, err
			}
			dims[axis] = merged[axis] - cfg.Interior
		}
		// Negative padding crops.
		if cfg.Start < 0 || cfg.End < 0 {
			start, end := max(-cfg.Start, 0), dims[axis]-max(-cfg.End, 0)
			if end < start {
				return nil, errors.Errorf("pathogan: Pad crops more than the size of axis %d (%d)", axis, dims[axis])
			}
			if op, err = b.sliceAxis(op, dims, axis, start, end); err != nil {
				return nil, err
			}
			dims[axis] = end - start
		}
		// Positive padding concatenates fill blocks.
		parts := make([]backends.Op, 0, 3)
		if cfg.Start > 0 {
			fillDims := slices.Clone(dims)
			fillDims[axis] = cfg.Start
			block, err := b.fillBlock(fillValue, fillDims)
			if err != nil {
				return nil, err
			}
			parts = append(parts, block)
		}
		parts = append(parts, op)
		if cfg.End > 0 {
			fillDims := slices.Clone(dims)
			fillDims[axis] = cfg.End
			block, err := b.fillBlock(fillValue, fillDims)
			if err != nil {
				return nil, err
			}
			parts = append(parts, block)
		}
		if len(parts) > 1 {
			if op, err = b.Builder.Concatenate(axis, parts...); err != nil {
				return nil, err
			}
			dims[axis] += max(cfg.Start, 0) + max(cfg.End, 0)
		}
	}
	if op == x {
		// Keep the contract that an op returns a new node.
		return b.Builder.Identity(x)
	}
	return op, nil
}

// sliceAxis slices [start, end) of one axis.
func (b *goBuilder) sliceAxis(op backends.Op, dims []int, axis, start, end int) (backends.Op, error) {
	starts := make([]int, len(dims))
	limits := slices.Clone(dims)
	starts[axis], limits[axis] = start, end
	strides := make([]int, len(dims))
	for i := range strides {
		strides[i] = 1
	}
	return b.Builder.Slice(op, starts, limits, strides)
}

// reverseBySlices is the largest axis that Reverse reverses with one Slice per element and a
// Concatenate (a few copies of whole runs); longer axes use one Gather (index by index, slower).
const reverseBySlices = 16

// Reverse implements backends.Builder.Reverse (missing in simplego): per axis, one width-1 Slice
// per element and one Concatenate in reverse order for short axes (conv kernels), one Gather
// otherwise. The same operand reversed along the same axes again returns the op built the first
// time: a training step reverses each kernel once instead of once per use.
func (b *goBuilder) Reverse(x backends.Op, axes ...int) (backends.Op, error) {
	key := reverseKey{x: x, axes: fmt.Sprint(axes)}
	if op, ok := b.reversed[key]; ok {
		return op, nil
	}
	op, err := b.reverse(x, axes)
	if err == nil {
		b.reversed[key] = op
	}
	return op, err
}

// reverse builds Reverse's ops.
func (b *goBuilder) reverse(x backends.Op, axes []int) (backends.Op, error) {
	xShape, err := b.shape(x)
	if err != nil {
		return nil, err
	}
	op := x
	for _, axis := range axes {
		if axis < 0 || axis >= xShape.Rank() {
			return nil, errors.Errorf("pathogan: Reverse axis %d out of range for shape %s", axis, xShape)
		}
		n := xShape.Dimensions[axis]
		if n <= 1 {
			continue
		}
		if n <= reverseBySlices {
			parts := make([]backends.Op, n)
			for i := range n {
				if parts[n-1-i], err = b.sliceAxis(op, xShape.Dimensions, axis, i, i+1); err != nil {
					return nil, err
				}
			}
			if op, err = b.Builder.Concatenate(axis, parts...); err != nil {
				return nil, err
			}
			continue
		}
		indices := make([]int32, n)
		for i := range indices {
			indices[i] = int32(n - 1 - i)
		}
		idxOp, err := b.Builder.Constant(indices, n, 1)
		if err != nil {
			return nil, err
		}
		offsetAxes := make([]int, 0, xShape.Rank()-1)
		for a := range xShape.Rank() {
			if a != axis {
				offsetAxes = append(offsetAxes, a)
			}
		}
		sliceSizes := slices.Clone(xShape.Dimensions)
		sliceSizes[axis] = 1
		op, err = b.Builder.Gather(op, idxOp, 1, offsetAxes, []int{axis}, []int{axis}, sliceSizes, false)
		if err != nil {
			return nil, err
		}
	}
	if op == x {
		return b.Builder.Identity(x)
	}
	return op, nil
}

// ConvGeneral implements backends.Builder.ConvGeneral: it fills in nil strides/paddings/dilations
// (simplego's shape inference rejects nil strides, which graph.Convolve and the conv gradient pass).
// With conv=kernel, float32 ungrouped convolutions stay one node for the kernels. Otherwise it
// turns input dilation into interior padding (simplego panics on it; the conv gradient uses it for
// strided convolutions), and lowers ungrouped convolutions to im2col + DotGeneral (conv=im2col) or
// leaves them to simplego's executor (conv=native).
func (b *goBuilder) ConvGeneral(input, kernel backends.Op, axes backends.ConvolveAxesConfig,
	strides []int, paddings [][2]int, inputDilations, kernelDilations []int,
	channelGroupCount, batchGroupCount int) (backends.Op, error) {
	inShape, err := b.shape(input)
	if err != nil {
		return nil, err
	}
	kShape, err := b.shape(kernel)
	if err != nil {
		return nil, err
	}
	n := inShape.Rank() - 2
	if n < 1 || kShape.Rank() != n+2 || len(axes.InputSpatial) != n || len(axes.KernelSpatial) != n || len(axes.OutputSpatial) != n {
		return nil, errors.Errorf("pathogan: ConvGeneral with inconsistent ranks/axes: input %s, kernel %s, axes %+v", inShape, kShape, axes)
	}
	strides = gradients.OnesWhereUnset(strides, n)
	kernelDilations = gradients.OnesWhereUnset(kernelDilations, n)
	inputDilations = gradients.OnesWhereUnset(inputDilations, n)
	pads := make([][2]int, n)
	copy(pads, paddings)
	channelGroupCount = max(channelGroupCount, 1)
	batchGroupCount = max(batchGroupCount, 1)

	if b.convMode == ConvKernel && inShape.DType == dtypes.Float32 && channelGroupCount == 1 && batchGroupCount == 1 {
		return b.Builder.ConvGeneral(input, kernel, axes, strides, pads, inputDilations, kernelDilations, 1, 1)
	}

	// Input dilation -> interior padding of the spatial axes.
	if slices.Max(inputDilations) > 1 {
		zero, err := b.zeroConstant(inShape.DType)
		if err != nil {
			return nil, err
		}
		cfg := make([]backends.PadAxis, inShape.Rank())
		for i, axis := range axes.InputSpatial {
			cfg[axis].Interior = inputDilations[i] - 1
		}
		if input, err = b.Pad(input, zero, cfg...); err != nil {
			return nil, err
		}
		inputDilations = gradients.OnesWhereUnset(nil, n)
	}

	if b.convMode == ConvNative || channelGroupCount > 1 || batchGroupCount > 1 {
		return b.Builder.ConvGeneral(input, kernel, axes, strides, pads, inputDilations, kernelDilations,
			channelGroupCount, batchGroupCount)
	}
	return b.convIm2Col(input, kernel, axes, strides, pads, kernelDilations)
}

// convIm2Col computes an ungrouped convolution (no input dilation) as strided slices of the padded
// input, one concatenation and one DotGeneral.
//
// With Q kernel positions and P output positions it takes min(Q, P) slices: for a usual forward conv
// (3x3 kernel) that is one slice per kernel tap; for the kernel-gradient convolution (whose "kernel"
// is the whole output gradient) it is one slice per (small) output position instead.
func (b *goBuilder) convIm2Col(input, kernel backends.Op, axes backends.ConvolveAxesConfig,
	strides []int, pads [][2]int, dilations []int) (backends.Op, error) {
	inShape, _ := b.shape(input)
	kShape, _ := b.shape(kernel)
	n := inShape.Rank() - 2
	var err error

	// Normalize input to [B, spatial..., C].
	inPerm := append(append([]int{axes.InputBatch}, axes.InputSpatial...), axes.InputChannels)
	if input, err = b.transposeIfNeeded(input, inPerm); err != nil {
		return nil, err
	}
	batch, channels := inShape.Dimensions[axes.InputBatch], inShape.Dimensions[axes.InputChannels]
	// Normalize kernel to [K..., Cin, Cout].
	kPerm := append(slices.Clone(axes.KernelSpatial), axes.KernelInputChannels, axes.KernelOutputChannels)
	if kernel, err = b.transposeIfNeeded(kernel, kPerm); err != nil {
		return nil, err
	}
	cin, cout := kShape.Dimensions[axes.KernelInputChannels], kShape.Dimensions[axes.KernelOutputChannels]
	if cin != channels {
		return nil, errors.Errorf("pathogan: ConvGeneral input has %d channels but kernel expects %d", channels, cin)
	}
	kDims := make([]int, n)
	for i, a := range axes.KernelSpatial {
		kDims[i] = kShape.Dimensions[a]
	}

	// Spatial padding (may be negative: cropping).
	anyPad := false
	padCfg := make([]backends.PadAxis, n+2)
	for i := range n {
		padCfg[1+i] = backends.PadAxis{Start: pads[i][0], End: pads[i][1]}
		anyPad = anyPad || pads[i] != [2]int{}
	}
	if anyPad {
		zero, err := b.zeroConstant(inShape.DType)
		if err != nil {
			return nil, err
		}
		if input, err = b.Pad(input, zero, padCfg...); err != nil {
			return nil, err
		}
	}
	padded, _ := b.shape(input)
	pDims := padded.Dimensions[1 : n+1]

	// Output spatial sizes.
	oDims := make([]int, n)
	numQ, numP := 1, 1
	for i := range n {
		span := (kDims[i]-1)*dilations[i] + 1
		if pDims[i] < span {
			return nil, errors.Errorf("pathogan: ConvGeneral kernel span %d larger than padded input %d on spatial axis %d", span, pDims[i], i)
		}
		oDims[i] = (pDims[i]-span)/strides[i] + 1
		numQ *= kDims[i]
		numP *= oDims[i]
	}

	var out backends.Op
	fullDims := padded.Dimensions
	if numQ <= numP {
		// One slice per kernel position: each [B, O..., C], stacked as [B, O..., Q, C].
		parts := make([]backends.Op, 0, numQ)
		for q := range numQ {
			idx := unravel(q, kDims)
			starts := make([]int, n+2)
			limits := slices.Clone(fullDims)
			st := make([]int, n+2)
			st[0], st[n+1] = 1, 1
			for i := range n {
				starts[1+i] = idx[i] * dilations[i]
				limits[1+i] = starts[1+i] + (oDims[i]-1)*strides[i] + 1
				st[1+i] = strides[i]
			}
			s, err := b.Builder.Slice(input, starts, limits, st)
			if err != nil {
				return nil, err
			}
			if numQ > 1 {
				shp := append(append([]int{batch}, oDims...), 1, channels)
				if s, err = b.Builder.Reshape(s, shp...); err != nil {
					return nil, err
				}
			}
			parts = append(parts, s)
		}
		patches := parts[0]
		if numQ > 1 {
			if patches, err = b.Builder.Concatenate(n+1, parts...); err != nil {
				return nil, err
			}
		} else {
			shp := append(append([]int{batch}, oDims...), 1, channels)
			if patches, err = b.Builder.Reshape(patches, shp...); err != nil {
				return nil, err
			}
		}
		k2, err := b.Builder.Reshape(kernel, numQ, cin, cout)
		if err != nil {
			return nil, err
		}
		// [B, O..., Q, C] x [Q, C, Cout] -> [B, O..., Cout]
		if out, err = b.Builder.DotGeneral(patches, []int{n + 1, n + 2}, nil, k2, []int{0, 1}, nil); err != nil {
			return nil, err
		}
	} else {
		// One slice per output position: each [B, K..., C], stacked as [B, P, K..., C].
		parts := make([]backends.Op, 0, numP)
		for p := range numP {
			idx := unravel(p, oDims)
			starts := make([]int, n+2)
			limits := slices.Clone(fullDims)
			st := make([]int, n+2)
			st[0], st[n+1] = 1, 1
			for i := range n {
				starts[1+i] = idx[i] * strides[i]
				limits[1+i] = starts[1+i] + (kDims[i]-1)*dilations[i] + 1
				st[1+i] = dilations[i]
			}
			s, err := b.Builder.Slice(input, starts, limits, st)
			if err != nil {
				return nil, err
			}
			shp := append(append([]int{batch, 1}, kDims...), channels)
			if s, err = b.Builder.Reshape(s, shp...); err != nil {
				return nil, err
			}
			parts = append(parts, s)
		}
		patches := parts[0]
		if numP > 1 {
			if patches, err = b.Builder.Concatenate(1, parts...); err != nil {
				return nil, err
			}
		}
		lhsContract := make([]int, 0, n+1)
		rhsContract := make([]int, 0, n+1)
		for i := range n + 1 {
			lhsContract = append(lhsContract, 2+i)
			rhsContract = append(rhsContract, i)
		}
		// [B, P, K..., C] x [K..., C, Cout] -> [B, P, Cout]
		if out, err = b.Builder.DotGeneral(patches, lhsContract, nil, kernel, rhsContract, nil); err != nil {
			return nil, err
		}
		shp := append(append([]int{batch}, oDims...), cout)
		if out, err = b.Builder.Reshape(out, shp...); err != nil {
			return nil, err
		}
	}

	// out is [B, O..., Cout]; move axes to the requested output layout.
	outPerm := make([]int, n+2)
	outPerm[axes.OutputBatch] = 0
	for i, a := range axes.OutputSpatial {
		outPerm[a] = 1 + i
	}
	outPerm[axes.OutputChannels] = n + 1
	return b.transposeIfNeeded(out, outPerm)
}

func (b *goBuilder) transposeIfNeeded(op backends.Op, perm []int) (backends.Op, error) {
	for i, p := range perm {
		if i != p {
			return b.Builder.Transpose(op, perm...)
		}
	}
	return op, nil
}

// unravel converts a flat row-major index into a multi-index for dims.
func unravel(flat int, dims []int) []int {
	idx := make([]int, len(dims))
	for i := len(dims) - 1; i >= 0; i-- {
		idx[i] = flat % dims[i]
		flat /= dims[i]
	}
	return idx
}
