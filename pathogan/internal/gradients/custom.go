package gradients

import (
	"reflect"
	"unsafe"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/pathogan-go/pathogan/pathogan/internal/gomlxcheck"
)

// SetVJP makes vjp the gradient of node with respect to its inputs, in place of the gradient
// registered for its op type, so that a function built of several ops can carry the closed form
// of its gradient: its last node returns the gradient for the function's input and nil (no
// gradient) for the intermediate nodes, whose own gradients then never enter the graph. It is
// what graph.IdentityWithCustomGradient does for an identity, on any node: GoMLX v0.26.0 keeps
// the function in the node's unexported customVJP field and offers no setter, so SetVJP writes it
// through reflect and unsafe. On another GoMLX version, or where the field is not there with
// that type, it changes nothing and returns false: the ops' own gradients stay.
func SetVJP(node *Node, vjp VJP) bool {
	if node == nil || vjp == nil || gomlxcheck.Check() != nil {
		return false
	}
	f := reflect.ValueOf(node).Elem().FieldByName("customVJP")
	if !f.IsValid() || f.Type() != reflect.TypeFor[VJP]() || !f.CanAddr() {
		return false
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(vjp))
	return true
}
