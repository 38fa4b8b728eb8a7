//go:build noxla

package backend

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"
)

// xlaPlugins finds nothing: built with the noxla tag (no cgo/XLA dependency).
func xlaPlugins() map[string]string { return nil }

// newXLA fails: built with the noxla tag.
func newXLA(string) (backends.Backend, error) {
	return nil, errors.New("pathogan: built with the noxla tag: the XLA backend is not compiled in")
}
