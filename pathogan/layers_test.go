package pathogan

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/nn"
)

// TestResizeConvHasNoCheckerboard runs both up-sampling layers of
// Config.Upsample on a constant 4×4 input with every weight 1: the
// transposed convolution gives interior pixels 1, 2 or 4 kernel taps by
// their parity (the checkerboard), the resize-convolution gives every
// interior pixel all nine.
func TestResizeConvHasNoCheckerboard(t *testing.T) {
	const c = 2
	interior := func(layer func(ctx *context.Context, x *graph.Node, f int) *graph.Node) [][]float32 {
		ctx := context.New()
		e, err := context.NewExec(testBackend(t), ctx, func(ctx *context.Context, x *graph.Node) *graph.Node {
			return layer(ctx, x, 1)
		})
		if err != nil {
			t.Fatal(err)
		}
		ones := make([]float32, 4*4*c)
		for i := range ones {
			ones[i] = 1
		}
		in := tensors.FromFlatDataAndDimensions(ones, 1, 4, 4, c)
		if _, err := e.Exec(in); err != nil { // creates the variables
			t.Fatal(err)
		}
		ctx.EnumerateVariables(func(v *context.Variable) {
			w := make([]float32, v.Shape().Size())
			for i := range w {
				w[i] = 1
			}
			v.MustSetValue(tensors.FromFlatDataAndDimensions(w, v.Shape().Dimensions...))
		})
		out, err := e.Exec(in)
		if err != nil {
			t.Fatal(err)
		}
		if d := out[0].Shape().Dimensions; d[1] != 8 || d[2] != 8 || d[3] != 1 {
			t.Fatalf("output %v, want [1 8 8 1]", d)
		}
		v := out[0].Value().([][][][]float32)[0]
		var rows [][]float32
		for y := 1; y < 7; y++ {
			var row []float32
			for x := 1; x < 7; x++ {
				row = append(row, v[y][x][0])
			}
			rows = append(rows, row)
		}
		return rows
	}
	// Biases are 1 too, so one tap of c ones gives c+1.
	for y, row := range interior(nn.ResizeConv) {
		for x, got := range row {
			if got != 9*c+1 {
				t.Fatalf("resize-conv interior (%d, %d) = %g, want %d everywhere", y+1, x+1, got, 9*c+1)
			}
		}
	}
	seen := map[float32]bool{}
	for _, row := range interior(nn.UpConv) {
		for _, v := range row {
			seen[v] = true
		}
	}
	if len(seen) < 3 {
		t.Errorf("transposed convolution interior values %v: want the 1/2/4-tap checkerboard", seen)
	}
}
