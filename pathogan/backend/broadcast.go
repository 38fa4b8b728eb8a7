package backend

import (
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX's gradients broadcast small tensors to full size before multiplying or adding them
// (graph.BroadcastToShape in the Mul gradient, the gradient of a reduction, ...). On the Go
// backend every such BroadcastInDim writes a full tensor that the next op reads back. The Go
// backend's binary ops broadcast size-1 axes themselves (this package's executors without a
// copy), so goBuilder hands them the small operand instead, reshaped to the same rank; the
// full-size BroadcastInDim is then left unused and never runs. The graph and its results are
// unchanged: only the backend's lowering differs, and XLA never sees it.

// broadcastSource is the operand of a BroadcastInDim and its dimensions at the output's rank
// (1 on the broadcast axes).
type broadcastSource struct {
	x    backends.Op
	dims []int
}

// BroadcastInDim implements backends.Builder, remembering float32 broadcasts whose axes keep
// the operand's order (so a reshape lays the operand out at the output's rank).
func (b *goBuilder) BroadcastInDim(x backends.Op, outputShape shapes.Shape, broadcastAxes []int) (backends.Op, error) {
	op, err := b.Builder.BroadcastInDim(x, outputShape, broadcastAxes)
	if err != nil || outputShape.DType != dtypes.Float32 {
		return op, err
	}
	xShape, err := b.shape(x)
	if err != nil || !slices.IsSorted(broadcastAxes) || len(broadcastAxes) != xShape.Rank() {
		return op, nil
	}
	dims := make([]int, outputShape.Rank())
	for i := range dims {
		dims[i] = 1
	}
	for i, a := range broadcastAxes {
		if a < 0 || a >= len(dims) || (i > 0 && a == broadcastAxes[i-1]) {
			return op, nil
		}
		dims[a] = xShape.Dimensions[i]
	}
	b.broadcasts[op] = broadcastSource{x: x, dims: dims}
	return op, nil
}

// implicitBroadcast returns the operands of a binary op with at most one recorded broadcast
// replaced by its reshaped source, when the other operand has the full shape (so the result's
// shape does not change).
func (b *goBuilder) implicitBroadcast(lhs, rhs backends.Op) (backends.Op, backends.Op) {
	for i, pair := range [2][2]backends.Op{{lhs, rhs}, {rhs, lhs}} {
		src, ok := b.broadcasts[pair[0]]
		if !ok {
			continue
		}
		full, err1 := b.shape(pair[0])
		other, err2 := b.shape(pair[1])
		if err1 != nil || err2 != nil || !full.Equal(other) {
			continue
		}
		small, err := b.Builder.Reshape(src.x, src.dims...)
		if err != nil {
			continue
		}
		if i == 0 {
			return small, rhs
		}
		return lhs, small
	}
	return lhs, rhs
}

// Add implements backends.Builder with implicit broadcasting (see implicitBroadcast).
func (b *goBuilder) Add(lhs, rhs backends.Op) (backends.Op, error) {
	return b.Builder.Add(b.implicitBroadcast(lhs, rhs))
}

// Sub implements backends.Builder with implicit broadcasting (see implicitBroadcast).
func (b *goBuilder) Sub(lhs, rhs backends.Op) (backends.Op, error) {
	return b.Builder.Sub(b.implicitBroadcast(lhs, rhs))
}

// Mul implements backends.Builder with implicit broadcasting (see implicitBroadcast).
func (b *goBuilder) Mul(lhs, rhs backends.Op) (backends.Op, error) {
	return b.Builder.Mul(b.implicitBroadcast(lhs, rhs))
}

// Div implements backends.Builder with implicit broadcasting (see implicitBroadcast).
func (b *goBuilder) Div(lhs, rhs backends.Op) (backends.Op, error) {
	return b.Builder.Div(b.implicitBroadcast(lhs, rhs))
}
