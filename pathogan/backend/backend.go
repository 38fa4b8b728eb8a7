package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"
)

// Info describes the backend that New picked and why.
type Info struct {
	// Name is the backend's short name: "go" or "xla" (or another registered GoMLX backend).
	Name string

	// Config is the configuration the backend was created with: for "go" the effective options
	// (e.g. "ops_sequential,conv=im2col"), for "xla" the PJRT plugin name or path.
	Config string

	// Reason says why this backend was picked, e.g. "GOMLX_BACKEND=go" or
	// "no XLA PJRT plugin found".
	Reason string

	// GoFixes is true when the backend is this package's GoBackend (the Go backend plus the ops
	// conv-net training needs).
	GoFixes bool

	// Notes lists environment adjustments made while picking (e.g. an XLA_FLAGS setting).
	Notes []string
}

// String returns a one-line description suitable for a command line to print.
func (i Info) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "backend %s", i.Name)
	if i.Config != "" {
		fmt.Fprintf(&sb, " (%s)", i.Config)
	}
	if i.GoFixes {
		sb.WriteString(" with " + fixesDescription())
	}
	if i.Reason != "" {
		fmt.Fprintf(&sb, ": %s", i.Reason)
	}
	for _, n := range i.Notes {
		fmt.Fprintf(&sb, "; %s", n)
	}
	return sb.String()
}

// xlaBackendName is the name of GoMLX's XLA backend.
const xlaBackendName = "xla"

// xlaNames are the names under which GoMLX v0.26.0 registers the XLA backend.
var xlaNames = []string{xlaBackendName, "stablehlo", "hlo", "shlo"}

// New picks and creates the backend to run PathoGAN graphs on:
//
//  1. If $GOMLX_BACKEND is set (and not empty), it wins: "go[:options]" gives this package's
//     GoBackend (see NewGoBackend for the options), "xla:<plugin name or absolute path>" the XLA
//     backend, any other registered name GoMLX's own constructor. No fallback: a failure is an error.
//  2. Otherwise XLA, if an installed PJRT plugin loads ("cuda" first, then "cpu", then others),
//     searched as go-xla does ($PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla,
//     /usr/local/lib/go-xla, the system library paths). It never auto-installs (downloads) plugins.
//  3. Otherwise the Go backend with this package's fixes and the sequential executor.
//
// For a CUDA plugin with an "nvidia" folder beside it, New sets XLA_FLAGS'
// --xla_gpu_cuda_data_dir (unless already set), since go-xla v0.1.4 would set a wrong path.
// New prints nothing: see Info for what was picked and why.
func New() (backends.Backend, Info, error) {
	if config, found := os.LookupEnv(backends.ConfigEnvVar); found && strings.TrimSpace(config) != "" {
		b, info, err := NewWithConfig(config)
		info.Reason = fmt.Sprintf("%s=%s", backends.ConfigEnvVar, config)
		return b, info, err
	}
	return NewWithConfig("")
}

// NewWithConfig creates the backend for an explicit configuration in GOMLX_BACKEND's format
// ("go", "go:ops_sequential,conv=native", "xla:cuda", "xla:/abs/path/pjrt_c_api_cuda_plugin.so"),
// or, for an empty config, picks one as New does without looking at $GOMLX_BACKEND.
func NewWithConfig(config string) (backends.Backend, Info, error) {
	config = strings.TrimSpace(config)
	if config == "" {
		return autoPick()
	}
	name, opts, _ := strings.Cut(config, ":")
	switch {
	case name == GoBackendName:
		b, err := NewGoBackend(opts)
		if err != nil {
			return nil, Info{Name: name, Config: opts}, err
		}
		return b, Info{Name: name, Config: b.Config(), GoFixes: true, Reason: "configured"}, nil
	case slices.Contains(xlaNames, name):
		info := Info{Name: xlaBackendName, Config: opts, Reason: "configured"}
		if note := installGradientsNote(); note != "" {
			info.Notes = append(info.Notes, note)
		}
		pluginPath := opts
		if p, _, _ := strings.Cut(opts, ","); p != "" && !filepath.IsAbs(p) {
			pluginPath = xlaPlugins()[p]
		} else {
			pluginPath = p
		}
		if note := fixCUDAFlags(pluginPath); note != "" {
			info.Notes = append(info.Notes, note)
		}
		b, err := newXLA(opts)
		if err != nil {
			return nil, info, errors.WithMessagef(err, "pathogan: creating XLA backend %q", opts)
		}
		return b, info, nil
	default:
		known := backends.List()
		slices.Sort(known)
		if !slices.Contains(known, name) {
			return nil, Info{Name: name, Config: opts}, errors.Errorf(
				"pathogan: unknown backend %q in %q: known are %q", name, config, known)
		}
		info := Info{Name: name, Config: opts, Reason: "configured"}
		if note := installGradientsNote(); note != "" {
			info.Notes = append(info.Notes, note)
		}
		b, err := newRegistered(config)
		return b, info, err
	}
}

