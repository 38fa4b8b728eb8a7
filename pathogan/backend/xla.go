//go:build !noxla

package backend

import (
	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

// xlaPlugins returns the installed PJRT plugins (name -> path), without auto-installing any.
func xlaPlugins() map[string]string { return pjrt.AvailablePlugins() }

// newXLA creates GoMLX's XLA backend; an absolute plugin path skips go-xla's auto-install.
func newXLA(config string) (backends.Backend, error) { return xla.New(config) }
