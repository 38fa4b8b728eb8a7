package kernels

import (
	"sync/atomic"

	"github.com/gomlx/gomlx/backends/simplego"
)

// CountBuiltinConv makes the saved simplego ConvGeneral executor count its calls, for tests that
// check which executor ran; restore undoes it. Call it after Install, with no graph running.
func CountBuiltinConv() (calls *atomic.Int64, restore func()) {
	calls = &atomic.Int64{}
	orig := builtinConv
	builtinConv = func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		calls.Add(1)
		return orig(backend, node, inputs, owned)
	}
	return calls, func() { builtinConv = orig }
}

// ReadField exposes readField to the external tests.
var ReadField = readField

// SameLayout exposes sameLayout to the external tests.
var SameLayout = sameLayout