// newRegistered calls GoMLX's constructor, turning its panics into errors.
func newRegistered(config string) (b backends.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("pathogan: creating backend %q: %v", config, r)
		}
	}()
	return backends.NewWithConfig(config)
}

// autoPick tries the installed XLA plugins, then falls back to the fixed Go backend.
func autoPick() (backends.Backend, Info, error) {
	plugins := xlaPlugins()
	names := make([]string, 0, len(plugins))
	for name := range plugins {
		names = append(names, name)
	}
	rank := func(n string) int {
		switch {
		case isCUDA(n):
			return 0
		case n == "cpu":
			return 1
		}
		return 2
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	var failures []string
	var notes []string
	for _, name := range names {
		path := plugins[name]
		if note := fixCUDAFlags(path); note != "" {
			notes = append(notes, note)
		}
		// An absolute path makes go-xla skip its auto-install (download) step.
		b, err := newXLA(path)
		if err == nil {
			if note := installGradientsNote(); note != "" {
				notes = append(notes, note)
			}
			return b, Info{Name: xlaBackendName, Config: path, Notes: notes,
				Reason: fmt.Sprintf("XLA PJRT plugin %q loaded", name)}, nil
		}
		failures = append(failures, fmt.Sprintf("plugin %q (%s): %v", name, path, err))
	}
	b, err := NewGoBackend("")
	if err != nil {
		return nil, Info{Name: GoBackendName}, err
	}
	reason := "no XLA PJRT plugin found"
	if len(failures) > 0 {
		reason = "no XLA PJRT plugin loaded: " + strings.Join(failures, "; ")
	}
	return b, Info{Name: GoBackendName, Config: b.Config(), GoFixes: true, Reason: reason, Notes: notes}, nil
}

func isCUDA(name string) bool {
	u := strings.ToUpper(name)
	return strings.Contains(u, "CUDA") || strings.Contains(u, "NVIDIA")
}

// fixCUDAFlags sets --xla_gpu_cuda_data_dir in XLA_FLAGS for a CUDA plugin with an "nvidia" folder
// beside it (in its folder or its parent's), unless XLA_FLAGS already sets it. go-xla v0.1.4
// would otherwise set it to a path that only exists on its author's machine. It returns a note
// describing the change, or "" when nothing was changed.
func fixCUDAFlags(pluginPath string) string {
	if pluginPath == "" || !isCUDA(filepath.Base(pluginPath)) {
		return ""
	}
	const env = "XLA_FLAGS"
	existing := os.Getenv(env)
	if strings.Contains(existing, "--xla_gpu_cuda_data_dir") {
		return ""
	}
	dir := filepath.Dir(pluginPath)
	for _, nvidia := range []string{filepath.Join(dir, "nvidia"), filepath.Join(filepath.Dir(dir), "nvidia")} {
		if fi, err := os.Stat(nvidia); err != nil || !fi.IsDir() {
			continue
		}
		dataDir := nvidia
		// pip's layout keeps ptxas and libdevice under nvidia/cuda_nvcc.
		if fi, err := os.Stat(filepath.Join(nvidia, "cuda_nvcc", "nvvm", "libdevice")); err == nil && fi.IsDir() {
			dataDir = filepath.Join(nvidia, "cuda_nvcc")
		}
		value := strings.TrimSpace(existing + " --xla_gpu_cuda_data_dir=" + dataDir)
		if err := os.Setenv(env, value); err != nil {
			return ""
		}
		return fmt.Sprintf("set %s=%q", env, value)
	}
	return ""
}
