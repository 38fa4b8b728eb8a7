package gradients

import (
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pathogan-go/pathogan/pathogan/internal/gomlxcheck"
)

// TestSetVJP checks that SetVJP sets the function graph.Node.CustomGradient returns, and that
// on another GoMLX version it sets nothing.
func TestSetVJP(t *testing.T) {
	b, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	g := NewGraph(b, "setvjp")
	x := Parameter(g, "x", shapes.Make(dtypes.Float32, 3))
	vjp := func(node *Node, v []*Node, _ shapes.Shape) []*Node { return nil }

	n1 := Neg(x)
	if !SetVJP(n1, vjp) {
		t.Fatal("SetVJP returned false on GoMLX " + gomlxcheck.Want)
	}
	if n1.CustomGradient() == nil {
		t.Fatal("SetVJP returned true but the node has no custom gradient")
	}

	old := gomlxcheck.VersionFunc
	gomlxcheck.VersionFunc = func() (string, string, error) { return "v0.0.1", "test", nil }
	defer func() { gomlxcheck.VersionFunc = old }()
	n2 := Neg(x)
	if SetVJP(n2, vjp) || n2.CustomGradient() != nil {
		t.Fatal("SetVJP set a gradient on another GoMLX version")
	}
}
